//! Unit tests of the scans index: retiring, a torn last line, retention.

use super::*;
use crate::journal::tests::{file, plan};
use crate::journal::{replay, Record};
use crate::model::ShotId;

const DAY: u64 = 86_400_000;

/// A scan of two shots in `spool`, both captured (photos in the folder);
/// uploaded, finished and its manifest sent if `settled`.
fn scan(spool: &Path, settled: bool) -> ScanRecord {
    let p = plan(2);
    let dir = spool.join(p.scan.as_str());
    let mut j = JournalWriter::open(&dir).unwrap();
    j.append(&Record::ScanStarted { at: 1, plan: p }).unwrap();
    for n in 1..=2 {
        let files = file(n);
        fs::write(dir.join(&files[0].name), b"photo").unwrap();
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 2,
            files: files.clone(),
        })
        .unwrap();
        if settled {
            j.append(&Record::ShotUploaded {
                shot: ShotId(n),
                at: 3,
                remote: vec![format!("r{n}")],
                files,
            })
            .unwrap();
        }
    }
    if settled {
        j.append(&Record::ScanFinished {
            at: 4,
            outcome: Outcome::Completed,
        })
        .unwrap();
        j.append(&Record::ManifestUploaded {
            at: 5,
            remote: "m".into(),
        })
        .unwrap();
    }
    replay(&dir).unwrap()
}

const KEEP: Retention = Retention {
    scans: 100,
    days: 30,
};

#[test]
fn a_settled_scan_becomes_one_summary_and_its_folder_goes() {
    let spool = tempfile::tempdir().unwrap();
    let record = scan(spool.path(), true);
    assert!(retire(spool.path(), &record, false, &KEEP, 10, |_| Ok(())).unwrap());
    assert!(!spool.path().join(record.id().as_str()).exists());
    let history = History::read(spool.path()).unwrap();
    assert!(history.contains(record.id()));
    let s = &history.scans[0];
    assert_eq!((s.planned, s.captured, s.uploaded, s.missing), (2, 2, 2, 0));
    assert_eq!(s.manifest, "m");
    assert_eq!(s.photos.get("t_2.jpg").map(String::as_str), Some("r2"));
    assert_eq!(s.outcome, Outcome::Completed);
}

#[test]
fn kept_photos_stay_without_the_journal() {
    let spool = tempfile::tempdir().unwrap();
    let record = scan(spool.path(), true);
    fs::write(
        spool.path().join(record.id().as_str()).join(BACKLOG_FILE),
        "{}",
    )
    .unwrap();
    assert!(retire(spool.path(), &record, true, &KEEP, 10, |_| Ok(())).unwrap());
    let dir = spool.path().join(record.id().as_str());
    let mut left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["t_1.jpg", "t_2.jpg"]);
}

#[test]
fn a_scan_with_photos_to_send_is_not_retired() {
    let spool = tempfile::tempdir().unwrap();
    let record = scan(spool.path(), false);
    assert!(!retire(spool.path(), &record, false, &KEEP, 10, |_| Ok(())).unwrap());
    assert!(spool
        .path()
        .join(record.id().as_str())
        .join(JOURNAL_FILE)
        .is_file());
    assert!(History::read(spool.path()).unwrap().scans.is_empty());
}

#[test]
fn a_torn_last_summary_is_ignored_and_cut_off_by_the_next() {
    let spool = tempfile::tempdir().unwrap();
    let record = scan(spool.path(), true);
    assert!(retire(spool.path(), &record, false, &KEEP, 10, |_| Ok(())).unwrap());
    let index = spool.path().join(INDEX_FILE);
    let whole = fs::read(&index).unwrap();
    // A power cut in the middle of the next summary.
    let mut torn = whole.clone();
    torn.extend_from_slice(&whole[..whole.len() / 2]);
    fs::write(&index, &torn).unwrap();
    let history = History::read(spool.path()).unwrap();
    assert_eq!(history.scans.len(), 1);
    assert!(history.skipped.is_empty());

    let mut again = scan(spool.path(), true);
    again.plan.scan = ScanId::from_existing("20270115T120000Z-t");
    let dir = spool.path().join(again.id().as_str());
    fs::create_dir_all(&dir).unwrap();
    assert!(retire(spool.path(), &again, false, &KEEP, 11, |_| Ok(())).unwrap());
    let history = History::read(spool.path()).unwrap();
    assert_eq!(history.scans.len(), 2);
    assert!(history.skipped.is_empty(), "{:?}", history.skipped);
}

#[test]
fn retention_forgets_the_oldest_and_the_stale() {
    let spool = tempfile::tempdir().unwrap();
    let keep = Retention { scans: 5, days: 2 };
    let record = scan(spool.path(), true);
    let mut writer = JournalWriter::open_file(&spool.path().join(INDEX_FILE)).unwrap();
    for i in 0..20u64 {
        let mut s = RetiredScan::from_record(&record, i * DAY / 4).unwrap();
        s.id = ScanId::from_existing(&format!("scan-{i:02}"));
        writer.append(&s).unwrap();
    }
    let now = 20 * DAY / 4;
    let history = History::read(spool.path()).unwrap();
    let kept: Vec<_> = history
        .kept(&keep, now)
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(
        kept,
        ["scan-15", "scan-16", "scan-17", "scan-18", "scan-19"]
    );
    // Two days' worth are within the age; the count keeps five of them.
    let young = Retention {
        scans: 100,
        days: 2,
    };
    assert_eq!(history.kept(&young, now).len(), 8);

    // Retiring one more rewrites the index down to the retention.
    assert!(retire(spool.path(), &record, false, &keep, now, |_| Ok(())).unwrap());
    let history = History::read(spool.path()).unwrap();
    assert_eq!(history.scans.len(), 5);
    assert_eq!(history.scans.last().unwrap().id, *record.id());
}
