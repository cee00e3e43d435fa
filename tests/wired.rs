//! A camera fired by a wire (`camera.backend = "trigger"`) on the simulated rig: a scan journals each shot's trigger and leaves the photos on the camera's card, `scanrig import` brings them to their shots; and a configuration of its pins that cannot work is refused.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::http::post;
use common::web::{error_of, stop, web_daemon};
use common::{
    assert_photos, contents, entries, in_process, names_in, plan, read_manifest, ring_profile,
    rings_of, scan_in_process, sha256, Planned, Rig, DEADLINE,
};
use scanrig::settings::{self, Settings};
use scanrig_hardware::axis::stepper::bench::BenchMotor;
use scanrig_hardware::axis::stepper::{NoEndstop, StepperAxis, SystemClock};
use scanrig_hardware::axis::{Axes, Axis, MoveOrder};
use scanrig_hardware::camera::trigger::TriggerTiming;
use scanrig_hardware::camera::wired::{sim_connector, SimLine};
use scanrig_hardware::camera::{SimCard, Stage};
use serde_json::Value;

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
            "camera.trigger.shutter_pin: is missing: a camera fired by a wire (backend = \"trigger\") needs the GPIO pin",
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
            "a column's camera without its shutter pin",
            "[[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"top\"\nbackend = \"trigger\"\n[cameras.trigger]\nsim_card = \"card\"\n",
            "cameras[2].trigger.shutter_pin: is missing",
        ),
        (
            "a column's camera on the other's pin",
            "[[cameras]]\nname = \"left\"\nbackend = \"trigger\"\n[cameras.trigger]\nshutter_pin = 20\nsim_card = \"a\"\n[[cameras]]\nname = \"right\"\nbackend = \"trigger\"\n[cameras.trigger]\nshutter_pin = 20\nsim_card = \"b\"\n",
            "cameras[2].trigger.shutter_pin: GPIO 20 is already used by cameras[1].trigger.shutter_pin",
        ),
        (
            "the column's shared backend",
            "[camera]\nbackend = \"trigger\"\n[camera.trigger]\nshutter_pin = 20\nsim_card = \"card\"\n[[cameras]]\nname = \"low\"\n",
            "camera.backend: \"trigger\" is what the column's cameras share",
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

/// The rig `rig`'s configuration builds, its turntable's stepper on
/// recording pins (its STEP edges timed), and its camera `camera` (its
/// place in the rig's cameras) fired by a wire on recording shutter and
/// focus lines, writing to the card in `card` whose clock runs
/// `clock_offset_ms` ahead; the settings, the rig, the motor and the
/// lines.
fn on_recording_pins(
    rig: &Rig,
    camera: usize,
    clock_offset_ms: i64,
) -> (
    Settings,
    scanrig_actors::supervisor::Rig,
    BenchMotor<SystemClock>,
    SimLine,
    SimLine,
) {
    let (settings, mut built, _) = in_process(rig);
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
    let size = (settings.camera.sim.width, settings.camera.sim.height);
    let card = SimCard::new(
        &rig.root().join("card"),
        clock_offset_ms,
        size,
        Stage::default(),
    );
    let (_, _, lines) = &settings::wired_cameras(&settings)[0];
    built.cameras[camera].connector =
        sim_connector(lines.timing(), shutter.clone(), Some(focus.clone()), card);
    (settings, built, motor, shutter, focus)
}

/// Asserts the table's `motor` turned and `shutter` was pressed `presses`
/// times, each (after its `focus`, held for `timing`) with the motor still
/// and settled; returns how many presses came after the table turned.
fn assert_pressed_still(
    motor: &BenchMotor<SystemClock>,
    (shutter, focus): (&SimLine, &SimLine),
    timing: TriggerTiming,
    presses: usize,
) -> usize {
    let steps = motor.step.rising_edges();
    assert!(
        steps.len() > 1000,
        "the table turned: {} steps",
        steps.len()
    );
    assert_eq!(
        (shutter.presses().len(), focus.presses().len()),
        (presses, presses),
        "one press a shot"
    );
    let mut moved_before = 0;
    for ((down, up), (f_down, f_up)) in shutter.presses().iter().zip(&focus.presses()) {
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
    moved_before
}

#[test]
fn the_shutter_is_pressed_only_with_the_turntables_motor_still_after_the_focus() {
    let rig = wired_rig();
    rig.profile("still", &ring_profile(4, 30));
    let (settings, built, motor, shutter, focus) = on_recording_pins(&rig, 0, 0);
    let report = scan_in_process(
        &settings,
        built,
        "still",
        slog::Logger::root(slog::Discard, slog::o!()),
    );
    assert_eq!(report.summary.captured, 4, "{:?}", report.summary);
    let timing = settings.camera.trigger.timing();
    let moved_before = assert_pressed_still(&motor, (&shutter, &focus), timing, 4);
    assert_eq!(moved_before, 3, "the table turned before shots 2 to 4");
}

/// A column of a simulated USB camera, low (with `low`, TOML of its
/// `[cameras.sim]`), and a camera fired by a wire, top (its card's clock
/// 7 minutes ahead), each at its own tilt and height.
fn wired_column(low: &str) -> Rig {
    let rig = Rig::new();
    let card = rig.root().join("card");
    rig.configure(&format!(
        "[geometry]\ndistance_m = 0.5\narm_out_m = 0.0\narm_up_m = 0.0\nheight_m = 0.2\n\
         [[cameras]]\nname = \"low\"\ntilt = -10.0\nheight_m = 0.05\n[cameras.sim]\n{low}\n\
         [[cameras]]\nname = \"top\"\nbackend = \"trigger\"\ntilt = 35.0\nheight_m = 0.45\n\
         [cameras.trigger]\nshutter_pin = 20\nfocus_pin = 21\nfocus_ms = 5\npulse_ms = 20\nsim_card = {:?}\nsim_clock_offset_s = 420\n\
         [turntable.stepper]\nmax_speed_dps = 360.0\naccel_dps2 = 3600.0\n",
        card.to_str().unwrap()
    ));
    rig
}

/// The file camera `camera` makes at `stop`.
fn photo(stop: &Planned, camera: &str) -> String {
    let stem = stop.name.strip_suffix(".jpg").expect(".jpg");
    format!("{stem}_{camera}.jpg")
}

#[test]
fn a_column_camera_fired_by_a_wire_shoots_with_the_usb_one_and_import_brings_its_photos_once() {
    let rig = wired_column("");
    let text = ring_profile(4, 30);
    rig.profile("column", &text);
    let stops = plan("column", &rings_of(&text));
    let (settings, built, motor, shutter, focus) = on_recording_pins(&rig, 1, 420_000);
    let report = scan_in_process(
        &settings,
        built,
        "column",
        slog::Logger::root(slog::Discard, slog::o!()),
    );
    assert_eq!(report.summary.captured, 4, "{:?}", report.summary);

    // The wired camera pressed once a stop, never while the table turned.
    let timing = settings.cameras[1].trigger.timing();
    assert_eq!(
        assert_pressed_still(&motor, (&shutter, &focus), timing, 4),
        3
    );

    // Its shots journaled triggered for it; each stop captured with the
    // USB camera's photo, delivered during the scan.
    let id = rig.only_scan();
    let journal = rig.journal(&id);
    let triggered = journal.of("shot_triggered");
    assert_eq!(triggered.len(), 4);
    assert!(
        triggered.iter().all(|r| r["camera"] == "top"),
        "{triggered:?}"
    );
    let low: BTreeSet<String> = stops.iter().map(|s| photo(s, "low")).collect();
    let captured: BTreeSet<String> = journal.captured().into_keys().collect();
    assert_eq!(captured, low, "the USB camera's photos in the spool");
    let delivered = rig.delivered(&id);
    let low_shas = assert_photos(&delivered, &low, false);
    assert!(
        !delivered.join("manifest.json").exists(),
        "the manifest waits for the photos on the card"
    );
    let sent_once: BTreeMap<String, u64> = low
        .iter()
        .map(|n| {
            (
                n.clone(),
                std::fs::metadata(delivered.join(n)).unwrap().ino(),
            )
        })
        .collect();
    let listed = rig.run(&["scans", "--json"]);
    let rows: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows[0]["on_card"], 4, "{rows}");

    // The card's photos, brought to their stops in order by import.
    let card = rig.root().join("card");
    let on_card = card_photos(&card);
    assert_eq!(on_card.len(), 4, "a photo on the card per stop");
    let out = rig.run(&["import", &id, card.to_str().unwrap(), "--yes"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("4 shots await their photos from camera top"),
        "{}",
        out.stdout
    );
    let top: BTreeSet<String> = stops.iter().map(|s| photo(s, "top")).collect();
    let every: BTreeSet<String> = low.union(&top).cloned().collect();
    let shas = assert_photos(&delivered, &every, true);
    for (stop, (name, sha)) in stops.iter().zip(&on_card) {
        assert_eq!(
            &shas[&photo(stop, "top")],
            sha,
            "{name} is stop {}'s",
            stop.shot
        );
    }
    for (name, ino) in &sent_once {
        assert_eq!(shas[name], low_shas[name]);
        let now = std::fs::metadata(delivered.join(name)).unwrap().ino();
        assert_eq!(now, *ino, "{name} was not sent again");
    }
    let manifest = read_manifest(&delivered);
    assert!(
        manifest["missing"].as_array().unwrap().is_empty(),
        "{manifest}"
    );
    let shots = manifest["shots"].as_array().unwrap();
    assert_eq!(shots.len(), 4);
    for (entry, stop) in shots.iter().zip(&stops) {
        assert_eq!(
            names_in(entry),
            [photo(stop, "low"), photo(stop, "top")],
            "the column's order"
        );
        assert!(entry["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["destination_id"].is_string()));
    }
    // Its photos' pose priors are the wired camera's place on the column.
    let sidecar = delivered.join(photo(&stops[0], "top").replace(".jpg", ".pose.json"));
    let pose: Value = serde_json::from_slice(&std::fs::read(&sidecar).expect("sidecar")).unwrap();
    assert_eq!(pose["tilt_deg"], 35.0, "{pose}");
    assert!(
        (pose["centre"][2].as_f64().unwrap() - 0.45).abs() < 1e-9,
        "{pose}"
    );
    assert!(rig.is_retired(&id));

    let arrived = contents(&delivered);
    let again = rig.run(&["import", &id, card.to_str().unwrap(), "--yes"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing is left to import"),
        "{}",
        again.stdout
    );
    assert_eq!(
        contents(&delivered),
        arrived,
        "a second import changes nothing"
    );
}

#[test]
fn the_api_refuses_the_setup_check_of_a_column_with_a_camera_fired_by_a_wire_as_the_command_line_does(
) {
    let (rig, daemon, base) = web_daemon(
        "127.0.0.1:0",
        "[[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"top\"\nbackend = \"trigger\"\n\
         [cameras.trigger]\nshutter_pin = 20\nsim_card = \"card\"\n",
    );
    let refused = post(&format!("{base}/check"), Some("{\"profile\":\"api\"}"));
    let (status, code, words) = error_of(&refused);
    assert_eq!((status, code.as_str()), (409, "wired_camera"), "{words}");
    assert!(
        words.contains("the column's camera top is fired by a wire"),
        "{words}"
    );
    stop(daemon);
    common::openapi::check();
    assert!(
        entries(&rig.root().join("card")).is_empty(),
        "nothing fired"
    );
    assert!(
        entries(&rig.spool.join("check")).is_empty(),
        "nothing taken"
    );

    let cli = rig.run(&["check", "--profile", "api"]);
    cli.expect_code(2);
    assert!(cli.stderr.contains(&words), "{}", cli.stderr);
}

#[test]
fn a_ring_of_the_wired_camera_alone_waits_on_its_card_and_import_brings_it_with_the_others() {
    let rig = wired_column("");
    let profile = "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 3\n\
                   [[rings]]\ntilt = 0.0\nshots = 2\nstart = 45.0\ncameras = [\"top\"]\n";
    rig.profile("mixed", profile);
    let out = rig.run(&["scan", "--profile", "mixed", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["captured"], 5, "{}", out.stdout);
    let id = rig.only_scan();
    assert_eq!(rig.journal(&id).count("shot_triggered"), 5);
    // The USB camera's photos of ring 1 sent; every stop's top photo on
    // the card.
    let listed = rig.run(&["scans", "--json"]);
    let rows: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(
        (&rows[0]["uploaded"], &rows[0]["on_card"]),
        (&3.into(), &5.into()),
        "{rows}"
    );
    let card = rig.root().join("card");
    let on_card = card_photos(&card);
    assert_eq!(on_card.len(), 5);
    rig.run(&["import", &id, card.to_str().unwrap(), "--yes"])
        .expect_code(0);
    let stops = plan("mixed", &rings_of(profile));
    let delivered = rig.delivered(&id);
    let manifest = read_manifest(&delivered);
    let shots = manifest["shots"].as_array().unwrap();
    assert_eq!(shots.len(), 5, "{manifest}");
    for ((entry, stop), (_, sha)) in shots.iter().zip(&stops).zip(&on_card) {
        let want: Vec<String> = match stop.ring {
            1 => vec![photo(stop, "low"), photo(stop, "top")],
            _ => vec![photo(stop, "top")],
        };
        assert_eq!(names_in(entry), want, "stop {}", stop.shot);
        let top = &entry["files"][want.len() - 1];
        assert_eq!(&top["sha256"], sha.as_str(), "stop {}", stop.shot);
    }
    assert!(rig.is_retired(&id));
}

#[test]
fn killed_before_the_usb_photo_of_a_stop_came_in_a_resume_takes_it_and_does_not_press_the_wire_again(
) {
    let rig = wired_column("download_ms = 1500");
    let text = ring_profile(4, 5);
    rig.profile("column", &text);
    let stops = plan("column", &rings_of(&text));
    let mut running = rig.spawn(&["scan", "--profile", "column"]);
    let last_pressed = |scan: &str| {
        let journal = rig.journal(scan);
        let pressed = journal.of("shot_triggered").iter().any(|r| r["shot"] == 4);
        pressed && journal.count("shot_captured") == 3
    };
    running.wait_until(
        "the last stop's press journaled, its USB photo not",
        DEADLINE,
        || {
            rig.spooled_scans()
                .first()
                .is_some_and(|scan| last_pressed(scan))
        },
    );
    let id = rig.spooled_scans()[0].clone();
    running.kill();
    assert!(last_pressed(&id), "the USB photo came in before the kill");
    let card = rig.root().join("card");
    assert_eq!(card_photos(&card).len(), 4);

    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["captured"], 4, "{}", out.stdout);
    let on_card = card_photos(&card);
    assert_eq!(on_card.len(), 4, "the wired camera is not pressed again");
    let low: BTreeSet<String> = stops.iter().map(|s| photo(s, "low")).collect();
    assert_photos(&rig.delivered(&id), &low, false);

    rig.run(&["import", &id, card.to_str().unwrap(), "--yes"])
        .expect_code(0);
    let delivered = rig.delivered(&id);
    let manifest = read_manifest(&delivered);
    let shots = manifest["shots"].as_array().unwrap();
    assert_eq!(shots.len(), 4, "{manifest}");
    for ((entry, stop), (_, sha)) in shots.iter().zip(&stops).zip(&on_card) {
        assert_eq!(names_in(entry), [photo(stop, "low"), photo(stop, "top")]);
        assert_eq!(
            &entry["files"][1]["sha256"],
            sha.as_str(),
            "stop {}",
            stop.shot
        );
    }
    assert!(rig.is_retired(&id));
}

#[test]
fn a_column_of_two_cameras_fired_by_wires_is_imported_card_by_card_each_named() {
    let rig = Rig::new();
    let camera = |name: &str, pin: u8| {
        format!(
            "[[cameras]]\nname = \"{name}\"\nbackend = \"trigger\"\n[cameras.trigger]\n\
             shutter_pin = {pin}\nfocus_ms = 0\npulse_ms = 10\nsim_card = \"card_{name}\"\n"
        )
    };
    rig.configure(&format!("{}{}", camera("left", 20), camera("right", 21)));
    let text = ring_profile(3, 5);
    rig.profile("pair", &text);
    let stops = plan("pair", &rings_of(&text));
    rig.run(&["scan", "--profile", "pair"]).expect_code(0);
    let id = rig.only_scan();
    let card = |name: &str| rig.root().join(format!("card_{name}"));
    let import = |args: &[&str]| rig.run(&[&["import", id.as_str()], args, &["--yes"]].concat());

    let unnamed = import(&[card("left").to_str().unwrap()]);
    unnamed.expect_code(2);
    assert!(
        unnamed
            .stderr
            .contains("cards of cameras left, right: say whose card this is with --camera NAME"),
        "{}",
        unnamed.stderr
    );
    let unknown = import(&[card("left").to_str().unwrap(), "--camera", "middle"]);
    unknown.expect_code(2);
    assert!(
        unknown.stderr.contains("no camera named \"middle\""),
        "{}",
        unknown.stderr
    );

    import(&[card("left").to_str().unwrap(), "--camera", "left"]).expect_code(0);
    assert!(
        !rig.is_retired(&id),
        "the right camera's card is still awaited"
    );
    import(&[card("right").to_str().unwrap(), "--camera", "right"]).expect_code(0);
    assert!(rig.is_retired(&id));
    let manifest = read_manifest(&rig.delivered(&id));
    let shots = manifest["shots"].as_array().unwrap();
    assert_eq!(shots.len(), 3, "{manifest}");
    let (left, right) = (card_photos(&card("left")), card_photos(&card("right")));
    for (((entry, stop), l), r) in shots
        .iter()
        .zip(&stops)
        .zip(left.values())
        .zip(right.values())
    {
        assert_eq!(names_in(entry), [photo(stop, "left"), photo(stop, "right")]);
        assert_eq!(&entry["files"][0]["sha256"], l.as_str());
        assert_eq!(&entry["files"][1]["sha256"], r.as_str());
    }
}
