//! Setting a damaged journal aside: the lines that are records are kept,
//! checked against the spool's files, and written as a fresh journal; the
//! damaged one stays beside it for inspection.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use scanrig_hardware::fsutil::{digest_file, sync_parent, DurableFile};

use super::{read_lines, Record, ReplayError, ScanRecord, SkippedLine, JOURNAL_FILE};
use crate::clock::unix_millis_now;
use crate::model::{ShotId, SpoolFile};

/// What [`repair`] did to a damaged journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// Where the damaged journal is kept.
    pub kept_aside: PathBuf,
    /// The lines that were not records.
    pub skipped: Vec<SkippedLine>,
    /// Captured shots whose photo in the spool no longer matches its
    /// record: they count as not taken (a resumed scan takes them again).
    pub unproven: Vec<ShotId>,
}

/// Repairs the journal in `scan_dir` if lines in it are not records: keeps
/// a copy of it as `journal.jsonl.damaged-<ms>`, then replaces it with the
/// records it holds, less the captures the spool no longer proves. A photo
/// missing from the spool still counts (it may have been uploaded and
/// removed: the destination is asked before it is sent again).
pub fn repair(scan_dir: &Path) -> Result<Option<Repaired>, ReplayError> {
    let path = scan_dir.join(JOURNAL_FILE);
    let lines = read_lines(&path)?;
    if lines.parsed.skipped.is_empty() {
        return Ok(None);
    }
    let records = lines.parsed.items.iter().map(|(_, r)| r.clone());
    let scan = ScanRecord::from_records(scan_dir, records, Vec::new());
    let unproven: BTreeSet<ShotId> = scan
        .captured
        .iter()
        .filter(|(shot, _)| !scan.uploaded.contains_key(shot) && !scan.sources.contains_key(shot))
        .filter(|(_, (_, files))| files.iter().any(|f| changed(scan_dir, f)))
        .map(|(shot, _)| *shot)
        .collect();
    let io_err = |source| ReplayError::Io {
        path: path.clone(),
        source,
    };
    let kept_aside = scan_dir.join(format!("{JOURNAL_FILE}.damaged-{}", unix_millis_now()));
    keep_copy(&path, &kept_aside).map_err(io_err)?;
    let mut out = DurableFile::create(&path).map_err(io_err)?;
    for (i, record) in &lines.parsed.items {
        if !concerns(record, &unproven) {
            out.write_all(lines.text(*i)).map_err(io_err)?;
            out.write_all(b"\n").map_err(io_err)?;
        }
    }
    out.commit().map_err(io_err)?;
    Ok(Some(Repaired {
        kept_aside,
        skipped: lines.parsed.skipped,
        unproven: unproven.into_iter().collect(),
    }))
}

/// Whether a spool file is there but no longer what was captured.
fn changed(scan_dir: &Path, file: &SpoolFile) -> bool {
    match digest_file(&scan_dir.join(&file.name)) {
        Ok(d) => d.sha256 != file.sha256,
        Err(_) => false,
    }
}

/// Whether a record is about the capture of one of `shots`.
fn concerns(record: &Record, shots: &BTreeSet<ShotId>) -> bool {
    match record {
        Record::ShotCaptured { shot, .. }
        | Record::PartCaptured { shot, .. }
        | Record::UploadFailed { shot, .. }
        | Record::ShotDamaged { shot, .. } => shots.contains(shot),
        _ => false,
    }
}

/// Copies `from` to `to`, durably.
fn keep_copy(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)?;
    fs::File::open(to)?.sync_all()?;
    sync_parent(to)
}
