//! Photos that wait for days: a scan's backlog is retried only when due,
//! each pass adds no journal line per photo, the live scan's photos go
//! first, and `scanrig uploads retry` tries everything at once.

mod common;

use std::collections::BTreeSet;

use common::{assert_photos, ring_profile, Rig};

/// Uploads fail at once, and a run gives up on a photo after one try.
const ONE_TRY: &str = "[upload]\nmax_attempts = 1\n";

#[test]
fn a_waiting_photo_is_left_alone_until_due_and_passes_add_no_journal_lines() {
    let rig = Rig::with(ONE_TRY);
    rig.profile("offline", &ring_profile(4, 0));
    rig.block_destination();
    rig.run(&["scan", "--profile", "offline", "--json"])
        .expect_code(1);
    let first = rig.only_scan();
    let lines = |scan: &str| {
        std::fs::read_to_string(rig.spooled(scan).join("journal.jsonl"))
            .expect("journal")
            .lines()
            .count()
    };
    let before = lines(&first);
    assert_eq!(
        rig.journal(&first).count("upload_failed"),
        0,
        "no line per failure"
    );
    let backlog =
        std::fs::read_to_string(rig.spooled(&first).join("backlog.json")).expect("backlog");
    assert_eq!(backlog.matches("\"failures\":1").count(), 4, "{backlog}");

    // Why they wait is shown, from the backlog.
    let out = rig.run(&["uploads"]);
    assert!(out.stdout.contains("last failure"), "{}", out.stdout);

    // A second scan, still offline: the first scan's photos are not due
    // (a minute's wait), so they are not tried and its journal is as it was.
    rig.run(&["scan", "--profile", "offline", "--json"])
        .expect_code(1);
    assert_eq!(lines(&first), before, "a pass touched photos not due");
    assert_eq!(rig.spooled_scans().len(), 2);

    // Back online, a forced retry sends every waiting photo of both, once.
    rig.unblock_destination();
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("uploaded 8 photos; 0 still waiting"),
        "{}",
        out.stdout
    );
    for scan in rig.spooled_scans() {
        let names: BTreeSet<String> = rig.journal(&scan).captured().keys().cloned().collect();
        assert_eq!(names.len(), 4);
        assert_photos(&rig.delivered(&scan), &names, true);
        assert!(
            !rig.spooled(&scan).join("backlog.json").exists(),
            "nothing waits"
        );
    }
}

#[test]
fn scans_lists_every_scan_with_its_counts_and_destination() {
    let rig = Rig::with(ONE_TRY);
    rig.profile("two", &ring_profile(2, 0));
    rig.run(&["scan", "--profile", "two", "--dest", "elsewhere"])
        .expect_code(0);
    rig.block_destination();
    rig.run(&["scan", "--profile", "two"]).expect_code(1);
    let out = rig.run(&["scans", "--json"]);
    out.expect_code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2, "{rows:?}");
    // Newest first: the blocked one waits, the first went elsewhere.
    assert_eq!(
        (rows[0]["waiting"].as_u64(), rows[0]["captured"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(rows[0]["retired"], false);
    assert_eq!(rows[1]["waiting"], 0);
    assert_eq!(rows[1]["state"], "completed");
    // Everything of the first arrived: it is retired, still listed.
    assert_eq!(rows[1]["retired"], true);
    assert_eq!(rows[1]["uploaded"], 2);
    let elsewhere = rig.root().join("elsewhere").display().to_string();
    assert!(
        rows[1]["destination"]
            .as_str()
            .is_some_and(|d| d.ends_with(&elsewhere)),
        "{rows:?}"
    );
    let table = rig.run(&["scans"]);
    // A heading, two scans and what the retired mark means.
    assert_eq!(table.stdout.lines().count(), 4, "{}", table.stdout);
    assert!(table.stdout.contains("completed ✓"), "{}", table.stdout);
    assert!(table.stdout.contains(&elsewhere), "{}", table.stdout);
}
