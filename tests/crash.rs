//! Interrupted scans: SIGKILL (a crash or power cut) then `resume` or a new scan, SIGINT and SIGTERM stopping a scan safely, and a second Ctrl-C quitting at once.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    assert_complete, assert_manifest, assert_photos, assert_summary_complete, plan, ring_profile,
    rings_of, Planned, Rig, DEADLINE,
};

/// Slow enough that a scan of 20 shots takes about two seconds.
const SLOW_CAMERA: &str = "[camera.sim]\ndownload_ms = 100\n";

/// With the destination blocked, a failed upload is retried only after a
/// minute: every photo captured stays captured-but-not-uploaded.
const NO_RETRY_SOON: &str = "[upload]\nretry_initial_ms = 60000\nretry_max_ms = 60000\n";

/// The planned shots whose names are in `names`, in shot order.
fn only(expected: &[Planned], names: &BTreeSet<String>) -> Vec<Planned> {
    expected
        .iter()
        .filter(|p| names.contains(&p.name))
        .cloned()
        .collect()
}

#[test]
fn resume_after_sigkill_delivers_every_shot_once_and_clears_what_the_crash_left() {
    let rig = Rig::with(SLOW_CAMERA);
    let text = ring_profile(20, 5);
    rig.profile("crash", &text);
    let expected = plan("crash", &rings_of(&text));

    let mut running = rig.spawn(&["scan", "--profile", "crash", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    let pid = running.pid();
    running.kill();
    let journal = rig.journal(&scan);
    assert_eq!(journal.outcome(), None, "the scan ended before the kill");
    let before = journal.captured();
    assert!(before.len() >= 3 && before.len() < 20, "{before:?}");

    // What a kill in the middle of writing leaves: a half-written copy at
    // the destination and a half-downloaded photo in the spool, under the
    // temp names of the dead process.
    let last = &expected[before.len() - 1].name;
    let next = &expected[before.len()].name;
    std::fs::create_dir_all(rig.delivered(&scan)).expect("scan folder");
    std::fs::write(
        rig.delivered(&scan).join(format!(".{last}.part-{pid}")),
        b"half",
    )
    .expect("temp");
    std::fs::write(
        rig.spooled(&scan).join(format!(".{next}.part-{pid}")),
        b"half",
    )
    .expect("temp");

    // And a photo whose upload was journaled just before the kill, but not
    // yet deleted from the spool.
    let uploaded = *journal
        .uploaded()
        .iter()
        .next()
        .expect("an upload before the kill");
    let leftover = &expected[uploaded as usize - 1].name;
    std::fs::write(rig.spooled(&scan).join(leftover), b"uploaded already").expect("leftover");

    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    let summary = out.summary();
    assert_eq!(summary["scan"], scan.as_str(), "resume picked another scan");
    assert_summary_complete(&summary, 20);
    // Every shot exactly once and intact, the manifest complete, and no
    // temp file left at the destination.
    let manifest = assert_complete(&rig.delivered(&scan), &expected);
    // The scan is retired: uploaded photos, temp files and the journal
    // are cleared from the spool.
    rig.assert_retired(&scan, "completed", 20);
    assert!(!rig.spooled(&scan).exists());
    // Resume went on from the next uncaptured shot: the photos captured
    // before the crash were kept, not retaken.
    let after = common::manifest_shas(&manifest);
    for (name, sha) in &before {
        assert_eq!(after.get(name), Some(sha), "{name} was retaken");
    }
}

#[test]
fn resume_after_a_power_cut_tore_the_last_journal_line_completes_the_scan() {
    let rig = Rig::with(SLOW_CAMERA);
    let text = ring_profile(12, 5);
    rig.profile("torn", &text);
    let mut running = rig.spawn(&["scan", "--profile", "torn"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    running.kill();
    // A power cut in the middle of an append: half a record, no newline.
    let path = rig.spooled(&scan).join("journal.jsonl");
    let mut bytes = std::fs::read(&path).expect("journal");
    bytes.extend_from_slice(br#"{"record":"shot_capt"#);
    std::fs::write(&path, bytes).expect("tear the journal");

    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_summary_complete(&out.summary(), 12);
    assert_complete(&rig.delivered(&scan), &plan("torn", &rings_of(&text)));
    // The journal still read back, and the scan is settled and retired.
    rig.assert_retired(&scan, "completed", 12);
    let out = rig.run(&["resume"]);
    out.expect_code(1);
    assert!(out.stderr.contains("no interrupted scan"), "{}", out.stderr);
}

/// Waits, if needed, until a second has just begun, so that what follows
/// in the next few hundred milliseconds happens within one second of the
/// clock (scan ids carry the start time to the second). The clock has
/// nothing to poll but itself.
fn start_of_a_fresh_second() {
    let into = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .subsec_millis();
    if into > 200 {
        std::thread::sleep(Duration::from_millis(u64::from(1000 - into)));
    }
}

#[test]
fn a_new_scan_after_sigkill_first_uploads_the_killed_scans_photos_once() {
    let rig = Rig::with(NO_RETRY_SOON);
    let text = ring_profile(20, 5);
    rig.profile("again", &text);
    let expected = plan("again", &rings_of(&text));
    rig.block_destination();

    // The killed scan and the new one start within the same second.
    start_of_a_fresh_second();
    let mut running = rig.spawn(&["scan", "--profile", "again", "--json"]);
    let killed = rig.wait_for_captures(&mut running, 3);
    running.kill();
    let journal = rig.journal(&killed);
    let captured = journal.captured();
    assert!(journal.uploaded().is_empty(), "the destination was blocked");

    // The destination is back; the operator starts a new scan of the same
    // profile.
    rig.unblock_destination();
    let out = rig.run(&["scan", "--profile", "again", "--json"]);
    out.expect_code(0);
    let new = assert_summary_complete(&out.summary(), 20);
    assert_ne!(
        new, killed,
        "the new scan must not take over the killed scan's folder"
    );
    assert_complete(&rig.delivered(&new), &expected);

    // The killed scan's photos arrived, each once and as captured, though
    // the scan itself is not over (no manifest yet).
    let names: BTreeSet<String> = captured.keys().cloned().collect();
    let shas = assert_photos(&rig.delivered(&killed), &names, false);
    assert_eq!(shas, captured);
    let journal = rig.journal(&killed);
    assert_eq!(journal.uploaded().len(), captured.len());
    assert_eq!(journal.outcome(), None);

    // And it can still be finished.
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    let summary = out.summary();
    assert_eq!(summary["scan"], killed.as_str());
    assert_summary_complete(&summary, 20);
    let manifest = assert_complete(&rig.delivered(&killed), &expected);
    let after = common::manifest_shas(&manifest);
    for (name, sha) in &captured {
        assert_eq!(after.get(name), Some(sha), "{name} was retaken");
    }
}

#[test]
fn two_scans_started_within_one_second_get_folders_of_their_own() {
    let rig = Rig::new();
    let text = ring_profile(1, 0);
    rig.profile("one", &text);
    let expected = plan("one", &rings_of(&text));
    start_of_a_fresh_second();
    let first = rig.run(&["scan", "--profile", "one", "--json"]);
    let second = rig.run(&["scan", "--profile", "one", "--json"]);
    let first = assert_summary_complete(&first.expect_code(0).summary(), 1);
    let second = assert_summary_complete(&second.expect_code(0).summary(), 1);
    assert_ne!(first, second);
    assert_eq!(rig.known_scans(), [first.clone(), second.clone()]);
    let a = assert_complete(&rig.delivered(&first), &expected);
    let b = assert_complete(&rig.delivered(&second), &expected);
    assert_ne!(
        a["shots"][0]["files"][0]["sha256"], b["shots"][0]["files"][0]["sha256"],
        "the second scan's photo replaced the first's"
    );
    for scan in [&first, &second] {
        rig.assert_retired(scan, "completed", 1);
    }
}

/// Stops a scan with `signal` once it has captured two photos, and checks
/// the stop was clean: exit 0 (nothing left to upload, see
/// `Report::success`), every photo captured is at the destination once,
/// and the manifest says the scan was stopped.
fn stop_with(signal: i32) {
    let rig = Rig::with(SLOW_CAMERA);
    let text = ring_profile(20, 5);
    rig.profile("stop", &text);
    let mut running = rig.spawn(&["scan", "--profile", "stop", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 2);
    running.signal(signal);
    let out = running.wait(DEADLINE);
    out.expect_code(0);
    let summary = out.summary();
    assert_eq!(summary["outcome"], "stopped", "{summary}");
    let captured = summary["captured"].as_u64().expect("captured");
    assert!((2..20).contains(&captured), "{summary}");
    assert_eq!(summary["uploaded"], captured, "{summary}");
    assert_eq!(summary["upload_failed"], 0, "{summary}");

    let names = rig.stopped_and_retired(&scan);
    assert_eq!(names.len() as u64, captured);
    let shas = assert_photos(&rig.delivered(&scan), &names, true);
    let expected = only(&plan("stop", &rings_of(&text)), &names);
    let manifest = assert_manifest(&rig.delivered(&scan), &expected, &shas);
    assert_eq!(manifest["outcome"], "stopped");
    assert_eq!(manifest["planned"], 20);
}

#[test]
fn sigint_stops_a_scan_cleanly_and_every_captured_photo_arrives_once() {
    stop_with(libc::SIGINT);
}

#[test]
fn sigterm_stops_a_scan_cleanly_and_every_captured_photo_arrives_once() {
    stop_with(libc::SIGTERM);
}

#[test]
fn a_second_sigint_quits_at_once_and_resume_delivers_every_shot() {
    let rig = Rig::with(NO_RETRY_SOON);
    let text = ring_profile(12, 5);
    rig.profile("quit", &text);
    rig.block_destination();
    let mut running = rig.spawn(&["scan", "--profile", "quit", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 2);
    running.signal(libc::SIGINT);
    // The first Ctrl-C asks for a stop; the scan then waits for uploads
    // that cannot happen for a minute.
    running.wait_for_stderr("asks: Stop", DEADLINE);
    running.signal(libc::SIGINT);
    let out = running.wait(Duration::from_secs(10));
    out.expect_code(1);
    let summary = out.summary();
    assert_eq!(summary["outcome"], serde_json::Value::Null, "{summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");

    rig.unblock_destination();
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_summary_complete(&out.summary(), 12);
    assert_complete(&rig.delivered(&scan), &plan("quit", &rings_of(&text)));
}

#[test]
fn uploads_lists_what_waits_and_retry_sends_it_once() {
    let rig = Rig::with(NO_RETRY_SOON);
    let text = ring_profile(20, 5);
    rig.profile("offline", &text);
    rig.block_destination();
    let mut running = rig.spawn(&["scan", "--profile", "offline", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    running.kill();
    let captured = rig.journal(&scan).captured();

    // The listing shows the interrupted scan and every photo still waiting.
    let out = rig.run(&["uploads"]);
    out.expect_code(0);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&scan))
        .unwrap_or_else(|| panic!("{scan} not listed:\n{}", out.stdout));
    let cols: Vec<&str> = row.split_whitespace().collect();
    let waiting = captured.len().to_string();
    assert_eq!(
        cols[1..],
        ["interrupted", "20", &waiting, "0", &waiting, "0", "-"],
        "{row}"
    );

    // Still offline: retry (one attempt per photo) sends nothing and says
    // what waits.
    rig.configure("[upload]\nmax_attempts = 1\n");
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(1);
    assert!(
        out.stdout
            .contains(&format!("uploaded 0 photos; {waiting} still waiting")),
        "{}",
        out.stdout
    );

    // Back online: every waiting photo goes up, once.
    rig.unblock_destination();
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains(&format!("uploaded {waiting} photos; 0 still waiting")),
        "{}",
        out.stdout
    );
    let names: BTreeSet<String> = captured.keys().cloned().collect();
    let shas = assert_photos(&rig.delivered(&scan), &names, false);
    assert_eq!(shas, captured);
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("uploaded 0 photos; 0 still waiting"),
        "{}",
        out.stdout
    );
}

#[test]
fn sigkill_at_random_instants_while_scans_are_retired_loses_and_doubles_nothing() {
    let rig = Rig::new();
    let text = ring_profile(3, 0);
    rig.profile("quick", &text);
    let expected = plan("quick", &rings_of(&text));
    let mut instants = common::Instants::new();
    let rounds = 8;
    for round in 0..rounds {
        start_of_a_fresh_second();
        let known = rig.known_scans();
        let mut running = rig.spawn(&["scan", "--profile", "quick"]);
        // The manifest at the destination: the scan is being compacted
        // into the scans index, or about to be.
        running.wait_until("a new scan's manifest", DEADLINE, || {
            rig.known_scans()
                .iter()
                .filter(|s| !known.contains(s))
                .any(|s| rig.delivered(s).join("manifest.json").is_file())
        });
        std::thread::sleep(instants.up_to(Duration::from_millis(4)));
        running.kill();
        assert_eq!(rig.known_scans().len(), round + 1, "one scan per round");
    }
    // The next start finishes whatever each kill interrupted.
    rig.run(&["uploads", "retry"]).expect_code(0);
    let scans = rig.known_scans();
    assert_eq!(scans.len(), rounds, "{scans:?}");
    for scan in &scans {
        assert_complete(&rig.delivered(scan), &expected);
        rig.assert_retired(scan, "completed", expected.len());
    }
    assert!(rig.spooled_scans().is_empty(), "{:?}", rig.spooled_scans());
    let index = std::fs::read_to_string(rig.spool.join("scans.jsonl")).expect("index");
    assert!(index.ends_with('\n'), "no torn line left in the index");
}

/// The stems of the shots a scan's journal planned, in shot order.
fn planned_stems(journal: &common::Journal) -> Vec<String> {
    let started = journal.of("scan_started");
    let shots = started[0]["plan"]["shots"]
        .as_array()
        .expect("planned shots");
    shots
        .iter()
        .map(|s| s["stem"].as_str().expect("stem").to_owned())
        .collect()
}

#[test]
fn a_resumed_sphere_scan_continues_in_the_order_it_recorded() {
    let rig = Rig::with(SLOW_CAMERA);
    rig.profile(
        "ball",
        "path = \"sphere\"\n[sphere]\npoints = 24\ntilt_min = -30.0\ntilt_max = 60.0\n",
    );
    let mut running = rig.spawn(&["scan", "--profile", "ball", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 4);
    running.kill();
    let recorded = planned_stems(&rig.journal(&scan));
    assert_eq!(recorded.len(), 24);

    // The rig now moves otherwise (a slower arm, one axis after the
    // other): a new scan of the profile is ordered for it anew...
    let slower = format!(
        "{SLOW_CAMERA}[tilt]\nmove = \"one_after_the_other\"\n[tilt.sim]\nmax_speed_dps = 200.0\naccel_dps2 = 400.0\n"
    );
    rig.configure(&slower);
    // ...but the interrupted one goes on in the order it recorded.
    let out = rig.run(&["resume", "--json"]);
    assert_eq!(out.expect_code(0).summary()["scan"], scan.as_str());
    let manifest = common::read_manifest(&rig.delivered(&scan));
    let shots = manifest["shots"].as_array().expect("manifest shots");
    let mut taken: Vec<(u64, String)> = common::capture_times(&manifest)
        .into_iter()
        .zip(shots)
        .map(|(at, shot)| {
            let name = shot["files"][0]["name"].as_str().expect("name");
            (at, name.replace(".jpg", ""))
        })
        .collect();
    taken.sort();
    let names: Vec<String> = taken.into_iter().map(|(_, name)| name).collect();
    assert_eq!(names, recorded, "taken in another order than recorded");

    let mut again = rig.spawn(&["scan", "--profile", "ball", "--json"]);
    let fresh = rig.wait_for_captures(&mut again, 1);
    again.kill();
    let replanned = planned_stems(&rig.journal(&fresh));
    let numbered = |stems: &[String]| -> Vec<String> {
        stems
            .iter()
            .map(|s| s.split_once('_').unwrap().1.to_owned())
            .collect()
    };
    assert_ne!(
        numbered(&replanned),
        numbered(&recorded),
        "the rig's change changed no order"
    );
}
