//! What the supervisor is told and tells: the messages that start, steer
//! and stop scans and motors, and the progress every subscriber hears.

use actix::prelude::*;
use scanrig_hardware::panel::ButtonEvent;

use super::ScanSummary;
use std::collections::{BTreeMap, BTreeSet};

use crate::backlog::Backlog;
use crate::journal::ScanRecord;
use crate::lights::LightState;
use crate::manual::{Busy, Motion};
use crate::model::{ScanId, ScanPlan, ShotId};
use crate::sequence::{Control, PauseReason, Refusal};

/// How a scan is going, told to every subscriber.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum Progress {
    /// A scan began or continued.
    Started {
        /// The scan.
        scan: ScanId,
        /// Shots planned.
        planned: usize,
        /// Shots captured before this run.
        done: usize,
    },
    /// A shot is safely in the spool.
    Captured {
        /// The scan.
        scan: ScanId,
        /// The shot.
        shot: ShotId,
        /// Its (first) file's name.
        name: String,
    },
    /// A shot is at the destination.
    Uploaded {
        /// The scan.
        scan: ScanId,
        /// The shot.
        shot: ShotId,
        /// Its (first) file's name, as [`Progress::Captured`] gave it.
        name: String,
    },
    /// The active scan paused.
    Paused {
        /// The scan.
        scan: ScanId,
        /// Why.
        reason: PauseReason,
    },
    /// A scan ended.
    Finished(Box<ScanSummary>),
    /// Nothing is moving, shooting or uploading.
    Quiet,
    /// Something moves, shoots or uploads again (after [`Progress::Quiet`],
    /// or for the first time since the supervisor started).
    Busy,
    /// Start was pressed with no scan running: the daemon should start one.
    StartRequested,
    /// A button of the panel was pressed (told before it takes effect).
    Button(ButtonEvent),
    /// The motors started (`Some`) or ended (`None`) a motion asked for
    /// by hand.
    Motion(Option<Motion>),
    /// The lights changed: every light as it is now.
    Lights(Vec<LightState>),
}

/// Starts a new scan, or continues one read back from its journal.
#[derive(Message)]
#[rtype(result = "Result<(), Busy>")]
pub struct StartScan {
    /// The plan.
    pub plan: ScanPlan,
    /// The journal's account of an interrupted scan to continue.
    pub resume: Option<ScanRecord>,
}

/// Stops whatever the motors are doing: a controlled stop brakes along the
/// ramp and holds; an emergency stop ends stepping at once and releases
/// the motors (the next move homes first). A scan running goes on unless
/// it is paused or stopped too.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct StopMotors {
    /// Stop at once and release.
    pub emergency: bool,
}

/// The process is going: every scan's photos waiting for a later try are
/// left for the next run, and an upload that fails now is not tried again;
/// what is being sent goes on, and the rig turns quiet once it is done.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Leaving;

/// The photos still waiting of each scan in the spool, as its journal
/// tells ([`ScanRecord::pending_uploads`], what `scanrig uploads` lists):
/// the status counts those of the scans not in hand.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Spooled(pub BTreeMap<ScanId, Waiting>);

/// The photos of a scan still waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Not at every destination yet.
    pub photos: usize,
    /// For a scan sent to several destinations: those not at each yet,
    /// by destination's name.
    pub at: BTreeMap<String, usize>,
}

/// Finishes the uploads of a scan from an earlier run: the photos still
/// waiting, less those whose next try is not due yet.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain {
    /// The scan, as its journal tells it.
    pub record: ScanRecord,
    /// Waiting photos left for a later pass.
    pub defer: BTreeSet<ShotId>,
}

impl Drain {
    /// Every photo still waiting, due or not (`scanrig uploads retry`).
    pub fn all(record: ScanRecord) -> Drain {
        Drain {
            record,
            defer: BTreeSet::new(),
        }
    }

    /// The photos whose next try is due at `now` (Unix ms), as the scan's
    /// [`Backlog`] says; `None` when nothing of the scan is due.
    pub fn due(record: ScanRecord, backlog: &Backlog, now: u64) -> Option<Drain> {
        let pending = record.pending_uploads();
        let defer = backlog.not_due(&pending, now);
        let manifest_only =
            pending.is_empty() && record.finished.is_some() && record.manifest.is_none();
        (manifest_only || defer.len() < pending.len()).then_some(Drain { record, defer })
    }
}

/// What the operator asks of the active scan: done, or why not.
impl Message for Control {
    type Result = Result<(), Refusal>;
}

/// Adds a subscriber to [`Progress`].
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<Progress>);

/// The summary so far of a scan that has not ended (paused, interrupted).
#[derive(Message)]
#[rtype(result = "Option<ScanSummary>")]
pub struct Summarise(pub ScanId);

/// Answers when the supervisor's event loop is running: the watchdog's
/// proof of life.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Ping;
