//! The scan as a pure state machine: events in, commands out, no I/O.
//!
//! It decides what every device does next, so that the stages overlap: the
//! turntable leaves for shot k+1 as soon as shot k's shutter has closed, the
//! camera downloads while the table turns, and uploads run behind a bounded
//! backlog. It also owns the retry policy: exponential backoff per device and
//! a restart budget that, once spent, pauses the scan with its reason.

mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub use types::{
    is_framing_or_clipping, CheckState, Command, Control, Event, Fault, OnProblem, PauseReason,
    Refusal, Retry, RingCheck, SequenceConfig, ShotState,
};

use scanrig_hardware::judge::Problem;

use crate::model::{Device, FaultKind, Frame, Outcome, PhotoName, ShotId};
use crate::restart::RestartBudget;

/// How many kinds of [`Device`] there are (per-device counters are indexed by them).
const DEVICES: usize = 3;

/// Longest wait between two looks for a device that is gone, so that the
/// scan goes on soon after it is plugged back in.
const PROBE_EVERY_AT_MOST: Duration = Duration::from_secs(1);

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

    /// Carries out what the operator asks, or says why it cannot be done
    /// in the scan's state (and changes nothing); returns what to do now.
    pub fn control(&mut self, control: Control) -> Result<Vec<Command>, Refusal> {
        let mut out = Vec::new();
        match control {
            Control::Pause if self.mode == Mode::Running => self.pause(PauseReason::Operator),
            Control::Pause => return Err(Refusal::NotRunning),
            Control::Resume => self.resume(&mut out)?,
            Control::Stop => self.stop()?,
        }
        self.advance(&mut out);
        Ok(out)
    }

    fn resume(&mut self, out: &mut Vec<Command>) -> Result<(), Refusal> {
        let Mode::Paused(reason) = &self.mode else {
            return Err(Refusal::NotPaused);
        };
        if reason.is_fault() {
            self.budget.reset();
            self.failures = [0; DEVICES];
            self.blocked_until_retry = [false; DEVICES];
        }
        if let PauseReason::Moved { ring, .. } = *reason {
            for check in self.checks.iter_mut().filter(|c| c.ring == ring) {
                check.state = CheckState::Done;
            }
            out.push(Command::MovedAccepted(ring));
        }
        self.mode = Mode::Running;
        self.pause_announced = false;
        for shot in self.ids_in(ShotState::Persisting) {
            out.push(Command::Persist(shot));
        }
        Ok(())
    }

    fn stop(&mut self) -> Result<(), Refusal> {
        if !matches!(self.mode, Mode::Running | Mode::Paused(_) | Mode::Idle) {
            return Err(Refusal::NoScan);
        }
        if matches!(self.mode, Mode::Paused(PauseReason::Disconnected(_))) && self.camera_blocked()
        {
            // The camera is gone: the photos it holds cannot be had, and
            // the scan stops without them (not taken), rather than wait
            // for the camera to come back.
            for shot in self.ids_in(ShotState::Exposed) {
                self.set(shot, ShotState::Pending);
            }
        }
        // A retake not taken yet: the earlier take is kept, and sent.
        for shot in self.ids_in(ShotState::Pending) {
            if self.take(shot) > 1 {
                self.set(shot, ShotState::Captured);
            }
        }
        self.mode = Mode::Stopping;
        self.draining = false;
        Ok(())
    }

    fn apply(&mut self, event: Event, now: Instant, out: &mut Vec<Command>) {
        match event {
            Event::Start => self.start(out),
            Event::Drain => {
                if self.mode == Mode::Idle {
                    self.upload_leftovers(out);
                    self.mode = Mode::Stopping;
                    self.draining = true;
                }
            }
            Event::SettingsApplied => {
                self.settings = Some(true);
                self.camera_busy = false;
            }
            Event::Homed => {
                self.table = Table::Standing;
                self.failures[Device::Table as usize] = 0;
            }
            Event::Moved { shot, still } => {
                if still {
                    self.table = Table::At(shot);
                } else {
                    self.table = Table::Settling(shot);
                    out.push(Command::Settle(shot));
                }
                self.failures[Device::Table as usize] = 0;
            }
            Event::Settled(shot) => self.table = Table::At(shot),
            Event::Halted { lost } => {
                self.table = if lost {
                    Table::Unknown
                } else {
                    Table::Standing
                };
            }
            Event::Exposed(shot) => {
                self.set(shot, ShotState::Exposed);
                self.camera_busy = false;
            }
            Event::Downloaded(shot) => {
                self.camera_busy = false;
                self.failures[Device::Camera as usize] = 0;
                self.set(shot, ShotState::Persisting);
                out.push(Command::Persist(shot));
            }
            Event::Triggered(shot) => {
                self.camera_busy = false;
                self.failures[Device::Camera as usize] = 0;
                self.set(shot, ShotState::Triggered);
            }
            Event::Persisted(shot) => {
                self.set(shot, ShotState::Captured);
                if self.config.quality.is_some() {
                    self.to_judge.insert(shot);
                }
            }
            Event::Judged { shot, problems } => self.judged(shot, &problems, out),
            Event::Uploaded(shot) => self.set(shot, ShotState::Uploaded),
            Event::DeviceFailed {
                device,
                shot,
                fault,
                retake,
            } => self.device_failed(device, shot, fault, retake, now, out),
            Event::PersistFailed(shot, message) => {
                // The photo is in the spool but not journaled: keep it
                // there and stop shooting until the operator looks.
                self.set(shot, ShotState::Persisting);
                self.pause(PauseReason::Fault(format!(
                    "cannot record {shot} in the journal: {message}"
                )));
            }
            Event::SpaceLow(message) => {
                // Stop shooting before the card fills; uploads go on and
                // free the space (photos leave the spool once uploaded).
                if self.mode == Mode::Running {
                    self.pause(PauseReason::Fault(message));
                }
            }
            Event::UploadFailed { shot, retryable } => {
                let attempts = &mut self.attempts[idx(shot)].uploads;
                *attempts += 1;
                let attempts = *attempts;
                if retryable && attempts < self.config.upload_attempts && !self.leaving {
                    self.set(shot, ShotState::Captured);
                    let delay = self.config.upload_backoff.delay(attempts);
                    out.push(Command::RetryAfter {
                        delay,
                        retry: Retry::Upload(shot),
                    });
                } else {
                    self.set(shot, ShotState::UploadAbandoned);
                }
            }
            Event::Leaving => {
                self.leaving = true;
                for shot in self.ids_in(ShotState::Captured) {
                    if self.attempts[idx(shot)].uploads > 0 {
                        self.set(shot, ShotState::UploadAbandoned);
                    }
                }
            }
            Event::RetryDue(Retry::Device(device)) => {
                self.blocked_until_retry[device as usize] = false;
            }
            Event::RetryDue(Retry::Probe(device)) => {
                if matches!(self.mode, Mode::Paused(PauseReason::Disconnected(_))) {
                    out.push(Command::Probe(device));
                } else {
                    self.probes = 0;
                }
            }
            Event::Probed { device, present } => self.probed(device, present, out),
            Event::RingChecked { ring, moved } => {
                self.camera_busy = false;
                for check in self.checks.iter_mut().filter(|c| c.ring == ring) {
                    check.state = match &moved {
                        Some(message) => CheckState::Held(message.clone()),
                        None => CheckState::Done,
                    };
                }
            }
            Event::RetryDue(Retry::Upload(shot)) => {
                if self.shot(shot) == ShotState::Captured {
                    self.set(shot, ShotState::Uploading);
                    out.push(Command::Upload {
                        shot,
                        check_existing: true,
                    });
                }
            }
        }
    }

    fn start(&mut self, out: &mut Vec<Command>) {
        if self.mode == Mode::Idle {
            self.upload_leftovers(out);
            self.mode = Mode::Running;
        }
    }

    /// Photos captured in an earlier run whose upload is not known to have
    /// finished: the destination is asked before uploading again.
    fn upload_leftovers(&mut self, out: &mut Vec<Command>) {
        for shot in self.ids_in(ShotState::Captured) {
            self.set(shot, ShotState::Uploading);
            out.push(Command::Upload {
                shot,
                check_existing: true,
            });
        }
    }

    fn device_failed(
        &mut self,
        device: Device,
        shot: Option<ShotId>,
        fault: Fault,
        retake: bool,
        now: Instant,
        out: &mut Vec<Command>,
    ) {
        match device {
            Device::Table => self.table = Table::Unknown,
            // A photo the spool could not take was the camera's download.
            Device::Camera | Device::Spool => {
                self.camera_busy = false;
                if self.settings == Some(false) {
                    self.settings = None;
                }
                if let Some(shot) = shot {
                    let retake_now = match self.shot(shot) {
                        ShotState::Exposing => true,
                        ShotState::Downloading => {
                            let a = &mut self.attempts[idx(shot)];
                            a.downloads += 1;
                            retake || a.downloads >= self.config.download_attempts
                        }
                        _ => false,
                    };
                    let next = if retake_now {
                        self.attempts[idx(shot)].downloads = 0;
                        ShotState::Pending
                    } else {
                        ShotState::Exposed
                    };
                    self.set(shot, next);
                }
            }
        }
        match fault.kind {
            FaultKind::Transient => {}
            FaultKind::Refused => return self.pause(PauseReason::Refused(fault.message)),
            FaultKind::Fatal => return self.pause(PauseReason::Fault(fault.message)),
            FaultKind::Gone => {
                let what = format!(
                    "{}: plug it back in; the scan goes on by itself when it is back",
                    fault.message
                );
                self.pause(PauseReason::Disconnected(what));
                // Nothing more is asked of it until it answers again.
                self.blocked_until_retry[device as usize] = true;
                if self.probes == 0 && matches!(self.mode, Mode::Paused(_)) {
                    self.probe_later(device, out);
                }
                return;
            }
        }
        if !self.budget.record(now) {
            let reason = format!(
                "{} failed {} times within {} s; last error: {}",
                match device {
                    Device::Table => "the turntable",
                    Device::Camera => "the camera",
                    Device::Spool => "the spool",
                },
                self.budget.count(),
                self.config.restart_window.as_secs(),
                fault.message
            );
            self.pause(PauseReason::Fault(reason));
            return;
        }
        let n = &mut self.failures[device as usize];
        *n += 1;
        self.blocked_until_retry[device as usize] = true;
        out.push(Command::RetryAfter {
            delay: self.config.device_backoff.delay(*n),
            retry: Retry::Device(device),
        });
    }

    /// Looks again for a device that is gone, after a backoff.
    fn probe_later(&mut self, device: Device, out: &mut Vec<Command>) {
        self.probes += 1;
        let delay = self.config.device_backoff.delay(self.probes);
        out.push(Command::RetryAfter {
            delay: delay.min(PROBE_EVERY_AT_MOST),
            retry: Retry::Probe(device),
        });
    }

    /// A device that was gone answers again (the scan goes on), or not yet.
    fn probed(&mut self, device: Device, present: bool, out: &mut Vec<Command>) {
        if !matches!(self.mode, Mode::Paused(PauseReason::Disconnected(_))) {
            self.probes = 0;
            return;
        }
        if !present {
            return self.probe_later(device, out);
        }
        self.probes = 0;
        self.failures[device as usize] = 0;
        self.blocked_until_retry[device as usize] = false;
        self.mode = Mode::Running;
        self.pause_announced = false;
    }

    /// A shot's photos judged: a blurred one is taken again while retakes
    /// are left and each take comes out sharper than the one before (a
    /// retake no sharper says the object itself measures soft: the shot is
    /// kept as it is, and after a few such shots with none made sharp,
    /// the scan retakes no more).
    fn judged(&mut self, shot: ShotId, problems: &[(String, Problem)], out: &mut Vec<Command>) {
        self.judging.remove(&shot);
        // A frame of a bracketed set is not held to it: a focus stack's
        // frames are each sharp in a slice only (their merged image is).
        let blurred = problems
            .iter()
            .filter(|(photo, p)| {
                let bracket =
                    PhotoName::of_file(photo).is_some_and(|n| matches!(n.frame, Frame::Bracket(_)));
                matches!(p, Problem::Blurred { .. }) && !bracket
            })
            .min_by(|(_, a), (_, b)| sharpness(a).total_cmp(&sharpness(b)));
        let take = self.take(shot);
        let Some((photo, problem)) = blurred else {
            if take > 1 {
                self.retaken.helped += 1;
            }
            self.retaken.softest.remove(&shot);
            return self.judged_framing(problems);
        };
        let measured = sharpness(problem);
        let sharper = self
            .retaken
            .softest
            .insert(shot, measured)
            .is_none_or(|before| measured >= before * RETAKE_GAIN);
        if !sharper {
            self.retaken.fruitless += 1;
            if let Some(why) = self.retaken.given_up(problem) {
                out.push(Command::RetakesStopped(why));
            }
        }
        let shooting = matches!(self.mode, Mode::Running | Mode::Paused(_));
        if shooting
            && sharper
            && self.retaking()
            && take <= self.config.retakes
            && self.shot(shot) == ShotState::Captured
        {
            self.takes[idx(shot)] = take + 1;
            self.set(shot, ShotState::Pending);
            out.push(Command::Retake {
                shot,
                take: take + 1,
                why: format!("{photo}: {problem}"),
            });
            if self.table == Table::At(shot) {
                // Standing there since: settle again, for longer.
                self.table = Table::Settling(shot);
                out.push(Command::Settle(shot));
            }
            return;
        }
        self.judged_framing(problems);
    }

    /// With `on_problem = "pause"`, a photo with the object out of frame or
    /// cut off, or overexposed, pauses the scan.
    fn judged_framing(&mut self, problems: &[(String, Problem)]) {
        if self.config.quality != Some(OnProblem::Pause) || self.mode != Mode::Running {
            return;
        }
        let mut found = problems.iter().filter(|(_, p)| is_framing_or_clipping(p));
        if let Some((photo, problem)) = found.next() {
            self.pause(PauseReason::Photo(format!(
                "{photo}: {problem}; then resume (or set [quality] on_problem = \"flag\" to go on past such photos)"
            )));
        }
    }

    fn pause(&mut self, reason: PauseReason) {
        if matches!(self.mode, Mode::Stopping | Mode::Finished) {
            return;
        }
        if reason.is_fault() {
            self.blocked_until_retry = [false; DEVICES];
        }
        self.mode = Mode::Paused(reason);
        self.pause_announced = false;
    }

    /// Issues whatever the devices can do now.
    fn advance(&mut self, out: &mut Vec<Command>) {
        self.start_uploads(out);
        if self.mode != Mode::Idle {
            for shot in std::mem::take(&mut self.to_judge) {
                self.judging.insert(shot);
                out.push(Command::Judge(shot));
            }
        }
        match self.mode.clone() {
            Mode::Running => {
                if let Some((ring, message)) = self.held() {
                    self.pause(PauseReason::Moved { ring, message });
                    return self.advance(out);
                }
                if self.drive_check(out) {
                    // Nothing else moves or exposes until the ring is
                    // checked; its photos still download.
                    return self.drive_downloads(out);
                }
                if let Some(message) = self.manual_stop() {
                    self.pause(PauseReason::Manual(message));
                    return self.advance(out);
                }
                if self.settings.is_none() && !self.camera_blocked() && !self.camera_busy {
                    self.settings = Some(false);
                    self.camera_busy = true;
                    out.push(Command::ApplySettings);
                }
                self.drive_camera(out);
                self.drive_table(out);
                // Only once every shot is journaled: a shot still exposing or
                // downloading may fail and go back to `Pending` to be retaken;
                // as may a shot being judged, while blurred ones are retaken.
                if self.shots.iter().all(|s| is_journaled(*s))
                    && (!self.retaking() || self.judged_all())
                {
                    self.mode = Mode::Stopping;
                }
            }
            Mode::Paused(reason) => {
                // Downloads of photos already exposed go on while paused.
                self.drive_downloads(out);
                if !self.pause_announced && self.quiet_devices() {
                    self.pause_announced = true;
                    if reason.is_fault() && self.table != Table::Unknown {
                        // A fault releases the motors; resuming homes again.
                        self.table = Table::Unknown;
                        out.push(Command::Deenergise);
                    }
                    out.push(Command::Paused(reason));
                }
                return;
            }
            _ => {}
        }
        if self.mode == Mode::Stopping {
            self.drive_downloads(out);
            if self.quiet_devices() && self.backlog() == 0 && self.judged_all() {
                self.mode = Mode::Finished;
                let outcome = if self.count(ShotState::Pending) == 0 {
                    Outcome::Completed
                } else {
                    Outcome::Stopped
                };
                if self.table != Table::Unknown {
                    out.push(Command::Deenergise);
                }
                out.push(Command::Finished(outcome));
            }
        }
    }

    fn start_uploads(&mut self, out: &mut Vec<Command>) {
        // Newly journaled photos go to the uploader at once; the uploader's
        // queue is bounded by the backlog limit on the camera side. While
        // blurred photos are retaken, a shot's photos wait for their
        // judgement, so that a take not kept is never sent.
        let hold = self.retaking();
        for (i, s) in self.shots.iter_mut().enumerate() {
            let shot = ShotId(i as u32 + 1);
            let judging = self.to_judge.contains(&shot) || self.judging.contains(&shot);
            if *s == ShotState::Captured && self.attempts[i].uploads == 0 && !(hold && judging) {
                *s = ShotState::Uploading;
                out.push(Command::Upload {
                    shot,
                    check_existing: false,
                });
            }
        }
    }

    /// Whether blurred photos are taken again (then a shot's upload waits
    /// for its judgement).
    fn retaking(&self) -> bool {
        self.config.quality.is_some() && self.config.retakes > 0 && !self.retaken.stopped
    }

    fn drive_downloads(&mut self, out: &mut Vec<Command>) {
        if self.camera_busy || self.camera_blocked() {
            return;
        }
        if let Some(shot) = self.ids_in(ShotState::Exposed).into_iter().next() {
            self.camera_busy = true;
            self.set(shot, ShotState::Downloading);
            out.push(Command::Download(shot));
        }
    }

    fn drive_camera(&mut self, out: &mut Vec<Command>) {
        self.drive_downloads(out);
        if self.camera_busy || self.camera_blocked() || self.settings != Some(true) {
            return;
        }
        let Some(target) = self.target() else { return };
        if self.table == Table::At(target)
            && self.backlog() < self.config.upload_backlog
            && (self.config.pipelined || self.backlog() == 0)
        {
            self.camera_busy = true;
            self.set(target, ShotState::Exposing);
            out.push(Command::Expose(target));
        }
    }

    fn drive_table(&mut self, out: &mut Vec<Command>) {
        if self.blocked_until_retry[Device::Table as usize] {
            return;
        }
        match self.table {
            // The camera takes the scan's settings before any motor moves:
            // a setting the camera refuses stops the scan with the rig still.
            Table::Unknown => self.home(out),
            Table::Standing | Table::At(_) => {
                let exposing = self.shots.contains(&ShotState::Exposing);
                let Some(target) = self.target() else { return };
                let ready = self.config.pipelined
                    || (self.backlog() == 0 && !self.camera_busy && !self.has_exposed());
                if self.table != Table::At(target) && !exposing && ready {
                    self.table = Table::Moving(target);
                    out.push(Command::MoveTo(target));
                }
            }
            Table::Homing | Table::Moving(_) | Table::Settling(_) => {}
        }
    }

    /// Homes the table once the camera has taken the scan's settings: a
    /// setting the camera refuses stops the scan with the rig still.
    fn home(&mut self, out: &mut Vec<Command>) {
        if self.settings == Some(true) {
            self.table = Table::Homing;
            out.push(Command::Home);
        }
    }

    /// A ring's check that found the object moved and waits for the
    /// operator: its ring and what was found.
    fn held(&self) -> Option<(u32, String)> {
        self.checks.iter().find_map(|c| match &c.state {
            CheckState::Held(message) => Some((c.ring, message.clone())),
            _ => None,
        })
    }

    /// Drives the check of a ring once its shots are all exposed: the
    /// table back to its first shot, then the check, once the first
    /// photo is journaled and the camera is free. True while a check
    /// holds the scan.
    fn drive_check(&mut self, out: &mut Vec<Command>) -> bool {
        let shot = |c: &RingCheck, shots: &[ShotState]| {
            shots[idx(c.first)..=idx(c.last)]
                .iter()
                .all(|s| !matches!(s, ShotState::Pending | ShotState::Exposing))
        };
        let Some(i) = self.checks.iter().position(|c| match c.state {
            CheckState::Checking => true,
            CheckState::Due => shot(c, &self.shots),
            CheckState::Held(_) | CheckState::Done => false,
        }) else {
            return false;
        };
        let (ring, first) = (self.checks[i].ring, self.checks[i].first);
        if self.checks[i].state == CheckState::Checking
            || self.blocked_until_retry[Device::Table as usize]
        {
            return true;
        }
        match self.table {
            Table::At(at) if at == first => {
                if is_journaled(self.shot(first)) && !self.camera_busy && !self.camera_blocked() {
                    self.camera_busy = true;
                    self.checks[i].state = CheckState::Checking;
                    out.push(Command::CheckRing { ring, first });
                }
            }
            Table::Standing | Table::At(_) => {
                self.table = Table::Moving(first);
                out.push(Command::MoveTo(first));
            }
            Table::Unknown => self.home(out),
            Table::Homing | Table::Moving(_) | Table::Settling(_) => {}
        }
        true
    }

    /// The operator's job before the next shot, once the shots before it
    /// are exposed (each stop is asked for once).
    fn manual_stop(&mut self) -> Option<String> {
        let target = self.target()?;
        let exposing = self.shots[..idx(target)].contains(&ShotState::Exposing);
        if exposing || !self.manual_stops.contains_key(&target) {
            return None;
        }
        self.manual_stops.remove(&target)
    }

    /// The next shot to take: the first one still pending.
    fn target(&self) -> Option<ShotId> {
        self.shots
            .iter()
            .position(|s| *s == ShotState::Pending)
            .map(|i| ShotId(i as u32 + 1))
    }

    fn has_exposed(&self) -> bool {
        self.shots
            .iter()
            .any(|s| matches!(s, ShotState::Exposed | ShotState::Downloading))
    }

    fn camera_blocked(&self) -> bool {
        self.blocked_until_retry[Device::Camera as usize]
    }

    /// Nothing moving, nothing exposing or downloading (nor waiting to be
    /// downloaded, unless the camera is gone and cannot be asked).
    fn quiet_devices(&self) -> bool {
        let waiting = !self.camera_blocked() && self.shots.contains(&ShotState::Exposed);
        !matches!(
            self.table,
            Table::Moving(_) | Table::Homing | Table::Settling(_)
        ) && !self.camera_busy
            && !waiting
            && !self
                .shots
                .iter()
                .any(|s| matches!(s, ShotState::Exposing | ShotState::Downloading))
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

/// How much sharper a retake must come out than the take before for
/// retaking that shot to go on: a swaying rig settled longer comes out
/// much sharper; an object that is soft itself measures the same again.
const RETAKE_GAIN: f32 = 1.1;

/// Shots whose retake came out no sharper, with none made sharp by a
/// retake, after which the scan retakes no more.
const FRUITLESS_RETAKES: u32 = 3;

/// What retaking blurred shots has done in this scan.
#[derive(Debug, Default)]
struct RetakeTally {
    /// The least sharpness of each shot's last take judged blurred.
    softest: BTreeMap<ShotId, f32>,
    /// Retakes that came out sharp.
    helped: u32,
    /// Retakes that came out no sharper than the take before.
    fruitless: u32,
    /// Retaking was given up for the rest of the scan.
    stopped: bool,
}

impl RetakeTally {
    /// Gives retaking up, once, when it has not made a shot sharp in
    /// [`FRUITLESS_RETAKES`] tries: why, in words.
    fn given_up(&mut self, last: &Problem) -> Option<String> {
        let Problem::Blurred { sharpness, least } = last else {
            return None;
        };
        if self.stopped || self.helped > 0 || self.fruitless < FRUITLESS_RETAKES {
            return None;
        }
        self.stopped = true;
        Some(format!(
            "{} shots came out no sharper when taken again, and none was made sharp: \
             the object itself measures soft (sharpness {sharpness:.0}, at least {least:.0} \
             expected); blurred shots are kept as they are \
             for the rest of the scan (flagged): set [quality] min_sharpness lower for such \
             an object, or check the focus",
            self.fruitless
        ))
    }
}

/// The sharpness a blurred photo measured (none for other problems).
fn sharpness(problem: &Problem) -> f32 {
    match problem {
        Problem::Blurred { sharpness, .. } => *sharpness,
        _ => f32::INFINITY,
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
