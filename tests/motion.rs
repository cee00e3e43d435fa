//! Motion safety from the outside: soft limits refuse a move before it
//! starts (API, command line, profiles), a jog can be stopped, and the
//! motors have one owner at a time.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::http::{get, post, Events};
use common::web::{error_of, stop, web_daemon};
use common::{ring_profile, Rig};

/// A slow simulated rig with a tilt arm held to -30…45°.
const SLOW: &str = "[turntable.sim]\nmax_speed_dps = 30.0\naccel_dps2 = 60.0\nhome_ms = 10\n\
[tilt]\nbackend = \"sim\"\nmin_deg = -30.0\nmax_deg = 45.0\n[tilt.sim]\nhome_ms = 10\n";

/// Homes the turntable with a 1° jog through the API, then follows the
/// events from there.
fn home_by_a_small_jog(base: &str) -> Events {
    let r = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"turntable\",\"degrees\":1}"),
    );
    assert_eq!(r.status, 200);
    Events::open(&format!("{base}/events"))
}

#[test]
fn a_jog_is_stopped_from_the_api_and_owns_the_motors_meanwhile() {
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", SLOW);
    // Homed by a first small jog, so that the long one is all motion.
    let mut events = home_by_a_small_jog(&base);
    // 360° at 30 °/s: 12 s unless stopped.
    let url = format!("{base}/motor/jog");
    let jog = thread::spawn(move || {
        let started = Instant::now();
        let r = post(&url, Some("{\"axis\":\"turntable\",\"degrees\":360}"));
        (r, started.elapsed())
    });
    let motion = events.until("motion", |v| !v["motion"].is_null());
    assert_eq!(motion["motion"]["state"], "jogging", "{motion}");
    assert_eq!(motion["motion"]["axis"], "turntable");
    assert_eq!(motion["motion"]["degrees"], 360.0);
    assert_eq!(motion["motion"]["origin"], "web 127.0.0.1");
    let status = get(&format!("{base}/status")).json();
    assert_eq!(status["motion"]["state"], "jogging", "{status}");

    // One owner at a time: no scan, no second jog, no homing.
    let r = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(error_of(&r).0, 409, "a scan during a jog");
    assert_eq!(error_of(&r).1, "motors_busy");
    let r = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"tilt\",\"degrees\":5}"),
    );
    assert_eq!(
        (error_of(&r).0, error_of(&r).1.as_str()),
        (409, "motors_busy")
    );
    let r = post(&format!("{base}/motor/home"), None);
    assert_eq!(error_of(&r).0, 409, "homing during a jog");

    let r = post(&format!("{base}/motor/stop"), None);
    assert_eq!(r.status, 202);
    let (r, took) = jog.join().unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer = r.json();
    assert_eq!(answer["stopped"], "controlled", "{answer}");
    let at = answer["position"].as_f64().expect("a known position");
    assert!((0.0..360.0).contains(&at), "the table's angle: {answer}");
    assert!(
        took < Duration::from_secs(8),
        "the stop took effect: {took:?}"
    );
    events.until("motion", |v| v["motion"].is_null());

    // Where it stopped is known: the next jog goes on from there.
    let r = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"turntable\",\"degrees\":1}"),
    );
    let next = r.json()["position"].as_f64().unwrap();
    assert!(
        (next - (at + 1.0).rem_euclid(360.0)).abs() < 1e-6,
        "{at} then {next}"
    );
    stop(daemon);
}

#[test]
fn moves_past_the_soft_limits_are_refused_before_they_start() {
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", SLOW);
    let jog = |axis: &str, degrees: f64| {
        let body = format!("{{\"axis\":\"{axis}\",\"degrees\":{degrees}}}");
        post(&format!("{base}/motor/jog"), Some(&body))
    };
    let r = jog("tilt", 40.0);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Jogs add up: 40 + 10 is past tilt.max_deg = 45.
    let r = jog("tilt", 10.0);
    let (status, code, error) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "beyond_limit"), "{error}");
    assert!(
        error.contains("tilt.max_deg") && error.contains("45"),
        "{error}"
    );
    let r = jog("tilt", -80.0);
    assert!(
        error_of(&r).2.contains("tilt.min_deg"),
        "{}",
        error_of(&r).2
    );
    // Nothing moved: the arm is where the first jog left it.
    assert_eq!(jog("tilt", 0.0).json()["position"], 40.0);
    stop(daemon);
}

#[test]
fn a_scan_refuses_a_jog_and_an_emergency_stop_ends_one_at_once() {
    let (rig, daemon, base) = web_daemon(
        "127.0.0.1:0",
        &format!("{SLOW}[camera.sim]\ndownload_ms = 200\n"),
    );
    rig.profile("long", &ring_profile(12, 100));
    let r = post(&format!("{base}/scans"), Some("{\"profile\":\"long\"}"));
    assert_eq!(r.status, 202);
    let r = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"turntable\",\"degrees\":5}"),
    );
    assert_eq!(
        (error_of(&r).0, error_of(&r).1.as_str()),
        (409, "scan_running")
    );
    post(&format!("{base}/scans/current/stop"), None);
    let mut events = Events::open(&format!("{base}/events"));
    events.until("status", |v| {
        v["state"] == "idle" || v["state"] == "uploading"
    });
    drop(events);

    // The web's emergency stop ends a jog at once (homed first by a small
    // jog, after the scan released the motors).
    let mut events = home_by_a_small_jog(&base);
    let url = format!("{base}/motor/jog");
    let jog = thread::spawn(move || post(&url, Some("{\"axis\":\"turntable\",\"degrees\":-360}")));
    events.until("motion", |v| !v["motion"].is_null());
    let r = post(&format!("{base}/motor/stop"), Some("{\"emergency\":true}"));
    assert_eq!(r.status, 202);
    let answer = jog.join().unwrap().json();
    assert_eq!(answer["stopped"], "emergency", "{answer}");
    assert!(
        answer["position"].is_null(),
        "an emergency stop loses the position: {answer}"
    );
    stop(daemon);
}

#[test]
fn the_command_line_refuses_a_jog_past_a_limit_and_profiles_past_them() {
    let rig = Rig::with(SLOW);
    let out = rig.run(&["motor", "jog", "50", "--axis", "tilt"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("tilt.max_deg = 45.0°"),
        "{}",
        out.stderr
    );
    let out = rig.run(&["motor", "jog", "20", "--axis", "tilt"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("now at 20.00°"), "{}", out.stdout);

    // A ring past the arm's limits is refused with the profile's file and key.
    let path = rig.profile("steep", "[[rings]]\ntilt = 60.0\nshots = 4\n");
    for args in [&["scan", "--profile", "steep"][..], &["profiles"]] {
        let out = rig.run(args);
        assert_eq!(out.code, Some(2), "{args:?}");
        let text = format!("{}{}", out.stdout, out.stderr);
        let want = format!("{}: rings[1].tilt: ", path.display());
        assert!(
            text.contains(&want) && text.contains("tilt.max_deg"),
            "{args:?}:\n{text}"
        );
    }
    assert!(rig.spooled_scans().is_empty(), "a scan was started");
    let out = rig.run_with(&rig.config, &["check-config"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // A limit past the end-stop is a configuration error.
    rig.configure(
        "[tilt]\nbackend = \"stepper\"\nmin_deg = -90.0\n[tilt.stepper]\nhome_deg = -80.0\n",
    );
    let out = rig.run(&["check-config"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("tilt.min_deg") && out.stderr.contains("end-stop"),
        "{}",
        out.stderr
    );
}
