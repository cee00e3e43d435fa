//! A stop's parts, without actors: when the table may leave, what is taken
//! again, and the shot's files in the column's order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use scanrig_hardware::camera::CaptureRequest;
use scanrig_hardware::Degrees;

use super::*;
use crate::model::{CameraName, Frame, ScanId, ScanPlan, Station};
use crate::sequence::{Command, Sequence, ShotState};

fn camera(name: &str) -> Option<CameraName> {
    Some(CameraName::new(name).unwrap())
}

fn column(names: &[&str]) -> Vec<Option<CameraName>> {
    names.iter().map(|n| camera(n)).collect()
}

fn part(name: &str, frame: usize) -> Part {
    Part {
        camera: camera(name),
        frame,
    }
}

/// Frame 0 of each camera.
fn parts(cameras: &[&str]) -> Vec<Part> {
    cameras.iter().map(|c| part(c, 0)).collect()
}

fn exposure(part: &Part) -> Exposure {
    Exposure {
        request: CaptureRequest {
            stem: format!("{part:?}"),
            label: String::new(),
            azimuth: Degrees(0.0),
            tilt: Degrees(0.0),
        },
        files: Vec::new(),
        left_on_card: None,
    }
}

/// Every part of `closed` answers its exposure.
fn answers(closed: &[Part]) -> Vec<(Part, Result<Exposure, CameraError>)> {
    closed
        .iter()
        .map(|p| (p.clone(), Ok(exposure(p))))
        .collect()
}

fn file(part: &Part) -> Vec<SpoolFile> {
    vec![SpoolFile {
        name: format!("{:?}_{}.jpg", part.camera, part.frame),
        sha256: String::new(),
        size: 1,
        pixels: None,
        camera: part.camera.clone(),
        frame: Frame::Bracket(part.frame as u32 + 1),
    }]
}

fn stop(needed: Vec<Part>) -> Stop {
    let mut stop = Stop::default();
    stop.need(needed);
    stop
}

#[test]
fn a_stop_is_exposed_only_once_every_shooting_camera_has_closed_its_shutter() {
    let shot = ShotId(4);
    let all = parts(&["low", "mid", "top"]);
    for done in [&[][..], &["low"], &["low", "top"], &["mid", "top"]] {
        let event = stop(all.clone()).exposed(shot, answers(&parts(done)));
        assert!(
            !matches!(event, Event::Exposed(_)),
            "{done:?} of 3 closed: {event:?}"
        );
    }
    let mut whole = stop(all.clone());
    assert_eq!(
        whole.exposed(shot, answers(&parts(&["top", "low", "mid"]))),
        Event::Exposed(shot)
    );
    // A camera that does not shoot this stop is not waited for.
    let mut two = stop(parts(&["low", "top"]));
    assert_eq!(
        two.exposed(shot, answers(&parts(&["low", "top"]))),
        Event::Exposed(shot)
    );
}

#[test]
fn a_camera_retried_exposes_only_what_it_lacks_and_the_others_are_not_asked_again() {
    let shot = ShotId(2);
    let mut stop = stop(parts(&["low", "mid", "top"]));
    let mut first = answers(&parts(&["low", "top"]));
    first.push((part("mid", 0), Err(CameraError::Busy { during: "expose" })));
    let event = stop.exposed(shot, first);
    let Event::DeviceFailed { fault, .. } = &event else {
        panic!("{event:?}");
    };
    assert!(fault.message.starts_with("camera mid: "), "{fault:?}");
    assert_eq!(stop.to_expose(), [part("mid", 0)]);
    assert_eq!(
        stop.exposed(shot, answers(&[part("mid", 0)])),
        Event::Exposed(shot)
    );
    assert_eq!(stop.downloads().len(), 3);
}

#[test]
fn a_bracketed_stop_waits_for_every_frame_of_every_camera() {
    let mut plan = plan();
    plan.bracket = Some(Box::new(crate::model::Bracket {
        kind: crate::model::BracketKind::Exposure,
        frames: vec![BTreeMap::new(); 3],
        after: BTreeMap::new(),
    }));
    let needed = plan.parts(ShotId(1), &column(&["low", "top"]));
    assert_eq!(
        needed,
        [
            part("low", 0),
            part("low", 1),
            part("low", 2),
            part("top", 0),
            part("top", 1),
            part("top", 2)
        ]
    );
    let mut s = stop(needed.clone());
    let event = s.exposed(ShotId(1), answers(&needed[..5]));
    assert!(!matches!(event, Event::Exposed(_)), "{event:?}");
    assert_eq!(s.to_expose(), [part("top", 2)]);
    assert_eq!(
        s.exposed(ShotId(1), answers(&needed[5..])),
        Event::Exposed(ShotId(1))
    );
}

