//! `scanrig check`: the setup check before a scan on the simulated rig — a
//! photo judged at the profile's lowest and highest tilt (each camera of a
//! column), what to change where, the exit code, and nothing of it in a
//! scan or at the destination.

mod common;

use std::thread;

use common::http::{get, post, Events};
use common::web::{error_of, stop, web_daemon};
use common::{entries, Rig};
use serde_json::{json, Value};

/// The simulated camera at the size the judges' limits were measured at,
/// on a tripod without a tilt arm (the camera pivots in place), 0.5 m out
/// and 0.1 m up.
const CHECKED_RIG: &str = "[camera.sim]\nwidth = 640\nheight = 480\n\
                           [geometry]\ndistance_m = 0.5\nheight_m = 0.1\n\
                           arm_out_m = 0.0\narm_up_m = 0.0\n";

/// A profile of two rings, at `low` and `high` tilt, plus `extra` TOML.
fn rings(low: f64, high: f64, extra: &str) -> String {
    format!(
        "settle_ms = 5\n{extra}\n[[rings]]\ntilt = {low:.1}\nshots = 4\n\
         [[rings]]\ntilt = {high:.1}\nshots = 4\nstart = 45.0\n"
    )
}

/// `scanrig check --profile <profile> --json`'s report and exit code.
fn check_json(rig: &Rig, profile: &str) -> (Option<i32>, Value) {
    let out = rig.run(&["check", "--profile", profile, "--json"]);
    (out.code, out.summary())
}

fn advice(pose: &Value) -> Vec<String> {
    pose["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_profile_whose_poses_frame_the_object_is_good_at_each_and_leaves_no_scan() {
    let rig = Rig::with(CHECKED_RIG);
    rig.profile("low", &rings(0.0, 5.0, ""));
    let out = rig.run(&["check", "--profile", "low"]);
    out.expect_code(0);
    for tilt in ["+0°", "+5°"] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.contains(&format!("at tilt {tilt}")))
            .unwrap_or_else(|| panic!("no line for tilt {tilt}:\n{}", out.stdout));
        assert!(line.contains(": good: sharpness "), "{line}");
        assert!(line.contains("the object fills"), "{line}");
    }
    assert!(
        out.stdout
            .contains("the check homed it; the rig is back at azimuth 0.0°, tilt +0.0°"),
        "{}",
        out.stdout
    );
    // The photos stay in the check's folder: no scan, nothing sent.
    let photos = entries(&rig.spool.join("check"));
    assert_eq!(photos.len(), 2, "{photos:?}");
    assert!(photos.iter().all(|p| p.starts_with("check_")), "{photos:?}");
    let scans = rig.run(&["scans", "--json"]);
    assert_eq!(scans.expect_code(0).summary(), serde_json::json!([]));
    assert!(!rig.photos.exists() || entries(&rig.photos).is_empty());
    // A second check keeps only its own photos.
    rig.run(&["check", "--profile", "low"]).expect_code(0);
    assert_eq!(entries(&rig.spool.join("check")).len(), 2);
}

#[test]
fn a_top_ring_that_loses_the_object_is_named_with_what_to_do() {
    let rig = Rig::with(CHECKED_RIG);
    rig.profile("steep", &rings(0.0, 45.0, ""));
    let out = rig.run(&["check", "--profile", "steep"]);
    out.expect_code(1);
    assert!(
        out.stdout.contains("at tilt +0° (azimuth 0°): good"),
        "{}",
        out.stdout
    );
    let top = out
        .stdout
        .lines()
        .find(|l| l.contains("at tilt +45°"))
        .unwrap_or_else(|| panic!("tilt 45 not named:\n{}", out.stdout));
    assert!(top.contains("the object is not in the frame"), "{top}");
    assert!(top.contains("lower the top ring (tilt +45°)"), "{top}");

    let (code, report) = check_json(&rig, "steep");
    assert_eq!(code, Some(1));
    assert_eq!(report["good"], false);
    let poses = report["poses"].as_array().unwrap();
    let seen: Vec<_> = poses
        .iter()
        .map(|p| (p["tilt"].as_f64(), p["ring"].as_str(), p["good"].as_bool()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(0.0), Some("lowest"), Some(true)),
            (Some(45.0), Some("highest"), Some(false))
        ]
    );
    assert_eq!(poses[1]["azimuth"], 45.0, "the ring's first stop");
    assert_eq!(poses[1]["problems"][0]["problem"], "empty");
    assert!(advice(&poses[1])[0].contains("lower the top ring"));
    // The judges' measures travel with it: heat map and histogram.
    let judged = &poses[0]["judgement"];
    assert_eq!(judged["sharpness"]["grid"].as_array().unwrap().len(), 48);
    assert_eq!(
        judged["exposure"]["histogram"].as_array().unwrap().len(),
        32
    );
}

