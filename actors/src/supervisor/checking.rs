//! The check after each ring that the object has not moved, carried out:
//! the ring's first photo kept once it is journaled, the check frame taken
//! from the first camera, held against it by the checker, the result
//! journaled before the sequence hears it; the operator going on after a
//! moved object, journaled.

use actix::prelude::*;
use scanrig_hardware::judge::Movement;
use slog::{info, warn};

use super::faults::{flat, flatten};
use super::Supervisor;
use crate::camera::CheckFrame;
use crate::clock::unix_millis_now;
use crate::journal::commit::Append;
use crate::journal::{Record, ScanRecord};
use crate::model::{Part, ScanId, ScanPlan, ShotId};
use crate::moved::{Compare, KeepPhoto};
use crate::sequence::{CheckState, Event, RingCheck};

impl Supervisor {
    /// The checks of `plan`'s rings of more than one shot (a ring of one
    /// has nothing to check between its photo and the frame), as far as
    /// `record` says they got; none when the check is off.
    pub(super) fn ring_checks(
        &self,
        plan: &ScanPlan,
        record: Option<&ScanRecord>,
    ) -> Vec<RingCheck> {
        if self.policy.moved.is_none() {
            return Vec::new();
        }
        plan.rings()
            .into_iter()
            .filter(|(_, first, last)| last > first)
            .map(|(ring, first, last)| {
                let state = match record.and_then(|r| r.checks.get(&ring)) {
                    Some(Some(found)) => CheckState::Held(found.clone()),
                    Some(None) => CheckState::Done,
                    None => CheckState::Due,
                };
                RingCheck {
                    ring,
                    first,
                    last,
                    state,
                }
            })
            .collect()
    }

    /// Keeps `shot`'s photo (of the first camera) if it is the first of a
    /// ring still to be checked: the upload will take it from the spool.
    pub(super) fn keep_for_check(&self, scan: &ScanId, shot: ShotId) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let Some(check) = run
            .seq
            .ring_checks()
            .iter()
            .find(|c| c.first == shot && c.state == CheckState::Due)
        else {
            return;
        };
        let part = Some(self.checked_part(&run.plan));
        let files = run.files.get(&shot).into_iter().flatten();
        let mine: Vec<_> = files.filter(|f| f.part() == part).collect();
        let jpeg = |name: &str| {
            let name = name.to_ascii_lowercase();
            name.ends_with(".jpg") || name.ends_with(".jpeg")
        };
        let Some(file) = mine.iter().find(|f| jpeg(&f.name)).or(mine.first()) else {
            return;
        };
        self.checker.do_send(KeepPhoto {
            photo: run.dir.join(&file.name),
            dir: run.dir.clone(),
            ring: check.ring,
        });
    }

    /// The part of a stop the check holds its frame against: the first
    /// camera's photo; of a bracketed set, its middle frame, the one
    /// nearest the camera's own exposure or focus, as its live view is.
    fn checked_part(&self, plan: &ScanPlan) -> Part {
        Part {
            camera: self.cameras[0].name.clone(),
            frame: plan.frames() / 2,
        }
    }

    /// Takes the check frame of ring `ring` from its first shot's pose and
    /// holds it against that shot's photo; the result is journaled, then
    /// fed to the sequence.
    pub(super) fn check_ring(
        &mut self,
        scan: &ScanId,
        ring: u32,
        first: ShotId,
        ctx: &mut Context<Self>,
    ) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let request = run
            .plan
            .capture_request(first, &self.checked_part(&run.plan), 1);
        let camera = self.cameras[0].addr.clone();
        let checker = self.checker.clone();
        let journal = self.journal.clone();
        let dir = run.dir.clone();
        let timeout = self.camera_timeout;
        let most = self.policy.moved.unwrap_or_default();
        let last_ring = run.plan.shots.last().map(|s| s.ring) == Some(ring);
        let job = async move {
            let frame = flatten(
                camera.send(CheckFrame(request)).timeout(timeout).await,
                "check frame",
                timeout,
            );
            let compared = match frame {
                Ok(frame) => flat(
                    checker
                        .send(Compare {
                            frame,
                            dir: dir.clone(),
                            ring,
                        })
                        .await,
                ),
                Err(e) => Err(format!("the camera gave no check frame: {e}")),
            };
            let moved = compared
                .as_ref()
                .ok()
                .filter(|m| m.changed > most)
                .map(|m| found(ring, m, most, last_ring));
            let record = Record::RingChecked {
                ring,
                at: unix_millis_now(),
                changed: compared.as_ref().ok().map(|m| m.changed),
                moved: moved.clone(),
                note: compared.as_ref().err().cloned(),
            };
            let journaled = flat(journal.send(Append { dir, record }).await);
            (compared, moved, journaled)
        };
        let id = scan.clone();
        self.ask(
            job,
            scan,
            |s| &mut s.checking,
            move |act, (compared, moved, journaled)| {
                let log = &act.log;
                match &compared {
                    Ok(m) => info!(log, "ring checked"; "scan" => %id, "ring" => ring,
                        "changed %" => format!("{:.1}", 100.0 * m.changed), "moved" => moved.is_some()),
                    Err(e) => warn!(log, "ring not checked"; "scan" => %id, "ring" => ring, "why" => e),
                }
                if let Err(e) = journaled {
                    warn!(log, "cannot record a ring's check in the journal"; "scan" => %id, "error" => e);
                }
                Event::RingChecked { ring, moved }
            },
            ctx,
        );
    }

    /// Journals that the operator went on after ring `ring`'s check found
    /// the object moved.
    pub(super) fn moved_accepted(&mut self, scan: &ScanId, ring: u32) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        self.journal.do_send(Append {
            dir: run.dir.clone(),
            record: Record::MovedAccepted {
                ring,
                at: unix_millis_now(),
            },
        });
    }
}

/// What the check of ring `ring` found, in words for the operator.
fn found(ring: u32, m: &Movement, most: f32, last_ring: bool) -> String {
    let next = if last_ring {
        "finish the scan"
    } else {
        "go on with the next ring"
    };
    format!(
        "the object moved during ring {ring}: {:.0} % of the camera's view from the ring's \
         first shot differs from its photo (at most {:.0} %); put the object back where it \
         stood (or leave it) and resume to {next}, or stop the scan",
        100.0 * m.changed,
        100.0 * most
    )
}
