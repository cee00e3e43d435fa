//! Unit tests of the journal: appends, replay, torn and damaged lines.

use std::time::Duration;

use scanrig_hardware::Degrees;

use super::*;
use crate::model::{CameraName, Frame, Station};

pub(crate) fn plan(n: u32) -> ScanPlan {
    let stations: Vec<Station> = (0..n)
        .map(|i| Station {
            ring: 1,
            index: i + 1,
            azimuth: Degrees(f64::from(i) * 90.0),
            tilt: Degrees(0.0),
            cameras: Vec::new(),
        })
        .collect();
    ScanPlan::new(
        ScanId::new(1_800_000_000, "t"),
        "t",
        "t",
        Duration::ZERO,
        BTreeMap::new(),
        &stations,
    )
}

/// The journal in `dir` of a scan of `n` shots just started.
fn started(dir: &Path, n: u32) -> JournalWriter {
    let mut j = JournalWriter::open(dir).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(n),
    })
    .unwrap();
    j
}

pub(crate) fn file(n: u32) -> Vec<SpoolFile> {
    vec![SpoolFile {
        name: format!("t_{n}.jpg"),
        sha256: "ab".repeat(32),
        size: 10,
        pixels: Some([640, 480]),
        camera: None,
        frame: Frame::Only,
    }]
}

#[test]
fn replay_tells_what_was_captured_and_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let p = plan(4);
    j.append(&Record::ScanStarted {
        at: 1,
        plan: p.clone(),
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
    j.append(&Record::ShotUploaded {
        shot: ShotId(1),
        at: 3,
        remote: vec!["r1".into()],
        files: file(1),
        to: None,
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.plan, p);
    assert_eq!(scan.pending_uploads(), [ShotId(2), ShotId(3)]);
    use ShotState::*;
    assert_eq!(scan.shot_states(), [Uploaded, Captured, Captured, Pending]);
    assert!(scan.is_resumable());
    assert!(!scan.is_settled());
}

#[test]
fn a_failed_upload_is_remembered_until_the_shot_is_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(2),
    })
    .unwrap();
    for n in 1..=2 {
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 2,
            files: file(n),
        })
        .unwrap();
        let error = format!("quota full {n}");
        j.append(&Record::UploadFailed {
            shot: ShotId(n),
            at: 3,
            error,
        })
        .unwrap();
    }
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.failed.len(), 2);
    assert_eq!(scan.failed[&ShotId(2)], "quota full 2");
    j.append(&Record::ShotUploaded {
        shot: ShotId(1),
        at: 4,
        remote: vec!["r".into()],
        files: file(1),
        to: None,
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.failed.keys().collect::<Vec<_>>(), [&ShotId(2)]);
    assert_eq!(scan.pending_uploads(), [ShotId(2)], "still waiting");
}

/// A journal in `dir` with its plan and half a record after it, as a power
/// cut in the middle of an append leaves it; returns its path.
fn torn_journal(dir: &Path) -> PathBuf {
    let mut j = JournalWriter::open(dir).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(2),
    })
    .unwrap();
    let path = j.path().to_path_buf();
    drop(j);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"record\":\"shot_capt").unwrap();
    path
}

#[test]
fn a_torn_last_line_is_ignored_and_a_damaged_middle_line_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = torn_journal(dir.path());
    let scan = replay(dir.path()).unwrap();
    assert!(scan.captured.is_empty());
    assert!(scan.skipped.is_empty(), "a torn last line is no damage");

    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"\n{\"record\":\"scan_finished\",\"at\":5,\"outcome\":\"stopped\"}\n")
        .unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(
        scan.finished,
        Some(Outcome::Stopped),
        "records after it count"
    );
    assert_eq!(scan.skipped.len(), 1);
    assert_eq!(scan.skipped[0].line, 2);
}

/// A journal of `n` planned shots, 1..=captured captured (their files
/// written to the spool) and 1..=uploaded uploaded.
fn journal_with_files(dir: &Path, n: u32, captured: u32, uploaded: u32) -> Vec<u8> {
    let mut j = JournalWriter::open(dir).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(n),
    })
    .unwrap();
    let mut captures = Vec::new();
    for shot in 1..=captured {
        let name = format!("t_{shot}.jpg");
        let body = format!("photo {shot}");
        fs::write(dir.join(&name), &body).unwrap();
        let digest = scanrig_hardware::fsutil::digest_file(&dir.join(&name)).unwrap();
        let files = vec![SpoolFile {
            name,
            sha256: digest.sha256,
            size: digest.size,
            pixels: None,
            camera: None,
            frame: Frame::Only,
        }];
        captures.push(files.clone());
        j.append(&Record::ShotCaptured {
            shot: ShotId(shot),
            at: 2,
            files,
        })
        .unwrap();
    }
    for shot in 1..=uploaded {
        let remote = vec![format!("r{shot}")];
        let files = captures[shot as usize - 1].clone();
        j.append(&Record::ShotUploaded {
            shot: ShotId(shot),
            at: 3,
            remote,
            files,
            to: None,
        })
        .unwrap();
    }
    fs::read(j.path()).unwrap()
}

