//! The scan-done hand-off's queue: `spool/hooks.jsonl`. When a scan is
//! retired (every photo, its pose priors and its manifest at the
//! destination) and hooks are configured, a `due` line naming them is
//! appended (fsync'd) before the scan leaves the spool; each delivery's
//! outcome follows as a line of its own. So a crash or an offline network
//! delays a hook but never loses it; a hook whose success was journaled is
//! never run again, and one that succeeded without its success journaled
//! (the process died in between) runs again: at least once. Settled scans
//! beyond the latest [`KEEP_SETTLED`] are pruned from the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

use scanrig_hardware::fsutil::DurableFile;
use serde::{Deserialize, Serialize};

use crate::clock::rfc3339_millis;
use crate::destination::MANIFEST;
use crate::history::RetiredScan;
use crate::journal::{parse_lines, JournalWriter};
use crate::model::{Outcome, Place, ScanId};

/// The queue's file in the spool.
pub const HOOKS_FILE: &str = "hooks.jsonl";

/// How many settled scans (every hook delivered or given up) the queue
/// keeps: older ones are pruned, newer ones still stop a scan retired
/// again after a crash from being queued twice.
pub const KEEP_SETTLED: usize = 100;

/// Held while the queue is written: the recorder appends `due` lines while
/// the hooks' thread appends outcomes and prunes (one process works a
/// spool at a time).
static WRITING: Mutex<()> = Mutex::new(());

/// Holds [`WRITING`]; a writer that panicked left no torn state behind
/// (every write is a whole line or a whole file).
fn writing() -> std::sync::MutexGuard<'static, ()> {
    WRITING.lock().unwrap_or_else(|e| e.into_inner())
}

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
    /// The delivery's id, the same on every try of every hook of this
    /// scan (the scan's id): `SCANRIG_DELIVERY` for the command,
    /// `X-Scanrig-Delivery` for the webhook, so a receiver can tell a
    /// repeat.
    pub fn delivery(&self) -> &str {
        self.scan.as_str()
    }

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
        /// The hooks configured when the scan was retired: only these are
        /// owed. `None` in lines written before it was recorded (see
        /// [`pending`]).
        #[serde(default)]
        hooks: Option<Vec<HookKind>>,
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

impl HookLine {
    /// The scan the line is about.
    fn scan(&self) -> &ScanId {
        match self {
            HookLine::Due { scan, .. } => &scan.scan,
            HookLine::Failed { scan, .. }
            | HookLine::Delivered { scan, .. }
            | HookLine::GaveUp { scan, .. } => scan,
        }
    }
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
/// the hooks configured (`hooks`), if any.
pub fn on_retire<'a>(
    hooks: &'a [HookKind],
    spool: &'a Path,
    now: u64,
) -> impl FnOnce(&RetiredScan) -> io::Result<()> + 'a {
    move |scan| match hooks.is_empty() {
        true => Ok(()),
        false => enqueue(spool, scan, hooks, now),
    }
}

/// Queues `hooks` for a retired scan, once: a scan already queued (it was
/// retired again after a crash) is not queued twice.
pub fn enqueue(spool: &Path, scan: &RetiredScan, hooks: &[HookKind], now: u64) -> io::Result<()> {
    let _writing = writing();
    if read(spool)?
        .iter()
        .any(|l| matches!(l, HookLine::Due { scan: s, .. } if s.scan == scan.id))
    {
        return Ok(());
    }
    append_unlocked(
        spool,
        &HookLine::Due {
            at: now,
            scan: Box::new(ScanDone::of(scan)),
            hooks: Some(hooks.to_vec()),
        },
    )
}

/// Appends a line to the queue, fsync'd.
pub fn append(spool: &Path, line: &HookLine) -> io::Result<()> {
    let _writing = writing();
    append_unlocked(spool, line)
}

/// [`append`], [`WRITING`] held.
fn append_unlocked(spool: &Path, line: &HookLine) -> io::Result<()> {
    JournalWriter::open_file(&spool.join(HOOKS_FILE))?.append(line)
}

