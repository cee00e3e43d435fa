//! The scan journal: one append-only file of JSON lines per scan, each line
//! fsync'd before it counts. Replaying it tells what was captured, what
//! reached the destination and where an interrupted scan goes on;
//! [`repair`] sets a damaged journal aside and keeps what it can prove.

pub mod commit;
mod lines;
mod record;
mod repair;
mod replay;
mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::ScanPlan;

pub(crate) use lines::{parse_lines, read_lines};
pub use lines::{ReplayError, SkippedLine};
pub use record::Record;
pub use repair::{repair, Repaired};
pub use scan::{take_of, Retaken, ScanRecord};

/// Name of the journal file inside a scan's spool folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Appends records to one scan's journal (or to any file of JSON lines:
/// the scans index is written the same way).
#[derive(Debug)]
pub struct JournalWriter {
    file: File,
    path: PathBuf,
}

impl JournalWriter {
    /// Opens (creating if needed) the journal in a scan's spool folder. A
    /// torn last line (a power cut in the middle of an append) is cut off
    /// first, so that the next record starts on a line of its own.
    pub fn open(scan_dir: &Path) -> io::Result<JournalWriter> {
        fs::create_dir_all(scan_dir)?;
        JournalWriter::open_file(&scan_dir.join(JOURNAL_FILE))
    }

    /// Opens (creating if needed) a file of JSON lines at `path`, its torn
    /// last line cut off; its folder must exist.
    pub fn open_file(path: &Path) -> io::Result<JournalWriter> {
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .open(path)?;
        if created {
            scanrig_hardware::fsutil::sync_parent(path)?;
        } else {
            drop_torn_line(&file)?;
        }
        Ok(JournalWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record and waits until it is on stable storage.
    pub fn append(&mut self, record: &impl Serialize) -> io::Result<()> {
        self.write(record)?;
        self.sync()
    }

    /// Writes one record without waiting for stable storage: it counts
    /// only after [`JournalWriter::sync`].
    pub fn write(&mut self, record: &impl Serialize) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }

    /// Waits until everything written is on stable storage.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Truncates `file` after its last complete line. The torn record never
/// counted: [`replay`] ignores it. Only the end of the file is read, a
/// block at a time back to the last newline.
fn drop_torn_line(file: &File) -> io::Result<()> {
    let len = file.metadata()?.len();
    let mut last = [0u8];
    if len == 0 {
        return Ok(());
    }
    file.read_exact_at(&mut last, len - 1)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    let mut block = vec![0u8; 64 * 1024];
    let mut end = len;
    let keep = loop {
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            break start + i as u64 + 1;
        }
        if start == 0 {
            break 0;
        }
        end = start;
    };
    file.set_len(keep)?;
    file.sync_data()
}

/// Reads a scan's journal. Lines that are not records are skipped and
/// listed in [`ScanRecord::skipped`]; [`repair`] sets them aside.
pub fn replay(scan_dir: &Path) -> Result<ScanRecord, ReplayError> {
    let parsed = read_lines(&scan_dir.join(JOURNAL_FILE))?.parsed;
    let records = parsed.items.into_iter().map(|(_, r)| r);
    Ok(ScanRecord::from_records(scan_dir, records, parsed.skipped))
}

impl ScanRecord {
    /// The scan the records tell ([`read_lines`] checked that the first
    /// is its `scan_started`).
    fn from_records(
        scan_dir: &Path,
        records: impl IntoIterator<Item = Record>,
        skipped: Vec<SkippedLine>,
    ) -> ScanRecord {
        let mut scan = ScanRecord {
            plan: ScanPlan::default(),
            started_at: 0,
            captured: BTreeMap::new(),
            uploaded: BTreeMap::new(),
            delivered: BTreeMap::new(),
            manifests: BTreeMap::new(),
            extras: BTreeMap::new(),
            finished: None,
            manifest: None,
            extra: BTreeMap::new(),
            failed: BTreeMap::new(),
            damaged: BTreeMap::new(),
            sources: BTreeMap::new(),
            skipped,
            parts: BTreeMap::new(),
            judged: BTreeMap::new(),
            checks: BTreeMap::new(),
            retaken: BTreeMap::new(),
            triggered: BTreeMap::new(),
            on_card: BTreeSet::new(),
            imported: BTreeSet::new(),
            not_imported: BTreeMap::new(),
        };
        for record in records {
            scan.apply(scan_dir, record);
        }
        scan
    }
}

/// Every scan folder in the spool that holds a journal, oldest first.
pub fn scan_dirs(spool: &Path) -> io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    let entries = match fs::read_dir(spool) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(dirs),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.join(JOURNAL_FILE).is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

#[cfg(test)]
pub(crate) mod tests;
