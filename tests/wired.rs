//! A camera fired by a wire (`camera.backend = "trigger"`) on the simulated rig: a scan journals each shot's trigger and leaves the photos on the camera's card, `scanrig import` brings them to their shots; and a configuration of its pins that cannot work is refused.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{
    entries, in_process, plan, read_manifest, ring_profile, rings_of, scan_in_process, sha256, Rig,
};
use scanrig_hardware::axis::stepper::bench::BenchMotor;
use scanrig_hardware::axis::stepper::{NoEndstop, StepperAxis, SystemClock};
use scanrig_hardware::axis::{Axes, Axis, MoveOrder};
use scanrig_hardware::camera::wired::{sim_connector, SimLine};
use scanrig_hardware::camera::{SimCard, Stage};

/// The simulated camera's card, its clock 7 minutes ahead, with the
/// shutter and focus lines on GPIO 20 and 21 (and a brisk stepper, for
/// the test that drives one).
fn wired_rig() -> Rig {
    let rig = Rig::new();
    let card = rig.root().join("card");
    rig.configure(&format!(
        "[camera]\nbackend = \"trigger\"\n[camera.trigger]\nshutter_pin = 20\nfocus_pin = 21\nfocus_ms = 5\npulse_ms = 20\nsim_card = {:?}\nsim_clock_offset_s = 420\n[turntable.stepper]\nmax_speed_dps = 360.0\naccel_dps2 = 3600.0\n",
        card.to_str().unwrap()
    ));
    rig
}

/// The card's photos, by name (in the order the camera numbered them),
/// with their contents' sha256.
fn card_photos(card: &Path) -> BTreeMap<String, String> {
    let folder = card.join("DCIM/100SCANR");
    entries(&folder)
        .into_iter()
        .map(|name| {
            let sha = sha256(&std::fs::read(folder.join(&name)).unwrap());
            (name, sha)
        })
        .collect()
}