#[test]
fn an_overexposing_or_defocused_profile_is_told_per_pose() {
    let rig =
        Rig::with(&CHECKED_RIG.replace("height = 480\n", "height = 480\ndepth_of_field = true\n"));
    rig.profile(
        "bright",
        &rings(0.0, 5.0, "[camera]\nexposurecompensation = \"+2\""),
    );
    rig.profile(
        "soft",
        &rings(
            0.0,
            5.0,
            "[camera]\naperture = \"2.8\"\nmanualfocusdrive = \"3000\"",
        ),
    );
    let (code, bright) = check_json(&rig, "bright");
    assert_eq!(code, Some(1), "{bright}");
    for pose in bright["poses"].as_array().unwrap() {
        let said = advice(pose);
        assert!(
            said.iter()
                .any(|a| a.contains("overexposed") && a.contains("shorten the exposure")),
            "{said:?}"
        );
    }
    let (code, soft) = check_json(&rig, "soft");
    assert_eq!(code, Some(1), "{soft}");
    let first = advice(&soft["poses"][0]);
    assert!(
        first
            .iter()
            .any(|a| a.starts_with("at tilt +0°: blurred") && a.contains("focus on the object")),
        "{first:?}"
    );
}

#[test]
fn every_camera_of_a_column_is_checked_at_its_poses() {
    let rig = Rig::with(&format!(
        "{CHECKED_RIG}[tilt]\nbackend = \"none\"\n\
         [[cameras]]\nname = \"low\"\n[[cameras]]\nname = \"top\"\ntilt = 60.0\n"
    ));
    rig.profile("column", &rings(0.0, 0.0, ""));
    let (code, report) = check_json(&rig, "column");
    assert_eq!(code, Some(1), "{report}");
    let poses = report["poses"].as_array().unwrap();
    let seen: Vec<_> = poses
        .iter()
        .map(|p| (p["camera"].as_str(), p["good"].as_bool()))
        .collect();
    assert_eq!(
        seen,
        [(Some("low"), Some(true)), (Some("top"), Some(false))]
    );
    assert!(
        advice(&poses[1])[0].starts_with("at tilt +0°, camera top: "),
        "{:?}",
        advice(&poses[1])
    );
}

