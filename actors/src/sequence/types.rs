//! The sequence's vocabulary: the events it takes, the commands it gives,
//! its tunables and the states a shot goes through.

use std::time::Duration;

use scanrig_hardware::judge::Problem;

use crate::model::{Device, FaultKind, Outcome, ShotId};
use crate::restart::Backoff;

/// Tunables of the sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceConfig {
    /// Photos captured but not yet uploaded before the camera waits.
    pub upload_backlog: usize,
    /// Device failures allowed within `restart_window`.
    pub max_restarts: u32,
    /// The window of the restart budget.
    pub restart_window: Duration,
    /// Backoff before retrying a failed device.
    pub device_backoff: Backoff,
    /// Upload attempts per photo before giving up on it for this run.
    pub upload_attempts: u32,
    /// Backoff between upload attempts.
    pub upload_backoff: Backoff,
    /// Download attempts of one exposure before the shot is retaken.
    pub download_attempts: u32,
    /// `false` runs every shot start to finish before the next (the
    /// baseline the benchmark compares against).
    pub pipelined: bool,
    /// Judge every photo as it lands, and what a photo with the object
    /// out of frame, cut off or overexposed does to the scan; `None`:
    /// photos are not judged.
    pub quality: Option<OnProblem>,
    /// A shot whose photo is judged blurred is taken again, settling
    /// longer, up to this many times (0: never); its photos are uploaded
    /// once judged, so only the take kept is sent. Needs `quality`.
    pub retakes: u32,
}

/// What a photo with the object out of frame or cut off, or overexposed,
/// does to the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnProblem {
    /// Pause, with the photo and the reason, for the operator to look.
    Pause,
    /// Go on; the photo is flagged in the manifest and the priors.
    Flag,
}

/// Whether a problem is one that [`OnProblem`] acts on: the object out of
/// frame or cut off, or blown highlights (a blurred photo is retaken; a
/// dark one only flagged).
pub fn is_framing_or_clipping(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::Empty { .. } | Problem::CutOff { .. } | Problem::Clipped { .. }
    )
}

/// A device failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What kind of failure.
    pub kind: FaultKind,
    /// What went wrong, in words for the operator.
    pub message: String,
}

/// Why a scan is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseReason {
    /// The operator asked.
    Operator,
    /// A device failed too often, or for good; the message says why.
    Fault(String),
    /// The operator has a job to do by hand before the scan goes on (set
    /// the camera's tilt on a rig without a tilt motor); the message says
    /// what.
    Manual(String),
    /// The profile asks for something the rig cannot do (a camera setting
    /// the camera does not have); the message says what.
    Refused(String),
    /// A device is gone; the scan goes on by itself when it is back.
    Disconnected(String),
    /// A photo has a problem to look at (the object out of frame or cut
    /// off, blown highlights); the message names the photo and says what.
    Photo(String),
    /// The check after a ring found the object moved; the message says
    /// how much. Resuming goes on with the next ring.
    Moved {
        /// The ring checked.
        ring: u32,
        /// What was found, in words for the operator.
        message: String,
    },
}

impl PauseReason {
    /// Whether something failed (the motors are released, and resuming
    /// by hand gives the devices a fresh restart budget).
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            PauseReason::Fault(_) | PauseReason::Refused(_) | PauseReason::Disconnected(_)
        )
    }
}

impl std::fmt::Display for PauseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PauseReason::Operator => f.write_str("paused by the operator"),
            PauseReason::Fault(why)
            | PauseReason::Manual(why)
            | PauseReason::Refused(why)
            | PauseReason::Disconnected(why)
            | PauseReason::Photo(why)
            | PauseReason::Moved { message: why, .. } => f.write_str(why),
        }
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Begin (or continue) the scan.
    Start,
    /// Only upload what an earlier run captured; a later `Start` may still
    /// continue the scan.
    Drain,
    /// The camera settings are in place.
    SettingsApplied,
    /// The axes are homed.
    Homed,
    /// The table stands at a shot's position; `still` when it did not move.
    Moved {
        /// The shot.
        shot: ShotId,
        /// No motion happened, so no settling is needed.
        still: bool,
    },
    /// The table stood still short of its target (Pause or Stop during a
    /// move); `lost` when its position is no longer known (an emergency
    /// stop, or homing stopped) and it must home again.
    Halted {
        /// The position is lost.
        lost: bool,
    },
    /// The settle time after a move has passed.
    Settled(ShotId),
    /// The shutter has closed.
    Exposed(ShotId),
    /// The photo is in the spool.
    Downloaded(ShotId),
    /// The shot's camera, fired by a wire, keeps its photo on its card;
    /// the trigger is recorded in the journal.
    Triggered(ShotId),
    /// The capture is recorded in the journal.
    Persisted(ShotId),
    /// The photo is at the destination, recorded in the journal.
    Uploaded(ShotId),
    /// A shot's photos are judged and the judgements journaled: each
    /// problem found, with the photo's file name.
    Judged {
        /// The shot.
        shot: ShotId,
        /// The problems found, with the photo each is in.
        problems: Vec<(String, Problem)>,
    },
    /// A device failed; `shot` is the shot it was working on, if any.
    DeviceFailed {
        /// Which device.
        device: Device,
        /// The shot in flight.
        shot: Option<ShotId>,
        /// What went wrong.
        fault: Fault,
        /// For a failed download: the file is gone and must be retaken.
        retake: bool,
    },
    /// Recording a capture in the journal failed.
    PersistFailed(ShotId, String),
    /// The spool's disk is nearly full; the message says how full.
    SpaceLow(String),
    /// An upload failed.
    UploadFailed {
        /// The shot.
        shot: ShotId,
        /// Whether trying again may help.
        retryable: bool,
    },
    /// The process is going: photos waiting for a later try are left for
    /// the next run, and an upload that fails now is not tried again in
    /// this one; what is being sent goes on.
    Leaving,
    /// A backoff timer fired.
    RetryDue(Retry),
    /// The check after a ring is done (journaled): `moved` says what was
    /// found when the object moved, `None` when it did not (or the check
    /// could not be made).
    RingChecked {
        /// The ring.
        ring: u32,
        /// What was found, in words for the operator, if it moved.
        moved: Option<String>,
    },
    /// Whether a device that was gone answers again.
    Probed {
        /// The device.
        device: Device,
        /// It answers.
        present: bool,
    },
}

