//! Each event fed to the sequence, and what it changes.

use std::time::Instant;

use super::{
    idx, CheckState, Command, Event, Mode, PauseReason, Retry, Sequence, ShotState, Table,
};
use crate::model::Device;

impl Sequence {
    pub(super) fn apply(&mut self, event: Event, now: Instant, out: &mut Vec<Command>) {
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
}