#[test]
fn a_check_is_refused_while_another_scanrig_holds_the_rig() {
    let rig = Rig::with(CHECKED_RIG);
    rig.profile("low", &rings(0.0, 5.0, ""));
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("web UI listening", common::DEADLINE);
    let out = rig.run(&["check", "--profile", "low"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("another scanrig") && out.stderr.contains("stop it first"),
        "{}",
        out.stderr
    );
    assert!(!rig.spool.join("check").exists(), "nothing was taken");
    daemon.kill();
}

/// What a report says of each pose: its tilt, camera, whether it is good
/// and its problems' kinds.
fn verdicts(report: &Value) -> Vec<(f64, Value, bool, Vec<String>)> {
    report["poses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let kinds = p["problems"].as_array().unwrap().iter();
            (
                p["tilt"].as_f64().unwrap(),
                p["camera"].clone(),
                p["good"].as_bool().unwrap(),
                kinds
                    .map(|k| k["problem"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn the_daemon_checks_through_the_api_as_the_command_line_does_and_not_during_a_scan() {
    let (rig, daemon, base) = web_daemon(
        "127.0.0.1:0",
        &format!("{CHECKED_RIG}[tilt]\nbackend = \"sim\"\n"),
    );
    rig.profile("steep", &rings(0.0, 45.0, ""));
    let jog = |axis: &str, degrees: f64| {
        let r = post(
            &format!("{base}/motor/jog"),
            Some(&format!("{{\"axis\":\"{axis}\",\"degrees\":{degrees}}}")),
        );
        assert_eq!(r.status, 200, "{:?}", r.json());
        r.json()["position"].as_f64()
    };
    assert_eq!(jog("turntable", 30.0), Some(30.0));
    assert_eq!(jog("tilt", 10.0), Some(10.0));

    let r = post(&format!("{base}/check"), Some("{\"profile\":\"steep\"}"));
    assert_eq!(r.status, 200, "{:?}", r.json());
    let report = r.json();
    assert_eq!(report["good"], false);
    assert_eq!(report["homed"], false);
    assert_eq!(
        report["returned_to"],
        json!({"azimuth": 30.0, "tilt": 10.0})
    );
    assert_eq!(jog("turntable", 0.0), Some(30.0), "back where it stood");
    assert_eq!(jog("tilt", 0.0), Some(10.0), "back where it stood");
    let top = advice(&report["poses"][1]);
    assert!(
        top[0].starts_with("at tilt +45°: the object is not in the frame"),
        "{top:?}"
    );
    for pose in report["poses"].as_array().unwrap() {
        let url = pose["photo_url"].as_str().unwrap();
        let photo = get(&base.replace("/api/v1", url));
        assert_eq!(photo.status, 200, "{url}");
        assert_eq!(photo.header("content-type"), Some("image/jpeg"));
    }

    // Not while a scan runs.
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    let refused = post(&format!("{base}/check"), Some("{\"profile\":\"steep\"}"));
    let (status, code, words) = error_of(&refused);
    assert_eq!((status, code.as_str()), (409, "scan_running"), "{words}");
    assert!(words.contains("stop it first"), "{words}");
    let missing = post(&format!("{base}/check"), Some("{\"profile\":\"nowhere\"}"));
    assert_eq!(error_of(&missing).0, 404);
    stop(daemon);
    common::openapi::check();

    // The command line says the same of the same rig.
    let (code, cli) = check_json(&rig, "steep");
    assert_eq!(code, Some(1));
    assert_eq!(verdicts(&cli), verdicts(&report));
}

#[test]
fn without_a_tilt_motor_only_the_tilt_a_scan_begins_at_is_checked() {
    let rig = Rig::with(&format!("{CHECKED_RIG}[tilt]\nbackend = \"none\"\n"));
    rig.profile("steep", &rings(0.0, 45.0, ""));
    let out = rig.run(&["check", "--profile", "steep"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("at tilt +0° (azimuth 0°): good"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("at tilt +45°"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("not checked: tilt +45° (the rig has no tilt motor"),
        "{}",
        out.stdout
    );
    let (_, report) = check_json(&rig, "steep");
    assert_eq!(report["unchecked_tilts"], json!([45.0]));
}

#[test]
fn a_check_and_a_jog_each_own_the_motors_while_they_run() {
    let slow = "[tilt]\nbackend = \"sim\"\n[tilt.sim]\nmax_speed_dps = 10.0\naccel_dps2 = 20.0\n\
                [turntable.sim]\nmax_speed_dps = 30.0\naccel_dps2 = 60.0\n";
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", &format!("{CHECKED_RIG}{slow}"));
    rig.profile("steep", &rings(0.0, 45.0, ""));
    let mut events = Events::open(&format!("{base}/events"));

    // A check under way (the arm takes seconds to reach 45°): nothing else
    // moves the rig, and Stop ends it.
    let url = format!("{base}/check");
    let check = thread::spawn(move || post(&url, Some("{\"profile\":\"steep\"}")));
    let motion = events.until("motion", |v| !v["motion"].is_null());
    assert_eq!(motion["motion"]["state"], "checking", "{motion}");
    assert_eq!(motion["motion"]["profile"], "steep");
    let r = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(
        (error_of(&r).0, error_of(&r).1.as_str()),
        (409, "motors_busy")
    );
    let jog = "{\"axis\":\"turntable\",\"degrees\":90}";
    let r = post(&format!("{base}/motor/jog"), Some(jog));
    let (status, code, words) = error_of(&r);
    assert_eq!((status, code.as_str()), (409, "motors_busy"));
    assert!(
        words.contains("checking the set-up for profile steep"),
        "{words}"
    );
    assert_eq!(post(&format!("{base}/motor/stop"), None).status, 202);
    let stopped = check.join().unwrap();
    let (status, code, words) = error_of(&stopped);
    assert_eq!((status, code.as_str()), (409, "stopped"), "{words}");
    assert!(words.contains("the check was stopped"), "{words}");
    events.until("motion", |v| v["motion"].is_null());

    // A jog under way: no check.
    let url = format!("{base}/motor/jog");
    let jogging = thread::spawn(move || post(&url, Some(jog)));
    events.until("motion", |v| v["motion"]["state"] == "jogging");
    let r = post(&format!("{base}/check"), Some("{\"profile\":\"steep\"}"));
    assert_eq!(
        (error_of(&r).0, error_of(&r).1.as_str()),
        (409, "motors_busy")
    );
    assert_eq!(jogging.join().unwrap().status, 200);
    stop(daemon);
}
