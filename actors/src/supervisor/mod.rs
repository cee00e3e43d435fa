//! The supervisor: runs scans by feeding device replies into the scan
//! [`Sequence`](crate::sequence::Sequence) and carrying out the commands it returns; finishes the
//! uploads of earlier scans; tells subscribers how things go; shows the
//! rig's status on the panel.
//!
//! It decides nothing itself: the pure state machines beside it do —
//! [`Sequence`](crate::sequence::Sequence) (what every device does next), `stop::Stop` (a stop's
//! parts: what to expose, when the table may leave, when the shot is
//! whole) and `closing::Closing` (the end of a scan: priors, manifest,
//! retirement). The supervisor carries out their commands and feeds the
//! answers back.
//!
//! # Layout
//! - this file: the actor, its state, and how it is built;
//! - `operator`: what it is asked from outside (start, drain, the
//!   operator's controls and buttons, the leases of the rig by hand);
//! - `messages`: what it is told and tells ([`Progress`]);
//! - `commands`: the sequence's commands carried out, events queued back;
//! - `shooting`: the camera commands, on every camera of the column;
//! - `checking`: the check after each ring that the object has not moved;
//! - `column`: asking every camera of the column at once;
//! - `stop`: a stop's parts, as a pure state machine;
//! - `merging`: bracketed sets merged before they are journaled;
//! - `judging`: each journaled shot's photos judged beside its upload;
//! - `delivery`: each shot to each of a scan's several destinations;
//! - `closing`: the end of a scan, as a pure state machine; `finish`
//!   carries it out, and takes the uploads coming back;
//! - `faults`: device errors classed for the sequence;
//! - `status`: what the rig is doing, for the page and scripts;
//! - `run`: one scan in hand, and its summary; `progress`: subscribing.

mod checking;
mod closing;
mod column;
mod commands;
mod delivery;
mod faults;
mod finish;
mod judging;
mod merging;
mod messages;
mod operator;
mod progress;
mod run;
mod shooting;
mod status;
mod stop;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use actix::prelude::*;
use scanrig_hardware::axis::{AxesConnector, Halt, StopKind};
use scanrig_hardware::camera::CameraConnector;
use scanrig_hardware::judge::QualityLimits;
use scanrig_hardware::panel::{Buttons, Indicator, Status};
use slog::{info, Logger};

pub use crate::sequence::{Control, Refusal};
pub use messages::{
    Drain, Leaving, Ping, Progress, Spooled, StartScan, StopMotors, Subscribe, Summarise, Waiting,
};
pub use operator::Manual;
pub use progress::progress;
pub use run::{ScanSummary, StageTimes};
pub use status::{
    CameraHealth, Devices, GetShots, GetStatus, Health, LastError, RigState, RigStatus,
};

use crate::buttons::{ButtonsActor, Pressed, Show};
use crate::camera::CameraActor;
use crate::destination::Destinations;
use crate::health::{HealthActor, HealthRead, HealthReader, PiHealth};
use crate::history::Retention;
use crate::hooks::HookKind;
use crate::journal::commit::Journal;
use crate::judge::{Judge, JudgeConfig};
use crate::lights::{Illuminate, LightsActor, LightsChanged, LightsRig};
use crate::manual::{Hands, ManualActor, Motion};
use crate::merge::{MergeConfig, Merger};
use crate::model::{CameraName, Place, Priors, ScanId, Target};
use crate::moved::Checker;
use crate::recorder::Recorder;
use crate::restart::Backoff;
use crate::sequence::{Event, SequenceConfig};
use crate::settle::SettleStore;
use crate::turntable::TurntableActor;
use crate::uploader::{UploadDone, Uploader};
use run::Run;

