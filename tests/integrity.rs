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
    let photos_at_first = || -> BTreeSet<String> {
        common::entries(&first.join(&scan))
            .into_iter()
            .filter(|n| n.ends_with(".jpg"))
            .collect()
    };
    let sent_before = photos_at_first();

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
    assert_eq!(photos_at_first(), sent_before, "the old folder changed");
    let retired = rig.assert_retired(&scan, "completed", 8);
    assert_eq!(retired["destination"]["dir"], second.display().to_string());
}

#[test]
fn the_manifest_goes_out_only_once_every_photo_is_at_the_destination() {
    let rig = Rig::with(&format!(
        "{SLOW_CAMERA}[upload]\nmax_attempts = 2\nretry_initial_ms = 10\nretry_max_ms = 10\n"
    ));
    let text = ring_profile(8, 5);
    rig.profile("held", &text);
    let expected = plan("held", &rings_of(&text));
    let mut running = rig.spawn(&["scan", "--profile", "held", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 1);
    // The last photo cannot be written where it belongs: a folder stands
    // in its place, so its uploads fail while every other file goes in.
    let last = &expected.last().expect("shots").name;
    let blocker = rig.delivered(&scan).join(last);
    std::fs::create_dir_all(blocker.join("in-the-way")).expect("blocker");
    let out = running.wait(common::DEADLINE);
    out.expect_code(1);
    let summary = out.summary();
    assert_eq!(
        (&summary["outcome"], &summary["upload_failed"]),
        (&serde_json::json!("completed"), &serde_json::json!(1)),
        "{summary}"
    );
    assert!(
        !rig.delivered(&scan).join("manifest.json").exists(),
        "a manifest went out while a photo was missing"
    );
    assert!(out.stderr.contains("the manifest waits"), "{}", out.stderr);

    // Once the photo can go, retry sends it and then the manifest.
    std::fs::remove_dir_all(&blocker).expect("unblock");
    rig.run(&["uploads", "retry"]).expect_code(0);
    let manifest = assert_complete(&rig.delivered(&scan), &expected);
    assert_eq!(manifest["partial"], false, "{manifest}");
    rig.assert_retired(&scan, "completed", 8);
}

#[test]
fn a_photo_damaged_in_the_spool_is_reported_once_and_the_rest_arrive() {
    let rig = Rig::with("[upload]\nmax_attempts = 1\n");
    let text = ring_profile(6, 0);
    rig.profile("rot", &text);
    let expected = plan("rot", &rings_of(&text));
    rig.block_destination();
    let out = rig.run(&["scan", "--profile", "rot", "--json"]);
    out.expect_code(1);
    let scan = rig.only_scan();

    // The card rots while the network is down: one photo loses a bit, one
    // is cut short.
    let spooled = |n: usize| rig.spooled(&scan).join(&expected[n].name);
    let mut bytes = std::fs::read(spooled(1)).expect("photo 2");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(spooled(1), &bytes).expect("flip a bit");
    let len = std::fs::metadata(spooled(2)).expect("photo 3").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(spooled(2))
        .and_then(|f| f.set_len(len / 2))
        .expect("truncate");

    rig.unblock_destination();
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(1);
    assert!(
        out.stdout.contains("2 photos are damaged in the spool"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stderr.contains("arrived damaged at the destination"),
        "the destination is blamed:\n{}",
        out.stderr
    );
    // The others arrived, and the manifest says plainly what is missing.
    let intact: BTreeSet<String> = [0, 3, 4, 5]
        .iter()
        .map(|&n| expected[n].name.clone())
        .collect();
    common::assert_photos(&rig.delivered(&scan), &intact, true);
    let text =
        std::fs::read_to_string(rig.delivered(&scan).join("manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(manifest["partial"], true, "{manifest}");
    let missing: Vec<u64> = manifest["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .map(|m| m["shot"].as_u64().expect("shot"))
        .collect();
    assert_eq!(missing, [2, 3], "{manifest}");
    assert!(text.contains("damaged in the spool"), "{text}");

    // Nothing more can arrive: the scan is retired, the two missing
    // photos counted, and not tried again.
    let retired = rig.assert_retired(&scan, "completed", 4);
    assert_eq!(retired["missing"], 2, "{retired}");
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("uploaded 0 photos; 0 still waiting"),
        "{}",
        out.stdout
    );
    let rows: serde_json::Value =
        serde_json::from_str(&rig.run(&["scans", "--json"]).stdout).expect("JSON");
    assert_eq!(rows[0]["missing"], 2, "{rows}");
}

#[test]
fn a_damaged_line_in_the_journal_is_set_aside_and_the_scan_resumes() {
    let rig = Rig::with(SLOW_CAMERA);
    let text = ring_profile(8, 5);
    rig.profile("scarred", &text);
    let mut running = rig.spawn(&["scan", "--profile", "scarred"]);
    let scan = rig.wait_for_captures(&mut running, 4);
    running.kill();
    // Garbage where line 3 was (not the torn last line).
    let path = rig.spooled(&scan).join("journal.jsonl");
    let journal = std::fs::read_to_string(&path).expect("journal");
    let mut lines: Vec<&str> = journal.lines().collect();
    lines[2] = "\u{1}\u{1}\u{1} not a record";
    let damaged = lines.join("\n") + "\n";
    std::fs::write(&path, &damaged).expect("damage the journal");

    // The listing still shows the scan, and says where the damage is.
    let out = rig.run(&["uploads"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("journal damaged at line 3"),
        "{}",
        out.stdout
    );

    // Resumed while the destination is away, so that the scan is not
    // retired yet.
    let away = rig.root().join("photos-away");
    std::fs::rename(&rig.photos, &away).expect("take the destination away");
    rig.block_destination();
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("a damaged scan journal was repaired") && out.stderr.contains("line 3"),
        "{}",
        out.stderr
    );
    // The damaged journal is kept, as it was, beside the repaired one.
    let aside: Vec<String> = common::entries(&rig.spooled(&scan))
        .into_iter()
        .filter(|n| n.starts_with("journal.jsonl.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let kept = std::fs::read_to_string(rig.spooled(&scan).join(&aside[0])).expect("kept");
    assert_eq!(kept, damaged);
    assert_eq!(rig.journal(&scan).outcome().as_deref(), Some("completed"));

    rig.unblock_destination();
    std::fs::rename(&away, &rig.photos).expect("the destination is back");
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_complete(&rig.delivered(&scan), &plan("scarred", &rings_of(&text)));
    rig.assert_retired(&scan, "completed", 8);
}
