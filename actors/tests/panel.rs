//! The operator panel through the actors: button presses steer the scan and
//! the status light follows it; a long press of Stop aborts and releases
//! the motor; the rig's lights come on (warmed up) before the first photo
//! and go off after the scan, in a pause if so set, and when idle.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;
use scanrig_actors::buttons::Show;
use scanrig_actors::lights::{
    GetLights, Illuminate, LightsActor, LightsChanged, LightsRig, SetLight,
};
use scanrig_actors::manual::check::Check;
use scanrig_actors::manual::JogBy;
use scanrig_actors::model::{Outcome, ScanPlan};
use scanrig_actors::supervisor::{progress, Manual, Progress, Rig, StartScan, Supervisor};
use scanrig_actors::turntable::{JogAxis, Release};
use scanrig_hardware::axis::StopKind;
use scanrig_hardware::camera::SimCamera;
use scanrig_hardware::light::{Brightness, Light, LightSpec, RecordingOutput};
use scanrig_hardware::panel::{Button, ButtonEvent, Status};
use scanrig_hardware::Degrees;

mod common;
use common::{plan, rig_on, rig_with_camera, scanrig_actors_log, table, until};

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

/// Two lights: "ring", dimmed by PWM, active-high, warming up for 300 ms;
/// "back", switched, active-low, at once; and their outputs.
fn two_lights(pause_off: bool) -> (LightsRig, RecordingOutput, RecordingOutput) {
    let (ring, back) = (RecordingOutput::default(), RecordingOutput::default());
    let spec = |name: &str, pin, active_low, pwm_hz, warmup_ms| LightSpec {
        name: name.into(),
        pin,
        active_low,
        pwm_hz,
        warmup: Duration::from_millis(warmup_ms),
    };
    let lights = vec![
        Light::new(
            spec("ring", 18, false, Some(1000.0), 300),
            Box::new(ring.clone()),
        )
        .unwrap(),
        Light::new(spec("back", 20, true, None, 0), Box::new(back.clone())).unwrap(),
    ];
    let rig = LightsRig {
        lights,
        pause_off,
        idle_timeout: None,
        idle_in_pause: true,
    };
    (rig, ring, back)
}

fn duties(out: &RecordingOutput) -> Vec<f64> {
    out.events().iter().map(|e| e.duty).collect()
}

/// When `out` was last set to `duty` at or before `before`.
fn set_at(out: &RecordingOutput, duty: f64, before: SystemTime) -> SystemTime {
    out.events()
        .iter()
        .rev()
        .find(|e| e.duty == duty && e.at <= before)
        .unwrap_or_else(|| panic!("never set to {duty} before {before:?}: {:?}", out.events()))
        .at
}

/// A rig with [`two_lights`] and its simulated camera, and a plan of 4
/// shots lighting the ring at 60 %; the ring's and the back's outputs.
fn lit_rig(dir: &Path) -> (Rig, SimCamera, ScanPlan, RecordingOutput, RecordingOutput) {
    let (mut rig, _, _, camera) = rig_with_camera(&table(3600.0), dir);
    let (lights, ring, back) = two_lights(false);
    rig.lights = lights;
    let mut scan = plan(4);
    scan.lights = BTreeMap::from([("ring".to_owned(), 60)]);
    (rig, camera, scan, ring, back)
}

/// Asserts the lights were opened off, switched on (the ring at the
/// profile's 60 %, the back at full: low, as it is active-low) at least
/// the ring's 300 ms warm-up before the first of `photos` (there are
/// `taken`), and off after the last.
fn assert_lit_for(
    photos: &[SystemTime],
    taken: usize,
    (ring, back): (&RecordingOutput, &RecordingOutput),
) {
    assert_eq!(duties(ring), [0.0, 0.6, 0.0]);
    assert_eq!(duties(back), [1.0, 0.0, 1.0]);
    assert_eq!(photos.len(), taken);
    let first = photos[0];
    let on = set_at(ring, 0.6, first);
    let warm = first.duration_since(on).unwrap();
    assert!(
        warm >= Duration::from_millis(300),
        "the first photo was taken {warm:?} after the ring light came on, before its 300 ms warm-up"
    );
    let last = *photos.last().unwrap();
    let off = ring.events().last().unwrap().at;
    assert!(off >= last, "the light went off before the last photo");
}

#[test]
fn the_lights_are_on_and_warmed_up_before_the_first_photo_and_off_after_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (rig, camera, scan, ring, back) = lit_rig(dir.path());
    let finished = System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let mut rx = progress(&sup).await.unwrap();
        sup.send(StartScan {
            plan: scan,
            resume: None,
        })
        .await
        .unwrap()
        .unwrap();
        until(&mut rx, |p| matches!(p, Progress::Finished(_))).await;
        until(&mut rx, |p| matches!(p, Progress::Quiet)).await;
        let states = sup
            .send(scanrig_actors::supervisor::Lights)
            .await
            .unwrap()
            .send(GetLights)
            .await
            .unwrap();
        System::current().stop();
        states
    });
    assert!(finished.iter().all(|l| l.brightness == 0), "{finished:?}");
    assert_lit_for(&camera.exposure_times(), 4, (&ring, &back));
}

#[test]
fn the_setup_check_takes_its_photos_lit_as_a_scan_s_after_the_warm_up_and_switches_the_lights_off()
{
    let dir = tempfile::tempdir().unwrap();
    let (rig, camera, scan, ring, back) = lit_rig(dir.path());
    let check = Check {
        plan: scan,
        dir: dir.path().join("check"),
        limits: Default::default(),
        learn: None,
        origin: "a test".into(),
        manual_tilt: false,
    };
    let report = System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let manual = sup.send(Manual).await.unwrap();
        let report = manual.send(check).await.unwrap();
        System::current().stop();
        report
    });
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.poses.len(), 1, "{report:?}");
    assert_lit_for(&camera.exposure_times(), 1, (&ring, &back));
}

