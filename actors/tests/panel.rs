//! The operator panel through the actors: button presses steer the scan and
//! the status light follows it; a long press of Stop aborts and releases
//! the motor.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use scanrig_actors::destination::{Destinations, LocalDir};
use scanrig_actors::manual::JogBy;
use scanrig_actors::model::{Outcome, ScanId, ScanPlan, Station};
use scanrig_actors::restart::Backoff;
use scanrig_actors::sequence::SequenceConfig;
use scanrig_actors::supervisor::{
    progress, Manual, Progress, Rig, RigCamera, StartScan, Supervisor,
};
use scanrig_actors::turntable::JogAxis;
use scanrig_hardware::axis::{MotionLimits, SimAxis, SimAxisConfig, StopKind, Travel};
use scanrig_hardware::camera::{SimCamera, SimCameraConfig};
use scanrig_hardware::panel::{Button, ButtonEvent, SimButtons, SimIndicator, Status};
use scanrig_hardware::Degrees;
use tokio::sync::mpsc;

fn plan(shots: u32) -> ScanPlan {
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
async fn until(
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
fn table(speed: f64) -> SimAxis {
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
fn rig_on(table: &SimAxis, dir: &Path) -> (Rig, SimButtons, SimIndicator) {
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
    };
    (rig, buttons, light)
}

#[test]
fn buttons_pause_resume_and_a_long_stop_aborts_with_the_motor_released() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(3600.0);
    let (rig, buttons, light) = rig_on(&table, dir.path());
    let press = |button, long| assert!(buttons.press(ButtonEvent { button, long }));
    System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let mut rx = progress(&sup).await.unwrap();
        sup.send(StartScan {
            plan: plan(30),
            resume: None,
        })
        .await
        .unwrap()
        .unwrap();
        let Progress::Captured { shot: first, .. } =
            until(&mut rx, |p| matches!(p, Progress::Captured { .. })).await
        else {
            unreachable!()
        };
        press(Button::Pause, false);
        until(&mut rx, |p| matches!(p, Progress::Paused { .. })).await;
        assert_eq!(light.current(), Some(Status::Paused));
        assert!(table.is_energised(), "an operator's pause holds the table");
        press(Button::Start, false);
        // The shot exposed as Pause was pressed may still land while
        // paused; the one after it is taken only once resumed.
        until(
            &mut rx,
            |p| matches!(p, Progress::Captured { shot, .. } if shot.0 >= first.0 + 2),
        )
        .await;
        assert_eq!(light.current(), Some(Status::Scanning));
        press(Button::Stop, true);
        let Progress::Finished(summary) =
            until(&mut rx, |p| matches!(p, Progress::Finished(_))).await
        else {
            unreachable!()
        };
        assert_eq!(summary.outcome, Some(Outcome::Stopped));
        assert!(summary.captured < 30, "the long stop ended the scan early");
        assert_eq!(
            summary.uploaded, summary.captured,
            "what was taken still uploads"
        );
        assert!(!table.is_energised(), "the motor is released");
        until(&mut rx, |p| matches!(p, Progress::Quiet)).await;
        System::current().stop();
    });
    let history = light.history();
    for status in [Status::Idle, Status::Scanning, Status::Paused] {
        assert!(history.contains(&status), "{status} in {history:?}");
    }
}

fn scanrig_actors_log() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

#[test]
fn the_stop_button_stops_a_jog_and_a_long_press_stops_it_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // 30 °/s: a jog of 360° takes 12 s unless stopped.
    let table = table(30.0);
    let (rig, buttons, _light) = rig_on(&table, dir.path());
    let press = |long| {
        assert!(buttons.press(ButtonEvent {
            button: Button::Stop,
            long
        }))
    };
    System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let mut rx = progress(&sup).await.unwrap();
        let manual = sup.send(Manual).await.unwrap();
        let jog = |by: f64| JogBy {
            axis: JogAxis::Turntable,
            by: Degrees(by),
            origin: "test".into(),
        };
        for (long, want) in [(false, StopKind::Controlled), (true, StopKind::Emergency)] {
            // Homed by a short jog first: the long one is all motion.
            manual.send(jog(1.0)).await.unwrap().unwrap();
            until(&mut rx, |p| matches!(p, Progress::Motion(None))).await;
            let started = std::time::Instant::now();
            let running = manual.send(jog(360.0));
            until(&mut rx, |p| matches!(p, Progress::Motion(Some(_)))).await;
            press(long);
            let jogged = running.await.unwrap().unwrap();
            assert_eq!(jogged.stopped, Some(want), "long: {long}");
            assert!(
                started.elapsed() < Duration::from_secs(6),
                "{:?}",
                started.elapsed()
            );
            until(&mut rx, |p| matches!(p, Progress::Motion(None))).await;
        }
        assert!(!table.is_energised(), "the long press released the motor");
        System::current().stop();
    });
}
