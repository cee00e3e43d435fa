//! The rig by hand, in an actor of its own: jogs and homing (one motion
//! at a time), the camera's live preview, its settings and test shots, and
//! the setup check before a scan ([`check`]).
//! Each use first takes a [`Lease`] from the supervisor, which refuses it
//! while a scan runs (the scan owns the devices) and, for a motion, while
//! another motion is under way; a motion shows in the status and the event
//! stream while it runs and is stopped like any move.

use std::path::PathBuf;
use std::time::Duration;

use actix::prelude::*;
use scanrig_hardware::axis::{AxisError, Halt};
use scanrig_hardware::camera::{CameraError, CaptureRequest, DownloadedFile, Setting};
use scanrig_hardware::Degrees;
use slog::{info, Logger};

pub mod check;

use crate::camera::{CameraActor, ChangeSetting, Download, Expose, Preview, ReadSettings};
use crate::lights::LightsActor;
use crate::model::ScanId;
use crate::supervisor::Fired;
use crate::turntable::{Home, Jog, JogAxis, Jogged, TurntableActor};

/// A motion asked for by hand (a jog or homing), and who asked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Motion {
    /// One axis turning by an angle.
    Jogging {
        /// Which axis.
        axis: JogAxis,
        /// By how many degrees.
        degrees: f64,
        /// Who asked (`web 192.168.1.20`, `button`).
        origin: String,
    },
    /// Every axis homing.
    Homing {
        /// Who asked.
        origin: String,
    },
    /// The setup check of a profile, visiting its extreme poses.
    Checking {
        /// The profile checked.
        profile: String,
        /// Who asked.
        origin: String,
    },
}

impl std::fmt::Display for Motion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Motion::Jogging {
                axis,
                degrees,
                origin,
            } => write!(
                f,
                "jogging the {} by {degrees:+.1}° (asked from {origin})",
                match axis {
                    JogAxis::Turntable => "turntable",
                    JogAxis::Tilt => "tilt arm",
                }
            ),
            Motion::Homing { origin } => write!(f, "homing (asked from {origin})"),
            Motion::Checking { profile, origin } => write!(
                f,
                "checking the set-up for profile {profile} (asked from {origin})"
            ),
        }
    }
}

/// The devices already have an owner.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Busy {
    /// A scan is running.
    #[error("scan {0} is already running; stop it first")]
    Scanning(ScanId),
    /// A motion asked for by hand is under way.
    #[error("the motors are {0}; wait for it to end, or stop it first")]
    Moving(Motion),
}