/// What the supervisor is built from.
pub struct Rig {
    /// Opens the axes.
    pub axes: AxesConnector,
    /// The cameras: one, or a column fired together at every stop (the
    /// first also serves the preview, settings and test shots by hand).
    pub cameras: Vec<RigCamera>,
    /// Fire a column's cameras together (`false`: one after another, the
    /// baseline the benchmark compares against).
    pub cameras_together: bool,
    /// Longest wait for one camera call before the camera counts as failed.
    pub camera_timeout: std::time::Duration,
    /// Check after each ring that the object has not moved: the largest
    /// share of the camera's view that may differ (`None`: no check).
    pub moved: Option<f32>,
    /// The rig has no tilt motor: the scan pauses for the operator to set
    /// the tilt by hand before each ring at a new tilt.
    pub manual_tilt: bool,
    /// Where photos go: new scans to the default, journaled ones to the
    /// place their plan names.
    pub destinations: Destinations,
    /// The pose priors new scans write beside their manifest (`None`: none).
    pub priors: Option<Priors>,
    /// The scan-done hooks configured: retired scans queue them.
    pub hooks: Vec<HookKind>,
    /// Parallel uploads.
    pub upload_workers: usize,
    /// The operator panel.
    pub buttons: Box<dyn Buttons>,
    /// The status light.
    pub indicator: Box<dyn Indicator>,
    /// The spool folder (one folder per scan inside).
    pub spool: PathBuf,
    /// Delete spool files once their upload is journaled.
    pub keep_uploaded: bool,
    /// How long the scans index remembers retired scans.
    pub retention: Retention,
    /// Longest wait of a journal record for others to be committed with,
    /// while records come in bursts.
    pub commit_delay: std::time::Duration,
    /// Pause the scan when the spool's disk has fewer bytes free.
    pub min_free: u64,
    /// Sequence tunables.
    pub sequence: SequenceConfig,
    /// How long a photo given up by a run waits before the next pass tries
    /// it again, by the number of runs that gave up on it.
    pub backlog_backoff: Backoff,
    /// Merge bracketed sets on the rig (`None`: never; a workstation does).
    pub merge: Option<MergeConfig>,
    /// Judge every photo as it lands (`None`: photos are not judged).
    pub judge: Option<JudgeConfig>,
    /// The rig's lights.
    pub lights: LightsRig,
    /// Reads the Pi's health, this often; and the health read before
    /// the rig started.
    pub health: (HealthReader, std::time::Duration, PiHealth),
}

/// One camera of the rig.
pub struct RigCamera {
    /// Its name, in its photos' names (`<shot>_<name>.jpg`); `None` for a
    /// rig's only camera, whose photos keep the shot's name.
    pub name: Option<CameraName>,
    /// Opens it.
    pub connector: CameraConnector,
    /// Its own settings, applied once per scan under the profile's.
    pub settings: BTreeMap<String, String>,
}

/// A camera's actor, as the supervisor fires it.
#[derive(Clone)]
pub(crate) struct Fired {
    pub(crate) name: Option<CameraName>,
    pub(crate) addr: Addr<CameraActor>,
    pub(crate) settings: BTreeMap<String, String>,
}

/// The rules the supervisor keeps, fixed when it starts: where new scans
/// go and how the spool is kept.
struct Policy {
    /// Where new scans go.
    destination: Place,
    /// Where new scans go when they go to several destinations, by name.
    targets: Vec<Target>,
    /// The pose priors new scans write.
    priors: Option<Priors>,
    /// The scan-done hooks configured.
    hooks: Vec<HookKind>,
    /// The spool folder.
    spool: PathBuf,
    /// Photos stay in the spool once uploaded.
    keep_uploaded: bool,
    /// How long the scans index remembers retired scans.
    retention: Retention,
    /// Pause the scan below this many free bytes.
    min_free: u64,
    /// The sequence's tunables.
    config: SequenceConfig,
    /// The wait before a photo given up is tried again.
    backlog_backoff: Backoff,
    /// No tilt motor: the operator sets the tilt by hand.
    manual_tilt: bool,
    /// How good a photo must be.
    quality_limits: QualityLimits,
    /// Where the settle time the rig learned is kept.
    settle: Option<SettleStore>,
    /// The check after each ring: the largest share that may differ.
    moved: Option<f32>,
}

/// The supervisor actor.
pub struct Supervisor {
    runs: BTreeMap<ScanId, Run>,
    turntable: Addr<TurntableActor>,
    /// The rig by hand (jogs, homing, the camera's preview, settings and
    /// test shots).
    manual: Addr<ManualActor>,
    /// Every camera, fired together at every stop.
    cameras: Vec<Fired>,
    cameras_together: bool,
    camera_timeout: std::time::Duration,
    recorder: Addr<Recorder>,
    /// Checks that the object has not moved.
    checker: Addr<Checker>,
    journal: Addr<Journal>,
    uploader: Addr<Uploader>,
    panel: Addr<ButtonsActor>,
    /// The lights: on for a scan, off after it.
    lights: Addr<LightsActor>,
    /// The Pi's health, as last read.
    health: PiHealth,
    policy: Policy,
    subscribers: Vec<Recipient<Progress>>,
    status: Status,
    quiet: bool,
    devices: Devices,
    last_error: Option<LastError>,
    /// The summary of the last scan that ended, for the status.
    last_finished: Option<ScanSummary>,
    /// Photos waiting in the spool of each scan not in hand.
    spooled: BTreeMap<ScanId, Waiting>,
    /// Stops moves in flight.
    halt: Halt,
    /// A motion asked for by hand, while it runs.
    motion: Option<Motion>,
    /// A scan resumed while its earlier uploads were being closed: it
    /// starts once they are.
    deferred: Option<ScanId>,
    /// Events waiting for the batch of commands in hand to be carried out.
    queued: VecDeque<(ScanId, Event)>,
    /// A batch of commands is being carried out.
    feeding: bool,
    /// Merges bracketed sets, when that is on.
    merger: Option<Addr<Merger>>,
    /// Sets waiting or being merged at most, and now.
    merge_queue: usize,
    merging: usize,
    /// Judges photos, when that is on.
    judge: Option<Addr<Judge>>,
    /// Photos waiting or being judged at most, and now.
    judge_queue: usize,
    judging: usize,
    log: Logger,
}

