//! What the supervisor is asked from outside: start a scan, finish an
//! earlier one's uploads, the operator's controls and buttons, stopping
//! the motors, the process leaving, and the leases of the rig by hand.

use std::collections::BTreeMap;

use actix::prelude::*;
use scanrig_hardware::axis::StopKind;
use scanrig_hardware::panel::Button;
use slog::{info, warn};

use super::run::Run;
use super::{Control, Drain, Leaving, Progress, Refusal, StartScan, StopMotors, Supervisor};
use crate::buttons::Pressed;
use crate::lights::Illuminate;
use crate::manual::{Busy, Lease, ManualActor, Unlease};
use crate::model::{ScanPlan, SettleFrom, ShotId};
use crate::sequence::{Event, Sequence};
use crate::turntable::Release;

impl Handler<StartScan> for Supervisor {
    type Result = Result<(), Busy>;

    fn handle(&mut self, msg: StartScan, ctx: &mut Self::Context) -> Self::Result {
        if let Some(active) = self.active().or(self.deferred.as_ref()) {
            return Err(Busy::Scanning(active.clone()));
        }
        if let Some(motion) = &self.motion {
            return Err(Busy::Moving(motion.clone()));
        }
        let scan = msg.plan.scan.clone();
        if let Some(run) = self.runs.get_mut(&scan) {
            if run.finishing {
                // Its earlier uploads are done and being closed: the scan
                // starts afresh from its journal once they are.
                info!(self.log, "the scan starts once its earlier uploads are closed"; "scan" => %scan);
                self.deferred = Some(scan);
                return Ok(());
            }
            // Its earlier uploads are still going: the scan takes them over.
            run.seq.claim();
        }
        let dir = self.policy.spool.join(scan.as_str());
        let planned = msg.plan.shots.len();
        let running = self
            .runs
            .get(&scan)
            .map(|run| planned - run.seq.count(crate::sequence::ShotState::Pending));
        let new = running.is_none() && msg.resume.is_none();
        let done = match (running, msg.resume) {
            // Uploads of this scan may still be running from the replay.
            (Some(done), _) => done,
            (None, Some(record)) => {
                let states = record.shot_states();
                let seq = Sequence::new(self.policy.config.clone(), states)
                    .with_manual_stops(self.manual_stops(&msg.plan))
                    .with_unjudged(record.unjudged())
                    .with_takes(record.takes())
                    .with_ring_checks(self.ring_checks(&msg.plan, Some(&record)));
                let run = Run::new(msg.plan, dir, seq, Some(&record));
                let done = record.captured.len();
                self.runs.insert(scan.clone(), run);
                done
            }
            (None, None) => {
                let states = vec![crate::sequence::ShotState::Pending; planned];
                let seq = Sequence::new(self.policy.config.clone(), states)
                    .with_manual_stops(self.manual_stops(&msg.plan))
                    .with_ring_checks(self.ring_checks(&msg.plan, None));
                // The place is part of the plan: a resumed scan goes on
                // where it started, whatever the configuration says then.
                let mut plan = msg.plan;
                if plan.destination.is_none() {
                    plan.destination = Some(self.policy.destination.clone());
                    plan.destinations.clone_from(&self.policy.targets);
                }
                if plan.priors.is_none() {
                    plan.priors.clone_from(&self.policy.priors);
                }
                self.runs
                    .insert(scan.clone(), Run::new(plan, dir, seq, None));
                0
            }
        };
        if let Some(run) = self.runs.get_mut(&scan) {
            run.active = true;
            run.ended = false;
            let (settle_ms, from) = (run.plan.settle_ms, run.plan.settle_from);
            info!(self.log, "scan started"; "scan" => %scan, "planned" => planned, "already captured" => done, "settle_ms" => settle_ms, "settle" => from.as_str());
            if let Some(trouble) = self.health.trouble() {
                warn!(self.log, "this Pi is short of power or throttled: the camera may drop out during the scan; use the Pi's own power supply and cool it"; "scan" => %scan, "health" => trouble);
            }
            if from == SettleFrom::Safe {
                warn!(self.log, "settle_ms = \"auto\", but this rig has learned no settle time yet: every shot settles the safe time; run `scanrig check` with this profile to learn it"; "profile" => &run.plan.profile, "settle_ms" => settle_ms);
            }
        }
        self.tell(Progress::Started {
            scan: scan.clone(),
            planned,
            done,
        });
        if new {
            self.record_start(&scan, ctx);
        }
        // The lights on, and warmed up, before anything moves: nothing
        // else is taken in meanwhile.
        let levels = self.runs.get(&scan).map(|r| r.plan.lights.clone());
        let lit = self.lights.send(Illuminate(levels.unwrap_or_default()));
        ctx.wait(
            lit.into_actor(self)
                .map(move |_, act, ctx| act.feed(&scan, Event::Start, ctx)),
        );
        Ok(())
    }
}

impl Handler<Drain> for Supervisor {
    type Result = ();

