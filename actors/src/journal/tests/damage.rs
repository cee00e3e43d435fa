//! Torn and damaged journals: a torn last line ignored or cut off, damaged
//! lines skipped, and repair keeping what the spool proves.

use super::*;

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
