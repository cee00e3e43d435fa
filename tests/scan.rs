//! Whole scans on the simulated rig: every shipped profile end to end, the pipelined stages, and the `profiles` and `check-config` commands.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{
    assert_complete, assert_complete_pairs, assert_summary_complete, plan, rings_of, Planned, Rig,
};

/// The text of a shipped profile, from the source tree.
fn shipped(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/profiles")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(path).expect("shipped profile")
}

/// The `[naming] prefix` of a profile's text, else its name.
fn prefix_of(text: &str, name: &str) -> String {
    let table: toml::Table = text.parse().expect("profile TOML");
    table
        .get("naming")
        .and_then(|n| n.get("prefix"))
        .and_then(toml::Value::as_str)
        .unwrap_or(name)
        .to_owned()
}

/// Puts a copy of the shipped profile `name` in the rig's profile folder
/// (where it hides the shipped one) whose only change is `settle_ms = 5`.
fn fast_copy(rig: &Rig, name: &str) {
    let text = shipped(name);
    let fast: String = text
        .lines()
        .map(|line| match line.trim_start().starts_with("settle_ms") {
            true => "settle_ms = 5".to_owned(),
            false => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(fast, text, "{name} sets settle_ms");
    rig.profile(name, &fast);
}

/// Runs a whole scan of the shipped profile `name` and checks everything a
/// user would: exit 0, the summary, every photo once and intact, the
/// manifest, and a spool left with only the journal. With `fast_settle`,
/// the profile runs from a copy in the profile folder (which hides the
/// shipped one) whose only change is `settle_ms = 5`, so that the 36- and
/// 32-shot profiles take about a second instead of twelve.
fn whole_scan_of_shipped(name: &str, fast_settle: bool) {
    let rig = Rig::new();
    let text = shipped(name);
    if fast_settle {
        fast_copy(&rig, name);
    }
    let expected: Vec<Planned> = plan(&prefix_of(&text, name), &rings_of(&text));

    let out = rig.run(&["scan", "--profile", name, "--json"]);
    out.expect_code(0);
    let summary = out.summary();
    let scan = assert_summary_complete(&summary, expected.len());
    assert_eq!(summary["profile"], name);
    let (stamp, profile) = scan.split_once('-').expect("<time>-<profile>");
    assert_eq!(profile, name, "scan id {scan}");
    assert!(
        stamp.len() == 16 && stamp.as_bytes()[8] == b'T' && stamp.ends_with('Z'),
        "scan id {scan} should look like 20261122T101500Z-{name}"
    );

    // A profile asking for RAW + JPEG gets a pair per shot.
    let raw = text.contains("imageformat = \"RAW + JPEG");
    let manifest = assert_complete_pairs(&rig.delivered(&scan), &expected, raw);
    assert_eq!(manifest["scan"], scan.as_str());
    assert_eq!(manifest["profile"], name);

    // Every photo and the manifest arrived, so the scan is retired: its
    // spool folder is gone (keep_uploaded = false), the scans index sums
    // it up.
    assert!(rig.spooled_scans().is_empty(), "{:?}", rig.spooled_scans());
    let retired = rig.assert_retired(&scan, "completed", expected.len());
    assert_eq!(retired["captured"], expected.len());
    assert_eq!(retired["planned"], expected.len());
    assert_eq!(retired["profile"], name);
}

#[test]
fn demo_profile_scans_completely_with_every_photo_once_and_intact() {
    whole_scan_of_shipped("demo", false);
}

#[test]
fn turntable_36_profile_scans_completely_with_every_photo_once_and_intact() {
    whole_scan_of_shipped("turntable-36", true);
}

#[test]
fn object_3ring_profile_scans_completely_with_every_photo_once_and_intact() {
    whole_scan_of_shipped("object-3ring", true);
}

#[test]
fn the_table_turns_to_the_next_shot_while_the_camera_downloads() {
    // Per shot: 30 ms exposure, then a 120 ms download, during which the
    // table makes its 80 ms move to the next shot and settles (20 ms).
    let rig = Rig::with(
        r#"
        [log]
        level = "debug"
        [camera.sim]
        expose_ms = 30
        download_ms = 120
        [turntable.sim]
        max_speed_dps = 3600.0
        accel_dps2 = 18750.0
        "#,
    );
    let shots = 12;
    rig.profile("overlap", &common::ring_profile(shots, 20));
    let out = rig.run(&["scan", "--profile", "overlap", "--json"]);
    out.expect_code(0);
    let summary = out.summary();
    let scan = assert_summary_complete(&summary, shots as usize);
    let expected = plan("overlap", &rings_of(&common::ring_profile(shots, 20)));
    assert_complete(&rig.delivered(&scan), &expected);

    // Every shot: the move to the next one (after the last, back to the
    // ring's first shot for the check that nothing moved) starts after its
    // exposure and before its download ends.
    let steps: Vec<&str> = out
        .stderr
        .lines()
        .filter_map(|l| {
            ["exposing", "moving", "downloaded"]
                .into_iter()
                .find(|s| l.contains(&format!(" {s}")))
        })
        .collect();
    let exposures = steps.iter().filter(|s| **s == "exposing").count();
    assert_eq!(exposures, shots as usize, "{}", out.stderr);
    let mut overlapped = 0;
    for (i, _) in steps.iter().enumerate().filter(|(_, s)| **s == "exposing") {
        let next = &steps[i + 1..];
        let downloaded = next.iter().position(|s| *s == "downloaded");
        let moved = next.iter().position(|s| *s == "moving");
        if let (Some(d), Some(m)) = (downloaded, moved) {
            overlapped += usize::from(m < d);
        }
    }
    assert_eq!(
        overlapped, shots as usize,
        "moves during downloads: {steps:?}"
    );
    // The stage timers saw the moves and downloads happen.
    let n = f64::from(shots);
    let stage = |s: &str| summary["stages"][s].as_f64().expect("stage time") * 1000.0;
    assert!(stage("moving") >= 0.9 * (n - 1.0) * 80.0, "{summary}");
    assert!(stage("downloading") >= 0.9 * n * 120.0, "{summary}");
}

/// The shipped profiles' photo names, written out by hand (not computed by
/// the formulas the program uses): shot number, ring, azimuth, tilt.
#[test]
fn shipped_profiles_name_their_photos_as_documented() {
    let rig = Rig::new();
    fast_copy(&rig, "object-3ring");
    let cases: [(&str, usize, &[&str]); 2] = [
        (
            "demo",
            8,
            &[
                "demo_0001_r1_az000.0_t+00.0.jpg",
                "demo_0002_r1_az045.0_t+00.0.jpg",
                "demo_0003_r1_az090.0_t+00.0.jpg",
                "demo_0004_r1_az135.0_t+00.0.jpg",
                "demo_0005_r1_az180.0_t+00.0.jpg",
                "demo_0006_r1_az225.0_t+00.0.jpg",
                "demo_0007_r1_az270.0_t+00.0.jpg",
                "demo_0008_r1_az315.0_t+00.0.jpg",
            ],
        ),
        (
            "object-3ring",
            32,
            &[
                "obj3_0001_r1_az000.0_t-20.0.jpg",
                "obj3_0012_r1_az330.0_t-20.0.jpg",
                "obj3_0013_r2_az000.0_t+15.0.jpg",
                "obj3_0024_r2_az330.0_t+15.0.jpg",
                "obj3_0025_r3_az000.0_t+45.0.jpg",
                "obj3_0026_r3_az045.0_t+45.0.jpg",
                "obj3_0032_r3_az315.0_t+45.0.jpg",
            ],
        ),
    ];
    for (profile, shots, names) in cases {
        let out = rig.run(&["scan", "--profile", profile, "--json"]);
        out.expect_code(0);
        let scan = assert_summary_complete(&out.summary(), shots);
        let found = common::entries(&rig.delivered(&scan));
        let photos: Vec<&String> = found.iter().filter(|f| f.ends_with(".jpg")).collect();
        assert_eq!(photos.len(), shots, "{found:?}");
        for name in names {
            assert!(
                found.iter().any(|f| f == name),
                "{profile}: no {name} in {found:?}"
            );
        }
    }
}

#[test]
fn profiles_lists_the_three_shipped_profiles() {
    let rig = Rig::new();
    let out = rig.run(&["profiles"]);
    out.expect_code(0);
    let listed: BTreeSet<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from(["demo", "object-3ring", "sphere-130", "turntable-36"]),
        "{}",
        out.stdout
    );
    for (name, shots) in [
        ("demo", 8),
        ("object-3ring", 32),
        ("sphere-130", 130),
        ("turntable-36", 36),
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .expect("listed");
        assert!(
            line.contains(&format!(" {shots} shots")) && line.ends_with("(shipped)"),
            "{line}"
        );
    }
}

#[test]
fn profiles_lists_a_profile_from_the_profile_folder_beside_the_shipped_ones() {
    let rig = Rig::new();
    let path = rig.profile("mine", &common::ring_profile(5, 0));
    let out = rig.run(&["profiles"]);
    out.expect_code(0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("mine "))
        .unwrap_or_else(|| panic!("mine not listed:\n{}", out.stdout));
    assert!(line.contains("   5 shots"), "{line}");
    assert!(line.contains(&path.display().to_string()), "{line}");
    // Mine and the four shipped ones.
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
}

#[test]
fn check_config_accepts_the_shipped_default_config() {
    let rig = Rig::new();
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
    let out = rig.run_with(&default, &["check-config"]);
    out.expect_code(0);
    let stdout = &out.stdout;
    assert!(stdout.starts_with("configuration OK"), "{stdout}");
    // The spool falls back to $HOME (the temp dir) and can be written.
    let spool = rig.root().join(".local/state/scanrig/spool");
    assert!(
        stdout.contains(&format!("spool: {}", spool.display())),
        "{stdout}"
    );
    assert!(spool.is_dir());
    assert!(stdout.contains("daemon profile: turntable-36"), "{stdout}");
}
