//! The camera actor: owns the camera session on a thread of its own (camera
//! libraries are not thread-safe and every call blocks), reconnects after a
//! failure, and reapplies the scan's settings when it does.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use scanrig_hardware::camera::{
    check_settings, Camera, CameraConnector, CameraError, CaptureRequest, DownloadedFile, Exposure,
    Setting,
};
use slog::{debug, info, warn, Logger};

/// Applies camera settings (widget → value) for the rest of the scan,
/// once every bracket frame's settings are known to be the camera's: a
/// refusal changes nothing.
#[derive(Message)]
#[rtype(result = "Result<(), CameraError>")]
pub struct ApplySettings {
    /// The scan's settings.
    pub settings: BTreeMap<String, String>,
    /// Each bracket frame's settings, checked against the camera's lists.
    pub frames: Vec<BTreeMap<String, String>>,
}

/// Changes one setting by hand (between scans); the scan's settings, which
/// a reconnect applies again, are left as they are.
#[derive(Message)]
#[rtype(result = "Result<(), CameraError>")]
pub struct ChangeSetting {
    /// The setting's name.
    pub name: String,
    /// Its new value.
    pub value: String,
}

/// Fires the shutter; the reply comes when the shutter has closed.
#[derive(Message)]
#[rtype(result = "Result<Exposure, CameraError>")]
pub struct Expose {
    /// What to photograph and how to name it.
    pub request: CaptureRequest,
    /// Settings for this exposure alone (a bracket frame's), applied just
    /// before it.
    pub before: BTreeMap<String, String>,
    /// Applied once the shutter has closed (after a set's last frame).
    pub after: BTreeMap<String, String>,
}

impl Expose {
    /// One exposure, the settings left as they are.
    pub fn plain(request: CaptureRequest) -> Expose {
        Expose {
            request,
            before: BTreeMap::new(),
            after: BTreeMap::new(),
        }
    }
}

/// Downloads an exposure into a spool folder.
#[derive(Message)]
#[rtype(result = "Result<Vec<DownloadedFile>, CameraError>")]
pub struct Download {
    /// What to download.
    pub exposure: Exposure,
    /// The scan's spool folder.
    pub dir: PathBuf,
}

/// One live-view frame (a small JPEG) for framing the object; nothing is
/// stored on the card or in the spool.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<Vec<u8>, CameraError>")]
pub struct Preview;

/// A low-cost frame from the pose of `0` (the camera's live view), to hold
/// against a photo taken there; nothing is stored.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Vec<u8>, CameraError>")]
pub struct CheckFrame(pub CaptureRequest);

/// Connects to the camera if it is not connected (to see whether one that
/// was gone is back); nothing is taken.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<(), CameraError>")]
pub struct Connect;

/// Reads every camera setting with its current value and choices.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<Vec<Setting>, CameraError>")]
pub struct ReadSettings;

/// The camera actor. Runs on a `SyncArbiter` with one thread; when a call
/// fails in a way that needs a new connection, it stops itself and the
/// arbiter builds a fresh one, which reconnects on its next call.
pub struct CameraActor {
    connector: CameraConnector,
    settings: Arc<Mutex<Option<BTreeMap<String, String>>>>,
    session: Option<Box<dyn Camera>>,
    log: Logger,
}

impl Actor for CameraActor {
    type Context = SyncContext<Self>;
}

impl CameraActor {
    /// Starts the camera actor on a thread of its own.
    pub fn start(connector: CameraConnector, log: Logger) -> Addr<CameraActor> {
        let settings = Arc::new(Mutex::new(None));
        SyncArbiter::start(1, move || CameraActor {
            connector: connector.clone(),
            settings: settings.clone(),
            session: None,
            log: log.clone(),
        })
    }

    fn session(&mut self) -> Result<&mut Box<dyn Camera>, CameraError> {
        if self.session.is_none() {
            let mut camera = (self.connector)()?;
            let info = camera.info();
            info!(self.log, "camera connected"; "model" => &info.model, "port" => &info.port);
            let settings = self
                .settings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(settings) = settings {
                camera.apply_settings(&settings)?;
            }
            self.session = Some(camera);
        }
        Ok(self.session.as_mut().expect("just connected"))
    }

    /// Runs one camera call; a panic in the driver becomes an error, and an
    /// error that needs a new connection restarts the actor.
    fn call<T>(
        &mut self,
        ctx: &mut SyncContext<Self>,
        during: &'static str,
        op: impl FnOnce(&mut dyn Camera) -> Result<T, CameraError>,
    ) -> Result<T, CameraError> {
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.session().and_then(|camera| op(camera.as_mut()))
        }))
        .unwrap_or_else(|_| {
            Err(CameraError::Driver {
                during,
                reason: "the camera driver panicked".into(),
            })
        });
        if let Err(e) = &result {
            if e.needs_reconnect() {
                warn!(self.log, "camera failed, reconnecting"; "during" => during, "error" => %e);
                self.session = None;
                ctx.stop();
            }
        }
        result
    }
}

impl Handler<ApplySettings> for CameraActor {
    type Result = Result<(), CameraError>;

    fn handle(&mut self, msg: ApplySettings, ctx: &mut Self::Context) -> Self::Result {
        let frames: Vec<_> = msg.frames.iter().filter(|f| !f.is_empty()).collect();
        if !frames.is_empty() {
            let known = self.call(ctx, "settings", |camera| camera.settings())?;
            for frame in frames {
                check_settings(&known, frame)?;
            }
        }
        self.call(ctx, "apply settings", |camera| {
            camera.apply_settings(&msg.settings)
        })?;
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg.settings);
        Ok(())
    }
}

