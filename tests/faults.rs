//! Camera faults during a scan: recovered within the restart budget, or, once the budget is spent, a paused scan that `scanrig resume` finishes.

mod common;

use common::{assert_complete, assert_summary_complete, plan, ring_profile, rings_of, Rig};

#[test]
fn failing_exposures_and_an_unplugged_camera_are_recovered_with_every_photo_once() {
    let rig = Rig::with(
        r#"
        [camera.sim]
        fail_every_nth_expose = 5
        unplug_after_shots = 3
        unplug_ms = 300
        [supervision]
        max_restarts = 50
        window_s = 60
        backoff_initial_ms = 10
        backoff_max_ms = 50
        "#,
    );
    let text = ring_profile(12, 5);
    rig.profile("faulty", &text);
    let out = rig.run(&["scan", "--profile", "faulty", "--json"]);
    out.expect_code(0);
    let scan = assert_summary_complete(&out.summary(), 12);
    assert_complete(&rig.delivered(&scan), &plan("faulty", &rings_of(&text)));
    // The faults really happened, and were survived.
    assert!(
        out.stderr.contains("simulated fault (every Nth exposure)"),
        "no injected exposure fault:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the camera disconnected") && out.stderr.contains("plug it back in"),
        "no unplug:\n{}",
        out.stderr
    );
    // Every shot is at the destination (once, by assert_complete), so the
    // scan is retired with all twelve.
    rig.assert_retired(&scan, "completed", 12);
}

