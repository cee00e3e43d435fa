//! The scan-done hand-off's queue: `spool/hooks.jsonl`. When a scan is
//! retired (every photo, its pose priors and its manifest at the
//! destination) and hooks are configured, a `due` line is appended (fsync'd)
//! before the scan leaves the spool; each delivery's outcome follows as a
//! line of its own. So a crash or an offline network delays a hook but
//! never loses it, and a hook that succeeded is never run again.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::clock::rfc3339_millis;
use crate::destination::MANIFEST;
use crate::history::RetiredScan;
use crate::journal::{parse_lines, JournalWriter};
use crate::model::{Outcome, Place, ScanId};

/// The queue's file in the spool.
pub const HOOKS_FILE: &str = "hooks.jsonl";

/// Which hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookKind {
    /// The command (`hooks.command`).
    Command,
    /// The webhook (`hooks.webhook_url`).
    Webhook,
}

/// What a hook is told of a finished scan: the webhook's JSON body, and
/// the command's environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanDone {
    /// Always `scan.finished`.
    pub event: String,
    /// The scan's id.
    pub scan: ScanId,
    /// The profile it followed.
    pub profile: String,
    /// How it ended.
    pub outcome: Outcome,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// When its photos, priors and manifest were all at the destination.
    pub finished_at: String,
    /// Shots planned.
    pub planned: usize,
    /// Shots captured.
    pub captured: usize,
    /// Shots at the destination.
    pub uploaded: usize,
    /// Captured shots that never got there.
    pub missing: usize,
    /// Where the photos went, in words.
    pub destination: String,
    /// The scan's folder on this machine, for a local destination.
    pub folder: Option<String>,
    /// The manifest: its path for a local destination, else its id there.
    pub manifest: String,
}

impl ScanDone {
    /// The hand-off of a retired scan.
    pub fn of(scan: &RetiredScan) -> ScanDone {
        let folder = match &scan.destination {
            Some(Place::Local { dir }) => Some(dir.join(scan.id.as_str())),
            _ => None,
        };
        ScanDone {
            event: "scan.finished".to_owned(),
            scan: scan.id.clone(),
            profile: scan.profile.clone(),
            outcome: scan.outcome,
            started_at: rfc3339_millis(scan.started_at),
            finished_at: rfc3339_millis(scan.retired_at),
            planned: scan.planned,
            captured: scan.captured,
            uploaded: scan.uploaded,
            missing: scan.missing,
            destination: scan
                .destination
                .as_ref()
                .map_or_else(|| "the default destination".to_owned(), Place::to_string),
            manifest: match &folder {
                Some(dir) => dir.join(MANIFEST).display().to_string(),
                None => scan.manifest.clone(),
            },
            folder: folder.map(|d| d.display().to_string()),
        }
    }
}

/// One line of the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "hook", rename_all = "snake_case")]
pub enum HookLine {
    /// A scan is done: its hooks are due.
    Due {
        /// Unix milliseconds.
        at: u64,
        /// What they are told.
        scan: Box<ScanDone>,
    },
    /// A delivery failed; it is tried again after a while.
    Failed {
        /// Unix milliseconds.
        at: u64,
        /// The scan.
        scan: ScanId,
        /// Which hook.
        kind: HookKind,
        /// Why, in words.
        error: String,
    },
    /// A delivery succeeded: never again.
    Delivered {
        /// Unix milliseconds.
        at: u64,
        /// The scan.
        scan: ScanId,
        /// Which hook.
        kind: HookKind,
    },
    /// A delivery failed in a way retrying cannot mend (a command that
    /// does not exist, a webhook refused as malformed, attempts spent).
    GaveUp {
        /// Unix milliseconds.
        at: u64,
        /// The scan.
        scan: ScanId,
        /// Which hook.
        kind: HookKind,
        /// Why, in words.
        error: String,
    },
}

/// A hook still to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// What it is told.
    pub scan: ScanDone,
    /// Which hook.
    pub kind: HookKind,
    /// Failed attempts so far.
    pub failures: u32,
    /// When the last attempt ended, Unix milliseconds (`None`: none yet).
    pub last_failure: Option<u64>,
}

