//! A delivered scan's `manifest.json`: what it lists, and the check of it
//! against the plan and the photos on disk.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{raw_of, Planned};

/// The names of the files a manifest's shot entry lists, in its order.
pub fn names_in(entry: &Value) -> Vec<&str> {
    let files = entry["files"].as_array().expect("files");
    files
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect()
}

/// The photos a delivered scan's `manifest.json` lists: file name →
/// sha256.
pub fn manifest_shas(manifest: &Value) -> BTreeMap<String, String> {
    manifest["shots"]
        .as_array()
        .expect("manifest shots")
        .iter()
        .flat_map(|shot| shot["files"].as_array().expect("files").clone())
        .map(|f| {
            (
                f["name"].as_str().expect("name").to_owned(),
                f["sha256"].as_str().expect("sha256").to_owned(),
            )
        })
        .collect()
}

/// Reads the `manifest.json` in a delivered scan's folder.
pub fn read_manifest(scan_dir: &Path) -> Value {
    let text = std::fs::read_to_string(scan_dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// When each shot of a manifest was captured (Unix ms), in shot order,
/// from its `captured_at` (`2026-12-01T02:30:20.123Z`).
pub fn capture_times(manifest: &Value) -> Vec<u64> {
    manifest["shots"]
        .as_array()
        .expect("manifest shots")
        .iter()
        .map(|shot| unix_ms_of(shot["captured_at"].as_str().expect("captured_at")))
        .collect()
}

/// Unix milliseconds of an RFC 3339 UTC time with milliseconds.
fn unix_ms_of(text: &str) -> u64 {
    let num = |range: std::ops::Range<usize>| -> i64 {
        text[range]
            .parse()
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (h, min, sec, ms) = (num(11..13), num(14..16), num(17..19), num(20..23));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (((days * 24 + h) * 60 + min) * 60 + sec) as u64 * 1000 + ms as u64
}

/// Angles and numbers read back from a photo's file name.
fn parse_name(name: &str) -> (u32, u32, f64, f64) {
    let stem = name.strip_suffix(".jpg").expect(".jpg");
    let parts: Vec<&str> = stem.rsplitn(5, '_').collect();
    let [tilt, az, ring, shot, _prefix] = parts[..] else {
        panic!("{name} is not <prefix>_<shot>_r<ring>_az<azimuth>_t<tilt>.jpg")
    };
    let number = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("{name}: {s}"));
    (
        shot.parse().unwrap_or_else(|_| panic!("{name}: shot")),
        ring.strip_prefix('r')
            .expect("r<ring>")
            .parse()
            .expect("ring"),
        number(az.strip_prefix("az").expect("az<azimuth>")),
        number(tilt.strip_prefix('t').expect("t<tilt>")),
    )
}

/// Reads `<scan_dir>/manifest.json` and checks it lists exactly `expected`,
/// in shot order, each with the sha256 found on disk (`shas`) and ring,
/// index, azimuth and tilt that match both the plan and the file name.
pub fn assert_manifest(
    scan_dir: &Path,
    expected: &[Planned],
    shas: &BTreeMap<String, String>,
) -> Value {
    let manifest = read_manifest(scan_dir);
    let shots = manifest["shots"].as_array().expect("manifest shots");
    assert_eq!(
        shots.len(),
        expected.len(),
        "manifest lists every shot once"
    );
    for (entry, want) in shots.iter().zip(expected) {
        let files = entry["files"].as_array().expect("files");
        let raw = raw_of(&want.name);
        let pair = shas.contains_key(&raw);
        let listed: Vec<&str> = files
            .iter()
            .map(|f| f["name"].as_str().expect("name"))
            .collect();
        match pair {
            false => assert_eq!(listed, [want.name.as_str()], "one file per shot: {entry}"),
            true => assert_eq!(
                listed,
                [want.name.as_str(), &raw],
                "a RAW + JPEG pair: {entry}"
            ),
        }
        if pair {
            assert_eq!(
                files[1]["sha256"].as_str(),
                Some(shas[&raw].as_str()),
                "{raw}"
            );
        }
        let name = listed[0];
        assert_eq!(name, want.name, "manifest entry for shot {}", want.shot);
        assert_eq!(entry["shot"], want.shot, "{name}");
        assert_eq!(entry["ring"], want.ring, "{name}");
        assert_eq!(entry["index"], want.index, "{name}");
        let azimuth = entry["azimuth"].as_f64().expect("azimuth");
        let tilt = entry["tilt"].as_f64().expect("tilt");
        assert!(
            (azimuth - want.azimuth).abs() < 1e-9,
            "{name}: azimuth {azimuth}"
        );
        assert!((tilt - want.tilt).abs() < 1e-9, "{name}: tilt {tilt}");
        let (shot, ring, az, t) = parse_name(name);
        assert_eq!((shot, ring), (want.shot, want.ring), "{name}");
        assert!(
            (az - azimuth).abs() <= 0.05 && (t - tilt).abs() <= 0.05,
            "{name}"
        );
        assert_eq!(
            files[0]["sha256"].as_str(),
            Some(shas[name].as_str()),
            "{name}: the file at the destination differs from the manifest"
        );
        let size = std::fs::metadata(scan_dir.join(name)).expect("photo").len();
        assert_eq!(files[0]["size"], size, "{name}: size");
        assert!(
            files[0]["destination_id"].is_string(),
            "{name}: no destination id"
        );
    }
    manifest
}