impl Actor for Supervisor {
    type Context = Context<Self>;
}

impl Supervisor {
    /// Starts the supervisor and every device actor of the rig.
    pub fn start(rig: Rig, log: Logger) -> Addr<Supervisor> {
        Supervisor::create(move |ctx| {
            let me = ctx.address();
            let default = rig.destinations.default().clone();
            let targets = rig.destinations.targets();
            let uploader = Uploader::new(
                rig.destinations,
                rig.upload_workers,
                me.clone().recipient::<UploadDone>(),
                log.clone(),
            )
            .start();
            let panel = ButtonsActor::new(
                rig.buttons,
                rig.indicator,
                me.clone().recipient::<Pressed>(),
                log.clone(),
            )
            .start();
            let cameras: Vec<Fired> = rig
                .cameras
                .into_iter()
                .map(|c| Fired {
                    addr: CameraActor::start(
                        c.connector,
                        log.new(slog::o!("camera" => c.name.as_ref().map(CameraName::to_string).unwrap_or_default())),
                    ),
                    name: c.name,
                    settings: c.settings,
                })
                .collect();
            let devices = Devices::with_cameras(&default.describe(), &cameras);
            let turntable = TurntableActor::start(rig.axes, log.clone());
            let lights = LightsActor::new(
                rig.lights,
                turntable.clone().recipient(),
                me.clone().recipient(),
                log.new(slog::o!("part" => "lights")),
            )
            .start();
            let halt = Halt::new();
            let hands = Hands {
                turntable: turntable.clone(),
                cameras: cameras.clone(),
                camera_timeout: rig.camera_timeout,
                halt: halt.clone(),
                lease: me.clone().recipient(),
                unlease: me.clone().recipient(),
                lights: lights.clone(),
            };
            let manual = ManualActor::start(hands, log.clone());
            let (reader, every, health) = rig.health;
            HealthActor::new(
                reader,
                every,
                me.clone().recipient(),
                log.new(slog::o!("part" => "health")),
            )
            .start();
            let merge_queue = rig.merge.as_ref().map_or(0, |m| m.queue);
            let merger = rig.merge.map(|config| {
                let log = log.clone();
                SyncArbiter::start(1, move || Merger::new(config.clone(), log.clone()))
            });
            let judge_queue = rig.judge.as_ref().map_or(0, |j| j.queue);
            let quality_limits = rig.judge.as_ref().map(|j| j.limits).unwrap_or_default();
            let settle = rig.judge.as_ref().and_then(|j| j.settle.clone());
            let judge = rig.judge.map(|_| {
                let log = log.clone();
                SyncArbiter::start(1, move || Judge::new(log.clone()))
            });
            Supervisor {
                runs: BTreeMap::new(),
                turntable,
                manual,
                cameras,
                cameras_together: rig.cameras_together,
                camera_timeout: rig.camera_timeout,
                recorder: Recorder::start(log.clone()),
                checker: Checker::start(log.clone()),
                journal: Journal::start(rig.commit_delay),
                uploader,
                panel,
                lights,
                health,
                policy: Policy {
                    destination: default.place(),
                    targets,
                    priors: rig.priors,
                    hooks: rig.hooks,
                    spool: rig.spool,
                    keep_uploaded: rig.keep_uploaded,
                    retention: rig.retention,
                    min_free: rig.min_free,
                    config: rig.sequence,
                    backlog_backoff: rig.backlog_backoff,
                    manual_tilt: rig.manual_tilt,
                    quality_limits,
                    settle,
                    moved: rig.moved,
                },
                subscribers: Vec::new(),
                status: Status::Idle,
                quiet: true,
                devices,
                last_error: None,
                last_finished: None,
                spooled: BTreeMap::new(),
                halt,
                motion: None,
                deferred: None,
                queued: VecDeque::new(),
                feeding: false,
                merger,
                merge_queue,
                merging: 0,
                judge,
                judge_queue,
                judging: 0,
                log,
            }
        })
    }

