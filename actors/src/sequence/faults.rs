//! Devices that fail or are gone: retries with backoff, the restart
//! budget, and looks for a device until it is back.

use std::time::{Duration, Instant};

use super::{idx, Command, Fault, Mode, PauseReason, Retry, Sequence, ShotState, Table};
use crate::model::{Device, FaultKind, ShotId};

/// Longest wait between two looks for a device that is gone, so that the
/// scan goes on soon after it is plugged back in.
const PROBE_EVERY_AT_MOST: Duration = Duration::from_secs(1);

impl Sequence {
    pub(super) fn device_failed(
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
    pub(super) fn probed(&mut self, device: Device, present: bool, out: &mut Vec<Command>) {
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
}
