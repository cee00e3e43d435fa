//! A scan's journal read back from the spool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// A scan's journal as it stands on disk.
#[derive(Debug)]
pub struct Journal {
    /// The records, in order (a torn last line left out).
    pub records: Vec<Value>,
}

impl Journal {
    /// Reads `<scan_dir>/journal.jsonl`; a missing journal has no records.
    pub fn read(scan_dir: &Path) -> Journal {
        let text = std::fs::read_to_string(scan_dir.join("journal.jsonl")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut records = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str(line) {
                Ok(v) => records.push(v),
                // The writer may be half-way through the last line.
                Err(_) if i + 1 == lines.len() => {}
                Err(e) => panic!("journal line {} is not JSON ({e}): {line}", i + 1),
            }
        }
        Journal { records }
    }

    /// Records of one kind (`shot_captured`, ...).
    pub fn of(&self, kind: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["record"] == kind)
            .collect()
    }

    /// How many records of one kind.
    pub fn count(&self, kind: &str) -> usize {
        self.of(kind).len()
    }

    /// When each capture was journaled (Unix ms), in journal order.
    pub fn capture_times(&self) -> Vec<u64> {
        self.of("shot_captured")
            .iter()
            .map(|r| r["at"].as_u64().expect("at"))
            .collect()
    }

    /// The latest capture of every shot: file name → sha256.
    pub fn captured(&self) -> BTreeMap<String, String> {
        let mut by_shot = BTreeMap::new();
        for r in self.of("shot_captured") {
            let shot = r["shot"].as_u64().expect("shot number");
            let files = r["files"].as_array().expect("files");
            by_shot.insert(shot, files.clone());
        }
        by_shot
            .into_values()
            .flatten()
            .map(|f| {
                (
                    f["name"].as_str().expect("name").to_owned(),
                    f["sha256"].as_str().expect("sha256").to_owned(),
                )
            })
            .collect()
    }

    /// Shot numbers recorded as uploaded.
    pub fn uploaded(&self) -> BTreeSet<u64> {
        self.of("shot_uploaded")
            .iter()
            .map(|r| r["shot"].as_u64().expect("shot number"))
            .collect()
    }

    /// The `scan_finished` outcome, if any.
    pub fn outcome(&self) -> Option<String> {
        self.of("scan_finished")
            .last()
            .map(|r| r["outcome"].as_str().expect("outcome").to_owned())
    }
}