#[test]
fn the_shot_is_complete_once_every_part_landed_listed_in_the_column_s_order() {
    // A resume after a crash that kept top's part; the column now lists
    // top first, then low.
    let needed = parts(&["top", "low"]);
    let kept = BTreeMap::from([(part("top", 0), file(&part("top", 0)))]);
    let mut s = Stop::with_landed(kept);
    s.need(needed);
    assert_eq!(s.to_expose(), [part("low", 0)], "only low is taken again");
    assert_eq!(s.complete(), Err(part("low", 0)));
    s.landed(part("low", 0), file(&part("low", 0)));
    let files: Vec<_> = s
        .complete()
        .unwrap()
        .into_iter()
        .map(|f| f.camera)
        .collect();
    assert_eq!(files, column(&["top", "low"]));
}

#[test]
fn a_camera_s_fault_wins_over_the_others_closing() {
    let mut s = stop(parts(&["low", "mid"]));
    let mut both = answers(&parts(&["low"]));
    both.push((part("mid", 0), Err(CameraError::Busy { during: "expose" })));
    let event = s.exposed(ShotId(1), both);
    assert!(matches!(event, Event::DeviceFailed { .. }), "{event:?}");
}

fn plan() -> ScanPlan {
    let station = |ring, azimuth: f64, cameras: &[&str]| Station {
        ring,
        index: 1,
        azimuth: Degrees(azimuth),
        tilt: Degrees(0.0),
        cameras: cameras
            .iter()
            .map(|c| CameraName::new(c).unwrap())
            .collect(),
    };
    ScanPlan::new(
        ScanId::from_existing("s"),
        "s",
        "s",
        Duration::ZERO,
        BTreeMap::new(),
        &[station(1, 0.0, &[]), station(2, 90.0, &["top"])],
    )
}

#[test]
fn a_ring_naming_cameras_is_shot_by_those_only() {
    let plan = plan();
    let names = column(&["low", "mid", "top"]);
    assert_eq!(plan.parts(ShotId(1), &names), parts(&["low", "mid", "top"]));
    assert_eq!(plan.parts(ShotId(2), &names), parts(&["top"]));
    // Found by name, whatever the column's order.
    let reordered = column(&["top", "low", "mid"]);
    assert_eq!(plan.parts(ShotId(2), &reordered), parts(&["top"]));
    // The rig's only camera shoots everything.
    let only = Part {
        camera: None,
        frame: 0,
    };
    assert_eq!(plan.parts(ShotId(2), &[None]), [only]);
    assert_eq!(plan.cameras_missing(&names), Vec::<CameraName>::new());
    assert_eq!(
        plan.cameras_missing(&column(&["low", "mid"])),
        column(&["top"]).into_iter().flatten().collect::<Vec<_>>()
    );
}

#[test]
fn the_table_leaves_a_stop_on_exposed_and_not_before() {
    // The sequence moves on from a stop only on `Exposed`, which the stop
    // gives only once every shutter has closed: two of three cameras
    // closed leave the table where it is.
    let now = Instant::now();
    let mut seq = Sequence::new(
        crate::sequence::tests::config(),
        vec![ShotState::Pending; 2],
    );
    let mut commands = Vec::new();
    for event in [
        Event::Start,
        Event::SettingsApplied,
        Event::Homed,
        Event::Moved {
            shot: ShotId(1),
            still: true,
        },
        Event::Settled(ShotId(1)),
    ] {
        commands.extend(seq.handle(event, now));
    }
    assert!(
        commands.contains(&Command::Expose(ShotId(1))),
        "{commands:?}"
    );
    let moved_on = |c: &[Command]| c.contains(&Command::MoveTo(ShotId(2)));
    assert!(!moved_on(&commands), "{commands:?}");
    let mut s = stop(parts(&["low", "mid", "top"]));
    let partial = s.exposed(ShotId(1), answers(&parts(&["low", "mid"])));
    let retried = seq.handle(partial, now);
    assert!(!moved_on(&retried), "left with a shutter open: {retried:?}");
    let every = s.exposed(ShotId(1), answers(&parts(&["top"])));
    let after = seq.handle(every, now);
    assert!(
        moved_on(&after),
        "stays after every shutter closed: {after:?}"
    );
}

#[test]
fn a_camera_fired_by_a_wire_is_in_with_no_file_and_the_shot_waits_for_the_others() {
    let shot = ShotId(3);
    let pressed = std::time::SystemTime::now();
    let mut answered = answers(&parts(&["low", "top"]));
    if let Ok(exposure) = &mut answered[1].1 {
        exposure.left_on_card = Some(pressed);
    }
    let mut mixed = stop(parts(&["low", "top"]));
    assert_eq!(mixed.exposed(shot, answered), Event::Exposed(shot));
    assert_eq!(mixed.on_card(), [(camera("top"), pressed)]);
    assert!(mixed.on_card().is_empty(), "landed once");
    let left: Vec<Part> = mixed.downloads().into_iter().map(|(p, _)| p).collect();
    assert_eq!(left, parts(&["low"]), "only the USB camera downloads");
    assert!(mixed.holds_no_file());
    assert!(
        mixed.to_expose().is_empty(),
        "the wire is not pressed again"
    );
    mixed.landed(part("low", 0), file(&part("low", 0)));
    assert!(!mixed.holds_no_file());
    assert_eq!(
        mixed.complete(),
        Ok(file(&part("low", 0))),
        "the shot's files"
    );
}
