//! A camera column: several simulated cameras fired together at every stop
//! of the table; every camera's photo of every stop arrives once, intact,
//! named after its camera, listed in the manifest with its stop.

mod common;

use std::collections::BTreeSet;

use common::{
    manifest_shas, names_in, plan, read_manifest, ring_profile, rings_of, Planned, Rig, DEADLINE,
};
use serde_json::Value;

/// A rig whose column has `names` cameras, with a profile `stops` of 6.
fn column(names: &[&str], extra: &str) -> Rig {
    let cameras: String = names
        .iter()
        .map(|n| format!("[[cameras]]\nname = \"{n}\"\n"))
        .collect();
    let rig = Rig::with(&format!("{cameras}{extra}"));
    rig.profile("stops", &ring_profile(6, 5));
    rig
}

/// A column of cameras low, mid and high, logging each exposure (debug),
/// with a profile `stops` of 6; camera `odd` has `[cameras.sim]` `sim`.
fn odd_one(odd: &str, sim: &str) -> Rig {
    let rig = Rig::with(&odd_column(&["low", "mid", "high"], odd, sim));
    rig.profile("stops", &ring_profile(6, 5));
    rig
}

/// The configuration of a column of cameras `names`, in that order,
/// logging each exposure (debug); camera `odd` has `[cameras.sim]` `sim`.
fn odd_column(names: &[&str], odd: &str, sim: &str) -> String {
    let cameras: String = names
        .iter()
        .map(|name| {
            let own = match *name == odd {
                true => format!("[cameras.sim]\n{sim}\n"),
                false => String::new(),
            };
            format!("[[cameras]]\nname = \"{name}\"\n{own}")
        })
        .collect();
    format!("{cameras}[log]\nlevel = \"debug\"\n")
}

/// The file camera `camera` makes at `shot`.
fn photo(shot: &Planned, camera: &str) -> String {
    let stem = shot.name.strip_suffix(".jpg").expect(".jpg");
    format!("{stem}_{camera}.jpg")
}

/// The photos of profile `mixed`: ring 1 by cameras low and top, the
/// rings after it by top alone.
fn mixed_photos(profile: &str) -> BTreeSet<String> {
    let stops = plan("mixed", &rings_of(profile));
    stops
        .iter()
        .flat_map(|s| {
            let cameras: &[&str] = if s.ring == 1 {
                &["low", "top"]
            } else {
                &["top"]
            };
            cameras.iter().map(move |c| photo(s, c))
        })
        .collect()
}

/// How many times `camera` was exposed, as its debug log says.
fn exposures(log: &str, camera: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("exposing") && l.contains(&format!("camera: {camera}")))
        .count()
}

/// Asserts the scan at the destination holds every camera's photo of every
/// stop, once and intact, and that the manifest lists them by stop, in the
/// order of the column.
fn assert_column_complete(rig: &Rig, names: &[&str]) -> Value {
    let scan = rig.only_scan();
    let dir = rig.delivered(&scan);
    let stops = plan("stops", &rings_of(&ring_profile(6, 5)));
    let want: BTreeSet<String> = stops
        .iter()
        .flat_map(|s| names.iter().map(move |c| photo(s, c)))
        .collect();
    assert_eq!(want.len(), 6 * names.len());
    let shas = common::assert_photos(&dir, &want, true);
    let manifest = read_manifest(&dir);
    assert_eq!(manifest["outcome"], "completed", "{manifest}");
    let listed = manifest_shas(&manifest);
    assert_eq!(
        listed, shas,
        "the manifest lists every photo with its sha256"
    );
    let shots = manifest["shots"].as_array().expect("shots");
    assert_eq!(shots.len(), 6, "one entry per stop");
    for (entry, stop) in shots.iter().zip(&stops) {
        let files = names_in(entry);
        let expected: Vec<String> = names.iter().map(|c| photo(stop, c)).collect();
        assert_eq!(files, expected, "stop {}", stop.shot);
    }
    manifest
}

