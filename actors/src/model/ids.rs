//! The ids of a scan and of its shots.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Identifies one scan: `<UTC start time>-<profile>`, e.g.
/// `20261122T101500Z-demo`. Sorts by start time; names the spool folder and
/// the folder at the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScanId(String);

impl ScanId {
    /// The id of a scan of `profile` started at `started` (seconds since the
    /// Unix epoch).
    pub fn new(started_unix: u64, profile: &str) -> ScanId {
        let stamp = crate::clock::compact_utc(started_unix);
        ScanId(format!("{stamp}-{profile}"))
    }

    /// Wraps an id read back from disk or given by the user.
    pub fn from_existing(id: &str) -> ScanId {
        ScanId(id.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A shot's number within its scan, counted from 1 in capture order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShotId(pub u32);

impl fmt::Display for ShotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shot {}", self.0)
    }
}