impl Handler<ChangeSetting> for CameraActor {
    type Result = Result<(), CameraError>;

    fn handle(&mut self, msg: ChangeSetting, ctx: &mut Self::Context) -> Self::Result {
        let one = BTreeMap::from([(msg.name, msg.value)]);
        self.call(ctx, "change a setting", |camera| {
            camera.apply_settings(&one)
        })
    }
}

impl Handler<Expose> for CameraActor {
    type Result = Result<Exposure, CameraError>;

    fn handle(&mut self, msg: Expose, ctx: &mut Self::Context) -> Self::Result {
        debug!(self.log, "exposing"; "photo" => &msg.request.stem);
        self.call(ctx, "expose", |camera| {
            if !msg.before.is_empty() {
                camera.apply_settings(&msg.before)?;
            }
            let exposure = camera.expose(&msg.request)?;
            if !msg.after.is_empty() {
                camera.apply_settings(&msg.after)?;
            }
            Ok(exposure)
        })
    }
}

impl Handler<Download> for CameraActor {
    type Result = Result<Vec<DownloadedFile>, CameraError>;

    fn handle(&mut self, msg: Download, ctx: &mut Self::Context) -> Self::Result {
        let log = self.log.clone();
        self.call(ctx, "download", |camera| {
            // The scan's folder is made by its journal's first line, which
            // a busy journal thread may not have written yet.
            std::fs::create_dir_all(&msg.dir).map_err(|source| CameraError::Io {
                path: msg.dir.clone(),
                source,
            })?;
            let files = camera.download(&msg.exposure, &msg.dir)?;
            let first = files.first().and_then(|f| f.path.file_name());
            debug!(log, "downloaded"; "photo" => first.map(|n| n.to_string_lossy().into_owned()));
            Ok(files)
        })
    }
}

impl Handler<Preview> for CameraActor {
    type Result = Result<Vec<u8>, CameraError>;

    fn handle(&mut self, _: Preview, ctx: &mut Self::Context) -> Self::Result {
        self.call(ctx, "preview", |camera| camera.preview())
    }
}

impl Handler<CheckFrame> for CameraActor {
    type Result = Result<Vec<u8>, CameraError>;

    fn handle(&mut self, msg: CheckFrame, ctx: &mut Self::Context) -> Self::Result {
        self.call(ctx, "check frame", |camera| camera.check_frame(&msg.0))
    }
}

impl Handler<Connect> for CameraActor {
    type Result = Result<(), CameraError>;

    fn handle(&mut self, _: Connect, _: &mut Self::Context) -> Self::Result {
        // Looking for a camera that is gone fails quietly until it is back.
        let result = self.session().map(drop);
        if let Err(e) = &result {
            debug!(self.log, "no camera yet"; "error" => %e);
        }
        result
    }
}

impl Handler<ReadSettings> for CameraActor {
    type Result = Result<Vec<Setting>, CameraError>;

    fn handle(&mut self, _: ReadSettings, ctx: &mut Self::Context) -> Self::Result {
        self.call(ctx, "read settings", |camera| camera.settings())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scanrig_hardware::camera::{SimCamera, SimCameraConfig};
    use scanrig_hardware::Degrees;

    use super::*;

    fn camera(config: SimCameraConfig) -> SimCamera {
        SimCamera::new(SimCameraConfig {
            width: 64,
            height: 48,
            expose_latency: Duration::ZERO,
            download_latency: Duration::ZERO,
            ..config
        })
    }

    fn log() -> Logger {
        Logger::root(slog::Discard, slog::o!())
    }

    #[test]
    fn previews_and_settings_are_read_without_taking_a_photo() {
        let sim = camera(SimCameraConfig::default());
        System::new().block_on(async {
            let actor = CameraActor::start(sim.connector(), log());
            let frame = actor.send(Preview).await.unwrap().unwrap();
            assert_eq!(&frame[..2], [0xFF, 0xD8], "a JPEG");
            let next = actor.send(Preview).await.unwrap().unwrap();
            assert_ne!(frame, next);
            let settings = actor.send(ReadSettings).await.unwrap().unwrap();
            let iso = settings.iter().find(|s| s.name == "iso").expect("iso");
            assert!(iso.choices.iter().any(|c| c == "400"), "{iso:?}");
        });
        assert_eq!((sim.previews(), sim.exposures(), sim.connects()), (2, 0, 1));
    }

    #[test]
    fn an_unplugged_camera_fails_the_preview_and_is_reconnected_later() {
        let sim = camera(SimCameraConfig {
            unplug_after_exposures: 1,
            unplug_for: Duration::from_secs(3600),
            ..SimCameraConfig::default()
        });
        let request = CaptureRequest {
            stem: "shot".into(),
            label: "shot".into(),
            azimuth: Degrees(0.0),
            tilt: Degrees(0.0),
        };
        System::new().block_on(async {
            let actor = CameraActor::start(sim.connector(), log());
            actor
                .send(Expose::plain(request.clone()))
                .await
                .unwrap()
                .unwrap();
            let err = actor
                .send(Expose::plain(request))
                .await
                .unwrap()
                .unwrap_err();
            assert!(matches!(err, CameraError::Disconnected { .. }), "{err}");
            // The actor restarted and tries to connect again: still unplugged.
            let err = actor.send(Preview).await.unwrap().unwrap_err();
            assert!(matches!(err, CameraError::NotConnected { .. }), "{err}");
        });
        assert_eq!(sim.previews(), 0);
    }
}