#[test]
fn a_pause_set_to_switch_the_lights_off_does_and_a_resume_waits_for_their_warm_up() {
    let dir = tempfile::tempdir().unwrap();
    let table = table(3600.0);
    let (mut rig, buttons, _, camera) = rig_with_camera(&table, dir.path());
    let (lights, ring, _) = two_lights(true);
    rig.lights = lights;
    let press = |button| {
        assert!(buttons.press(ButtonEvent {
            button,
            long: false
        }))
    };
    let resumed = System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let mut rx = progress(&sup).await.unwrap();
        sup.send(StartScan {
            plan: plan(30),
            resume: None,
        })
        .await
        .unwrap()
        .unwrap();
        until(&mut rx, |p| matches!(p, Progress::Captured { .. })).await;
        press(Button::Pause);
        until(&mut rx, |p| matches!(p, Progress::Paused { .. })).await;
        // The status reaches the lights as it reaches the panel.
        until(&mut rx, |p| matches!(p, Progress::Quiet)).await;
        let paused = ring.duty();
        let resumed = SystemTime::now();
        press(Button::Start);
        until(&mut rx, |p| matches!(p, Progress::Captured { .. })).await;
        press(Button::Stop);
        until(&mut rx, |p| matches!(p, Progress::Finished(_))).await;
        System::current().stop();
        (paused, resumed)
    });
    let (paused, resumed) = resumed;
    assert_eq!(paused, 0.0, "the ring light stayed on in the pause");
    let after: Vec<SystemTime> = camera
        .exposure_times()
        .into_iter()
        .filter(|t| *t > resumed)
        .collect();
    let relit = ring
        .events()
        .iter()
        .find(|e| e.at >= resumed && e.duty == 1.0)
        .expect("on again after the resume")
        .at;
    let first = after.first().expect("a photo after the resume");
    assert!(
        first.duration_since(relit).unwrap() >= Duration::from_millis(300),
        "a photo after the resume was taken before the light warmed up"
    );
}

/// Counts the motor releases asked for.
struct Motors(Arc<std::sync::atomic::AtomicU32>);

impl Actor for Motors {
    type Context = Context<Self>;
}

impl Handler<Release> for Motors {
    type Result = ();

    fn handle(&mut self, _: Release, _: &mut Self::Context) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Handler<LightsChanged> for Motors {
    type Result = ();

    fn handle(&mut self, _: LightsChanged, _: &mut Self::Context) {}
}

#[test]
fn after_the_idle_timeout_the_lights_go_off_and_a_pause_releases_the_motors_on_virtual_time() {
    let (mut lights, ring, _) = two_lights(false);
    lights.idle_timeout = Some(Duration::from_secs(60));
    let released = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = released.clone();
    System::new().block_on(async move {
        tokio::time::pause();
        let motors = Motors(count.clone()).start();
        let actor = LightsActor::new(
            lights,
            motors.clone().recipient(),
            motors.recipient(),
            scanrig_actors_log(),
        )
        .start();
        let set = |level| SetLight {
            name: "ring".into(),
            level: Brightness::new(level).unwrap(),
        };
        // Set by hand while idle: on until the timeout, then off.
        actor.send(set(40)).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert_eq!(ring.duty(), 0.4, "off before the timeout");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(ring.duty(), 0.0, "still on after the idle timeout");
        assert_eq!(
            count.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "idle motors are released already"
        );

        // A scan holds the lights however long it runs; its pause counts
        // as idle, and then the motors' holding current goes too.
        actor.send(Illuminate(BTreeMap::new())).await.unwrap();
        actor.send(Show(Status::Scanning)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(ring.duty(), 1.0, "off during a scan");
        actor.send(Show(Status::Paused)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(ring.duty(), 0.0, "on after a pause longer than the timeout");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);

        // The warm-up is waited for on the same clock.
        let started = tokio::time::Instant::now();
        actor.send(Illuminate(BTreeMap::new())).await.unwrap();
        // (tokio's timers round up to the next millisecond)
        let waited = started.elapsed();
        assert!(
            (300..=301).contains(&waited.as_millis()),
            "waited {waited:?} for a 300 ms warm-up"
        );

        // Unknown names are refused, naming the lights there are.
        let err = actor
            .send(SetLight {
                name: "spot".into(),
                level: Brightness::FULL,
            })
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "there is no light named `spot`; the lights are: ring, back"
        );
        System::current().stop();
    });
    assert_eq!(released.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_pause_that_does_not_count_as_idle_keeps_the_lights_and_the_motors() {
    let (mut lights, ring, _) = two_lights(false);
    lights.idle_timeout = Some(Duration::from_secs(60));
    lights.idle_in_pause = false;
    let released = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = released.clone();
    System::new().block_on(async move {
        tokio::time::pause();
        let motors = Motors(count).start();
        let actor = LightsActor::new(
            lights,
            motors.clone().recipient(),
            motors.recipient(),
            scanrig_actors_log(),
        )
        .start();
        actor.send(Illuminate(BTreeMap::new())).await.unwrap();
        actor.send(Show(Status::Scanning)).await.unwrap();
        actor.send(Show(Status::Paused)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(ring.duty(), 1.0, "off in a pause that is not idle");
        // The scan ends: off at once, and idle from then on.
        actor.send(Show(Status::Idle)).await.unwrap();
        assert_eq!(ring.duty(), 0.0, "on after the scan ended");
        System::current().stop();
    });
    assert_eq!(released.load(std::sync::atomic::Ordering::SeqCst), 0);
}
