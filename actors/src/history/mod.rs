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

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use scanrig_hardware::fsutil::{sync_parent, DurableFile};
use serde::{Deserialize, Serialize};

use crate::backlog::BACKLOG_FILE;
use crate::journal::{parse_lines, JournalWriter, ScanRecord, SkippedLine, JOURNAL_FILE};
use crate::model::{Outcome, Place, ScanId};

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
    /// Where its photos went.
    pub destination: Option<Place>,
    /// The destination's id of `manifest.json`.
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
        let (summaries, skipped) = read_index::<RetiredScan>(spool)?;
        let mut history = History {
            skipped,
            ..History::default()
        };
        let mut by_id: BTreeMap<ScanId, usize> = BTreeMap::new();
        for scan in summaries {
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
        }
        history.ids = by_id.into_keys().collect();
        Ok(history)
    }

    /// The ids of the retired scans of `spool` only (quicker than
    /// [`History::read`]: the rest of each line is skipped).
    pub fn ids(spool: &Path) -> io::Result<HashSet<ScanId>> {
        #[derive(Deserialize)]
        struct Id {
            id: ScanId,
        }
        let (ids, _) = read_index::<Id>(spool)?;
        Ok(ids.into_iter().map(|i| i.id).collect())
    }

    /// Whether the scan is retired.
    pub fn contains(&self, id: &ScanId) -> bool {
        self.ids.contains(id)
    }

    /// The retired scans remembered at `now`, oldest first.
    pub fn kept(&self, retention: &Retention, now: u64) -> &[RetiredScan] {
        let horizon = retention.horizon(now);
        let fresh = self.scans.partition_point(|s| s.retired_at < horizon);
        let first = fresh.max(self.scans.len().saturating_sub(retention.scans));
        &self.scans[first..]
    }
}

/// The index's lines read as `T`, and the damaged ones.
fn read_index<T: serde::de::DeserializeOwned>(
    spool: &Path,
) -> io::Result<(Vec<T>, Vec<SkippedLine>)> {
    let bytes = match fs::read(spool.join(INDEX_FILE)) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let parsed = parse_lines::<T>(&bytes);
    Ok((
        parsed.items.into_iter().map(|(_, item)| item).collect(),
        parsed.skipped,
    ))
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
/// rewritten at every retirement.
fn prune(spool: &Path, retention: &Retention, now: u64) -> io::Result<()> {
    let history = History::read(spool)?;
    let slack = Retention {
        scans: retention.scans + retention.scans / 10,
        days: retention.days + 1,
    };
    if history.kept(&slack, now).len() == history.scans.len() {
        return Ok(());
    }
    let mut out = DurableFile::create(&spool.join(INDEX_FILE))?;
    for scan in history.kept(retention, now) {
        let mut line = serde_json::to_vec(scan).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests;