#[test]
fn one_three_and_six_cameras_each_take_every_stop_once() {
    for names in [
        &["solo"][..],
        &["low", "mid", "high"][..],
        &["c1", "c2", "c3", "c4", "c5", "c6"][..],
    ] {
        let rig = column(names, "");
        let out = rig.run(&["scan", "--profile", "stops", "--json"]);
        out.expect_code(0);
        let summary = out.summary();
        assert_eq!(summary["captured"], 6, "{summary}");
        assert_eq!(summary["uploaded"], 6, "{summary}");
        // Every camera's photo of every stop judged.
        assert_eq!(summary["judged"], 6 * names.len(), "{summary}");
        assert_column_complete(&rig, names);
    }
}

#[test]
fn a_fault_on_one_camera_retakes_only_its_photo() {
    // The middle camera fails its 4th exposure: it alone exposes again.
    let names = ["low", "mid", "high"];
    let rig = odd_one("mid", "fail_every_nth_expose = 4");
    let out = rig.run(&["scan", "--profile", "stops", "--json"]);
    out.expect_code(0);
    assert_column_complete(&rig, &names);
    let exposures = |camera: &str| exposures(&out.stderr, camera);
    assert_eq!(
        (exposures("low"), exposures("mid"), exposures("high")),
        (6, 7, 6),
        "{}",
        out.stderr
    );
    // The fault is the middle camera's alone.
    let failed: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("camera failed"))
        .collect();
    assert!(
        failed.len() == 1 && failed[0].contains("camera: mid"),
        "{failed:?}"
    );
}

#[test]
fn a_camera_gone_for_a_while_pauses_the_scan_with_its_name_and_the_others_wait() {
    let names = ["low", "mid", "high"];
    let rig = odd_one("mid", "unplug_after_shots = 3\nunplug_ms = 400");
    let out = rig.run(&["scan", "--profile", "stops", "--json"]);
    out.expect_code(0);
    assert_column_complete(&rig, &names);
    let paused: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("paused until the device is back"))
        .collect();
    assert!(
        !paused.is_empty() && paused.iter().all(|l| l.contains("camera mid")),
        "{}",
        out.stderr
    );
    let exposures = |camera: &str| exposures(&out.stderr, camera);
    // Its photo, left on it while it was gone, is downloaded when it is
    // back: no camera exposes a stop twice.
    assert_eq!(
        (exposures("low"), exposures("mid"), exposures("high")),
        (6, 6, 6),
        "{}",
        out.stderr
    );
}

