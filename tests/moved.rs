//! The check after each ring that the object has not moved, on the
//! simulated rig: a scan whose object slips pauses after that ring (the
//! two pictures on the API, the reason in the status), resume finishes
//! it; a crash while it waits loses the pause neither way; a scan without
//! a slip, or with the check off, takes its photos as ever.

mod common;

use common::http::{get, post, Events, Reply};
use common::web::{serve, stop, web_daemon};
use common::{assert_complete, assert_summary_complete, plan, rings_of, Rig, DEADLINE};
use serde_json::Value;

/// Three rings of four shots, and a ring of one (not checked).
const RINGS: &str = "settle_ms = 5\n\n\
    [[rings]]\ntilt = 0.0\nshots = 4\n\n\
    [[rings]]\ntilt = 10.0\nshots = 4\n\n\
    [[rings]]\ntilt = 20.0\nshots = 4\n\n\
    [[rings]]\ntilt = 30.0\nshots = 1\n";

/// A daemon on loopback whose simulated object slips once 6 photos are
/// taken (during ring 2), with a tilt motor, and the rings profile.
fn slipping_daemon() -> (Rig, common::Running, String) {
    let (rig, daemon, base) = web_daemon(
        "127.0.0.1:0",
        "[camera.sim]\nslip_after_shots = 6\n[tilt]\nbackend = \"sim\"\n",
    );
    rig.profile("rings", RINGS);
    (rig, daemon, base)
}

/// `GET` of a path the API gave (`/api/v1/…`), on the daemon at `base`.
fn get_path(base: &str, path: &str) -> Reply {
    let host = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    get(&format!("http://{host}{path}"))
}

/// Waits for the scan to pause for a moved object; the status then.
fn paused_for_a_move(base: &str, events: &mut Events) -> Value {
    events.until("status", |s| s["state"] == "paused");
    get(&format!("{base}/status")).json()
}

/// Lines of `stderr` that say a ring was checked.
fn checks(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("ring checked"))
        .collect()
}

#[test]
fn a_slip_pauses_the_scan_after_its_ring_with_both_pictures_and_resume_finishes_it() {
    let (rig, daemon, base) = slipping_daemon();
    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"rings\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    let scan = started.json()["scan"].as_str().unwrap().to_owned();

    let status = paused_for_a_move(&base, &mut events);
    let s = &status["scan"];
    assert_eq!(s["moved"]["ring"], 2, "{status}");
    assert_eq!(
        s["captured"], 8,
        "paused after ring 2, before ring 3: {status}"
    );
    let reason = s["paused"].as_str().unwrap();
    assert!(
        reason.starts_with("the object moved during ring 2: ")
            && reason.contains("resume to go on with the next ring"),
        "{reason}"
    );
    for which in ["photo", "frame"] {
        let picture = get_path(&base, s["moved"][which].as_str().unwrap());
        assert_eq!(picture.status, 200, "{which}");
        assert_eq!(picture.header("content-type"), Some("image/jpeg"));
        let mut decoder = jpeg_decoder::Decoder::new(&picture.body[..]);
        decoder.decode().expect("the picture decodes");
        assert_eq!(
            decoder.info().map(|i| (i.width, i.height)),
            Some(common::PHOTO_SIZE)
        );
    }
    let none = get(&format!("{base}/scans/{scan}/checks/3/frame"));
    assert_eq!(none.status, 404, "ring 3 is not checked yet");
    assert_eq!(
        get(&format!("{base}/scans/{scan}/checks/2/sketch")).status,
        400
    );

    let resumed = post(&format!("{base}/scans/current/resume"), None);
    assert_eq!(resumed.status, 202, "{:?}", resumed.json());
    let finished = events.until("finished", |_| true);
    assert_eq!(finished["outcome"], "completed", "{finished}");
    assert_eq!(finished["uploaded"], 13);
    events.until("status", |s| s["state"] == "idle");
    let stderr = daemon.stderr();
    stop(daemon);
    common::openapi::check();
    // Rings 1 to 3 checked once each (ring 4 has one shot); only ring 2's
    // found the object moved, and the operator was asked once.
    let checked = checks(&stderr);
    assert_eq!(checked.len(), 3, "{checked:#?}");
    assert_eq!(
        checked.iter().filter(|l| l.contains("moved: true")).count(),
        1,
        "{checked:#?}"
    );
    assert_eq!(stderr.matches("scan paused: the object moved").count(), 1);
    assert_complete(&rig.delivered(&scan), &plan("rings", &rings_of(RINGS)));
}

#[test]
fn a_crash_while_the_scan_waits_for_the_operator_keeps_the_pause_and_does_not_check_again() {
    let (rig, mut daemon, base) = slipping_daemon();
    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"rings\"}"));
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    paused_for_a_move(&base, &mut events);
    daemon.wait_for_stderr("scan paused: the object moved", DEADLINE);
    // The rig loses power while the scan waits.
    daemon.kill();

    let (daemon, base) = serve(&rig);
    let mut events = Events::open(&format!("{base}/events"));
    let r = post(&format!("{base}/scans/{scan}/resume"), None);
    assert_eq!(r.status, 202, "{:?}", r.json());
    let status = paused_for_a_move(&base, &mut events);
    assert_eq!(status["scan"]["moved"]["ring"], 2, "{status}");
    assert_eq!(status["scan"]["captured"], 8, "{status}");
    // The operator goes on: the last rings are taken, ring 2 is not
    // checked again.
    assert_eq!(
        post(&format!("{base}/scans/current/resume"), None).status,
        202
    );
    let finished = events.until("finished", |_| true);
    assert_eq!(finished["outcome"], "completed", "{finished}");
    let stderr = daemon.stderr();
    stop(daemon);
    let checked = checks(&stderr);
    assert_eq!(checked.len(), 1, "ring 3 only: {checked:#?}");
    assert!(checked[0].contains("ring: 3"), "{checked:#?}");
    assert_complete(&rig.delivered(&scan), &plan("rings", &rings_of(RINGS)));
}

#[test]
fn a_scan_without_a_slip_is_checked_ring_by_ring_and_takes_its_photos_as_ever() {
    for (config, checked) in [("", 3), ("[moved]\ncheck = false\n", 0)] {
        let rig = Rig::with(config);
        rig.profile("rings", RINGS);
        let out = rig.run(&["scan", "--profile", "rings", "--json"]);
        out.expect_code(0);
        let scan = assert_summary_complete(&out.summary(), 13);
        assert_complete(&rig.delivered(&scan), &plan("rings", &rings_of(RINGS)));
        let lines = checks(&out.stderr);
        assert_eq!(lines.len(), checked, "{config}: {lines:#?}");
        assert!(
            lines.iter().all(|l| l.contains("moved: false")),
            "{lines:#?}"
        );
        assert!(!out.stderr.contains("paused"), "{}", out.stderr);
    }
}
