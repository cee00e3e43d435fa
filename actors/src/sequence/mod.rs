//! The scan as a pure state machine: events in, commands out, no I/O.
//!
//! It decides what every device does next, so that the stages overlap: the
//! turntable leaves for shot k+1 as soon as shot k's shutter has closed, the
//! camera downloads while the table turns, and uploads run behind a bounded
//! backlog. It also owns the retry policy: exponential backoff per device and
//! a restart budget that, once spent, pauses the scan with its reason.

mod controls;
mod drive;
mod events;
mod faults;
mod judging;
mod ring_checks;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

pub use types::{
    is_framing_or_clipping, CheckState, Command, Control, Event, Fault, OnProblem, PauseReason,
    Refusal, Retry, RingCheck, SequenceConfig, ShotState,
};

use crate::model::{Device, ShotId};
use crate::restart::RestartBudget;
use judging::RetakeTally;

/// How many kinds of [`Device`] there are (per-device counters are indexed by them).
const DEVICES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Unknown,
    Homing,
    Moving(ShotId),
    Settling(ShotId),
    At(ShotId),
    /// Homed, standing off any shot (after homing, or a stopped move).
    Standing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Idle,
    Running,
    Paused(PauseReason),
    Stopping,
    Finished,
}

/// Per-shot counters.
#[derive(Debug, Clone, Copy, Default)]
struct Attempts {
    downloads: u32,
    uploads: u32,
}

/// The scan sequence. See the module docs.
#[derive(Debug)]
pub struct Sequence {
    config: SequenceConfig,
    shots: Vec<ShotState>,
    attempts: Vec<Attempts>,
    mode: Mode,
    table: Table,
    settings: Option<bool>,
    camera_busy: bool,
    blocked_until_retry: [bool; DEVICES],
    failures: [u32; DEVICES],
    budget: RestartBudget,
    pause_announced: bool,
    draining: bool,
    /// The process is going ([`Event::Leaving`]).
    leaving: bool,
    manual_stops: BTreeMap<ShotId, String>,
    /// The checks after each ring that the object has not moved.
    checks: Vec<RingCheck>,
    /// Looks for a device that is gone, so far (0: not looking).
    probes: u32,
    /// Shots whose photos are to be judged, and being judged.
    to_judge: BTreeSet<ShotId>,
    judging: BTreeSet<ShotId>,
    /// Each shot's take: 1, or the retake it is on.
    takes: Vec<u32>,
    /// Whether retaking makes blurred shots sharp on this rig, so far.
    retaken: RetakeTally,
}

impl Sequence {
    /// A sequence over `states` (all `Pending` for a new scan; for a resumed
    /// one, `Captured` or `Uploaded` where the journal says so).
    pub fn new(config: SequenceConfig, states: Vec<ShotState>) -> Sequence {
        let budget = RestartBudget::new(config.max_restarts, config.restart_window);
        let n = states.len();
        Sequence {
            attempts: vec![Attempts::default(); states.len()],
            shots: states,
            config,
            mode: Mode::Idle,
            table: Table::Unknown,
            settings: None,
            camera_busy: false,
            blocked_until_retry: [false; DEVICES],
            failures: [0; DEVICES],
            budget,
            pause_announced: false,
            draining: false,
            leaving: false,
            manual_stops: BTreeMap::new(),
            checks: Vec::new(),
            probes: 0,
            to_judge: BTreeSet::new(),
            judging: BTreeSet::new(),
            takes: vec![1; n],
            retaken: RetakeTally::default(),
        }
    }

    /// Each shot's take, as the journal tells it (a shot whose retake was
    /// journaled but not taken before a crash is taken again: its state
    /// is `Pending`, and its earlier take waits in the spool).
    pub fn with_takes(mut self, takes: Vec<u32>) -> Sequence {
        if takes.len() == self.takes.len() {
            self.takes = takes;
        }
        self
    }

    /// The take a shot is on: 1, or the retake.
    pub fn take(&self, shot: ShotId) -> u32 {
        self.takes[idx(shot)]
    }

    /// Judges these shots' photos once the scan starts or drains: shots
    /// journaled before a crash, not judged yet (when judging is on).
    pub fn with_unjudged(mut self, shots: impl IntoIterator<Item = ShotId>) -> Sequence {
        if self.config.quality.is_some() {
            self.to_judge.extend(shots);
        }
        self
    }