/// What retiring a scan does first ([`crate::history::retire`]): queue
/// its hooks when they are configured (`on`).
pub fn on_retire(
    on: bool,
    spool: &Path,
    now: u64,
) -> impl FnOnce(&RetiredScan) -> io::Result<()> + '_ {
    move |scan| match on {
        true => enqueue(spool, scan, now),
        false => Ok(()),
    }
}

/// Queues the hooks of a retired scan, once: a scan already queued (it was
/// retired again after a crash) is not queued twice.
pub fn enqueue(spool: &Path, scan: &RetiredScan, now: u64) -> io::Result<()> {
    let queued = read(spool)?;
    if queued
        .iter()
        .any(|l| matches!(l, HookLine::Due { scan: s, .. } if s.scan == scan.id))
    {
        return Ok(());
    }
    append(
        spool,
        &HookLine::Due {
            at: now,
            scan: Box::new(ScanDone::of(scan)),
        },
    )
}

/// Appends a line to the queue, fsync'd.
pub fn append(spool: &Path, line: &HookLine) -> io::Result<()> {
    JournalWriter::open_file(&spool.join(HOOKS_FILE))?.append(line)
}

/// Every line of the queue (a damaged line is skipped).
pub fn read(spool: &Path) -> io::Result<Vec<HookLine>> {
    match fs::read(spool.join(HOOKS_FILE)) {
        Ok(bytes) => Ok(parse_lines(&bytes)
            .items
            .into_iter()
            .map(|(_, l)| l)
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The deliveries of `kinds` still to make, oldest scan first.
pub fn pending(lines: &[HookLine], kinds: &[HookKind]) -> Vec<Pending> {
    let mut out: BTreeMap<(ScanId, HookKind), Pending> = BTreeMap::new();
    for line in lines {
        match line {
            HookLine::Due { scan, .. } => {
                for kind in kinds {
                    out.entry((scan.scan.clone(), *kind))
                        .or_insert_with(|| Pending {
                            scan: (**scan).clone(),
                            kind: *kind,
                            failures: 0,
                            last_failure: None,
                        });
                }
            }
            HookLine::Failed { at, scan, kind, .. } => {
                if let Some(p) = out.get_mut(&(scan.clone(), *kind)) {
                    p.failures += 1;
                    p.last_failure = Some(*at);
                }
            }
            HookLine::Delivered { scan, kind, .. } | HookLine::GaveUp { scan, kind, .. } => {
                out.remove(&(scan.clone(), *kind));
            }
        }
    }
    let mut list: Vec<Pending> = out.into_values().collect();
    list.sort_by(|a, b| a.scan.finished_at.cmp(&b.scan.finished_at));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retired(id: &str) -> RetiredScan {
        RetiredScan {
            id: ScanId::from_existing(id),
            profile: "demo".into(),
            started_at: 1_000,
            retired_at: 2_000,
            outcome: Outcome::Completed,
            planned: 8,
            captured: 8,
            uploaded: 8,
            missing: 0,
            destination: Some(Place::Local {
                dir: "/photos".into(),
            }),
            manifest: "/photos/a/manifest.json".into(),
            photos: BTreeMap::new(),
        }
    }

    #[test]
    fn a_scan_is_queued_once_and_each_hook_delivered_once() {
        let spool = tempfile::tempdir().unwrap();
        let both = [HookKind::Command, HookKind::Webhook];
        enqueue(spool.path(), &retired("a"), 5).unwrap();
        // Retired again after a crash: not queued twice.
        enqueue(spool.path(), &retired("a"), 6).unwrap();
        let due = pending(&read(spool.path()).unwrap(), &both);
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].scan.folder.as_deref(), Some("/photos/a"));
        assert_eq!(due[0].scan.manifest, "/photos/a/manifest.json");
        let failed = HookLine::Failed {
            at: 7,
            scan: ScanId::from_existing("a"),
            kind: HookKind::Webhook,
            error: "offline".into(),
        };
        append(spool.path(), &failed).unwrap();
        let delivered = HookLine::Delivered {
            at: 8,
            scan: ScanId::from_existing("a"),
            kind: HookKind::Command,
        };
        append(spool.path(), &delivered).unwrap();
        let due = pending(&read(spool.path()).unwrap(), &both);
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].kind, due[0].failures, due[0].last_failure),
            (HookKind::Webhook, 1, Some(7))
        );
        // Only the hooks configured now are due.
        assert!(pending(&read(spool.path()).unwrap(), &[HookKind::Command]).is_empty());
    }
}