#[test]
fn a_scan_fired_by_a_wire_leaves_its_photos_on_the_card_until_import_brings_each_to_its_shot() {
    let rig = wired_rig();
    let text = ring_profile(5, 5);
    rig.profile("wired", &text);
    let expected = plan("wired", &rings_of(&text));

    let out = rig.run(&["scan", "--profile", "wired", "--json"]);
    out.expect_code(0);
    assert!(
        !out.stderr.contains("ring not checked"),
        "no check frame is asked of a camera that sends none: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("scanrig import"),
        "the log says how to bring the photos in: {}",
        out.stderr
    );
    let scan = rig.only_scan();
    let journal = rig.journal(&scan);
    assert_eq!(
        journal.count("shot_triggered"),
        5,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(journal.count("shot_captured"), 0, "nothing downloaded");
    let times: Vec<u64> = journal
        .of("shot_triggered")
        .iter()
        .map(|r| r["at"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(journal.outcome().as_deref(), Some("completed"));
    assert!(
        !rig.delivered(&scan).join("manifest.json").exists(),
        "the manifest waits for the photos on the card"
    );
    let card = rig.root().join("card");
    let photos = card_photos(&card);
    assert_eq!(photos.len(), 5, "a photo on the card per trigger");
    let listed = rig.run(&["scans", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows[0]["on_card"], 5, "{rows}");
    assert!(rig.run(&["scans"]).stdout.contains("5 on card"));

    rig.run(&["import", &scan, card.to_str().unwrap(), "--yes"])
        .expect_code(0);
    let delivered = rig.delivered(&scan);
    for (p, (_, sha)) in expected.iter().zip(&photos) {
        let arrived = std::fs::read(delivered.join(&p.name))
            .unwrap_or_else(|e| panic!("{} not delivered: {e}", p.name));
        assert_eq!(&sha256(&arrived), sha, "{} is its own shot's photo", p.name);
    }
    let manifest = read_manifest(&delivered);
    assert_eq!(manifest["shots"].as_array().unwrap().len(), 5);
    assert!(manifest["missing"].as_array().unwrap().is_empty());
    assert!(rig.is_retired(&scan));
}

#[test]
fn a_test_shot_fires_the_camera_once_and_the_setup_check_is_refused_for_want_of_photos() {
    let rig = wired_rig();
    let out = rig.run(&["camera", "capture", "--dest", "shots"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("the photo is on the camera's card"),
        "{}",
        out.stdout
    );
    assert_eq!(card_photos(&rig.root().join("card")).len(), 1);
    assert!(
        entries(&rig.root().join("shots")).is_empty(),
        "nothing downloaded"
    );
    rig.profile("still", &ring_profile(4, 30));
    let check = rig.run(&["check", "--profile", "still"]);
    check.expect_code(2);
    assert!(
        check.stderr.contains("a camera fired by a wire"),
        "{}",
        check.stderr
    );
}

#[test]
fn a_wired_camera_without_its_shutter_pin_or_on_a_pin_in_use_is_refused_naming_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "no shutter pin",
            "[camera]\nbackend = \"trigger\"\n[camera.trigger]\nsim_card = \"card\"\n",
            "camera.trigger.shutter_pin: is missing: camera.backend = \"trigger\" needs the GPIO pin",
        ),
        (
            "the turntable's STEP pin",
            "[camera]\nbackend = \"trigger\"\n[camera.trigger]\nshutter_pin = 17\n[turntable]\nbackend = \"stepper\"\n",
            "camera.trigger.shutter_pin: GPIO 17 is already used by turntable.stepper.step_pin",
        ),
        (
            "the status light's pin",
            "[camera]\nbackend = \"trigger\"\n[camera.trigger]\nshutter_pin = 20\nfocus_pin = 26\n[buttons]\nbackend = \"gpio\"\n",
            "camera.trigger.focus_pin: GPIO 26 is already used by buttons.gpio.led_pin",
        ),
        (
            "in a column",
            "[[cameras]]\nname = \"low\"\nbackend = \"trigger\"\n",
            "cameras[1].backend: \"trigger\" fires one camera",
        ),
    ];
    for (case, overrides, said) in cases {
        let rig = Rig::with(overrides);
        let out = rig.run(&["check-config"]);
        assert_eq!(out.code, Some(2), "{case}: {}", out.stderr);
        let needle = format!("{}: {said}", rig.config.display());
        assert!(
            out.stderr.contains(&needle),
            "{case}: stderr should say `{needle}`:\n{}",
            out.stderr
        );
    }
}

#[test]
fn the_shutter_is_pressed_only_with_the_turntables_motor_still_after_the_focus() {
    let rig = wired_rig();
    rig.profile("still", &ring_profile(4, 30));
    let (settings, mut built, log) = in_process(&rig);
    // The turntable's stepper on recording pins, its STEP edges timed.
    let motor = BenchMotor::new(SystemClock);
    let limits = settings.limits();
    let config = settings
        .turntable
        .stepper
        .config("turntable", limits.turntable);
    let pins = motor.clone();
    built.axes = Arc::new(move || {
        let axis = StepperAxis::new(
            config,
            pins.step.clone(),
            pins.dir.clone(),
            pins.enable.clone(),
            None::<NoEndstop>,
            SystemClock,
        )?;
        Ok(Axes {
            azimuth: Box::new(axis) as Box<dyn Axis>,
            tilt: None,
            order: MoveOrder::Together,
        })
    });
    let (shutter, focus) = (SimLine::new(SystemClock), SimLine::new(SystemClock));
    let card = SimCard::new(&rig.root().join("card"), 0, (160, 120), Stage::default());
    let timing = settings.camera.trigger.timing();
    built.cameras[0].connector = sim_connector(timing, shutter.clone(), Some(focus.clone()), card);
    let report = scan_in_process(&settings, built, "still", log);
    assert_eq!(report.summary.captured, 4, "{:?}", report.summary);

    let steps = motor.step.rising_edges();
    assert!(
        steps.len() > 1000,
        "the table turned: {} steps",
        steps.len()
    );
    let shots = shutter.presses();
    let focused = focus.presses();
    assert_eq!((shots.len(), focused.len()), (4, 4), "one press a shot");
    let mut moved_before = 0;
    for ((down, up), (f_down, f_up)) in shots.iter().zip(&focused) {
        assert!(
            !steps.iter().any(|t| t >= down && t <= up),
            "a step while the shutter was pressed"
        );
        // The first shot is taken where the table stands at home.
        if let Some(last) = steps.iter().filter(|t| *t < down).max() {
            moved_before += 1;
            assert!(
                *down - *last >= Duration::from_millis(30),
                "the shutter pressed {:?} after the motor's last step, before the settle time",
                *down - *last
            );
        }
        assert!(
            !steps.iter().any(|t| t >= f_down && t <= up),
            "a step while the focus was held"
        );
        assert!(*down - *f_down >= timing.focus, "focus first, for its time");
        assert!(*up - *down >= timing.pulse, "the pulse's width");
        assert!(f_up >= up, "focus held through the shutter's press");
    }
    assert_eq!(moved_before, 3, "the table turned before shots 2 to 4");
}
