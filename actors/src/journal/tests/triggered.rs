//! Cameras fired by a wire: triggered shots awaiting the import of their
//! cards, and what the import found missing.

use super::*;

#[test]
fn triggered_shots_await_their_import_then_the_unmatched_one_is_missing_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = started(dir.path(), 3);
    for n in 1..=3 {
        let at = 1_800_000_000_000 + u64::from(n) * 4000;
        j.append(&Record::ShotTriggered {
            shot: ShotId(n),
            at,
            camera: None,
            whole: false,
        })
        .unwrap();
    }
    j.append(&Record::ScanFinished {
        at: 5,
        outcome: Outcome::Completed,
    })
    .unwrap();
    let waiting = replay(dir.path()).unwrap();
    assert_eq!(
        waiting.awaiting_import(),
        [&(ShotId(1), None), &(ShotId(2), None), &(ShotId(3), None)]
    );
    assert!(waiting.pending_uploads().is_empty(), "nothing to send yet");
    assert!(!waiting.is_settled());

    for n in [1, 3] {
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 1_800_000_000_000 + u64::from(n) * 4000,
            files: file(n),
        })
        .unwrap();
    }
    j.append(&Record::Imported {
        at: 6,
        folder: "/media/card".into(),
        offset_ms: 420_000,
        missing: vec![ShotId(2)],
        extra: vec!["DCIM/100SCANR/IMG_0001.JPG".into()],
        camera: None,
    })
    .unwrap();
    let imported = replay(dir.path()).unwrap();
    assert!(imported.awaiting_import().is_empty());
    assert_eq!(imported.pending_uploads(), [ShotId(1), ShotId(3)]);
    let manifest = crate::manifest::Manifest::from_record(&imported);
    let missing: Vec<_> = manifest.missing.iter().map(|m| m.shot).collect();
    assert_eq!(missing, [ShotId(1), ShotId(3), ShotId(2)]);
    let why = manifest.missing[2].reason;
    assert!(
        why.contains("2027-01-15T08:00:08.000Z") && why.contains("/media/card"),
        "{why}"
    );
}

#[test]
fn a_column_camera_fired_by_a_wire_is_in_its_stop_awaits_its_card_and_joins_the_shot_once_imported()
{
    let dir = tempfile::tempdir().unwrap();
    let mut j = started(dir.path(), 2);
    let top = CameraName::new("top").unwrap();
    let of = |camera: &str, n: u32| SpoolFile {
        name: format!("t_{n}_{camera}.jpg"),
        camera: Some(CameraName::new(camera).unwrap()),
        ..file(n).remove(0)
    };
    for n in 1..=2 {
        j.append(&Record::ShotTriggered {
            shot: ShotId(n),
            at: 10 * u64::from(n),
            camera: Some(top.clone()),
            whole: false,
        })
        .unwrap();
    }
    // A stop's USB photo landed and was sent.
    let sent = |j: &mut JournalWriter, n: u32| {
        let files = vec![of("low", n)];
        let (shot, at) = (ShotId(n), 10 * u64::from(n));
        let remote = vec![format!("low-{n}")];
        j.append(&Record::ShotCaptured {
            shot,
            at,
            files: files.clone(),
        })
        .unwrap();
        j.append(&Record::ShotUploaded {
            shot,
            at,
            remote,
            files,
            to: None,
        })
        .unwrap();
    };
    // A crash came before shot 2's did.
    sent(&mut j, 1);
    let crashed = replay(dir.path()).unwrap();
    assert_eq!(
        crashed.shot_states(),
        [ShotState::Uploaded, ShotState::Pending],
        "a stop with its USB photo missing is taken again"
    );
    let whole = Part {
        camera: Some(top.clone()),
        frame: 0,
    };
    assert_eq!(
        crashed.parts[&ShotId(2)].get(&whole),
        Some(&Vec::new()),
        "but not by the camera fired by a wire, whose part is in"
    );
    let awaiting = [
        (ShotId(1), Some(top.clone())),
        (ShotId(2), Some(top.clone())),
    ];
    assert_eq!(
        crashed.awaiting_import(),
        awaiting.iter().collect::<Vec<_>>()
    );
    let manifest = crate::manifest::Manifest::from_record(&crashed);
    let on_card: Vec<_> = manifest
        .missing
        .iter()
        .filter(|m| m.camera == Some(&top))
        .map(|m| m.shot)
        .collect();
    assert_eq!(on_card, [ShotId(1), ShotId(2)], "listed awaiting import");
    assert!(manifest
        .missing
        .iter()
        .all(|m| m.reason.contains("scanrig import")));

    sent(&mut j, 2);
    // The import: shot 1's photo joins its USB one; shot 2 has none.
    j.append(&Record::PhotoJudged {
        shot: ShotId(1),
        photo: "t_1_low.jpg".into(),
        at: 13,
        quality: Quality::NotJudged {
            reason: "test".into(),
        },
    })
    .unwrap();
    j.append(&Record::ShotCaptured {
        shot: ShotId(1),
        at: 10,
        files: vec![of("low", 1), of("top", 1)],
    })
    .unwrap();
    j.append(&Record::Imported {
        at: 30,
        folder: "/media/card".into(),
        offset_ms: 0,
        missing: vec![ShotId(2)],
        extra: Vec::new(),
        camera: Some(top.clone()),
    })
    .unwrap();
    let imported = replay(dir.path()).unwrap();
    assert!(imported.awaiting_import().is_empty());
    assert_eq!(
        imported.pending_uploads(),
        [ShotId(1)],
        "sent with its USB photo"
    );
    assert!(
        imported.judged.contains_key("t_1_low.jpg"),
        "the USB photo kept is not judged again"
    );
    let manifest = crate::manifest::Manifest::from_record(&imported);
    assert_eq!(
        manifest.missing.len(),
        2,
        "shot 1 not sent yet, shot 2's photo missing"
    );
    let missing = &manifest.missing[1];
    assert_eq!((missing.shot, missing.camera), (ShotId(2), Some(&top)));
    assert!(
        missing.reason.starts_with("camera top triggered at"),
        "{}",
        missing.reason
    );
}

#[test]
fn a_stop_whose_every_camera_is_fired_by_a_wire_is_taken_with_its_photos_on_the_cards() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = started(dir.path(), 2);
    let top = CameraName::new("top").unwrap();
    for (shot, whole) in [(1, true), (2, false)] {
        j.append(&Record::ShotTriggered {
            shot: ShotId(shot),
            at: 10,
            camera: Some(top.clone()),
            whole,
        })
        .unwrap();
    }
    let r = replay(dir.path()).unwrap();
    assert_eq!(
        r.shot_states(),
        [ShotState::Triggered, ShotState::Pending],
        "taken, not taken again; the other stop waits for its other cameras"
    );
    assert!(!r.parts.contains_key(&ShotId(1)));
    assert_eq!(r.awaiting_import().len(), 2);
}
