//! The scans index: what the rig remembers of scans that are over and
//! whose photos are all where they can go. Such a scan is *retired*: its
//! journal is compacted into one summary line of `scans.jsonl` in the
//! spool, and its spool folder is removed (only its photos stay when the
//! spool keeps uploaded photos). Start-up then reads this index and the
//! journals of unfinished scans only.
//!
//! Retiring is crash-safe. The summary is appended and fsync'd first; only
//! then does the journal go, last of the folder's files. A crash before the
//! summary is on disk leaves the journal (the old form: the scan is retired
//! again at the next start); after it, the index wins and the next start
//! removes what is left of the folder. A torn last line of the index (a
//! power cut mid-append) is ignored and cut off by the next append; the
//! index is pruned to its retention by rewriting it whole (temp file,
//! fsync, rename).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::{self, BufRead, Write};
use std::path::Path;

use scanrig_hardware::fsutil::{sync_parent, DurableFile};
use serde::{Deserialize, Serialize};

use crate::backlog::BACKLOG_FILE;
use crate::journal::{JournalWriter, ScanRecord, SkippedLine, JOURNAL_FILE};
use crate::model::{Outcome, Place, ScanId, Target};

/// Name of the scans index inside the spool folder.
pub const INDEX_FILE: &str = "scans.jsonl";

/// What is kept of a retired scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredScan {
    /// The scan's id (its folder's name, here and at the destination).
    pub id: ScanId,
    /// The profile it followed.
    pub profile: String,
    /// When it started, Unix milliseconds.
    pub started_at: u64,
    /// When it was retired, Unix milliseconds.
    pub retired_at: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Shots planned.
    pub planned: usize,
    /// Shots captured.
    pub captured: usize,
    /// Shots at the destination.
    pub uploaded: usize,
    /// Captured shots that never got there (damaged in the spool).
    pub missing: usize,
    /// Where its photos went (the first destination, for a scan sent to
    /// several).
    pub destination: Option<Place>,
    /// Every destination its photos went to, for a scan sent to several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Target>,
    /// The destination's id of `manifest.json` (at the first).
    pub manifest: String,
    /// The destination's id of every photo file, by file name.
    pub photos: BTreeMap<String, String>,
}

impl RetiredScan {
    /// The summary of a scan, if it is over and nothing of it is left to
    /// send (its manifest included).
    pub fn from_record(record: &ScanRecord, now: u64) -> Option<RetiredScan> {
        if !record.is_settled() {
            return None;
        }
        let mut photos = BTreeMap::new();
        for (shot, remote) in &record.uploaded {
            if let Some((_, files)) = record.captured.get(shot) {
                for (file, id) in files.iter().zip(remote) {
                    photos.insert(file.name.clone(), id.clone());
                }
            }
        }
        Some(RetiredScan {
            id: record.id().clone(),
            profile: record.plan.profile.clone(),
            started_at: record.started_at,
            retired_at: now,
            outcome: record.finished?,
            planned: record.plan.shots.len(),
            captured: record.captured.len(),
            uploaded: record.uploaded.len(),
            missing: record.captured.len() - record.uploaded.len(),
            destination: record.plan.destination.clone(),
            destinations: record.plan.destinations.clone(),
            manifest: record.manifest.clone()?,
            photos,
        })
    }
}

/// How long retired scans are remembered: the newest `scans` of them, and
/// none retired more than `days` ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// At most this many.
    pub scans: usize,
    /// For at most this many days.
    pub days: u64,
}

impl Retention {
    /// The oldest retirement time (Unix ms) still remembered at `now`.
    fn horizon(&self, now: u64) -> u64 {
        now.saturating_sub(self.days.saturating_mul(86_400_000))
    }

    /// Where the scans remembered at `now` begin in `retired` (oldest
    /// retirement first; `at` tells when one was retired).
    fn first_kept<T>(&self, retired: &[T], at: impl Fn(&T) -> u64, now: u64) -> usize {
        let horizon = self.horizon(now);
        let fresh = retired.partition_point(|s| at(s) < horizon);
        fresh.max(retired.len().saturating_sub(self.scans))
    }
}

/// The scans index as read from the spool.
#[derive(Debug, Default)]
pub struct History {
    /// Retired scans, oldest retirement first (one entry per id).
    pub scans: Vec<RetiredScan>,
    /// Damaged lines, skipped (a torn last line is not counted).
    pub skipped: Vec<SkippedLine>,
    ids: HashSet<ScanId>,
}

impl History {
    /// Reads the index of `spool` (empty when there is none).
    pub fn read(spool: &Path) -> io::Result<History> {
        let mut history = History::default();
        let mut by_id: BTreeMap<ScanId, usize> = BTreeMap::new();
        history.skipped = each_line::<RetiredScan>(spool, |_, scan, _| {
            match by_id.get(&scan.id) {
                // Retired twice (a crash between the summary and the
                // journal's removal, then a copy of the folder put back):
                // the later summary wins.
                Some(&at) => history.scans[at] = scan,
                None => {
                    by_id.insert(scan.id.clone(), history.scans.len());
                    history.scans.push(scan);
                }
            }
            Ok(())
        })?;
        history.ids = by_id.into_keys().collect();
        Ok(history)
    }

    /// The ids of the retired scans of `spool` only (quicker than
    /// [`History::read`]: the rest of each line is skipped).
    pub fn ids(spool: &Path) -> io::Result<HashSet<ScanId>> {
        ids_where(spool, |_| true)
    }