#[test]
fn camera_list_shows_every_camera_of_the_column_and_whether_it_answers() {
    let rig = column(&["low", "mid", "high"], "");
    let out = rig.run(&["camera", "list"]);
    out.expect_code(0);
    for name in ["low", "mid", "high"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(name) && l.contains(" yes ")),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn each_photo_of_a_column_has_its_camera_s_pose() {
    // Geometry (README "Camera poses"): with no arm offsets and the table
    // at 0°, a camera at tilt t and height h stands at
    // (distance, 0, h) and looks down by t.
    let rig = Rig::with(
        "[geometry]\ndistance_m = 0.5\narm_out_m = 0.0\narm_up_m = 0.0\nheight_m = 0.2\n\
         [[cameras]]\nname = \"low\"\ntilt = -10.0\nheight_m = 0.05\n\
         [[cameras]]\nname = \"high\"\ntilt = 35.0\nheight_m = 0.45\n",
    );
    rig.profile("stops", &ring_profile(6, 5));
    rig.run(&["scan", "--profile", "stops", "--json"])
        .expect_code(0);
    assert_column_complete(&rig, &["low", "high"]);
    let dir = rig.delivered(&rig.only_scan());
    for (camera, tilt, height) in [("low", -10.0, 0.05), ("high", 35.0, 0.45)] {
        let sidecar = dir.join(format!("stops_0001_r1_az000.0_t+00.0_{camera}.pose.json"));
        let pose: Value =
            serde_json::from_slice(&std::fs::read(&sidecar).expect("sidecar")).expect("JSON");
        assert_eq!(pose["tilt_deg"], tilt, "{pose}");
        let centre: Vec<f64> = pose["centre"]
            .as_array()
            .expect("centre")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        for (got, want) in centre.iter().zip([0.5, 0.0, height]) {
            assert!((got - want).abs() < 1e-9, "{camera}: centre {centre:?}");
        }
    }
}

/// Runs a scan of the column low, mid, high (high downloading slowly),
/// kills it once the low and mid photos of the last stop are journaled as
/// parts of it and before the high one is, and resumes it with the column
/// listed as `resumed`: only the high camera takes the last stop again,
/// and every camera's photo of every stop arrives once, intact.
fn killed_at_the_last_stop_then_resumed(resumed: &[&str]) -> Rig {
    // The high camera downloads slowly: at the last stop the others'
    // photos are in the spool (journaled as parts of the stop) while its
    // own is still coming, and the stop counts as captured only whole.
    let slow = "download_ms = 800";
    let rig = odd_one("high", slow);
    let mut running = rig.spawn(&["scan", "--profile", "stops", "--json"]);
    let last_parts = |scan: &str| -> BTreeSet<String> {
        let journal = rig.journal(scan);
        let parts = journal.of("part_captured");
        parts
            .iter()
            .filter(|r| r["shot"] == 6)
            .flat_map(|r| r["files"].as_array().expect("files").clone())
            .map(|f| f["camera"].as_str().expect("camera").to_owned())
            .collect()
    };
    let low_and_mid: BTreeSet<String> = ["low".into(), "mid".into()].into();
    running.wait_until(
        "the last stop's low and mid photos journaled",
        DEADLINE,
        || {
            rig.spooled_scans()
                .first()
                .is_some_and(|scan| last_parts(scan).is_superset(&low_and_mid))
        },
    );
    let scan = rig.spooled_scans()[0].clone();
    running.kill();
    assert_eq!(
        rig.journal(&scan).count("shot_captured"),
        5,
        "the last stop is not captured"
    );
    assert!(
        !last_parts(&scan).contains("high"),
        "the high camera's photo came in"
    );

    rig.configure(&odd_column(resumed, "high", slow));
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["captured"], 6, "{}", out.stdout);
    // Only the high camera takes the last stop again.
    let taken = |camera: &str| exposures(&out.stderr, camera);
    assert_eq!(
        (taken("low"), taken("mid"), taken("high")),
        (0, 0, 1),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("damaged"), "{}", out.stderr);
    rig
}

#[test]
fn killed_with_one_camera_s_photo_missing_at_the_last_stop_a_resume_delivers_every_photo_once() {
    let names = ["low", "mid", "high"];
    let rig = killed_at_the_last_stop_then_resumed(&names);
    assert_column_complete(&rig, &names);
}

#[test]
fn a_resume_with_the_column_listed_in_another_order_takes_each_camera_s_missing_photo_by_name() {
    let rig = killed_at_the_last_stop_then_resumed(&["high", "low", "mid"]);
    // Every camera's photo of every stop once, intact, listed once.
    let scan = rig.only_scan();
    let dir = rig.delivered(&scan);
    let stops = plan("stops", &rings_of(&ring_profile(6, 5)));
    let names = ["low", "mid", "high"];
    let want: BTreeSet<String> = stops
        .iter()
        .flat_map(|s| names.iter().map(move |c| photo(s, c)))
        .collect();
    let shas = common::assert_photos(&dir, &want, true);
    let manifest = read_manifest(&dir);
    assert_eq!(manifest["outcome"], "completed", "{manifest}");
    assert_eq!(manifest_shas(&manifest), shas);
    let shots = manifest["shots"].as_array().expect("shots");
    assert_eq!(shots.len(), 6, "one entry per stop");
    for (entry, stop) in shots.iter().zip(&stops) {
        let listed: BTreeSet<&str> = names_in(entry).into_iter().collect();
        let expected: Vec<String> = names.iter().map(|c| photo(stop, c)).collect();
        assert_eq!(names_in(entry).len(), 3, "stop {}: {entry}", stop.shot);
        assert_eq!(
            listed,
            expected.iter().map(String::as_str).collect(),
            "stop {}",
            stop.shot
        );
    }
}

