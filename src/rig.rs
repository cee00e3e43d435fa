//! Wiring: builds the supervisor's [`Rig`] from the settings, choosing a
//! backend (simulated or real) for every device.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scanrig_actors::destination::{Destination, LocalDir};
use scanrig_actors::restart::Backoff;
use scanrig_actors::sequence::SequenceConfig;
use scanrig_actors::supervisor::Rig;
use scanrig_hardware::axis::{MotionLimits, SimAxis, SimAxisConfig};
#[cfg(not(feature = "gphoto2"))]
use scanrig_hardware::camera::CameraError;
use scanrig_hardware::camera::{CameraConnector, SimCamera, SimCameraConfig};
use scanrig_hardware::panel::{SimButtons, SimIndicator};

use crate::settings::{self, CameraBackend, Settings, TiltBackend};

/// Builds the rig. `dest` overrides the configured destination folder.
pub fn build(settings: &Settings, dest: Option<PathBuf>) -> Rig {
    let azimuth = SimAxis::new(sim_axis("turntable", &settings.turntable.sim));
    let tilt = match settings.tilt.backend {
        TiltBackend::None => None,
        TiltBackend::Sim => Some(SimAxis::new(sim_axis("tilt", &settings.tilt.sim))),
    };
    Rig {
        axes: SimAxis::connector(azimuth, tilt),
        camera: camera(settings),
        camera_timeout: Duration::from_secs(settings.camera.timeout_s),
        manual_tilt: settings.tilt.backend == TiltBackend::None,
        destination: destination(settings, dest),
        upload_workers: settings.upload.workers as usize,
        buttons: Box::new(SimButtons::new()),
        indicator: Box::new(SimIndicator::new()),
        spool: settings.spool_dir(),
        keep_uploaded: settings.spool.keep_uploaded,
        sequence: sequence(settings),
    }
}

/// Opens the configured camera.
pub fn camera(settings: &Settings) -> CameraConnector {
    match settings.camera.backend {
        CameraBackend::Sim => SimCamera::new(sim_camera(&settings.camera.sim)).connector(),
        #[cfg(feature = "gphoto2")]
        CameraBackend::Gphoto2 => {
            let g = &settings.camera.gphoto2;
            scanrig_hardware::camera::gphoto::connector(
                scanrig_hardware::camera::gphoto::GphotoConfig {
                    model: g.model.clone(),
                    port: g.port.clone(),
                    delete_after_download: g.delete_after_download,
                    pair_wait: Duration::from_millis(g.pair_wait_ms),
                },
            )
        }
        // Refused by `Settings::load` in a build without the driver.
        #[cfg(not(feature = "gphoto2"))]
        CameraBackend::Gphoto2 => Arc::new(|| {
            Err(CameraError::NotConnected {
                detail: "this build of scanrig has no gphoto2 driver".into(),
            })
        }),
    }
}

/// The configured destination, or a local folder given on the command line.
pub fn destination(settings: &Settings, dest: Option<PathBuf>) -> Arc<dyn Destination> {
    let dir = match (dest, &settings.destination) {
        (Some(dir), _) => dir,
        (None, settings::Destination::Local { dir }) => dir.clone(),
    };
    Arc::new(LocalDir::new(dir))
}

/// The sequence's tunables.
pub fn sequence(settings: &Settings) -> SequenceConfig {
    let (u, s) = (&settings.upload, &settings.supervision);
    SequenceConfig {
        upload_backlog: u.queue as usize,
        max_restarts: s.max_restarts,
        restart_window: Duration::from_secs(s.window_s),
        device_backoff: Backoff {
            initial: Duration::from_millis(s.backoff_initial_ms),
            max: Duration::from_millis(s.backoff_max_ms),
        },
        upload_attempts: u.max_attempts,
        upload_backoff: Backoff {
            initial: Duration::from_millis(u.retry_initial_ms),
            max: Duration::from_millis(u.retry_max_ms),
        },
        download_attempts: 3,
        pipelined: true,
    }
}

fn sim_axis(name: &'static str, s: &settings::SimAxis) -> SimAxisConfig {
    SimAxisConfig {
        name,
        limits: MotionLimits {
            max_speed: s.max_speed_dps,
            acceleration: s.accel_dps2,
        },
        home_duration: Duration::from_millis(s.home_ms),
        fail_every_nth_move: 0,
    }
}

fn sim_camera(s: &settings::SimCamera) -> SimCameraConfig {
    SimCameraConfig {
        width: s.width,
        height: s.height,
        file_size: s.file_size_kb * 1024,
        expose_latency: Duration::from_millis(s.expose_ms),
        download_latency: Duration::from_millis(s.download_ms),
        fail_every_nth_expose: s.fail_every_nth_expose,
        fail_every_nth_download: s.fail_every_nth_download,
        unplug_after_exposures: s.unplug_after_shots,
        unplug_for: Duration::from_millis(s.unplug_ms),
    }
}