/// What the operator asks of a scan (the buttons, the page, the API,
/// MQTT): the sequence carries it out or says why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Pause after the steps in flight.
    Pause,
    /// Continue a paused scan.
    Resume,
    /// Stop capturing; what was captured still uploads.
    Stop,
}

impl Control {
    /// Why it is refused when no scan is under way at all.
    pub fn refused_without_scan(self) -> Refusal {
        match self {
            Control::Pause => Refusal::NotRunning,
            Control::Resume => Refusal::NotPaused,
            Control::Stop => Refusal::NoScan,
        }
    }
}

/// Why what the operator asks cannot be done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Pausing a scan that is not running.
    #[error("only a scan that is running can be paused")]
    NotRunning,
    /// Resuming a scan that is not paused.
    #[error("only a paused scan can be resumed")]
    NotPaused,
    /// Stopping a scan that is stopping or over, or none at all.
    #[error("no scan is running")]
    NoScan,
}

/// What a fired timer retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A device may be used again.
    Device(Device),
    /// Upload this shot again.
    Upload(ShotId),
    /// See whether a device that was gone is back.
    Probe(Device),
}

/// Something to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Apply the camera settings.
    ApplySettings,
    /// Home the axes.
    Home,
    /// Move to a shot's position.
    MoveTo(ShotId),
    /// Wait the settle time, then report `Settled`.
    Settle(ShotId),
    /// Fire the shutter.
    Expose(ShotId),
    /// Download the shot's exposure.
    Download(ShotId),
    /// Record the capture in the journal.
    Persist(ShotId),
    /// Judge the shot's photos not judged yet, journal what is found and
    /// report `Judged` (beside the upload, never before it).
    Judge(ShotId),
    /// A photo of the shot came out blurred: journal that the shot is
    /// taken again, as take `take`; the earlier take's files stay in the
    /// spool, not sent, until the new one is captured (and are sent
    /// after all if the scan stops first).
    Retake {
        /// The shot.
        shot: ShotId,
        /// The new take's number, from 2.
        take: u32,
        /// Why, in words.
        why: String,
    },
    /// Blurred shots are retaken no more in this scan: retakes have come
    /// out no sharper (why, in words, for the log).
    RetakesStopped(String),
    /// Upload; `check_existing` asks the destination first (after a failure
    /// or a crash), so no second copy is ever made.
    Upload {
        /// The shot.
        shot: ShotId,
        /// Ask the destination whether it already has it.
        check_existing: bool,
    },
    /// Start a timer that reports `RetryDue(retry)` after `delay`.
    RetryAfter {
        /// How long to wait.
        delay: Duration,
        /// What to retry.
        retry: Retry,
    },
    /// See whether a device that was gone answers again; report `Probed`.
    Probe(Device),
    /// With the table at a ring's first shot again: take a check frame,
    /// hold it against that shot's photo, journal the result and report
    /// `RingChecked`.
    CheckRing {
        /// The ring.
        ring: u32,
        /// Its first shot.
        first: ShotId,
    },
    /// The operator went on after the check of `ring` found the object
    /// moved: journal it, so that the pause is not asked again.
    MovedAccepted(u32),
    /// Release the motors.
    Deenergise,
    /// The scan paused (after the steps in flight).
    Paused(PauseReason),
    /// The scan ended: nothing is in flight, every upload is settled.
    Finished(Outcome),
}

/// A check after a ring that the object has not moved: the table goes
/// back to the ring's first shot and the camera's frame there is held
/// against that shot's photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingCheck {
    /// The ring.
    pub ring: u32,
    /// Its first shot.
    pub first: ShotId,
    /// Its last shot.
    pub last: ShotId,
    /// How far it has got.
    pub state: CheckState,
}

/// How far a ring's check has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckState {
    /// To be made once the ring is shot.
    Due,
    /// Being made.
    Checking,
    /// The object moved: the scan waits for the operator (the message
    /// says what was found).
    Held(String),
    /// Made and passed, or the operator went on.
    Done,
}

/// Where a shot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotState {
    /// Not taken yet.
    Pending,
    /// Shutter fired, not closed yet.
    Exposing,
    /// Waiting for its download (camera busy or backing off).
    Exposed,
    /// Being downloaded.
    Downloading,
    /// In the spool, being journaled.
    Persisting,
    /// Journaled, waiting for its upload (backlog, retry timer).
    Captured,
    /// Being uploaded.
    Uploading,
    /// At the destination.
    Uploaded,
    /// Upload attempts spent; it stays in the spool for a later run.
    UploadAbandoned,
    /// Fired by a wire and journaled: its photo is on the camera's card,
    /// awaiting `scanrig import`.
    Triggered,
}