/// Drops the lines of settled scans (no delivery pending with the hooks
/// `configured`) but the latest `keep`; says how many scans were dropped.
/// The file is replaced whole (written, fsync'd, renamed).
pub fn prune(spool: &Path, configured: &[HookKind], keep: usize) -> io::Result<usize> {
    let _writing = writing();
    let lines = read(spool)?;
    let open: BTreeSet<ScanId> = pending(&lines, configured)
        .into_iter()
        .map(|p| p.scan.scan)
        .collect();
    let mut settled: Vec<&ScanId> = Vec::new();
    for id in lines.iter().map(HookLine::scan) {
        if !open.contains(id) && !settled.contains(&id) {
            settled.push(id);
        }
    }
    let dropped: BTreeSet<&ScanId> = settled
        .iter()
        .take(settled.len().saturating_sub(keep))
        .copied()
        .collect();
    if dropped.is_empty() {
        return Ok(0);
    }
    let mut file = DurableFile::create(&spool.join(HOOKS_FILE))?;
    for line in lines.iter().filter(|l| !dropped.contains(l.scan())) {
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        file.write_all(&bytes)?;
    }
    file.commit()?;
    Ok(dropped.len())
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

/// The deliveries still owed, oldest scan first: for each scan, the hooks
/// its `due` line names, less those delivered or given up. A hook no
/// longer `configured` is among them (for the caller to give up). A `due`
/// line that names no hooks (written before they were recorded) owes the
/// hooks tried for its scan, or, none tried yet, the hooks `configured`.
pub fn pending(lines: &[HookLine], configured: &[HookKind]) -> Vec<Pending> {
    let tried: BTreeSet<(&ScanId, HookKind)> = lines
        .iter()
        .filter_map(|l| match l {
            HookLine::Due { .. } => None,
            HookLine::Failed { scan, kind, .. }
            | HookLine::Delivered { scan, kind, .. }
            | HookLine::GaveUp { scan, kind, .. } => Some((scan, *kind)),
        })
        .collect();
    let mut out: BTreeMap<(ScanId, HookKind), Pending> = BTreeMap::new();
    for line in lines {
        match line {
            HookLine::Due { scan, hooks, .. } => {
                let owed = match hooks {
                    Some(hooks) => hooks.clone(),
                    None => {
                        let seen: Vec<HookKind> = [HookKind::Command, HookKind::Webhook]
                            .into_iter()
                            .filter(|k| tried.contains(&(&scan.scan, *k)))
                            .collect();
                        match seen.is_empty() {
                            true => configured.to_vec(),
                            false => seen,
                        }
                    }
                };
                for kind in owed {
                    out.entry((scan.scan.clone(), kind))
                        .or_insert_with(|| Pending {
                            scan: (**scan).clone(),
                            kind,
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
            destinations: Vec::new(),
            manifest: "/photos/a/manifest.json".into(),
            photos: BTreeMap::new(),
        }
    }

    const BOTH: [HookKind; 2] = [HookKind::Command, HookKind::Webhook];

    fn line(kind: &str, scan: &str, hook: HookKind, at: u64) -> HookLine {
        let scan = ScanId::from_existing(scan);
        match kind {
            "failed" => HookLine::Failed {
                at,
                scan,
                kind: hook,
                error: "offline".into(),
            },
            "delivered" => HookLine::Delivered {
                at,
                scan,
                kind: hook,
            },
            _ => HookLine::GaveUp {
                at,
                scan,
                kind: hook,
                error: "refused".into(),
            },
        }
    }

    #[test]
    fn a_scan_is_queued_once_and_each_hook_delivered_once() {
        let spool = tempfile::tempdir().unwrap();
        enqueue(spool.path(), &retired("a"), &BOTH, 5).unwrap();
        // Retired again after a crash: not queued twice.
        enqueue(spool.path(), &retired("a"), &BOTH, 6).unwrap();
        let due = pending(&read(spool.path()).unwrap(), &BOTH);
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].scan.folder.as_deref(), Some("/photos/a"));
        assert_eq!(due[0].scan.manifest, "/photos/a/manifest.json");
        assert_eq!(due[0].scan.delivery(), "a");
        append(spool.path(), &line("failed", "a", HookKind::Webhook, 7)).unwrap();
        append(spool.path(), &line("delivered", "a", HookKind::Command, 8)).unwrap();
        let due = pending(&read(spool.path()).unwrap(), &BOTH);
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].kind, due[0].failures, due[0].last_failure),
            (HookKind::Webhook, 1, Some(7))
        );
    }

    #[test]
    fn only_the_hooks_configured_when_a_scan_was_retired_are_owed() {
        let spool = tempfile::tempdir().unwrap();
        // Retired with the command alone; the webhook added later.
        enqueue(spool.path(), &retired("a"), &[HookKind::Command], 5).unwrap();
        let due = pending(&read(spool.path()).unwrap(), &BOTH);
        assert_eq!(
            due.iter().map(|p| p.kind).collect::<Vec<_>>(),
            [HookKind::Command]
        );
        append(spool.path(), &line("delivered", "a", HookKind::Command, 6)).unwrap();
        assert!(pending(&read(spool.path()).unwrap(), &BOTH).is_empty());
        // A hook removed since is still listed, for the runner to give up.
        enqueue(spool.path(), &retired("b"), &BOTH, 7).unwrap();
        let due = pending(&read(spool.path()).unwrap(), &[HookKind::Command]);
        assert_eq!(due.len(), 2);
    }

    #[test]
    fn a_due_line_naming_no_hooks_owes_those_tried_or_else_those_configured() {
        let due = |scan: &str| HookLine::Due {
            at: 1,
            scan: Box::new(ScanDone::of(&retired(scan))),
            hooks: None,
        };
        let written = serde_json::to_string(&due("a")).unwrap();
        let older = written.replace(",\"hooks\":null", "");
        assert!(!older.contains("hooks\":"), "{older}");
        let parsed: HookLine = serde_json::from_str(&older).unwrap();
        assert_eq!(parsed, due("a"));
        let lines = [
            due("a"),
            line("delivered", "a", HookKind::Command, 2),
            due("b"),
        ];
        let owed: Vec<(String, HookKind)> = pending(&lines, &BOTH)
            .into_iter()
            .map(|p| (p.scan.scan.to_string(), p.kind))
            .collect();
        assert_eq!(
            owed,
            [
                ("b".to_owned(), HookKind::Command),
                ("b".to_owned(), HookKind::Webhook)
            ]
        );
    }

    #[test]
    fn settled_scans_beyond_the_latest_kept_are_pruned_and_open_ones_stay() {
        let spool = tempfile::tempdir().unwrap();
        let ids: Vec<String> = (0..6).map(|i| format!("s{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            enqueue(spool.path(), &retired(id), &BOTH, i as u64).unwrap();
        }
        // s1 is still owed its webhook; every other hook is settled.
        for id in &ids {
            append(spool.path(), &line("delivered", id, HookKind::Command, 10)).unwrap();
            let outcome = if id == "s1" { "failed" } else { "gave_up" };
            append(spool.path(), &line(outcome, id, HookKind::Webhook, 11)).unwrap();
        }
        let before = pending(&read(spool.path()).unwrap(), &BOTH);
        assert_eq!(prune(spool.path(), &BOTH, 2).unwrap(), 3);
        let lines = read(spool.path()).unwrap();
        let scans: BTreeSet<String> = lines.iter().map(|l| l.scan().to_string()).collect();
        // Settled: s0, s2, s3, s4, s5; the latest two are kept.
        assert_eq!(scans, ["s1", "s4", "s5"].map(String::from).into());
        assert_eq!(lines.len(), 9);
        assert_eq!(pending(&lines, &BOTH), before);
        assert_eq!(prune(spool.path(), &BOTH, 2).unwrap(), 0);
        // A kept scan retired again is still not queued twice.
        enqueue(spool.path(), &retired("s5"), &BOTH, 20).unwrap();
        assert_eq!(read(spool.path()).unwrap().len(), 9);
    }
}
