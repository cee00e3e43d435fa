//! What a scan keeps through crashes and damage: its destination across
//! `resume`, a manifest sent only once every photo is there, a journal with
//! a damaged line, and photos damaged in the spool.

mod common;

use std::collections::BTreeSet;

use common::{assert_complete, assert_summary_complete, plan, ring_profile, rings_of, Rig};

/// Slow enough that a scan of 8 shots can be killed after 3.
const SLOW_CAMERA: &str = "[camera.sim]\ndownload_ms = 100\n";

#[test]
fn resume_goes_on_to_the_folder_the_scan_started_with() {
    let rig = Rig::with(SLOW_CAMERA);
    let text = ring_profile(8, 5);
    rig.profile("away", &text);
    let away = rig.root().join("away");
    let mut running = rig.spawn(&["scan", "--profile", "away", "--dest", "away"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    running.kill();

    // Without --dest, and from another folder: the rest of the scan and its
    // manifest still go to `away`, none to the configured folder.
    let mut cmd = rig.command(&["resume", "--json"]);
    cmd.current_dir(&rig.spool);
    let out = common::Running::start(cmd).wait(common::DEADLINE);
    out.expect_code(0);
    let summary = out.summary();
    assert_summary_complete(&summary, 8);
    assert!(
        summary["destination"]
            .as_str()
            .is_some_and(|d| d.ends_with(&away.display().to_string())),
        "{summary}"
    );
    assert_complete(&away.join(&scan), &plan("away", &rings_of(&text)));
    assert!(!rig.photos.exists(), "photos went to the configured folder");
}

#[test]
fn another_dest_on_resume_is_refused_unless_the_scan_is_moved() {
    let rig = Rig::with(SLOW_CAMERA);
    let text = ring_profile(8, 5);
    rig.profile("moved", &text);
    let expected = plan("moved", &rings_of(&text));
    let first = rig.root().join("first");
    let second = rig.root().join("second");
    let mut running = rig.spawn(&["scan", "--profile", "moved", "--dest", "first"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    running.kill();
    let sent_before: BTreeSet<String> = common::entries(&first.join(&scan))
        .into_iter()
        .filter(|n| n.ends_with(".jpg"))
        .collect();

    let out = rig.run(&["resume", "--dest", "second"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    for words in ["goes to folder", "first", "--move-dest"] {
        assert!(out.stderr.contains(words), "{}", out.stderr);
    }
    assert!(!second.exists(), "nothing goes to the refused folder");
    assert_eq!(rig.journal(&scan).outcome(), None, "the scan did not go on");

    let out = rig.run(&["resume", "--dest", "second", "--move-dest", "--json"]);
    out.expect_code(0);
    assert_summary_complete(&out.summary(), 8);
    // The whole scan is at the new place, with a manifest naming only it;
    // what had reached the old place is left there, and nothing more.
    let manifest = assert_complete(&second.join(&scan), &expected);
    let ids = manifest.to_string();
    assert!(!ids.contains(&first.display().to_string()), "{ids}");
    let at_first: BTreeSet<String> = common::entries(&first.join(&scan)).into_iter().collect();
    assert_eq!(at_first, sent_before, "the old folder changed");
    assert_eq!(rig.journal(&scan).count("destination_moved"), 1);
}
