//! The photos of a scan still waiting for their upload after a run gave
//! up on them: for each, how many runs failed, the last error and when the
//! next try is due. Kept in `backlog.json` beside the scan's journal,
//! rewritten whole (temp file, fsync, rename) once at the end of a run, so
//! a retry pass adds no journal line per photo and the file stays the size
//! of the backlog. It only schedules retries: lost or damaged, it is read
//! as empty and every waiting photo is simply due.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use scanrig_hardware::fsutil::DurableFile;
use serde::{Deserialize, Serialize};

use crate::model::ShotId;
use crate::restart::Backoff;

/// Name of the backlog file inside a scan's spool folder.
pub const BACKLOG_FILE: &str = "backlog.json";

/// One photo waiting for its upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// Runs that gave up on it so far.
    pub failures: u32,
    /// Why the last one did.
    pub error: String,
    /// When, Unix milliseconds.
    pub at: u64,
    /// Not tried again before this, Unix milliseconds (a forced retry
    /// tries it all the same).
    pub next_at: u64,
}

/// The waiting photos of one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// By shot.
    pub shots: BTreeMap<ShotId, Waiting>,
}

impl Backlog {
    /// The backlog of the scan in `scan_dir` (empty when there is none,
    /// or it cannot be read).
    pub fn load(scan_dir: &Path) -> Backlog {
        fs::read(scan_dir.join(BACKLOG_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes it whole, durably; removes the file when nothing waits.
    pub fn save(&self, scan_dir: &Path) -> io::Result<()> {
        let path = scan_dir.join(BACKLOG_FILE);
        if self.shots.is_empty() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        let mut out = DurableFile::create(&path)?;
        out.write_all(&json)?;
        out.commit().map(drop)
    }

    /// Notes that a run gave up on `shot` with `error` at `now`: its next
    /// try is due after the backoff for its failures so far, jittered by
    /// `unit` (a random number in [0, 1)).
    pub fn failed(&mut self, shot: ShotId, error: &str, now: u64, backoff: &Backoff, unit: f64) {
        let failures = self.shots.get(&shot).map_or(0, |w| w.failures) + 1;
        let wait = backoff.jittered(failures, unit).as_millis() as u64;
        self.shots.insert(
            shot,
            Waiting {
                failures,
                error: error.to_owned(),
                at: now,
                next_at: now.saturating_add(wait),
            },
        );
    }

    /// Forgets the shots that are no longer waiting.
    pub fn keep_only(&mut self, waiting: &BTreeSet<ShotId>) {
        self.shots.retain(|shot, _| waiting.contains(shot));
    }

    /// Of `waiting`, those not due yet at `now`.
    pub fn not_due(&self, waiting: &[ShotId], now: u64) -> BTreeSet<ShotId> {
        waiting
            .iter()
            .filter(|shot| self.shots.get(shot).is_some_and(|w| w.next_at > now))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_secs(60),
        max: Duration::from_secs(3600),
    };

    #[test]
    fn failures_push_the_next_try_back_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Backlog::load(dir.path());
        assert!(b.shots.is_empty(), "no file: nothing waits");
        for _ in 0..3 {
            b.failed(ShotId(2), "offline", 1_000, &BACKOFF, 0.999);
        }
        b.failed(ShotId(5), "offline", 1_000, &BACKOFF, 0.0);
        let w = &b.shots[&ShotId(2)];
        assert_eq!((w.failures, w.error.as_str()), (3, "offline"));
        // Third failure: 4 minutes, jittered into its upper half.
        assert!((121_000..=241_000).contains(&w.next_at), "{w:?}");
        b.save(dir.path()).unwrap();
        let again = Backlog::load(dir.path());
        assert_eq!(again, b);
        let waiting = [ShotId(2), ShotId(3), ShotId(5)];
        assert_eq!(
            again.not_due(&waiting, 2_000),
            BTreeSet::from([ShotId(2), ShotId(5)])
        );
        assert!(again.not_due(&waiting, 10_000_000).is_empty());
        let mut left = again;
        left.keep_only(&BTreeSet::new());
        left.save(dir.path()).unwrap();
        assert!(
            !dir.path().join(BACKLOG_FILE).exists(),
            "nothing waits: no file"
        );
    }

    #[test]
    fn a_damaged_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(BACKLOG_FILE), b"{\"shots\": {\"1\": ").unwrap();
        assert!(Backlog::load(dir.path()).shots.is_empty());
    }
}
