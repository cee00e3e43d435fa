//! `scanrig daemon`: SIGUSR1 presses Start, SIGUSR2 presses Pause, SIGTERM stops the scan safely and exits once its photos are uploaded.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{
    assert_complete, assert_manifest, assert_photos, plan, ring_profile, rings_of, Rig, Running,
    DEADLINE,
};

/// A rig whose daemon runs the profile file `name` of `shots` level shots.
fn daemon_rig(name: &str, shots: u32, overrides: &str) -> (Rig, String) {
    let rig = Rig::with(overrides);
    let text = ring_profile(shots, 5);
    let path = rig.profile(name, &text);
    rig.configure(&format!(
        "{overrides}\n[daemon]\nprofile = {}\n",
        toml::Value::String(path.display().to_string())
    ));
    (rig, text)
}

/// Starts the daemon and waits until it listens for the buttons.
fn start_daemon(rig: &Rig) -> Running {
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("ready; press Start", DEADLINE);
    daemon
}

#[test]
fn daemon_scans_on_sigusr1_and_exits_cleanly_on_sigterm() {
    let (rig, text) = daemon_rig("tiny", 4, "");
    let mut daemon = start_daemon(&rig);
    assert!(rig.spooled_scans().is_empty(), "scanned before Start");
    daemon.signal(libc::SIGUSR1);
    daemon.wait_until("a scan retired", DEADLINE, || {
        rig.known_scans().iter().any(|scan| rig.is_retired(scan))
    });
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(DEADLINE);
    out.expect_code(0);
    assert!(out.stderr.contains("daemon stopped"), "{}", out.stderr);

    let scan = rig.only_scan();
    assert_eq!(common::folders(&rig.photos), std::slice::from_ref(&scan));
    let expected = plan("tiny", &rings_of(&text));
    assert_complete(&rig.delivered(&scan), &expected);
    rig.assert_retired(&scan, "completed", expected.len());
}

#[test]
fn sigterm_during_a_daemon_scan_stops_it_and_exits_once_captured_photos_are_uploaded() {
    let (rig, text) = daemon_rig("long", 20, "[camera.sim]\ndownload_ms = 100\n");
    let mut daemon = start_daemon(&rig);
    daemon.signal(libc::SIGUSR1);
    let scan = rig.wait_for_captures(&mut daemon, 2);
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(DEADLINE);
    out.expect_code(0);

    // No upload was cut off: every captured photo arrived.
    let names = rig.stopped_and_retired(&scan);
    assert!((2..20).contains(&names.len()), "{names:?}");
    let shas = assert_photos(&rig.delivered(&scan), &names, true);
    let expected: Vec<_> = plan("long", &rings_of(&text))
        .into_iter()
        .filter(|p| names.contains(&p.name))
        .collect();
    let manifest = assert_manifest(&rig.delivered(&scan), &expected, &shas);
    assert_eq!(manifest["outcome"], "stopped");
}

#[test]
fn sigusr2_pauses_a_daemon_scan_and_sigusr1_continues_it_to_the_end() {
    let (rig, text) = daemon_rig("pausing", 10, "[camera.sim]\ndownload_ms = 50\n");
    let mut daemon = start_daemon(&rig);
    daemon.signal(libc::SIGUSR1);
    let scan = rig.wait_for_captures(&mut daemon, 2);
    daemon.signal(libc::SIGUSR2);
    // The pause is announced once nothing is in flight any more.
    daemon.wait_for_stderr("scan paused", DEADLINE);
    let at_pause = rig.journal(&scan).count("shot_captured");
    assert!(at_pause < 10, "{at_pause}");
    let resumed_at = common::unix_ms();
    daemon.signal(libc::SIGUSR1);
    daemon.wait_until("the scan retired", DEADLINE, || rig.is_retired(&scan));
    // Nothing was taken while paused: every capture after the ones
    // journaled by the pause came after the resume.
    let times = common::capture_times(&common::read_manifest(&rig.delivered(&scan)));
    assert!(
        times[at_pause..].iter().all(|&t| t >= resumed_at),
        "a shot was taken while paused: {times:?}, resumed at {resumed_at}"
    );
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(DEADLINE);
    out.expect_code(0);
    assert!(out.stderr.contains("asks: Resume"), "{}", out.stderr);
    assert_complete(&rig.delivered(&scan), &plan("pausing", &rings_of(&text)));
    rig.assert_retired(&scan, "completed", 10);
}