    fn active(&self) -> Option<&ScanId> {
        self.runs.iter().find(|(_, r)| r.active).map(|(id, _)| id)
    }

    fn tell(&self, progress: Progress) {
        for s in &self.subscribers {
            s.do_send(progress.clone());
        }
    }

    /// Shows the status and tells subscribers when everything is quiet.
    fn refresh(&mut self) {
        let active = self.runs.values().find(|r| r.active);
        let status = match active {
            Some(r) if r.seq.paused().is_some() => match r.seq.paused() {
                Some(reason) if reason.is_fault() => Status::Fault,
                _ => Status::Paused,
            },
            Some(_) => Status::Scanning,
            None if self.runs.is_empty() => Status::Idle,
            None => Status::Uploading,
        };
        if status != self.status {
            self.status = status;
            self.panel.do_send(Show(status));
            self.lights.do_send(Show(status));
        }
        // A pause counts once it is announced: until then a device may
        // still be moving or downloading.
        let quiet = self
            .runs
            .values()
            .all(|r| r.seq.is_quiet() && !r.discarding && !r.finishing);
        if quiet && !self.quiet {
            self.tell(Progress::Quiet);
        }
        if !quiet && self.quiet {
            self.tell(Progress::Busy);
        }
        self.quiet = quiet;
    }

    /// Carries out what the operator asks of the active scan, or says
    /// why not.
    fn control(&mut self, control: Control, ctx: &mut Context<Self>) -> Result<(), Refusal> {
        let refused = control.refused_without_scan();
        let scan = self.active().cloned().ok_or(refused)?;
        let run = self.runs.get_mut(&scan).ok_or(refused)?;
        let commands = run.seq.control(control)?;
        info!(self.log, "operator"; "scan" => %scan, "asks" => ?control);
        match control {
            Control::Resume => {
                run.paused = None;
                // The lights (off in the pause, or after the idle timeout)
                // warm up again before the next photo.
                let lit = self.lights.send(Illuminate(run.plan.lights.clone()));
                ctx.wait(lit.into_actor(self).map(move |_, act, ctx| {
                    for command in commands {
                        act.execute(&scan, command, ctx);
                    }
                    act.refresh();
                }));
                return Ok(());
            }
            // A move in flight brakes and holds where it is.
            Control::Pause | Control::Stop => self.halt.request(StopKind::Controlled),
        }
        for command in commands {
            self.execute(&scan, command, ctx);
        }
        self.refresh();
        Ok(())
    }
}

impl Handler<Subscribe> for Supervisor {
    type Result = ();

    fn handle(&mut self, Subscribe(r): Subscribe, _: &mut Self::Context) {
        self.subscribers.push(r);
    }
}

impl Handler<Summarise> for Supervisor {
    type Result = Option<ScanSummary>;

    fn handle(&mut self, Summarise(scan): Summarise, _: &mut Self::Context) -> Self::Result {
        let run = self.runs.get(&scan)?;
        Some(run.summary(None, &self.policy.destination))
    }
}

/// Asks for the lights' actor, to set them by hand.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Addr<LightsActor>")]
pub struct Lights;

impl Handler<Lights> for Supervisor {
    type Result = MessageResult<Lights>;

    fn handle(&mut self, _: Lights, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.lights.clone())
    }
}

impl Handler<LightsChanged> for Supervisor {
    type Result = ();

    fn handle(&mut self, LightsChanged(lights): LightsChanged, _: &mut Self::Context) {
        self.tell(Progress::Lights(lights));
    }
}

/// A reading of the Pi's health: under-voltage that starts during a scan
/// is logged and journaled with its time, beside the camera faults it
/// often causes.
impl Handler<HealthRead> for Supervisor {
    type Result = ();

    fn handle(&mut self, HealthRead(health): HealthRead, _: &mut Self::Context) {
        let was = std::mem::replace(&mut self.health, health);
        if self.health.under_voltage != Some(true) || was.under_voltage == Some(true) {
            return;
        }
        let at = crate::clock::unix_millis_now();
        let time = crate::clock::rfc3339_millis(at);
        let message = format!(
            "under-voltage at {}: the power supply sags, and a camera on USB may drop out; use the Pi's own power supply (5.1 V, 3 A for a Pi 4, 5 A for a Pi 5)",
            time.get(11..19).unwrap_or(&time)
        );
        slog::warn!(self.log, "{}", message);
        let Some(run) = self.active().and_then(|scan| self.runs.get(scan)) else {
            return;
        };
        self.journal.do_send(crate::journal::commit::Append {
            dir: run.dir.clone(),
            record: crate::journal::Record::PowerFault { at, message },
        });
    }
}

impl Handler<Ping> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: Ping, _: &mut Self::Context) {}
}