    fn handle(&mut self, Drain { record, defer }: Drain, ctx: &mut Self::Context) {
        let scan = record.id().clone();
        if self.runs.contains_key(&scan) {
            return;
        }
        let pending = record.pending_uploads().len() - defer.len();
        info!(self.log, "finishing uploads of an earlier scan"; "scan" => %scan, "photos" => pending,
            "not due yet" => defer.len());
        let dir = self.policy.spool.join(scan.as_str());
        let mut states = record.shot_states();
        for shot in &defer {
            // Left for a later pass: not tried in this one.
            if let Some(state) = states.get_mut(shot.0 as usize - 1) {
                *state = crate::sequence::ShotState::UploadAbandoned;
            }
        }
        let seq = Sequence::new(self.policy.config.clone(), states)
            .with_unjudged(record.unjudged())
            .with_takes(record.takes());
        let run = Run::new(record.plan.clone(), dir, seq, Some(&record));
        self.runs.insert(scan.clone(), run);
        self.feed(&scan, Event::Drain, ctx);
    }
}

impl Handler<Leaving> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: Leaving, ctx: &mut Self::Context) {
        self.deferred = None;
        let scans: Vec<_> = self.runs.keys().cloned().collect();
        for scan in scans {
            self.feed(&scan, Event::Leaving, ctx);
        }
    }
}

impl Handler<Control> for Supervisor {
    type Result = Result<(), Refusal>;

    fn handle(&mut self, msg: Control, ctx: &mut Self::Context) -> Self::Result {
        self.control(msg, ctx)
    }
}

impl Handler<Pressed> for Supervisor {
    type Result = ();

    fn handle(&mut self, Pressed(event): Pressed, ctx: &mut Self::Context) {
        self.tell(Progress::Button(event));
        let paused = self
            .active()
            .and_then(|id| self.runs.get(id))
            .map(|r| r.seq.paused().is_some());
        match (event.button, paused) {
            (Button::Stop, Some(_)) => {
                if event.long {
                    // Abort: stepping ends now and the motors are released,
                    // not at the end of the move in flight.
                    self.stop_motors(true);
                }
                let _ = self.control(Control::Stop, ctx);
            }
            // No scan: Stop stops a jog or homing (a long press at once).
            (Button::Stop, None) => self.stop_motors(event.long),
            (Button::Start, Some(true)) | (Button::Pause, Some(true)) => {
                let _ = self.control(Control::Resume, ctx);
            }
            (Button::Pause, Some(false)) => {
                let _ = self.control(Control::Pause, ctx);
            }
            (Button::Start, None) => self.tell(Progress::StartRequested),
            _ => {}
        }
    }
}

impl Supervisor {
    /// Stops what the motors are doing; an emergency stop releases them.
    fn stop_motors(&mut self, emergency: bool) {
        let kind = if emergency {
            StopKind::Emergency
        } else {
            StopKind::Controlled
        };
        info!(self.log, "motors stop"; "how" => ?kind, "during" => self.motion.as_ref().map(ToString::to_string));
        self.halt.request(kind);
        if emergency {
            self.turntable.do_send(Release);
        }
    }
}

impl Handler<StopMotors> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: StopMotors, _: &mut Self::Context) {
        self.stop_motors(msg.emergency);
    }
}

impl Handler<Lease> for Supervisor {
    type Result = Result<(), Busy>;

    /// The devices by hand, while no scan runs; the motors for one
    /// motion at a time, shown in the status while it runs.
    fn handle(&mut self, Lease(motion): Lease, _: &mut Self::Context) -> Self::Result {
        if let Some(scan) = self.active() {
            return Err(Busy::Scanning(scan.clone()));
        }
        if let Some(motion) = motion {
            if let Some(busy) = &self.motion {
                return Err(Busy::Moving(busy.clone()));
            }
            self.motion = Some(motion.clone());
            self.tell(Progress::Motion(Some(motion)));
        }
        Ok(())
    }
}

impl Handler<Unlease> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: Unlease, _: &mut Self::Context) {
        self.motion = None;
        self.tell(Progress::Motion(None));
    }
}

impl Supervisor {
    /// On a rig without a tilt motor: a stop before the first shot of each
    /// ring whose tilt differs from the ring before.
    fn manual_stops(&self, plan: &ScanPlan) -> BTreeMap<ShotId, String> {
        if !self.policy.manual_tilt {
            return BTreeMap::new();
        }
        plan.shots
            .windows(2)
            .filter(|w| w[0].tilt != w[1].tilt)
            .map(|w| {
                let s = &w[1];
                let message = format!(
                    "set the camera's tilt to {:+.1}° for ring {}, then press Start",
                    s.tilt.get(),
                    s.ring
                );
                (s.id, message)
            })
            .collect()
    }
}

/// The address of the rig by hand.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Addr<ManualActor>")]
pub struct Manual;

impl Handler<Manual> for Supervisor {
    type Result = MessageResult<Manual>;

    fn handle(&mut self, _: Manual, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.manual.clone())
    }
}