#[test]
fn the_daemon_uploads_what_a_killed_scan_left_before_waiting_for_start() {
    let (rig, _) = daemon_rig(
        "left",
        20,
        "[upload]\nretry_initial_ms = 60000\nretry_max_ms = 60000\n",
    );
    // A scan killed while the destination was unreachable.
    rig.block_destination();
    let mut running = rig.spawn(&["scan", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    running.kill();
    let captured = rig.journal(&scan).captured();
    rig.unblock_destination();

    let mut daemon = start_daemon(&rig);
    daemon.wait_until("the earlier photos uploaded", DEADLINE, || {
        rig.journal(&scan).uploaded().len() == captured.len()
    });
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    let names: BTreeSet<String> = captured.keys().cloned().collect();
    let shas = assert_photos(&rig.delivered(&scan), &names, false);
    assert_eq!(shas, captured);
    assert_eq!(
        rig.spooled_scans(),
        [scan],
        "the daemon started a scan unasked"
    );
}

#[test]
fn without_a_tilt_motor_the_daemon_waits_at_each_new_tilt_until_start_is_pressed() {
    let overrides = "[tilt]\nbackend = \"none\"\n";
    let rig = Rig::with(overrides);
    let text = "description = \"two tilts\"\nsettle_ms = 0\n\
                [[rings]]\ntilt = 0.0\nshots = 3\n\
                [[rings]]\ntilt = 30.0\nshots = 2\n";
    let path = rig.profile("tilts", text);
    rig.configure(&format!(
        "{overrides}\n[daemon]\nprofile = {}\n",
        toml::Value::String(path.display().to_string())
    ));
    let mut daemon = start_daemon(&rig);
    daemon.signal(libc::SIGUSR1);
    daemon.wait_for_stderr("set the camera's tilt to +30.0° for ring 2", DEADLINE);
    let scan = rig.only_scan();
    // Ring 1 is done and nothing of ring 2 is taken while the operator works.
    daemon.wait_until("ring 1 captured", DEADLINE, || {
        rig.journal(&scan).count("shot_captured") == 3
    });
    let resumed_at = common::unix_ms();
    daemon.signal(libc::SIGUSR1);
    daemon.wait_until("the scan retired", DEADLINE, || rig.is_retired(&scan));
    // Ring 2 waited for the operator: its shots all came after Start.
    let times = common::capture_times(&common::read_manifest(&rig.delivered(&scan)));
    assert!(
        times[3..].iter().all(|&t| t >= resumed_at),
        "ring 2 was shot before Start: {times:?}, Start at {resumed_at}"
    );
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    assert_complete(&rig.delivered(&scan), &plan("tilts", &rings_of(text)));
}

#[test]
fn a_second_scanrig_on_the_same_spool_is_refused_while_the_daemon_runs() {
    let (rig, _) = daemon_rig("tiny", 2, "");
    let daemon = start_daemon(&rig);
    let out = rig.run(&["scan", "--profile", "demo"]);
    out.expect_code(1);
    let holder = format!("another scanrig (pid {}) is using the spool", daemon.pid());
    assert!(out.stderr.contains(&holder), "{}", out.stderr);
    assert!(rig.spooled_scans().is_empty(), "the refused scan started");
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    // Once the daemon is gone, the spool is free again.
    rig.run(&["scan", "--profile", "demo"]).expect_code(0);
}

#[test]
fn sigterm_stops_a_daemon_at_once_when_its_waiting_photos_are_not_due() {
    // Uploads fail, a run gives up on a photo after one try, and the next
    // try is a minute away.
    let (rig, _) = daemon_rig("offline", 3, "[upload]\nmax_attempts = 1\n");
    rig.block_destination();
    let mut daemon = start_daemon(&rig);
    daemon.signal(libc::SIGUSR1);
    daemon.wait_for_stderr("scan summary", DEADLINE);
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    let scan = rig.only_scan();
    let captured = rig.journal(&scan).captured();
    assert_eq!(captured.len(), 3);

    // Started again within the wait: nothing is being sent, so a stop has
    // nothing to wait for.
    let daemon = start_daemon(&rig);
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(Duration::from_secs(20));
    out.expect_code(0);
    assert!(out.stderr.contains("daemon stopped"), "{}", out.stderr);
    // The photos still wait in the spool, intact, for a later try.
    let journal = rig.journal(&scan);
    assert!(journal.uploaded().is_empty());
    for (name, sha) in &captured {
        let bytes = std::fs::read(rig.spooled(&scan).join(name)).expect("still spooled");
        assert_eq!(&common::sha256(&bytes), sha, "{name}");
    }
}

#[test]
fn sigterm_does_not_wait_for_photos_whose_next_try_is_a_minute_away() {
    let (rig, _) = daemon_rig(
        "retrying",
        3,
        "[upload]\nmax_attempts = 5\nretry_initial_ms = 60000\nretry_max_ms = 60000\n",
    );
    rig.block_destination();
    let mut daemon = start_daemon(&rig);
    daemon.signal(libc::SIGUSR1);
    // Every photo failed once and waits a minute for its next try.
    daemon.wait_for_stderr_times("upload failed", 3, DEADLINE);
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(Duration::from_secs(20));
    out.expect_code(0);
    let scan = rig.only_scan();
    let journal = rig.journal(&scan);
    let captured = journal.captured();
    assert_eq!(captured.len(), 3);
    assert!(journal.uploaded().is_empty());
    // They wait in the spool, with why, for a later run.
    let backlog =
        std::fs::read_to_string(rig.spooled(&scan).join("backlog.json")).expect("backlog");
    assert_eq!(backlog.matches("\"failures\":1").count(), 3, "{backlog}");
    for name in captured.keys() {
        assert!(rig.spooled(&scan).join(name).is_file(), "{name}");
    }
}

#[test]
fn the_idle_daemon_tries_waiting_photos_again_once_due_though_none_was_at_its_start() {
    // A run gives up after one try; the photos are due again 2 to 4 s
    // later, and the idle daemon looks every second.
    let (rig, text) = daemon_rig(
        "later",
        2,
        "[upload]\nmax_attempts = 1\nretry_every_s = 1\nbacklog_wait_s = 4\nbacklog_wait_max_s = 4\n",
    );
    rig.block_destination();
    rig.run(&["scan", "--profile", "later", "--json"])
        .expect_code(1);
    let scan = rig.only_scan();
    rig.unblock_destination();
    // Started before they are due, and left alone.
    let mut daemon = start_daemon(&rig);
    daemon.wait_until("the scan retired", Duration::from_secs(20), || {
        rig.is_retired(&scan)
    });
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    assert_complete(&rig.delivered(&scan), &plan("later", &rings_of(&text)));
}
