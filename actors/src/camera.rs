//! The camera actor: owns the camera session on a thread of its own (camera
//! libraries are not thread-safe and every call blocks), reconnects after a
//! failure, and reapplies the scan's settings when it does.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use scanrig_hardware::camera::{
    Camera, CameraConnector, CameraError, CaptureRequest, DownloadedFile, Exposure,
};
use slog::{info, warn, Logger};

/// Applies camera settings (widget → value) for the rest of the scan.
#[derive(Message)]
#[rtype(result = "Result<(), CameraError>")]
pub struct ApplySettings(pub BTreeMap<String, String>);

/// Fires the shutter; the reply comes when the shutter has closed.
#[derive(Message)]
#[rtype(result = "Result<Exposure, CameraError>")]
pub struct Expose(pub CaptureRequest);

/// Downloads an exposure into a spool folder.
#[derive(Message)]
#[rtype(result = "Result<Vec<DownloadedFile>, CameraError>")]
pub struct Download {
    /// What to download.
    pub exposure: Exposure,
    /// The scan's spool folder.
    pub dir: PathBuf,
}

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
        self.call(ctx, "apply settings", |camera| {
            camera.apply_settings(&msg.0)
        })?;
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg.0);
        Ok(())
    }
}

impl Handler<Expose> for CameraActor {
    type Result = Result<Exposure, CameraError>;

    fn handle(&mut self, msg: Expose, ctx: &mut Self::Context) -> Self::Result {
        self.call(ctx, "expose", |camera| camera.expose(&msg.0))
    }
}

impl Handler<Download> for CameraActor {
    type Result = Result<Vec<DownloadedFile>, CameraError>;

    fn handle(&mut self, msg: Download, ctx: &mut Self::Context) -> Self::Result {
        self.call(ctx, "download", |camera| {
            camera.download(&msg.exposure, &msg.dir)
        })
    }
}
