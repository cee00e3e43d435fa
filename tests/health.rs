//! The Pi's own health on a fake root of the kernel's files: in the status, a warning before a scan on a Pi already throttled, and under-voltage during a scan logged and journaled with its time.

mod common;

use std::path::{Path, PathBuf};

use common::http::get;
use common::web::{stop, web_daemon};
use common::{Rig, DEADLINE};

const THROTTLED: &str = "sys/devices/platform/soc/soc:firmware/get_throttled";
const TEMP: &str = "sys/class/thermal/thermal_zone0/temp";

/// A fake root in `dir` with the firmware's flags `throttled` and a CPU
/// at 61.8 °C; its `[health]` settings, read every second.
fn fake_root(dir: &Path, throttled: &str) -> (PathBuf, String) {
    let root = dir.join("fake-root");
    for (name, text) in [(THROTTLED, throttled), (TEMP, "61835\n")] {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let settings = format!("[health]\nroot = \"{}\"\nevery_s = 1\n", root.display());
    (root, settings)
}

/// Whether `text` has "under-voltage at HH:MM:SS".
fn has_time_of_under_voltage(text: &str) -> bool {
    text.match_indices("under-voltage at ").any(|(i, m)| {
        let t = &text.as_bytes()[i + m.len()..];
        t.len() >= 8
            && [0, 1, 3, 4, 6, 7].iter().all(|&k| t[k].is_ascii_digit())
            && t[2] == b':'
            && t[5] == b':'
    })
}

#[test]
fn the_status_shows_the_pi_s_health_and_unknown_where_the_files_are_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let (_root, settings) = fake_root(tmp.path(), "50005\n");
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", &settings);
    let health = get(&format!("{base}/status")).json()["health"].clone();
    assert_eq!(health["under_voltage"], true, "{health}");
    assert_eq!(health["throttled"], true, "{health}");
    assert_eq!(health["under_voltage_since_boot"], true, "{health}");
    assert_eq!(health["cpu_temp_c"], 61.835, "{health}");
    assert!(
        health["spool_free_mb"].as_u64().is_some_and(|mb| mb > 0),
        "{health}"
    );
    common::openapi::check();
    stop(daemon);

    // A machine that has none of the files: unknown, said once, no error.
    let empty = tmp.path().join("empty-root");
    std::fs::create_dir(&empty).unwrap();
    let settings = format!("[health]\nroot = \"{}\"\nevery_s = 1\n", empty.display());
    let (_rig, mut daemon, base) = web_daemon("127.0.0.1:0", &settings);
    let health = get(&format!("{base}/status")).json()["health"].clone();
    assert_eq!(health["under_voltage"], serde_json::Value::Null, "{health}");
    assert_eq!(health["cpu_temp_c"], serde_json::Value::Null, "{health}");
    daemon.wait_for_stderr_times("a health reading is unknown here", 2, DEADLINE);
    common::openapi::check();
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(DEADLINE);
    out.expect_code(0);
    assert_eq!(
        out.stderr
            .matches("a health reading is unknown here")
            .count(),
        2,
        "each missing file said once, however often read:\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("ERRO"), "{}", out.stderr);
}

#[test]
fn a_scan_on_a_pi_already_throttled_starts_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (_root, settings) = fake_root(tmp.path(), "0x50000\n");
    let rig = Rig::with(&settings);
    let out = rig.run(&["scan", "--profile", "demo"]);
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("this Pi is short of power or throttled")
            && out
                .stderr
                .contains("under-voltage since boot, the CPU was throttled since boot"),
        "{}",
        out.stderr
    );

    let healthy = Rig::with(&fake_root(tmp.path(), "0\n").1);
    let out = healthy.run(&["scan", "--profile", "demo"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("short of power"), "{}", out.stderr);
}

#[test]
fn under_voltage_during_a_scan_is_logged_and_journaled_with_its_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, settings) = fake_root(tmp.path(), "0\n");
    let rig = Rig::with(&format!("{settings}[camera.sim]\ndownload_ms = 400\n"));
    rig.profile("long", &common::ring_profile(12, 5));
    // The photos stay in the spool, and so does the scan's journal.
    rig.block_destination();
    let mut running = rig.spawn(&["scan", "--profile", "long"]);
    let scan = rig.wait_for_captures(&mut running, 1);
    std::fs::write(root.join(THROTTLED), "50005\n").unwrap();
    running.wait_for_stderr("under-voltage at", DEADLINE);
    let out = running.wait(DEADLINE);
    assert!(has_time_of_under_voltage(&out.stderr), "{}", out.stderr);
    let journal = rig.journal(&scan);
    let faults = journal.of("power_fault");
    assert_eq!(faults.len(), 1, "one under-voltage, journaled once");
    let message = faults[0]["message"].as_str().unwrap();
    assert!(has_time_of_under_voltage(message), "{message}");
    assert!(faults[0]["at"].as_u64().is_some());
}
