//! The check after each ring that the object has not moved.

use super::{idx, is_journaled, CheckState, Command, RingCheck, Sequence, ShotState, Table};
use crate::model::Device;

impl Sequence {
    /// A ring's check that found the object moved and waits for the
    /// operator: its ring and what was found.
    pub(super) fn held(&self) -> Option<(u32, String)> {
        self.checks.iter().find_map(|c| match &c.state {
            CheckState::Held(message) => Some((c.ring, message.clone())),
            _ => None,
        })
    }

    /// Drives the check of a ring once its shots are all exposed: the
    /// table back to its first shot, then the check, once the first
    /// photo is journaled and the camera is free. True while a check
    /// holds the scan.
    pub(super) fn drive_check(&mut self, out: &mut Vec<Command>) -> bool {
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
}
