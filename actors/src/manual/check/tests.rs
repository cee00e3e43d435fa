//! The poses a check visits, and the tilts it leaves.

use std::collections::BTreeMap;

use super::*;
use crate::model::{ScanId, Station};

fn plan(stations: &[(f64, f64, &[&str])]) -> ScanPlan {
    let stations: Vec<Station> = stations
        .iter()
        .enumerate()
        .map(|(i, &(azimuth, tilt, cameras))| Station {
            ring: 1,
            index: i as u32 + 1,
            azimuth: Degrees(azimuth),
            tilt: Degrees(tilt),
            cameras: cameras
                .iter()
                .map(|c| CameraName::new(c).unwrap())
                .collect(),
        })
        .collect();
    let scan = ScanId::from_existing("20260101T000000Z-t");
    ScanPlan::new(scan, "t", "t", Duration::ZERO, BTreeMap::new(), &stations)
}

fn seen(poses: &[CheckPose]) -> Vec<(f64, f64, Ring, Option<&str>)> {
    poses
        .iter()
        .map(|p| {
            (
                p.azimuth,
                p.tilt,
                p.ring,
                p.camera.as_ref().map(CameraName::as_str),
            )
        })
        .collect()
}

#[test]
fn the_first_shots_at_the_lowest_and_highest_tilt_are_checked() {
    let p = plan(&[
        (0.0, 10.0, &[]),
        (90.0, -20.0, &[]),
        (180.0, -20.0, &[]),
        (30.0, 45.0, &[]),
        (60.0, 45.0, &[]),
    ]);
    assert_eq!(
        seen(&poses(&p, &[None], false)),
        [
            (90.0, -20.0, Ring::Lowest, None),
            (30.0, 45.0, Ring::Highest, None)
        ]
    );
    let level = plan(&[(0.0, 0.0, &[]), (90.0, 0.0, &[])]);
    assert_eq!(
        seen(&poses(&level, &[None], false)),
        [(0.0, 0.0, Ring::Only, None)]
    );
}

#[test]
fn without_a_tilt_motor_only_the_tilt_a_scan_begins_at_is_checked() {
    let p = plan(&[
        (0.0, 10.0, &[]),
        (90.0, -20.0, &[]),
        (30.0, 45.0, &[]),
        (60.0, 10.0, &[]),
    ]);
    let checked = poses(&p, &[None], true);
    assert_eq!(seen(&checked), [(0.0, 10.0, Ring::Only, None)]);
    assert_eq!(unchecked(&p, &checked, true), [-20.0, 45.0]);
    let motor = poses(&p, &[None], false);
    assert!(
        unchecked(&p, &motor, false).is_empty(),
        "the rings between the extremes are reached, not left"
    );
}

#[test]
fn every_camera_of_a_column_that_shoots_there_is_checked() {
    let column: Vec<_> = ["low", "top"]
        .map(|c| Some(CameraName::new(c).unwrap()))
        .into();
    let p = plan(&[(0.0, 0.0, &[]), (0.0, 30.0, &["top"])]);
    assert_eq!(
        seen(&poses(&p, &column, false)),
        [
            (0.0, 0.0, Ring::Lowest, Some("low")),
            (0.0, 0.0, Ring::Lowest, Some("top")),
            (0.0, 30.0, Ring::Highest, Some("top")),
        ]
    );
}
