//! What each device does next: uploads, downloads, exposures, the
//! table's moves, and when the scan pauses or ends.

use super::{idx, is_journaled, Command, Mode, PauseReason, Sequence, ShotId, ShotState, Table};
use crate::model::{Device, Outcome};

impl Sequence {
    /// Issues whatever the devices can do now.
    pub(super) fn advance(&mut self, out: &mut Vec<Command>) {
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
    pub(super) fn home(&mut self, out: &mut Vec<Command>) {
        if self.settings == Some(true) {
            self.table = Table::Homing;
            out.push(Command::Home);
        }
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
}