    /// The ids of the retired scans of `spool` that sort at or after
    /// `first` (an id starts with its scan's start time): the few a new
    /// scan's id could meet, without the ids of every scan remembered.
    pub fn ids_from(spool: &Path, first: &ScanId) -> io::Result<HashSet<ScanId>> {
        ids_where(spool, |id| id >= first)
    }

    /// Whether the scan is retired.
    pub fn contains(&self, id: &ScanId) -> bool {
        self.ids.contains(id)
    }

    /// The retired scans remembered at `now`, oldest first.
    pub fn kept(&self, retention: &Retention, now: u64) -> &[RetiredScan] {
        &self.scans[retention.first_kept(&self.scans, |s| s.retired_at, now)..]
    }
}

/// The ids of the retired scans of `spool` that `wanted` says to keep.
fn ids_where(spool: &Path, wanted: impl Fn(&ScanId) -> bool) -> io::Result<HashSet<ScanId>> {
    let mut ids = HashSet::new();
    each_line::<Stamp>(spool, |_, stamp, _| {
        if wanted(&stamp.id) {
            ids.insert(stamp.id);
        }
        Ok(())
    })?;
    Ok(ids)
}

/// A summary read for its id and retirement time only.
#[derive(Deserialize)]
struct Stamp {
    id: ScanId,
    retired_at: u64,
}

/// Hands `each` every line of the index of `spool` that reads as `T`: its
/// number (from 0), the item and its text. One line is in memory at a
/// time, however many scans the index remembers. Returns the damaged lines
/// (a torn last line is not one).
fn each_line<T: serde::de::DeserializeOwned>(
    spool: &Path,
    mut each: impl FnMut(usize, T, &[u8]) -> io::Result<()>,
) -> io::Result<Vec<SkippedLine>> {
    let file = match fs::File::open(spool.join(INDEX_FILE)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut reader = io::BufReader::new(file);
    let (mut line, mut skipped) = (Vec::new(), Vec::new());
    // A line that does not read: damaged, unless it is the last.
    let mut unread: Option<SkippedLine> = None;
    for n in 0.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        skipped.extend(unread.take());
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        match serde_json::from_slice::<T>(text) {
            Ok(item) => each(n, item, text)?,
            Err(e) => {
                unread = Some(SkippedLine {
                    line: n + 1,
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(skipped)
}

/// Retires a settled scan: `first` is told its summary (to queue its
/// hooks), the summary goes into the index, then its spool folder goes
/// (its photos stay if `keep_photos`). Returns `false`, doing nothing, for
/// a scan that is not settled.
pub fn retire(
    spool: &Path,
    record: &ScanRecord,
    keep_photos: bool,
    retention: &Retention,
    now: u64,
    first: impl FnOnce(&RetiredScan) -> io::Result<()>,
) -> io::Result<bool> {
    let Some(summary) = RetiredScan::from_record(record, now) else {
        return Ok(false);
    };
    first(&summary)?;
    JournalWriter::open_file(&spool.join(INDEX_FILE))?.append(&summary)?;
    clear_folder(&spool.join(summary.id.as_str()), keep_photos)?;
    prune(spool, retention, now)?;
    Ok(true)
}

/// Removes what is left of a retired scan's spool folder: every file but
/// its photos (if kept), the journal last, so that a crash half-way leaves
/// a journal for the next start to find and finish.
pub fn clear_folder(dir: &Path, keep_photos: bool) -> io::Result<()> {
    let journal = dir.join(JOURNAL_FILE);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let bookkeeping = name.starts_with(JOURNAL_FILE) || name == BACKLOG_FILE;
        if path == journal || (keep_photos && !bookkeeping) {
            continue;
        }
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    match fs::remove_file(&journal) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if keep_photos {
        fs::File::open(dir)?.sync_all()
    } else {
        fs::remove_dir(dir)?;
        sync_parent(dir)
    }
}

/// Rewrites the index without the scans its retention forgets, once they
/// are a tenth of it (or a day's worth) past it, so that it is not
/// rewritten at every retirement. Neither the test nor the rewrite holds
/// more than one summary in memory: a retirement costs the same memory
/// with ten scans remembered or a thousand.
fn prune(spool: &Path, retention: &Retention, now: u64) -> io::Result<()> {
    let slack = Retention {
        scans: retention.scans + retention.scans / 10,
        days: retention.days + 1,
    };
    let (mut lines, mut oldest) = (0, u64::MAX);
    each_line::<Stamp>(spool, |_, stamp, _| {
        lines += 1;
        oldest = oldest.min(stamp.retired_at);
        Ok(())
    })?;
    if lines <= slack.scans && oldest >= slack.horizon(now) {
        return Ok(());
    }
    // Each scan's latest summary, in the order of the index (as
    // `History::read` has them): which line holds it, and when.
    let mut latest: Vec<(usize, u64)> = Vec::new();
    let mut by_id: HashMap<ScanId, usize> = HashMap::new();
    each_line::<Stamp>(spool, |n, stamp, _| {
        match by_id.get(&stamp.id) {
            Some(&at) => latest[at] = (n, stamp.retired_at),
            None => {
                by_id.insert(stamp.id, latest.len());
                latest.push((n, stamp.retired_at));
            }
        }
        Ok(())
    })?;
    drop(by_id);
    let first = retention.first_kept(&latest, |&(_, at)| at, now);
    let kept: HashSet<usize> = latest[first..].iter().map(|&(n, _)| n).collect();
    let mut out = DurableFile::create(&spool.join(INDEX_FILE))?;
    each_line::<serde::de::IgnoredAny>(spool, |n, _, text| {
        if kept.contains(&n) {
            out.write_all(text)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    out.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests;
