//! The operator's controls: pause, resume and stop.

use super::{
    CheckState, Command, Control, Mode, PauseReason, Refusal, Sequence, ShotState, DEVICES,
};

impl Sequence {
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

    pub(super) fn pause(&mut self, reason: PauseReason) {
        if matches!(self.mode, Mode::Stopping | Mode::Finished) {
            return;
        }
        if reason.is_fault() {
            self.blocked_until_retry = [false; DEVICES];
        }
        self.mode = Mode::Paused(reason);
        self.pause_announced = false;
    }
}
