//! Judgements, ring checks and retakes as the journal tells them.

use super::*;

/// A photo measured, with `problems` found.
fn measured(problems: Vec<scanrig_hardware::judge::Problem>) -> Quality {
    use scanrig_hardware::judge::{
        BackdropFrom, Edges, Exposure, Framing, Judgement, Region, Sharpness, Source,
    };
    Quality::Measured {
        judgement: Box::new(Judgement {
            source: Source::Photo,
            measured_px: (640, 480),
            sharpness: Sharpness {
                object: 80.0,
                grid: vec![80; 48],
            },
            exposure: Exposure {
                clipped: 0.0,
                crushed: 0.0,
                median: 128,
                over: Region::Object,
                histogram: vec![31; 32],
            },
            framing: Framing {
                fill: 0.003,
                edges: Edges::default(),
                backdrop: BackdropFrom::Border,
                backdrop_clipped: false,
            },
        }),
        problems,
    }
}

#[test]
fn replay_tells_each_photo_s_judgement_and_which_shots_are_still_to_judge() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(3),
    })
    .unwrap();
    for n in 1..=3 {
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 2,
            files: file(n),
        })
        .unwrap();
    }
    let empty = scanrig_hardware::judge::Problem::Empty {
        fill: 0.003,
        least: 0.05,
    };
    let judged = [
        (1, measured(Vec::new())),
        (
            2,
            Quality::NotJudged {
                reason: "not judged: the queue was full".into(),
            },
        ),
        (3, measured(vec![empty])),
    ];
    for (n, quality) in judged.clone() {
        j.append(&Record::PhotoJudged {
            shot: ShotId(n),
            photo: format!("t_{n}.jpg"),
            at: 3,
            quality,
        })
        .unwrap();
    }
    let r = replay(dir.path()).unwrap();
    assert_eq!(r.judged.len(), 3);
    assert_eq!(r.judged["t_1.jpg"], judged[0].1);
    assert!(r.unjudged().is_empty());
    let flagged = r.flagged();
    assert_eq!(flagged.keys().copied().collect::<Vec<_>>(), [ShotId(3)]);
    assert!(
        flagged[&ShotId(3)][0].starts_with("t_3.jpg: the object is not in the frame"),
        "{flagged:?}"
    );

    // The shot taken again: its photo is judged anew.
    j.append(&Record::ShotCaptured {
        shot: ShotId(3),
        at: 5,
        files: file(3),
    })
    .unwrap();
    let r = replay(dir.path()).unwrap();
    assert_eq!(r.unjudged(), [ShotId(3)]);
    assert!(r.flagged().is_empty());
}

#[test]
fn replay_tells_which_rings_were_checked_and_which_moved_object_waits_for_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(4),
    })
    .unwrap();
    let checked = |ring: u32, moved: Option<&str>| Record::RingChecked {
        ring,
        at: 2,
        changed: Some(if moved.is_some() { 0.2 } else { 0.0 }),
        moved: moved.map(str::to_owned),
        note: None,
    };
    j.append(&checked(1, Some("ring 1 moved"))).unwrap();
    j.append(&Record::MovedAccepted { ring: 1, at: 3 }).unwrap();
    j.append(&checked(2, None)).unwrap();
    j.append(&checked(3, Some("ring 3 moved"))).unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(
        scan.checks,
        BTreeMap::from([(1, None), (2, None), (3, Some("ring 3 moved".to_owned()))])
    );
    let line = std::fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
    assert!(
        line.contains(r#"{"record":"ring_checked","ring":2,"at":2,"changed":0.0}"#),
        "{line}"
    );
}

#[test]
fn replay_tells_a_retake_asked_before_a_crash_and_which_take_was_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let p = plan(2);
    j.append(&Record::ScanStarted {
        at: 1,
        plan: p.clone(),
    })
    .unwrap();
    let take = |shot: u32, take: u32| {
        let part = Part {
            camera: None,
            frame: 0,
        };
        let name = p.photo(ShotId(shot), &part, take).file("jpg");
        vec![SpoolFile {
            name,
            ..file(shot)[0].clone()
        }]
    };
    for n in 1..=2 {
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 2,
            files: take(n, 1),
        })
        .unwrap();
    }
    j.append(&Record::ShotRetaken {
        shot: ShotId(2),
        at: 3,
        take: 2,
        why: "blurred".into(),
    })
    .unwrap();
    // A crash here: the retake is taken when the scan goes on, as take 2;
    // the first take waits in the spool.
    let r = replay(dir.path()).unwrap();
    assert_eq!(r.shot_states(), [ShotState::Captured, ShotState::Pending]);
    assert_eq!(r.takes(), [1, 2]);
    let first: Vec<String> = take(2, 1).into_iter().map(|f| f.name).collect();
    assert_eq!(
        r.retaken[&ShotId(2)],
        [Retaken {
            take: 1,
            files: first.clone(),
            why: "blurred".into()
        }]
    );

    // Stopped before the retake: the first take is kept, and sent.
    let mut stopped = r.clone();
    stopped.finished = Some(Outcome::Stopped);
    assert_eq!(
        stopped.shot_states(),
        [ShotState::Captured, ShotState::Captured]
    );

    // The retake lands: it replaces the first take.
    j.append(&Record::ShotCaptured {
        shot: ShotId(2),
        at: 4,
        files: take(2, 2),
    })
    .unwrap();
    let r = replay(dir.path()).unwrap();
    assert_eq!(r.shot_states(), [ShotState::Captured, ShotState::Captured]);
    assert_eq!(r.takes(), [1, 2]);
    assert_eq!(take_of(&r.captured[&ShotId(2)].1), 2);
    assert!(r.captured[&ShotId(2)].1[0].name.ends_with("_take2.jpg"));
    assert_eq!(r.retaken[&ShotId(2)][0].files, first);
}
