//! `scanrig export`: a real scan's camera poses in each tool's format,
//! checked against the rig's geometry as configured (where the camera
//! stands), not against numbers the exporter made.

mod common;

use std::collections::BTreeSet;

use common::{plan, rings_of, Rig};

/// A rig whose level shots look over the objects (the judges would flag
/// them and the priors leave them out): every photo is kept unjudged, for
/// the formats' figures.
const GEOMETRY: &str =
    "[geometry]\ndistance_m = 0.4\nheight_m = 0.2\narm_out_m = 0.0\narm_up_m = 0.0\n\
     focal_mm = 16.0\nsensor_width_mm = 6.4\nsensor_height_mm = 4.8\n\
     [quality]\nenabled = false\n";

const PROFILE: &str = "settle_ms = 0\n\n[[rings]]\ntilt = 0.0\nshots = 4\n\n\
                       [[rings]]\ntilt = 30.0\nshots = 4\nstart = 45.0\n";

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn a_scans_poses_come_out_in_every_format() {
    let rig = Rig::with(GEOMETRY);
    rig.profile("posed", PROFILE);
    let out = rig.run(&["scan", "--profile", "posed", "--json"]);
    let scan = common::assert_summary_complete(&out.expect_code(0).summary(), 8);
    let expected = plan("posed", &rings_of(PROFILE));
    let folder = rig.delivered(&scan);

    // COLMAP, by default into the scan's folder at the local destination.
    let out = rig.run(&["export", &scan]);
    out.expect_code(0);
    assert!(out.stdout.contains("wrote 4 files"), "{}", out.stdout);
    let cameras = std::fs::read_to_string(folder.join("colmap/cameras.txt")).unwrap();
    let camera: Vec<&str> = cameras.lines().filter(|l| !l.starts_with('#')).collect();
    // 16 mm on a 6.4 mm wide sensor, photos 160 pixels wide: 400 pixels.
    let fields: Vec<&str> = camera[0].split(' ').collect();
    assert_eq!(fields[..4], ["1", "PINHOLE", "160", "120"]);
    assert_eq!(numbers(&fields[4..].join(" ")), [400.0, 400.0, 80.0, 60.0]);
    let images = std::fs::read_to_string(folder.join("colmap/images.txt")).unwrap();
    let names: Vec<&str> = images
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    let planned: Vec<&str> = expected.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, planned);
    // Camera centres: level shots 0.4 m from the axis, 0.2 m up; the table
    // turning counter-clockwise puts the camera at minus the azimuth.
    let reference = std::fs::read_to_string(folder.join("colmap/reference.txt")).unwrap();
    for (line, shot) in reference.lines().zip(&expected) {
        let (name, xyz) = line.split_once(' ').unwrap();
        assert_eq!(name, shot.name);
        let [x, y, z] = numbers(xyz)[..] else {
            panic!("{line}")
        };
        if shot.tilt == 0.0 {
            assert!(
                (x.hypot(y) - 0.4).abs() < 1e-9 && (z - 0.2).abs() < 1e-9,
                "{line}"
            );
            let at = (-y).atan2(x).to_degrees().rem_euclid(360.0);
            assert!(
                (at - shot.azimuth).abs() < 1e-6,
                "{line}: {at} for {}",
                shot.azimuth
            );
        }
    }

    // Metashape, elsewhere.
    let csv_dir = rig.root().join("metashape");
    let dest = csv_dir.display().to_string();
    rig.run(&["export", &scan, "--format", "metashape", "--dest", &dest])
        .expect_code(0);
    let csv = std::fs::read_to_string(csv_dir.join("metashape_reference.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + expected.len());

    // RealityCapture: a sidecar beside each photo.
    rig.run(&["export", &scan, "--format", "realitycapture"])
        .expect_code(0);
    let xmps: BTreeSet<String> = common::entries(&folder)
        .into_iter()
        .filter(|n| n.ends_with(".xmp"))
        .collect();
    let want: BTreeSet<String> = expected
        .iter()
        .map(|p| p.name.replace(".jpg", ".xmp"))
        .collect();
    assert_eq!(xmps, want);

    // JSON for scripts.
    let json_dir = rig.root().join("json");
    let dest = json_dir.display().to_string();
    rig.run(&["export", &scan, "--format", "json", "--dest", &dest])
        .expect_code(0);
    for shot in &expected {
        let path = json_dir.join(shot.name.replace(".jpg", ".pose.json"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["azimuth_deg"], shot.azimuth);
        assert_eq!(json["tilt_deg"], shot.tilt);
    }
}

#[test]
fn an_unknown_scan_is_named_with_what_to_do() {
    let rig = Rig::new();
    let out = rig.run(&["export", "20200101T000000Z-nothing"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("no scan 20200101T000000Z-nothing"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("scanrig scans"), "{}", out.stderr);
}

#[test]
fn a_sphere_profile_scans_every_point_once_and_exports_its_poses() {
    let rig = Rig::with(GEOMETRY);
    rig.profile(
        "ball",
        "path = \"sphere\"\n[sphere]\npoints = 12\ntilt_min = -20.0\ntilt_max = 50.0\n",
    );
    let out = rig.run(&["scan", "--profile", "ball", "--json"]);
    let scan = common::assert_summary_complete(&out.expect_code(0).summary(), 12);
    let manifest = common::read_manifest(&rig.delivered(&scan));
    let shots = manifest["shots"].as_array().unwrap();
    let tilts: Vec<f64> = shots.iter().map(|s| s["tilt"].as_f64().unwrap()).collect();
    assert!(
        tilts.iter().all(|t| (-20.0..=50.0).contains(t)),
        "{tilts:?}"
    );
    let names: BTreeSet<String> = common::manifest_shas(&manifest).into_keys().collect();
    assert_eq!(names.len(), 12);
    common::assert_photos(&rig.delivered(&scan), &names, true);
    rig.assert_retired(&scan, "completed", 12);
    rig.run(&["export", &scan, "--format", "json"])
        .expect_code(0);
    // Without an arm the lens stays 0.4 m out and 0.2 m up; the view
    // tilts: a camera tilted up by t looks down by -t.
    for name in &names {
        let path = rig
            .delivered(&scan)
            .join(name.replace(".jpg", ".pose.json"));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let c: Vec<f64> = serde_json::from_value(json["centre"].clone()).unwrap();
        assert!((c[0].hypot(c[1]) - 0.4).abs() < 1e-9 && (c[2] - 0.2).abs() < 1e-9);
        let tilt = json["tilt_deg"].as_f64().unwrap();
        let forward_z = json["rotation_object_to_camera"][2][2].as_f64().unwrap();
        assert!((forward_z + tilt.to_radians().sin()).abs() < 1e-9, "{name}");
    }
}
