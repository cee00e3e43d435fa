//! Reading a journal line by line: each line parsed as a record or
//! skipped with the reason (a torn last line left out), and why a journal
//! could not be read.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::Record;

/// A line of a journal that is not a record (damage in the middle of the
/// file; a torn last line is not counted: it never completed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// What the parser said.
    pub reason: String,
}

impl std::fmt::Display for SkippedLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} ({})", self.line, self.reason)
    }
}

/// Why a journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The first record is not a readable `scan_started`: without the
    /// plan nothing of the scan can be recovered.
    #[error("{}: the journal does not begin with a readable scan_started record ({reason}); the scan cannot be recovered: move its folder aside (its photos are in it)", .path.display())]
    NoStart {
        /// The journal.
        path: PathBuf,
        /// What is on the first line instead.
        reason: String,
    },
}

/// A file of JSON lines, each read as a `T` or skipped with the reason.
pub(crate) struct Parsed<T> {
    /// The items, with the index (0-based) of their line.
    pub(crate) items: Vec<(usize, T)>,
    /// Each line's byte range in the file (without its newline).
    pub(crate) spans: Vec<std::ops::Range<usize>>,
    /// The lines that are not items, torn last line excepted.
    pub(crate) skipped: Vec<SkippedLine>,
}

/// Parses a file of JSON lines read whole: one allocation for the file,
/// none per line. A last line that does not parse is a torn append that
/// never completed, not damage.
pub(crate) fn parse_lines<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Parsed<T> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            spans.push(start..i);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        spans.push(start..bytes.len());
    }
    let mut items = Vec::with_capacity(spans.len());
    let mut skipped = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match serde_json::from_slice::<T>(&bytes[span.clone()]) {
            Ok(item) => items.push((i, item)),
            Err(_) if i + 1 == spans.len() => {}
            Err(e) => skipped.push(SkippedLine {
                line: i + 1,
                reason: e.to_string(),
            }),
        }
    }
    Parsed {
        items,
        spans,
        skipped,
    }
}

/// A journal: its bytes, and its lines read as records.
pub(crate) struct Lines {
    /// The whole file.
    pub(crate) bytes: Vec<u8>,
    /// Its lines.
    pub(crate) parsed: Parsed<Record>,
}

impl Lines {
    /// The text of line `i` (0-based), without its newline.
    pub(crate) fn text(&self, i: usize) -> &[u8] {
        &self.bytes[self.parsed.spans[i].clone()]
    }
}

/// Reads the journal at `path` line by line.
pub(crate) fn read_lines(path: &Path) -> Result<Lines, ReplayError> {
    let bytes = fs::read(path).map_err(|source| ReplayError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parsed = parse_lines::<Record>(&bytes);
    if !matches!(parsed.items.first(), Some((0, Record::ScanStarted { .. }))) {
        let reason = match parsed.skipped.first() {
            Some(s) if s.line == 1 => s.reason.clone(),
            _ => "another record".to_owned(),
        };
        return Err(ReplayError::NoStart {
            path: path.to_path_buf(),
            reason,
        });
    }
    Ok(Lines { bytes, parsed })
}
