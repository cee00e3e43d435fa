//! What the rig is doing, for the web page and scripts: its state, the scan
//! in hand, the upload backlog, the last error and each device's health.
//! And what an idle rig's camera may be asked by hand (a live preview
//! frame, its settings, a test shot), refused while a scan runs: the scan
//! owns the devices. Motions by hand are in [`super::motors`].

use std::path::PathBuf;

use actix::prelude::*;
use scanrig_hardware::axis::AxisError;
use scanrig_hardware::camera::{CameraError, CaptureRequest, DownloadedFile, Setting};
use scanrig_hardware::panel::Status;
use scanrig_hardware::Degrees;
use serde::Serialize;

use super::{Busy, Motion, ScanSummary, Supervisor};
use crate::camera::{ChangeSetting, Download, Expose, Preview, ReadSettings};
use crate::clock::unix_millis_now;
use crate::coverage::{self, ShotView};
use crate::model::Device;
use crate::sequence::{Event, PauseReason};

/// The rig as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RigState {
    /// Waiting for a scan.
    Idle,
    /// Taking photos.
    Scanning,
    /// A scan waits for the operator.
    Paused,
    /// A scan stopped on a fault and waits for the operator.
    Fault,
    /// No scan runs; photos are still being uploaded.
    Uploading,
}

/// The last thing that went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// When, Unix milliseconds.
    pub at_ms: u64,
    /// What, in words.
    pub message: String,
}

/// How a device is doing, as far as its last use tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// No error since its last success.
    pub ok: bool,
    /// The error, or what it is.
    pub detail: String,
}

impl Health {
    pub(super) fn ok(detail: &str) -> Health {
        Health {
            ok: true,
            detail: detail.to_owned(),
        }
    }
}

/// One camera of a column and how it is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraHealth {
    /// Its name.
    pub name: crate::model::CameraName,
    /// How it is doing.
    #[serde(flatten)]
    pub health: Health,
}

/// The devices' health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Devices {
    /// The camera (of a column: any of them).
    pub camera: Health,
    /// Each camera of a column (none for a rig's only camera).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<CameraHealth>,
    /// The turntable and tilt arm.
    pub turntable: Health,
    /// Where photos go.
    pub destination: Health,
}

impl Devices {
    /// Nothing seen yet, of a rig with `cameras` (a column when they are
    /// named).
    pub(super) fn with_cameras(destination: &str, cameras: &[super::Fired]) -> Devices {
        let mut devices = Devices::new(destination);
        devices.cameras = cameras
            .iter()
            .filter_map(|c| c.name.clone())
            .map(|name| CameraHealth {
                name,
                health: Health::ok("no error seen"),
            })
            .collect();
        devices
    }

    /// Nothing seen yet.
    pub(super) fn new(destination: &str) -> Devices {
        Devices {
            camera: Health::ok("no error seen"),
            cameras: Vec::new(),
            turntable: Health::ok("no error seen"),
            destination: Health::ok(destination),
        }
    }
}

/// The status of the rig.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RigStatus {
    /// Its state.
    pub state: RigState,
    /// The scan being taken, or else one whose uploads are being finished,
    /// or else the last one that ended (its `outcome` set).
    pub scan: Option<ScanSummary>,
    /// Why the scan is paused, in words.
    pub paused: Option<String>,
    /// Photos captured but not yet at the destination, over every scan in hand.
    pub backlog: usize,
    /// The last error.
    pub last_error: Option<LastError>,
    /// The devices.
    pub devices: Devices,
    /// A live preview can be had (no scan is running).
    pub preview: bool,
    /// A motion asked for by hand, while it runs.
    pub motion: Option<Motion>,
    /// The shot the scan being taken is at or turning to (from 1).
    pub current_shot: Option<u32>,
    /// How long the scan being taken should still take.
    pub remaining: Option<std::time::Duration>,
}

/// Asks for the [`RigStatus`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "RigStatus")]
pub struct GetStatus;

impl Handler<GetStatus> for Supervisor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Self::Context) -> Self::Result {
        let state = match self.status {
            Status::Idle => RigState::Idle,
            Status::Scanning => RigState::Scanning,
            Status::Paused => RigState::Paused,
            Status::Fault => RigState::Fault,
            Status::Uploading => RigState::Uploading,
        };
        let run = self
            .runs
            .values()
            .find(|r| r.active)
            .or_else(|| self.runs.values().next());
        let paused = run.and_then(|r| r.seq.paused()).map(PauseReason::to_string);
        let backlog = self
            .runs
            .values()
            .map(|r| {
                let s = r.summary(None, &self.destination);
                s.captured - s.uploaded - s.upload_failed
            })
            .sum();
        MessageResult(RigStatus {
            state,
            scan: run
                .map(|r| r.summary(None, &self.destination))
                .or_else(|| self.last_finished.clone()),
            paused,
            backlog,
            last_error: self.last_error.clone(),
            devices: self.devices.clone(),
            preview: self.active().is_none(),
            motion: self.motion.clone(),
            current_shot: run
                .filter(|r| r.active)
                .and_then(|r| coverage::current(r.seq.states())),
            remaining: run.filter(|r| r.active).and_then(|r| r.remaining()),
        })
    }
}