/// Why a manual operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    /// A scan is running, or the motors are busy.
    #[error("{0}")]
    Busy(#[from] Busy),
    /// The camera failed.
    #[error("camera: {0}")]
    Camera(#[from] CameraError),
    /// The motors failed, or refused the move.
    #[error("motors: {0}")]
    Motor(#[from] AxisError),
    /// The device did not answer.
    #[error("the {0} did not answer: {1}")]
    Lost(&'static str, MailboxError),
    /// The motors were stopped before the check's end.
    #[error("the check was stopped before its end (the motors were stopped); start it again")]
    Stopped,
    /// The settle time could not be learned: why, and what to do.
    #[error("cannot learn the settle time: {0}")]
    Settle(String),
}

/// Asks the supervisor for the devices: for `motion` (the motors, one
/// motion at a time), or for the camera (`None`). Refused while a scan
/// runs.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), Busy>")]
pub struct Lease(pub Option<Motion>);

/// Gives the motors back once a motion ended.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Unlease;

/// Turns one axis by some degrees; answers where it stands.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Jogged, ManualError>")]
pub struct JogBy {
    /// Which axis.
    pub axis: JogAxis,
    /// How far.
    pub by: Degrees,
    /// Who asked (`web 192.168.1.20`, `button`), for the log and status.
    pub origin: String,
}

/// Homes every axis.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), ManualError>")]
pub struct HomeAll {
    /// Who asked.
    pub origin: String,
}

/// One live-preview frame (JPEG).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<Vec<u8>, ManualError>")]
pub struct PreviewFrame;

/// The camera's settings.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<Vec<Setting>, ManualError>")]
pub struct CameraSettings;

/// Changes one camera setting by hand, while no scan runs; answers the
/// setting as the camera then reads it.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Setting, ManualError>")]
pub struct SetCameraSetting {
    /// The setting's name.
    pub name: String,
    /// Its new value.
    pub value: String,
}

/// Takes a test shot into `dir`.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Vec<DownloadedFile>, ManualError>")]
pub struct TestShot {
    /// Where the photo goes.
    pub dir: PathBuf,
    /// Its file name without extension.
    pub stem: String,
}

/// The actor: the devices it uses by hand, and where it asks for them.
pub struct ManualActor {
    turntable: Addr<TurntableActor>,
    /// The column's cameras; the first is previewed, set and tested.
    cameras: Vec<Fired>,
    camera_timeout: Duration,
    /// Stops moves in flight (shared with the supervisor).
    halt: Halt,
    lease: Recipient<Lease>,
    unlease: Recipient<Unlease>,
    lights: Addr<LightsActor>,
    log: Logger,
}

impl Actor for ManualActor {
    type Context = Context<Self>;
}

/// What the manual actor is built from.
pub struct Hands {
    /// The axes.
    pub turntable: Addr<TurntableActor>,
    /// The column's cameras (at least one): the first it previews, sets
    /// and tests; the setup check fires each.
    pub(crate) cameras: Vec<Fired>,
    /// Longest wait for one camera call.
    pub camera_timeout: Duration,
    /// Stops moves in flight.
    pub halt: Halt,
    /// Where leases are asked for.
    pub lease: Recipient<Lease>,
    /// Where motors are given back.
    pub unlease: Recipient<Unlease>,
    /// The rig's lights, on for the setup check's photos.
    pub lights: Addr<LightsActor>,
}

impl ManualActor {
    /// Starts it.
    pub fn start(hands: Hands, log: Logger) -> Addr<ManualActor> {
        ManualActor {
            turntable: hands.turntable,
            cameras: hands.cameras,
            camera_timeout: hands.camera_timeout,
            halt: hands.halt,
            lease: hands.lease,
            unlease: hands.unlease,
            lights: hands.lights,
            log,
        }
        .start()
    }

    /// Takes a lease, runs `then` with it, gives the motors back after a
    /// motion.
    fn leased<T: 'static>(
        &self,
        motion: Option<Motion>,
        then: impl FnOnce(&ManualActor) -> ResponseFuture<Result<T, ManualError>> + 'static,
    ) -> ResponseActFuture<Self, Result<T, ManualError>> {
        if let Some(m) = &motion {
            info!(self.log, "manual motion"; "motion" => %m);
        }
        let moving = motion.is_some();
        let lease = self.lease.send(Lease(motion));
        Box::pin(
            async move { lease.await.map_err(|e| ManualError::Lost("supervisor", e)) }
                .into_actor(self)
                .then(move |leased, act, _| {
                    let given = matches!(leased, Ok(Ok(())));
                    let done: ResponseFuture<Result<T, ManualError>> = match leased {
                        Ok(Ok(())) => then(act),
                        Ok(Err(busy)) => Box::pin(async move { Err(busy.into()) }),
                        Err(e) => Box::pin(async move { Err(e) }),
                    };
                    done.into_actor(act).map(move |result, act, _| {
                        if moving && given {
                            act.unlease.do_send(Unlease);
                        }
                        result
                    })
                }),
        )
    }

    /// Asks the camera `msg` within its time limit.
    fn camera<M>(&self, msg: M) -> impl std::future::Future<Output = Result<M::Result, ManualError>>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        CameraActor: Handler<M>,
    {
        let reply = self.cameras[0].addr.send(msg).timeout(self.camera_timeout);
        async move { reply.await.map_err(|e| ManualError::Lost("camera", e)) }
    }
}

/// A device's reply, as a manual operation's result.
fn done<T, E: Into<ManualError>>(r: Result<Result<T, E>, ManualError>) -> Result<T, ManualError> {
    r?.map_err(Into::into)
}

impl Handler<JogBy> for ManualActor {
    type Result = ResponseActFuture<Self, Result<Jogged, ManualError>>;

    fn handle(&mut self, msg: JogBy, _: &mut Self::Context) -> Self::Result {
        let motion = Motion::Jogging {
            axis: msg.axis,
            degrees: msg.by.get(),
            origin: msg.origin,
        };
        self.leased(Some(motion), move |act| {
            let jog = Jog {
                axis: msg.axis,
                by: msg.by,
                ticket: act.halt.ticket(),
            };
            let reply = act.turntable.send(jog);
            Box::pin(
                async move { done(reply.await.map_err(|e| ManualError::Lost("turntable", e))) },
            )
        })
    }
}

impl Handler<HomeAll> for ManualActor {
    type Result = ResponseActFuture<Self, Result<(), ManualError>>;

    fn handle(&mut self, msg: HomeAll, _: &mut Self::Context) -> Self::Result {
        let motion = Motion::Homing { origin: msg.origin };
        self.leased(Some(motion), |act| {
            let reply = act.turntable.send(Home(act.halt.ticket()));
            Box::pin(
                async move { done(reply.await.map_err(|e| ManualError::Lost("turntable", e))) },
            )
        })
    }
}

impl Handler<PreviewFrame> for ManualActor {
    type Result = ResponseActFuture<Self, Result<Vec<u8>, ManualError>>;

    fn handle(&mut self, _: PreviewFrame, _: &mut Self::Context) -> Self::Result {
        self.leased(None, |act| {
            let reply = act.camera(Preview);
            Box::pin(async move { done(reply.await) })
        })
    }
}

impl Handler<CameraSettings> for ManualActor {
    type Result = ResponseActFuture<Self, Result<Vec<Setting>, ManualError>>;

    fn handle(&mut self, _: CameraSettings, _: &mut Self::Context) -> Self::Result {
        self.leased(None, |act| {
            let reply = act.camera(ReadSettings);
            Box::pin(async move { done(reply.await) })
        })
    }
}

impl Handler<SetCameraSetting> for ManualActor {
    type Result = ResponseActFuture<Self, Result<Setting, ManualError>>;

    fn handle(&mut self, msg: SetCameraSetting, _: &mut Self::Context) -> Self::Result {
        self.leased(None, |act| {
            let name = msg.name.clone();
            let change = act.camera(ChangeSetting {
                name: msg.name,
                value: msg.value,
            });
            let read = act.camera(ReadSettings);
            Box::pin(async move {
                done(change.await)?;
                let all = done(read.await)?;
                let known = all.iter().map(|s| s.name.clone()).collect();
                all.into_iter()
                    .find(|s| s.name == name)
                    .ok_or(ManualError::Camera(CameraError::UnknownSetting {
                        key: name,
                        known,
                    }))
            })
        })
    }
}

impl Handler<TestShot> for ManualActor {
    type Result = ResponseActFuture<Self, Result<Vec<DownloadedFile>, ManualError>>;

    fn handle(&mut self, msg: TestShot, _: &mut Self::Context) -> Self::Result {
        self.leased(None, |act| {
            let request = CaptureRequest {
                stem: msg.stem,
                label: "test shot".to_owned(),
                azimuth: Degrees(0.0),
                tilt: Degrees(0.0),
            };
            let (camera, timeout) = (act.cameras[0].addr.clone(), act.camera_timeout);
            Box::pin(async move {
                let lost = |e| ManualError::Lost("camera", e);
                let expose = camera.send(Expose::plain(request)).timeout(timeout);
                let exposure = done(expose.await.map_err(lost))?;
                let download = Download {
                    exposure,
                    dir: msg.dir,
                };
                done(camera.send(download).timeout(timeout).await.map_err(lost))
            })
        })
    }
}