    /// Pauses before taking each of these shots, with the message as the
    /// reason, until the operator resumes (e.g. "set the tilt to +15°").
    pub fn with_manual_stops(mut self, stops: BTreeMap<ShotId, String>) -> Sequence {
        self.manual_stops = stops;
        self
    }

    /// Checks after these rings that the object has not moved (see
    /// [`RingCheck`]): once a ring is shot, before the table leaves for the
    /// next one (or the scan ends), and pausing the scan when it moved.
    pub fn with_ring_checks(mut self, checks: Vec<RingCheck>) -> Sequence {
        self.checks = checks;
        self
    }

    /// The checks after each ring, and how far each has got.
    pub fn ring_checks(&self) -> &[RingCheck] {
        &self.checks
    }

    /// The state of every shot, in plan order.
    pub fn states(&self) -> &[ShotState] {
        &self.shots
    }

    /// The state of a shot.
    pub fn shot(&self, id: ShotId) -> ShotState {
        self.shots[idx(id)]
    }

    /// Whether a shot's photos wait to be judged or are being judged.
    pub fn is_judging(&self, shot: ShotId) -> bool {
        self.to_judge.contains(&shot) || self.judging.contains(&shot)
    }

    /// The scan is resumed while its leftover uploads are being finished
    /// (a drain): it no longer ends when they are done, but waits for
    /// [`Event::Start`]. Nothing else changes: the uploads in flight go on.
    /// A drain that has ended already is not claimed.
    pub fn claim(&mut self) {
        if self.draining && self.mode == Mode::Stopping {
            self.mode = Mode::Idle;
            self.draining = false;
        }
    }

    /// Whether the scan has ended.
    pub fn is_finished(&self) -> bool {
        self.mode == Mode::Finished
    }

    /// Why the scan is paused, if it is.
    pub fn paused(&self) -> Option<&PauseReason> {
        match &self.mode {
            Mode::Paused(reason) => Some(reason),
            _ => None,
        }
    }

    /// Whether the scan is paused and nothing is in flight: the pause is
    /// announced (no device moving, exposing or downloading) and no upload
    /// is pending.
    pub fn is_quiet(&self) -> bool {
        matches!(self.mode, Mode::Paused(_))
            && self.pause_announced
            && self.backlog() == 0
            && self.judged_all()
    }

    /// No photo waits to be judged, nor is being judged.
    fn judged_all(&self) -> bool {
        self.to_judge.is_empty() && self.judging.is_empty()
    }

    /// Photos captured whose upload is not settled yet.
    pub fn backlog(&self) -> usize {
        self.shots.iter().filter(|s| in_backlog(**s)).count()
    }

    /// Photos journaled and not at the destination, to be sent now or
    /// later: of a scan read back from its journal, as many as
    /// `ScanRecord::pending_uploads`.
    pub fn waiting(&self) -> usize {
        self.shots
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    ShotState::Captured | ShotState::Uploading | ShotState::UploadAbandoned
                )
            })
            .count()
    }

    /// Shots in a given state.
    pub fn count(&self, state: ShotState) -> usize {
        self.shots.iter().filter(|s| **s == state).count()
    }

    /// Feeds one event; returns what to do now.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Command> {
        let mut out = Vec::new();
        self.apply(event, now, &mut out);
        self.advance(&mut out);
        out
    }

    fn camera_blocked(&self) -> bool {
        self.blocked_until_retry[Device::Camera as usize]
    }

    fn ids_in(&self, state: ShotState) -> Vec<ShotId> {
        self.shots
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == state)
            .map(|(i, _)| ShotId(i as u32 + 1))
            .collect()
    }

    fn set(&mut self, shot: ShotId, state: ShotState) {
        self.shots[idx(shot)] = state;
    }
}

fn idx(shot: ShotId) -> usize {
    shot.0 as usize - 1
}

/// Whether a shot's capture is in the journal.
fn is_journaled(s: ShotState) -> bool {
    matches!(
        s,
        ShotState::Captured
            | ShotState::Uploading
            | ShotState::Uploaded
            | ShotState::UploadAbandoned
            | ShotState::Triggered
    )
}

fn in_backlog(s: ShotState) -> bool {
    matches!(
        s,
        ShotState::Exposing
            | ShotState::Exposed
            | ShotState::Downloading
            | ShotState::Persisting
            | ShotState::Captured
            | ShotState::Uploading
    )
}

#[cfg(test)]
pub(crate) mod tests;