/// Asks where each shot of a scan the supervisor holds (being taken, or
/// its uploads being finished) stands; `None` for any other scan.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<Vec<ShotView>>")]
pub struct GetShots(pub String);

impl Handler<GetShots> for Supervisor {
    type Result = MessageResult<GetShots>;

    fn handle(&mut self, GetShots(scan): GetShots, _: &mut Self::Context) -> Self::Result {
        let run = self.runs.values().find(|r| r.plan.scan.as_str() == scan);
        MessageResult(run.map(|r| coverage::shots(&r.plan, r.seq.states())))
    }
}

impl Supervisor {
    /// Notes what an event says about a device's health.
    pub(super) fn note(&mut self, event: &Event) {
        match event {
            Event::DeviceFailed { device, fault, .. } => {
                let health = Health {
                    ok: false,
                    detail: fault.message.clone(),
                };
                match device {
                    Device::Camera => self.devices.camera = health,
                    Device::Table => self.devices.turntable = health,
                }
                self.error(&fault.message);
            }
            Event::SettingsApplied | Event::Exposed(_) | Event::Downloaded(_) => {
                self.devices.camera = Health::ok("working");
            }
            Event::Homed | Event::Moved { .. } => {
                self.devices.turntable = Health::ok("working");
            }
            Event::Uploaded(_) => {
                self.devices.destination = Health::ok(&self.destination.to_string());
            }
            Event::PersistFailed(_, message) | Event::SpaceLow(message) => self.error(message),
            _ => {}
        }
    }

    /// Notes a failed upload.
    pub(super) fn note_upload_failure(&mut self, message: String) {
        self.error(&message);
        self.devices.destination = Health {
            ok: false,
            detail: message,
        };
    }

    /// Notes what went wrong last, for the status.
    pub(super) fn error(&mut self, message: &str) {
        self.last_error = Some(LastError {
            at_ms: unix_millis_now(),
            message: message.to_owned(),
        });
    }

    /// Refuses manual use of the devices while a scan runs.
    pub(super) fn idle(&self) -> Result<(), ManualError> {
        match self.active() {
            Some(scan) => Err(ManualError::Busy(Busy::Scanning(scan.clone()))),
            None => Ok(()),
        }
    }
}

/// Why a manual operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    /// A scan is running.
    #[error("{0}")]
    Busy(Busy),
    /// The camera failed.
    #[error("camera: {0}")]
    Camera(#[from] CameraError),
    /// The motors failed, or refused the move.
    #[error("motors: {0}")]
    Motor(#[from] AxisError),
    /// The device did not answer.
    #[error("the {0} did not answer: {1}")]
    Lost(&'static str, MailboxError),
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

fn camera_reply<T>(r: Result<Result<T, CameraError>, MailboxError>) -> Result<T, ManualError> {
    r.map_err(|e| ManualError::Lost("camera", e))?
        .map_err(ManualError::Camera)
}

impl Handler<PreviewFrame> for Supervisor {
    type Result = ResponseFuture<Result<Vec<u8>, ManualError>>;

    fn handle(&mut self, _: PreviewFrame, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.idle() {
            return Box::pin(async move { Err(e) });
        }
        let reply = self.camera.send(Preview).timeout(self.camera_timeout);
        Box::pin(async move { camera_reply(reply.await) })
    }
}

impl Handler<CameraSettings> for Supervisor {
    type Result = ResponseFuture<Result<Vec<Setting>, ManualError>>;

    fn handle(&mut self, _: CameraSettings, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.idle() {
            return Box::pin(async move { Err(e) });
        }
        let reply = self.camera.send(ReadSettings).timeout(self.camera_timeout);
        Box::pin(async move { camera_reply(reply.await) })
    }
}

impl Handler<SetCameraSetting> for Supervisor {
    type Result = ResponseFuture<Result<Setting, ManualError>>;

    fn handle(&mut self, msg: SetCameraSetting, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.idle() {
            return Box::pin(async move { Err(e) });
        }
        let (camera, timeout) = (self.camera.clone(), self.camera_timeout);
        Box::pin(async move {
            let name = msg.name.clone();
            let change = ChangeSetting {
                name: msg.name,
                value: msg.value,
            };
            camera_reply(camera.send(change).timeout(timeout).await)?;
            let all = camera_reply(camera.send(ReadSettings).timeout(timeout).await)?;
            let known = all.iter().map(|s| s.name.clone()).collect();
            all.into_iter()
                .find(|s| s.name == name)
                .ok_or(ManualError::Camera(CameraError::UnknownSetting {
                    key: name,
                    known,
                }))
        })
    }
}

impl Handler<TestShot> for Supervisor {
    type Result = ResponseFuture<Result<Vec<DownloadedFile>, ManualError>>;

    fn handle(&mut self, msg: TestShot, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.idle() {
            return Box::pin(async move { Err(e) });
        }
        let (camera, timeout) = (self.camera.clone(), self.camera_timeout);
        Box::pin(async move {
            let request = CaptureRequest {
                stem: msg.stem,
                label: "test shot".to_owned(),
                azimuth: Degrees(0.0),
                tilt: Degrees(0.0),
            };
            let exposure =
                camera_reply(camera.send(Expose::plain(request)).timeout(timeout).await)?;
            let download = Download {
                exposure,
                dir: msg.dir,
            };
            camera_reply(camera.send(download).timeout(timeout).await)
        })
    }
}