#[test]
fn a_ring_naming_one_camera_is_shot_by_it_alone() {
    // Ring 1: both cameras at 3 stops; ring 2: the top camera alone at 2
    // more (closer looks at the top of the object).
    let rig = Rig::with(
        "[[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"top\"\ntilt = 30.0\n\
         [log]\nlevel = \"debug\"\n",
    );
    let profile = "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 3\n\
                   [[rings]]\ntilt = 0.0\nshots = 2\nstart = 45.0\ncameras = [\"top\"]\n";
    rig.profile("mixed", profile);
    let out = rig.run(&["scan", "--profile", "mixed", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["uploaded"], 5, "{}", out.stdout);
    assert_eq!(
        (exposures(&out.stderr, "low"), exposures(&out.stderr, "top")),
        (3, 5),
        "each camera exposed at its own stops only"
    );
    let want = mixed_photos(profile);
    let dir = rig.delivered(&rig.only_scan());
    let shas = common::assert_photos(&dir, &want, true);
    let manifest = read_manifest(&dir);
    assert_eq!(manifest["outcome"], "completed", "{manifest}");
    assert_eq!(manifest_shas(&manifest), shas);
}

#[test]
fn a_profile_naming_a_camera_the_column_lacks_is_refused_before_anything_moves() {
    let rig = column(&["low", "mid"], "");
    rig.profile(
        "wrong",
        "[[rings]]\ntilt = 0.0\nshots = 2\ncameras = [\"top\"]\n",
    );
    let out = rig.run(&["scan", "--profile", "wrong"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("rings[1].cameras")
            && out.stderr.contains(
                "names camera(s) top the rig does not have; its [[cameras]] are: low, mid"
            ),
        "{}",
        out.stderr
    );
    assert!(rig.spooled_scans().is_empty(), "nothing was started");
}

#[test]
fn a_scan_resumed_after_its_named_camera_left_the_column_is_refused_and_kept() {
    let rig = Rig::with("[[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"top\"\n");
    let profile = "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 6\n\
                   [[rings]]\ntilt = 0.0\nshots = 2\ncameras = [\"top\"]\n";
    rig.profile("mixed", profile);
    let mut running = rig.spawn(&["scan", "--profile", "mixed", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 2);
    running.kill();
    let captured = rig.journal(&scan).count("shot_captured");

    // The top camera is taken off the column before the resume.
    rig.configure("[[cameras]]\nname = \"low\"\n");
    let out = rig.run(&["resume"]);
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "the scan's profile names camera(s) top the rig no longer has (its cameras: low)"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        rig.journal(&scan).count("shot_captured"),
        captured,
        "nothing more was taken"
    );
    assert!(
        rig.spooled_scans().contains(&scan),
        "the scan is kept to resume"
    );

    // With the camera back, the resume delivers every photo once.
    rig.configure("[[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"top\"\n");
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    let dir = rig.delivered(&scan);
    let want = mixed_photos(profile);
    common::assert_photos(&dir, &want, true);
}

#[test]
fn a_camera_set_to_raw_plus_jpeg_delivers_its_pair_at_every_stop() {
    // The high camera shoots RAW + JPEG (the simulator's RAW is a PPM);
    // the low one JPEG only. A stop's files arrive and are listed together.
    let rig = Rig::with(
        "[[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"high\"\n\
         [cameras.settings]\nimageformat = \"RAW + JPEG Fine\"\n",
    );
    rig.profile("stops", &ring_profile(6, 5));
    let out = rig.run(&["scan", "--profile", "stops", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["uploaded"], 6, "{}", out.stdout);
    let stops = plan("stops", &rings_of(&ring_profile(6, 5)));
    let files = |s: &Planned| {
        let raw = common::raw_of(&photo(s, "high"));
        [photo(s, "low"), photo(s, "high"), raw]
    };
    let want: BTreeSet<String> = stops.iter().flat_map(files).collect();
    let dir = rig.delivered(&rig.only_scan());
    let shas = common::assert_photos(&dir, &want, true);
    let manifest = read_manifest(&dir);
    assert_eq!(manifest_shas(&manifest), shas);
    let shots = manifest["shots"].as_array().expect("shots");
    for (entry, stop) in shots.iter().zip(&stops) {
        let listed = names_in(entry);
        assert_eq!(listed, files(stop), "stop {}", stop.shot);
    }
    // Each camera's pose is written once, for its JPEG.
    let poses = std::fs::read_to_string(dir.join("colmap/images.txt")).expect("images.txt");
    let posed = poses.lines().filter(|l| l.contains(".jpg")).count();
    assert_eq!(posed, 12, "{poses}");
    assert!(!poses.contains(".ppm"), "{poses}");
}

#[test]
fn a_column_badly_named_is_refused_naming_each_camera_at_fault() {
    let rig = Rig::with(
        "[[cameras]]\nname = \"a b\"\n[[cameras]]\nname = \"Low\"\n[[cameras]]\nname = \"low\"\ntilt = 120.0\n",
    );
    let out = rig.run(&["check-config"]);
    out.expect_code(2);
    for (key, words) in [
        ("cameras[1].name", "letters, digits"),
        ("cameras[3].name", "names two cameras"),
        ("cameras[3].tilt", "-90 to 90"),
    ] {
        assert!(
            out.stderr.lines().any(|l| l.contains(key)
                && l.contains(words)
                && l.starts_with(&rig.config.display().to_string())),
            "{key}: {}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("cameras[2]"), "{}", out.stderr);
    // An unknown key and a bad value in the second camera: both
    // `cameras[2]`, counted from 1 as a person counts.
    for (second, key) in [
        ("lens = 1\n", "cameras[2].lens"),
        ("tilt = 95.0\n", "cameras[2].tilt"),
    ] {
        let rig = Rig::with(&format!(
            "[[cameras]]\nname = \"a\"\n[[cameras]]\nname = \"b1x\"\n{second}[[cameras]]\nname = \"c\"\n"
        ));
        let out = rig.run(&["check-config"]);
        out.expect_code(2);
        assert!(out.stderr.contains(key), "{key}: {}", out.stderr);
    }
}

#[test]
fn the_status_reports_each_camera_of_the_column() {
    use common::http::{get, post};
    // The high camera is gone after its second shot, for good.
    let (_rig, daemon, base) = common::web::web_daemon(
        "127.0.0.1:0",
        "[[cameras]]\nname = \"low\"\n\
         [[cameras]]\nname = \"high\"\n[cameras.sim]\nunplug_after_shots = 2\nunplug_ms = 600000\n",
    );
    let status = || get(&format!("{base}/status")).json();
    let first = status();
    let cameras = first["devices"]["cameras"].clone();
    assert_eq!(cameras[0]["name"], "low", "{first}");
    assert_eq!(cameras[1]["name"], "high", "{cameras}");
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(started.status, 202);
    common::wait_for("the scan paused for the high camera", DEADLINE, || {
        let s = status();
        s["scan"]["paused"]
            .as_str()
            .is_some_and(|p| p.contains("camera high"))
    });
    let cameras = status()["devices"]["cameras"].clone();
    assert_eq!(cameras[0]["ok"], true, "{cameras}");
    assert_eq!(cameras[1]["ok"], false, "{cameras}");
    // Gone during its exposure, then not found by the looks for it.
    let detail = cameras[1]["detail"].as_str().unwrap();
    assert!(
        detail.contains("disconnected") || detail.contains("no camera is connected"),
        "{cameras}"
    );
    common::openapi::check();
    common::web::stop(daemon);
}
