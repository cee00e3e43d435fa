//! Unit tests of the scans index: retiring, a torn last line, retention,
//! the memory a retirement holds (counted by this test binary's allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

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
                to: None,
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
            to: None,
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

/// Counts the bytes each thread holds, and the most it held.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn held(change: isize) {
    // A thread being torn down counts no more.
    let _ = HELD.try_with(|held| {
        let now = held.get() + change;
        held.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call goes to the system allocator unchanged; the counts
// are thread-local cells, which neither allocate nor lock.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            held(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        held(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, size);
        if !q.is_null() {
            held(size as isize - layout.size() as isize);
        }
        q
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The most memory `f` held at once on this thread, in bytes.
fn peak_of(f: impl FnOnce()) -> usize {
    let before = HELD.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    f();
    (PEAK.with(Cell::get) - before) as usize
}

#[test]
fn a_retirement_holds_one_summary_in_memory_however_many_are_remembered() {
    let spool = tempfile::tempdir().unwrap();
    let record = scan(spool.path(), true);
    // A thousand scans of 36 photos remembered: 4 KB a line, 4 MB in all.
    let mut summary = RetiredScan::from_record(&record, 0).unwrap();
    summary.photos = (1..=36)
        .map(|n| {
            let name = format!("object_{n:04}_r1_az{:05.1}_t+00.0.jpg", f64::from(n) * 10.0);
            let id = format!("/srv/scans/rig-1/20261207T120000Z-object/{name}");
            (name, id)
        })
        .collect();
    let mut index = Vec::new();
    for i in 0..1000u64 {
        summary.id = ScanId::from_existing(&format!("scan-{i:04}"));
        summary.retired_at = i;
        index.extend(serde_json::to_vec(&summary).unwrap());
        index.push(b'\n');
    }
    assert!(index.len() > 4_000_000, "{}", index.len());
    fs::write(spool.path().join(INDEX_FILE), &index).unwrap();
    let now = 2000;

    let remembered = Retention {
        scans: 1000,
        days: 30,
    };
    let retiring = peak_of(|| {
        assert!(retire(spool.path(), &record, false, &remembered, now, |_| Ok(())).unwrap());
    });
    assert!(retiring < 64 * 1024, "retiring held {retiring} bytes");
    let ids = peak_of(|| assert_eq!(History::ids(spool.path()).unwrap().len(), 1001));
    assert!(ids < 256 * 1024, "reading the ids held {ids} bytes");
    // A new scan's id meets only those of scans started since.
    let since = ScanId::from_existing("scan-0998");
    let mut later = HashSet::new();
    let from = peak_of(|| later = History::ids_from(spool.path(), &since).unwrap());
    let mut later: Vec<_> = later.iter().map(ScanId::as_str).collect();
    later.sort_unstable();
    assert_eq!(later, ["scan-0998", "scan-0999"]);
    assert!(from < 32 * 1024, "reading the later ids held {from} bytes");

    // Retiring the next one prunes the index down to 900 scans: no more.
    let fewer = Retention {
        scans: 900,
        days: 30,
    };
    let mut next = scan(spool.path(), true);
    next.plan.scan = ScanId::from_existing("20270115T120000Z-t");
    fs::create_dir_all(spool.path().join(next.id().as_str())).unwrap();
    let pruning = peak_of(|| {
        assert!(retire(spool.path(), &next, false, &fewer, now, |_| Ok(())).unwrap());
    });
    assert!(pruning < 256 * 1024, "pruning held {pruning} bytes");
    let history = History::read(spool.path()).unwrap();
    let ids: Vec<&str> = history.scans.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 900);
    assert_eq!(&ids[..2], ["scan-0102", "scan-0103"]);
    assert_eq!(&ids[898..], [record.id().as_str(), next.id().as_str()]);
    assert_eq!(history.scans[0].photos, summary.photos);
    assert!(history.skipped.is_empty());
}
