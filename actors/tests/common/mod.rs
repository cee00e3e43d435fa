//! The supervisor on a simulated rig in this process: a quick camera, a
//! table of a given speed, simulated buttons and status light, the spool
//! and the photos in a folder of the test's.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use scanrig_actors::destination::{Destinations, LocalDir};
use scanrig_actors::health::HealthReader;
use scanrig_actors::model::{ScanId, ScanPlan, Station};
use scanrig_actors::restart::Backoff;
use scanrig_actors::sequence::SequenceConfig;
use scanrig_actors::supervisor::{Progress, Rig, RigCamera};
use scanrig_hardware::axis::{MotionLimits, SimAxis, SimAxisConfig, Travel};
use scanrig_hardware::camera::{SimCamera, SimCameraConfig};
use scanrig_hardware::panel::{SimButtons, SimIndicator};
use scanrig_hardware::Degrees;
use tokio::sync::mpsc;

/// A plan of `shots` shots 10° apart on one ring.
pub fn plan(shots: u32) -> ScanPlan {
    let stations: Vec<Station> = (0..shots)
        .map(|i| Station {
            ring: 1,
            index: i + 1,
            azimuth: Degrees(f64::from(i) * 10.0),
            tilt: Degrees(0.0),
            cameras: Vec::new(),
        })
        .collect();
    ScanPlan::new(
        ScanId::new(1_800_000_000, "panel"),
        "panel",
        "panel",
        Duration::ZERO,
        BTreeMap::new(),
        &stations,
    )
}

/// Waits for progress matching `want`, at most 20 s.
pub async fn until(
    rx: &mut mpsc::UnboundedReceiver<Progress>,
    want: impl Fn(&Progress) -> bool,
) -> Progress {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let p = rx.recv().await.expect("progress");
            if want(&p) {
                return p;
            }
        }
    })
    .await
    .expect("in time")
}

/// A simulated turntable at `speed` degrees per second.
pub fn table(speed: f64) -> SimAxis {
    SimAxis::new(SimAxisConfig {
        name: "turntable",
        limits: MotionLimits {
            max_speed: speed,
            acceleration: speed * 10.0,
        },
        home_duration: Duration::ZERO,
        travel: Travel::default(),
        fail_every_nth_move: 0,
    })
}

/// A supervisor's rig on `table`, with a quick simulated camera and
/// simulated buttons and light, its spool and photos in `dir`.
pub fn rig_on(table: &SimAxis, dir: &Path) -> (Rig, SimButtons, SimIndicator) {
    let (rig, buttons, light, _) = rig_with_camera(table, dir);
    (rig, buttons, light)
}

/// [`rig_on`], with the simulated camera.
pub fn rig_with_camera(table: &SimAxis, dir: &Path) -> (Rig, SimButtons, SimIndicator, SimCamera) {
    let camera = SimCamera::new(SimCameraConfig {
        width: 64,
        height: 48,
        expose_latency: Duration::from_millis(5),
        download_latency: Duration::from_millis(40),
        ..SimCameraConfig::default()
    });
    let (buttons, light) = (SimButtons::new(), SimIndicator::new());
    let rig = Rig {
        axes: SimAxis::connector(table.clone(), None),
        cameras: vec![RigCamera {
            name: None,
            connector: camera.connector(),
            settings: Default::default(),
        }],
        cameras_together: true,
        camera_timeout: Duration::from_secs(10),
        manual_tilt: false,
        moved: None,
        destinations: Destinations::only(Arc::new(LocalDir::new(dir.join("photos")))),
        priors: None,
        hooks: Vec::new(),
        upload_workers: 2,
        buttons: Box::new(buttons.clone()),
        indicator: Box::new(light.clone()),
        spool: dir.join("spool"),
        keep_uploaded: false,
        retention: scanrig_actors::history::Retention { scans: 10, days: 1 },
        commit_delay: Duration::from_millis(3),
        min_free: 0,
        sequence: SequenceConfig {
            upload_backlog: 8,
            max_restarts: 3,
            restart_window: Duration::from_secs(60),
            device_backoff: Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(100),
            },
            upload_attempts: 3,
            upload_backoff: Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(100),
            },
            download_attempts: 3,
            pipelined: true,
            quality: None,
            retakes: 0,
        },
        backlog_backoff: Backoff {
            initial: Duration::from_secs(60),
            max: Duration::from_secs(3600),
        },
        merge: None,
        judge: None,
        lights: Default::default(),
        health: (
            HealthReader {
                root: dir.join("no-such-root"),
                spool: dir.join("spool"),
            },
            Duration::from_secs(5),
            Default::default(),
        ),
    };
    (rig, buttons, light, camera)
}

/// A logger that drops everything.
pub fn scanrig_actors_log() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}
