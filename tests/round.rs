//! Scans whose shots cross the table's 0° on the simulated rig: the table goes the shorter way round (its motor's travel unwrapped), every photo arrives once, named and posed at its shot's own angle in [0, 360); as listed, the table turns back the long way instead.

mod common;

use common::{assert_complete, in_process, plan, rings_of, scan_in_process, Rig};
use scanrig_hardware::axis::{on_table, MoveReport, SimAxis, SimAxisConfig};
use scanrig_hardware::Degrees;

/// Two rings of 8 from 200°: each crosses 0° between its 335° and 20°.
const ACROSS: &str = "settle_ms = 5\n\n[[rings]]\ntilt = 0.0\nshots = 8\nstart = 200.0\n\n[[rings]]\ntilt = 30.0\nshots = 8\nstart = 200.0\n";

/// A rig without the check after each ring (which takes the table back
/// to the ring's first shot): the table's stops are the shots'.
fn rig() -> Rig {
    Rig::with("[moved]\ncheck = false\n")
}

/// Scans `profile` (with `ACROSS`'s rings) in process on simulated axes
/// this test holds; the table's moves, and the scan's folder at the
/// destination.
fn scan(rig: &Rig, profile: &str) -> (Vec<MoveReport>, std::path::PathBuf) {
    let (settings, mut built, log) = in_process(rig);
    let limits = settings.limits();
    let axis = |name, s: &scanrig::settings::SimAxis, travel| {
        SimAxis::new(SimAxisConfig {
            name,
            limits: s.limits(),
            home_duration: std::time::Duration::ZERO,
            travel,
            fail_every_nth_move: 0,
        })
    };
    let table = axis("turntable", &settings.turntable.sim, limits.turntable);
    let tilt = axis("tilt", &settings.tilt.sim, limits.tilt);
    built.axes = SimAxis::connector(table.clone(), Some(tilt));
    let report = scan_in_process(&settings, built, profile, log);
    assert!(report.success(), "{:?}", report.summary);
    (table.moves(), rig.delivered(&report.summary.scan))
}

#[test]
fn a_scan_across_0_degrees_turns_the_shorter_way_and_poses_each_photo_at_its_shot() {
    let rig = rig();
    rig.profile("across", ACROSS);
    let expected = plan("across", &rings_of(ACROSS));
    let (moves, folder) = scan(&rig, "across");

    // Every photo once, intact, named at its shot's angle; the manifest
    // and the pose priors complete.
    assert_complete(&folder, &expected);
    // The table stopped at each shot in turn, at a turn of its angle,
    // never more than half a turn from the last.
    assert_eq!(moves.len(), expected.len(), "{moves:?}");
    for (m, shot) in moves.iter().zip(&expected) {
        assert_eq!(on_table(m.to), Degrees(shot.azimuth), "{m:?}");
        assert!((m.to - m.from).abs().get() <= 180.0, "{m:?}");
    }
    // 335° to 20°: 45° forward, twice; the second ring goes on round, so
    // the motor's travel ends past a turn, at 360° + 155°.
    let forward = |m: &&MoveReport| m.from == Degrees(-25.0) || m.from == Degrees(335.0);
    let across: Vec<f64> = moves.iter().filter(forward).map(|m| m.to.get()).collect();
    assert_eq!(across, [20.0, 380.0]);
    assert_eq!(moves.last().map(|m| m.to), Some(Degrees(515.0)));
    // Each photo's pose prior is its shot's angle, not the motor's travel.
    for shot in &expected {
        let stem = shot.name.trim_end_matches(".jpg");
        let text = std::fs::read_to_string(folder.join(format!("{stem}.pose.json"))).unwrap();
        let pose: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(pose["azimuth_deg"].as_f64(), Some(shot.azimuth), "{stem}");
        assert_eq!(pose["tilt_deg"].as_f64(), Some(shot.tilt), "{stem}");
    }
}

#[test]
fn as_listed_the_table_turns_back_the_long_way_and_the_photos_are_the_same() {
    let rig = rig();
    let text = format!("table_way = \"as_listed\"\n{ACROSS}");
    rig.profile("listed", &text);
    let expected = plan("listed", &rings_of(ACROSS));
    let (moves, folder) = scan(&rig, "listed");
    assert_complete(&folder, &expected);
    let turns: Vec<(f64, f64)> = moves.iter().map(|m| (m.from.get(), m.to.get())).collect();
    assert!(turns.contains(&(335.0, 20.0)), "{turns:?}");
    assert!(
        moves.iter().all(|m| (0.0..360.0).contains(&m.to.get())),
        "{turns:?}"
    );
}
