//! Replay: what was captured and uploaded, failed uploads, and the scan
//! folders that hold a journal.

use super::*;

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