#[test]
fn a_spent_restart_budget_pauses_the_scan_and_resume_finishes_it() {
    let faulty = r#"
        [camera.sim]
        fail_every_nth_expose = 1
        [supervision]
        max_restarts = 2
        backoff_initial_ms = 10
        backoff_max_ms = 20
    "#;
    let rig = Rig::with(faulty);
    let text = ring_profile(6, 5);
    rig.profile("broken", &text);

    let out = rig.run(&["scan", "--profile", "broken"]);
    out.expect_code(1);
    let scan = rig.only_scan();
    let first_line = out.stdout.lines().next().unwrap_or_default();
    assert!(
        first_line.starts_with(&format!("scan {scan}: paused: ")) && first_line.contains("camera"),
        "the summary should say the scan is paused because of the camera:\n{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("scanrig resume --scan {scan}")),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    // Nothing was captured, nothing is at the destination, and the journal
    // does not call the scan finished.
    let journal = rig.journal(&scan);
    assert_eq!(journal.count("shot_captured"), 0);
    assert_eq!(journal.outcome(), None);
    assert!(common::entries(&rig.delivered(&scan)).is_empty());

    // The camera is fixed: resume finds the paused scan and finishes it.
    rig.configure("");
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    let summary = out.summary();
    assert_eq!(summary["scan"], scan.as_str(), "resume picked another scan");
    assert_summary_complete(&summary, 6);
    assert_complete(&rig.delivered(&scan), &plan("broken", &rings_of(&text)));
    assert_eq!(rig.known_scans(), std::slice::from_ref(&scan));
    rig.assert_retired(&scan, "completed", 6);
}

#[test]
fn a_camera_unplugged_longer_than_the_restart_budget_lasts_is_waited_for() {
    // Unplugged for 4 s after 3 shots, with a budget of 2 quick restarts: a
    // pause that says what to do, and the scan goes on by itself.
    let rig = Rig::with(
        r#"
        [camera.sim]
        unplug_after_shots = 3
        unplug_ms = 4000
        [supervision]
        max_restarts = 2
        backoff_initial_ms = 10
        backoff_max_ms = 20
        "#,
    );
    let text = ring_profile(8, 5);
    rig.profile("replug", &text);
    let started = std::time::Instant::now();
    let out = rig.run(&["scan", "--profile", "replug", "--json"]);
    out.expect_code(0);
    assert!(started.elapsed() >= std::time::Duration::from_secs(4));
    assert!(
        out.stderr.contains("camera disconnected") && out.stderr.contains("plug it back in"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("failed 3 times"), "{}", out.stderr);
    let scan = assert_summary_complete(&out.summary(), 8);
    assert_complete(&rig.delivered(&scan), &plan("replug", &rings_of(&text)));
}

#[test]
fn a_scan_paused_by_a_fault_after_some_shots_resumes_without_retaking_them() {
    // Every second exposure fails: after a few shots the restart budget is
    // spent and the scan pauses with those photos delivered.
    let rig = Rig::with(
        r#"
        [camera.sim]
        fail_every_nth_expose = 2
        [supervision]
        max_restarts = 2
        backoff_initial_ms = 10
        backoff_max_ms = 20
        "#,
    );
    let text = ring_profile(10, 5);
    rig.profile("unplug", &text);
    let out = rig.run(&["scan", "--profile", "unplug", "--json"]);
    out.expect_code(1);
    let summary = out.summary();
    assert_eq!(summary["outcome"], serde_json::Value::Null, "{summary}");
    let why = summary["paused"].as_str().expect("paused with a reason");
    assert!(why.contains("camera"), "{why}");
    let captured = summary["captured"].as_u64().expect("captured");
    assert!((1..10).contains(&captured), "{summary}");
    assert_eq!(summary["uploaded"], captured, "{summary}");
    let scan = summary["scan"].as_str().expect("scan").to_owned();
    let before = rig.journal(&scan).captured();
    assert_eq!(before.len() as u64, captured);
    let shas = common::assert_photos(
        &rig.delivered(&scan),
        &before.keys().cloned().collect(),
        false,
    );
    assert_eq!(shas, before, "delivered photos differ from the journal's");

    rig.configure("");
    let out = rig.run(&["resume", "--scan", &scan, "--json"]);
    out.expect_code(0);
    assert_summary_complete(&out.summary(), 10);
    let manifest = assert_complete(&rig.delivered(&scan), &plan("unplug", &rings_of(&text)));
    // The photos taken before the pause were kept, not retaken.
    let after = common::manifest_shas(&manifest);
    for (name, sha) in &before {
        assert_eq!(after.get(name), Some(sha), "{name} was retaken");
    }
}

#[test]
fn a_camera_that_stops_answering_times_out_instead_of_hanging_the_scan() {
    // Each exposure takes longer than the camera's time limit.
    let rig = Rig::with(
        r#"
        [camera]
        timeout_s = 1
        [camera.sim]
        expose_ms = 1500
        [supervision]
        max_restarts = 1
        "#,
    );
    rig.profile("slow", &ring_profile(2, 0));
    let started = std::time::Instant::now();
    let out = rig.run(&["scan", "--profile", "slow"]);
    out.expect_code(1);
    assert!(
        out.stdout.contains("did not answer within 1 s"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_nearly_full_spool_disk_pauses_the_scan_and_resume_finishes_it_later() {
    // No disk has a petabyte free: the first capture finds the disk "full".
    let rig = Rig::with("[spool]\nmin_free_mb = 1000000000\n");
    let text = ring_profile(6, 0);
    rig.profile("full", &text);
    let out = rig.run(&["scan", "--profile", "full", "--json"]);
    out.expect_code(1);
    let summary = out.summary();
    let paused = summary["paused"].as_str().unwrap_or_default();
    assert!(paused.contains("the spool's disk has only"), "{summary}");
    let captured = summary["captured"].as_u64().unwrap();
    assert!((1..6).contains(&captured), "{summary}");
    assert_eq!(
        summary["uploaded"], captured,
        "what was taken still uploads"
    );

    // Space again: the scan goes on where it stopped.
    rig.configure("");
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    let scan = assert_summary_complete(&out.summary(), 6);
    assert_complete(&rig.delivered(&scan), &plan("full", &rings_of(&text)));
}