/// Replaces line `n` (1-based) of the journal in `dir` with `garbage`.
fn damage_line(dir: &Path, n: usize, garbage: &str) {
    let path = dir.join(JOURNAL_FILE);
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[n - 1] = garbage;
    fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn repair_keeps_the_damaged_journal_aside_and_what_the_spool_proves() {
    let dir = tempfile::tempdir().unwrap();
    let original = journal_with_files(dir.path(), 6, 4, 1);
    // Line 3 (shot 2's capture) is garbage; shot 3's photo changed in the
    // spool; shot 1's left the spool after its upload.
    damage_line(dir.path(), 3, "\u{0}\u{0}garbage");
    fs::write(dir.path().join("t_3.jpg"), "something else").unwrap();
    fs::remove_file(dir.path().join("t_1.jpg")).unwrap();
    let damaged = fs::read(dir.path().join(JOURNAL_FILE)).unwrap();
    assert_ne!(damaged, original);

    let repaired = repair(dir.path()).unwrap().expect("repaired");
    assert_eq!(repaired.skipped.len(), 1);
    assert_eq!(repaired.skipped[0].line, 3);
    assert_eq!(repaired.unproven, [ShotId(3)]);
    assert_eq!(
        fs::read(&repaired.kept_aside).unwrap(),
        damaged,
        "kept as it was"
    );

    let scan = replay(dir.path()).unwrap();
    assert!(scan.skipped.is_empty(), "the new journal is clean");
    assert_eq!(
        scan.uploaded.keys().copied().collect::<Vec<_>>(),
        [ShotId(1)]
    );
    // Shot 2's record is lost and shot 3's photo unproven: both are taken
    // again; shot 4 still waits for its upload.
    use ShotState::*;
    assert_eq!(
        scan.shot_states(),
        [Uploaded, Pending, Pending, Captured, Pending, Pending]
    );
    assert_eq!(repair(dir.path()).unwrap(), None, "nothing more to repair");
}

#[test]
fn a_lost_capture_of_an_uploaded_shot_is_recovered_from_its_upload_record() {
    let dir = tempfile::tempdir().unwrap();
    journal_with_files(dir.path(), 3, 3, 2);
    let before = replay(dir.path()).unwrap();
    // Line 2 is shot 1's capture; shot 1 was uploaded and left the spool.
    damage_line(dir.path(), 2, "garbage");
    fs::remove_file(dir.path().join("t_1.jpg")).unwrap();
    repair(dir.path()).unwrap().expect("repaired");
    let after = replay(dir.path()).unwrap();
    assert_eq!(after.captured[&ShotId(1)].1, before.captured[&ShotId(1)].1);
    assert_eq!(after.uploaded, before.uploaded);
    assert_eq!(after.pending_uploads(), [ShotId(3)]);
}

#[test]
fn a_journal_whose_first_line_is_damaged_cannot_be_recovered() {
    let dir = tempfile::tempdir().unwrap();
    journal_with_files(dir.path(), 2, 1, 0);
    damage_line(dir.path(), 1, "{not json");
    let err = replay(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("does not begin with a readable scan_started"),
        "{err}"
    );
    assert!(err.contains("move its folder aside"), "{err}");
    assert!(repair(dir.path()).is_err());
}

#[test]
fn appending_after_a_torn_last_line_keeps_the_journal_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = torn_journal(dir.path());
    let mut j = JournalWriter::open(dir.path()).unwrap();
    j.append(&Record::ShotCaptured {
        shot: ShotId(1),
        at: 2,
        files: file(1),
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(
        scan.captured.keys().copied().collect::<Vec<_>>(),
        [ShotId(1)]
    );
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn scan_dirs_lists_only_folders_with_a_journal_oldest_first() {
    let spool = tempfile::tempdir().unwrap();
    for name in ["20260102T000000Z-b", "20260101T000000Z-a"] {
        JournalWriter::open(&spool.path().join(name)).unwrap();
    }
    fs::create_dir(spool.path().join("stray")).unwrap();
    let dirs = scan_dirs(spool.path()).unwrap();
    let names: Vec<_> = dirs.iter().map(|d| d.file_name().unwrap()).collect();
    assert_eq!(names, ["20260101T000000Z-a", "20260102T000000Z-b"]);
    assert!(scan_dirs(&spool.path().join("missing")).unwrap().is_empty());
}

/// A photo of camera `camera` of shot `shot` of [`plan`], frame `frame`
/// of its set, as the spool holds it.
fn photo(plan: &ScanPlan, shot: u32, camera: &str, frame: usize) -> Vec<SpoolFile> {
    let part = Part {
        camera: Some(CameraName::new(camera).unwrap()),
        frame,
    };
    let name = plan.photo(ShotId(shot), &part, 1);
    vec![SpoolFile {
        name: name.file("jpg"),
        sha256: "cd".repeat(32),
        size: 10 + frame as u64,
        pixels: Some([640, 480]),
        camera: name.camera,
        frame: name.frame,
    }]
}

#[test]
fn parts_of_a_shot_not_captured_whole_are_kept_by_camera_name_and_forgotten_once_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let mut p = plan(2);
    p.bracket = Some(Box::new(crate::model::Bracket {
        kind: crate::model::BracketKind::Exposure,
        frames: vec![BTreeMap::new(); 3],
        after: BTreeMap::new(),
    }));
    j.append(&Record::ScanStarted {
        at: 1,
        plan: p.clone(),
    })
    .unwrap();
    let part = |shot: u32, camera: &str, frame: usize| Record::PartCaptured {
        shot: ShotId(shot),
        at: 2,
        files: photo(&p, shot, camera, frame),
    };
    for record in [part(1, "low", 0), part(1, "low", 1), part(2, "high", 0)] {
        j.append(&record).unwrap();
    }
    j.append(&Record::ShotCaptured {
        shot: ShotId(1),
        at: 3,
        files: file(1),
    })
    .unwrap();
    // A part record committed after its shot's capture is of no account.
    j.append(&part(1, "low", 2)).unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.parts.len(), 1, "{:?}", scan.parts);
    let high = Part {
        camera: Some(CameraName::new("high").unwrap()),
        frame: 0,
    };
    assert_eq!(
        scan.parts[&ShotId(2)],
        BTreeMap::from([(high, photo(&p, 2, "high", 0))])
    );
    // The journal says which camera and frame, not only the file's name.
    let line = fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
    assert!(line.contains(r#""camera":"high","frame":1"#), "{line}");
    use ShotState::*;
    assert_eq!(scan.shot_states(), [Captured, Pending]);
}

#[test]
fn a_journal_that_numbered_a_column_s_cameras_is_read_by_the_names_of_its_files() {
    // Written by scanrig before parts were recorded by camera name: a
    // column of `low` then `high`, `camera` its place in that list.
    let p = plan(2);
    let stem = |shot: u32| p.shot(ShotId(shot)).stem.clone();
    let file = |name: String| {
        format!(
            r#"{{"name":"{name}","sha256":"{}","size":5,"pixels":[640,480]}}"#,
            "ab".repeat(32)
        )
    };
    let lines = [
        format!(
            r#"{{"record":"scan_started","at":1,"plan":{}}}"#,
            serde_json::to_string(&p).unwrap()
        ),
        format!(
            r#"{{"record":"part_captured","shot":1,"at":2,"camera":0,"frame":0,"files":[{}]}}"#,
            file(format!("{}_low.jpg", stem(1)))
        ),
        format!(
            r#"{{"record":"part_captured","shot":1,"at":2,"camera":1,"frame":0,"files":[{}]}}"#,
            file(format!("{}_high.jpg", stem(1)))
        ),
        format!(
            r#"{{"record":"shot_captured","shot":1,"at":3,"files":[{},{}]}}"#,
            file(format!("{}_low.jpg", stem(1))),
            file(format!("{}_high.jpg", stem(1)))
        ),
        format!(
            r#"{{"record":"part_captured","shot":2,"at":4,"camera":0,"frame":0,"files":[{}]}}"#,
            file(format!("{}_low.jpg", stem(2)))
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(JOURNAL_FILE), lines.join("\n") + "\n").unwrap();
    let scan = replay(dir.path()).unwrap();
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    let name = |n: &str| Some(CameraName::new(n).unwrap());
    // The part of stop 2 is the low camera's, wherever `low` stands in
    // the column now.
    let parts: Vec<&Part> = scan.parts[&ShotId(2)].keys().collect();
    assert_eq!(
        parts,
        [&Part {
            camera: name("low"),
            frame: 0
        }]
    );
    let captured: Vec<_> = scan.captured[&ShotId(1)]
        .1
        .iter()
        .map(|f| (f.camera.clone(), f.frame))
        .collect();
    assert_eq!(
        captured,
        [(name("low"), Frame::Only), (name("high"), Frame::Only)]
    );
}

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

/// A plan of `n` shots sent to two destinations, `nas` and `offsite`.
pub(crate) fn plan_to_two(n: u32) -> ScanPlan {
    let mut p = plan(n);
    let target = |name: &str| crate::model::Target {
        name: name.into(),
        place: Place::Local {
            dir: format!("/{name}").into(),
        },
    };
    p.destinations = vec![target("nas"), target("offsite")];
    p.destination = Some(p.destinations[0].place.clone());
    p
}

#[test]
fn a_scan_sent_to_two_destinations_counts_a_shot_sent_once_both_have_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let p = plan_to_two(2);
    j.append(&Record::ScanStarted { at: 1, plan: p }).unwrap();
    let sent = |shot: u32, to: &str| Record::ShotUploaded {
        shot: ShotId(shot),
        at: 3,
        remote: vec![format!("{to}-{shot}")],
        files: Vec::new(),
        to: Some(to.into()),
    };
    for n in 1..=2 {
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 2,
            files: file(n),
        })
        .unwrap();
    }
    j.append(&sent(1, "offsite")).unwrap();
    j.append(&sent(2, "nas")).unwrap();
    j.append(&sent(1, "nas")).unwrap();
    j.append(&Record::ManifestUploaded {
        at: 4,
        remote: "m-offsite".into(),
        to: Some("offsite".into()),
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    // Shot 1 is at both (the first destination's ids stand for it); shot
    // 2 only at the NAS.
    assert_eq!(
        scan.uploaded,
        BTreeMap::from([(ShotId(1), vec!["nas-1".to_owned()])])
    );
    assert_eq!(scan.pending_uploads(), [ShotId(2)]);
    let [nas, offsite] = &scan.plan.sent_to()[..] else {
        panic!("two destinations: {:?}", scan.plan.sent_to());
    };
    assert_eq!(nas.name.as_deref(), Some("nas"));
    assert_eq!(scan.waiting_at(nas), Vec::<ShotId>::new());
    assert_eq!(scan.waiting_at(offsite), [ShotId(2)]);
    // Each destination's view has its own ids and manifest.
    assert_eq!(
        scan.at(offsite).uploaded.keys().collect::<Vec<_>>(),
        [&ShotId(1)]
    );
    assert_eq!(scan.at(offsite).manifest.as_deref(), Some("m-offsite"));
    assert_eq!(scan.at(nas).manifest, None);
    assert_eq!(
        scan.manifest, None,
        "the manifest is not at every destination"
    );
    assert!(!scan.is_settled());
    // The last photo and manifest at the other: the scan is whole.
    j.append(&sent(2, "offsite")).unwrap();
    j.append(&Record::ManifestUploaded {
        at: 5,
        remote: "m-nas".into(),
        to: Some("nas".into()),
    })
    .unwrap();
    j.append(&Record::ScanFinished {
        at: 6,
        outcome: Outcome::Completed,
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    assert!(scan.pending_uploads().is_empty());
    assert_eq!(scan.manifest.as_deref(), Some("m-nas"));
    assert!(scan.is_settled());
}

#[test]
fn a_journal_of_one_destination_still_reads_as_it_was_written() {
    // As written before scans went to several destinations.
    let dir = tempfile::tempdir().unwrap();
    let p = plan(1);
    let lines = [
        serde_json::json!({"record": "scan_started", "at": 1, "plan": p}),
        serde_json::json!({"record": "shot_captured", "shot": 1, "at": 2, "files": file(1)}),
        serde_json::json!({"record": "shot_uploaded", "shot": 1, "at": 3, "remote": ["r1"]}),
        serde_json::json!({"record": "manifest_uploaded", "at": 4, "remote": "m"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(dir.path().join(JOURNAL_FILE), text).unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.plan.sent_to().len(), 1);
    assert_eq!(scan.plan.sent_to()[0].name, None);
    assert_eq!(scan.uploaded[&ShotId(1)], ["r1"]);
    assert_eq!(scan.manifest.as_deref(), Some("m"));
    assert!(scan.delivered.is_empty());
    // Written again, a record of one destination names none.
    let again = serde_json::to_string(&Record::ShotUploaded {
        shot: ShotId(1),
        at: 3,
        remote: vec!["r1".into()],
        files: Vec::new(),
        to: None,
    })
    .unwrap();
    assert!(!again.contains("\"to\""), "{again}");
}
