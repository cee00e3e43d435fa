//! Scans on disk and new scans: reads every journal in the spool at start-up
//! (what to upload, what to resume) and turns a profile into a plan.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use std::io::Write;
use std::os::fd::AsRawFd;

use anyhow::{bail, Context};
use scanrig_actors::backlog::Backlog;
use scanrig_actors::clock::{unix_millis_now, unix_now};
use scanrig_actors::history::{self, History, Retention, RetiredScan, INDEX_FILE};
use scanrig_actors::hooks;
use scanrig_actors::journal::{self, ReplayError, ScanRecord};
use scanrig_actors::manifest::Manifest;
use scanrig_actors::model::{Place, ScanId, ScanPlan};
use scanrig_actors::settle::SettleStore;
use scanrig_actors::supervisor::{Drain, Rig, Spooled, Waiting};

use slog::{info, warn, Logger};

use crate::profile::{Profile, Settle};

/// A new plan for a scan of `profile`, starting now, with an id that no
/// scan in `spool` has, retired ones included: a scan started within the
/// same second as an earlier one of the same profile (say, right after
/// that one was killed) gets the next free second, so it never writes into
/// the earlier scan's folders. A profile with `settle_ms = "auto"` settles
/// as `settle` keeps (nothing learned yet: `safe_ms`).
pub fn new_plan(
    profile: &Profile,
    spool: &Path,
    settle: &SettleStore,
    safe_ms: u64,
) -> anyhow::Result<ScanPlan> {
    let mut started = unix_now();
    let mut scan = ScanId::new(started, &profile.name);
    let retired = History::ids_from(spool, &scan).with_context(|| index_error(spool))?;
    while spool.join(scan.as_str()).exists() || retired.contains(&scan) {
        started += 1;
        scan = ScanId::new(started, &profile.name);
    }
    let learned = match profile.settle {
        Settle::Auto => settle
            .load()
            .with_context(|| format!("cannot read {}", settle.path().display()))?,
        Settle::Fixed(_) => None,
    };
    Ok(profile.plan(scan, learned.as_ref(), safe_ms))
}

/// This process's hold on a spool: one scanrig at a time works a spool, so
/// two never replay the same journals or upload the same photo. The kernel
/// lets go when the process ends, however it ends.
#[derive(Debug)]
pub struct SpoolLock {
    _file: fs::File,
}

impl SpoolLock {
    /// Takes the spool, or says which process holds it.
    pub fn take(spool: &Path) -> anyhow::Result<SpoolLock> {
        fs::create_dir_all(spool)
            .with_context(|| format!("cannot create the spool folder {}", spool.display()))?;
        let path = spool.join(".lock");
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            bail!(
                "another scanrig (pid {}) is using the spool {}; stop it first (for the service: `sudo systemctl stop scanrig`), or give this one its own spool.dir",
                holder.trim(),
                spool.display()
            );
        }
        file.set_len(0)?;
        writeln!(file, "{}", std::process::id())?;
        Ok(SpoolLock { _file: file })
    }
}

/// Sets damaged journals aside, keeping what the spool proves, and says
/// what was skipped and where (a journal that cannot be read at all is
/// reported by [`SpoolState::read`]).
fn repair_journals(spool: &Path, log: &Logger) -> anyhow::Result<()> {
    let dirs = journal::scan_dirs(spool)
        .with_context(|| format!("cannot read the spool folder {}", spool.display()))?;
    for dir in dirs {
        let Ok(Some(r)) = journal::repair(&dir) else {
            continue;
        };
        let skipped: Vec<String> = r.skipped.iter().map(ToString::to_string).collect();
        let unproven: Vec<String> = r.unproven.iter().map(ToString::to_string).collect();
        warn!(log, "a damaged scan journal was repaired: its damaged lines are skipped, the rest kept";
            "journal" => %dir.join(journal::JOURNAL_FILE).display(),
            "skipped" => skipped.join("; "),
            "photos that no longer match their record (taken again if the scan is resumed)" => unproven.join(", "),
            "damaged journal kept as" => %r.kept_aside.display());
    }
    Ok(())
}

/// Every scan the spool holds: the retired ones as the scans index tells
/// them, the others as their journals do.
#[derive(Debug, Default)]
pub struct SpoolState {
    /// Scans whose journal could be read, oldest first.
    pub scans: Vec<ScanRecord>,
    /// Journals that could not be read (left alone, reported).
    pub unreadable: Vec<ReplayError>,
    /// The ids of the retired scans (the scans index holds the rest:
    /// [`History::read`]).
    pub retired: HashSet<ScanId>,
}

/// What went wrong, when the scans index cannot be read.
fn index_error(spool: &Path) -> String {
    format!(
        "cannot read the scans index {}",
        spool.join(INDEX_FILE).display()
    )
}

impl SpoolState {
    /// The retired scans, from the scans index of `spool`.
    pub fn history(spool: &Path) -> anyhow::Result<History> {
        History::read(spool).with_context(|| index_error(spool))
    }

    /// Reads the ids of the retired scans and the journals of the others.
    pub fn read(spool: &Path) -> anyhow::Result<SpoolState> {
        let retired = History::ids(spool).with_context(|| index_error(spool))?;
        let dirs = journal::scan_dirs(spool)
            .with_context(|| format!("cannot read the spool folder {}", spool.display()))?;
        let mut state = SpoolState::default();
        for dir in dirs {
            // A retired scan's folder not yet removed (a crash in between).
            if retired.contains(&scan_id(&dir)) {
                continue;
            }
            match journal::replay(&dir) {
                Ok(mut record) => {
                    // Why each waiting photo still waits: the backlog says.
                    let pending: BTreeSet<_> = record.pending_uploads().into_iter().collect();
                    for (shot, w) in Backlog::load(&dir).shots {
                        if pending.contains(&shot) {
                            record.failed.insert(shot, w.error);
                        }
                    }
                    state.scans.push(record);
                }
                Err(e) => state.unreadable.push(e),
            }
        }
        state.retired = retired;
        Ok(state)
    }

    /// Reads the spool at start-up: reports journals that cannot be read,
    /// retires the scans that are settled (and finishes retirements a crash
    /// interrupted) and, unless photos are kept, deletes spool photos whose
    /// upload is journaled (left behind when the process ended between the
    /// two).
    pub fn recover(rig: &Rig, log: &Logger) -> anyhow::Result<SpoolState> {
        let (spool, keep_uploaded) = (&rig.spool, rig.keep_uploaded);
        repair_journals(spool, log)?;
        let mut state = SpoolState::read(spool)?;
        for e in &state.unreadable {
            warn!(log, "skipping a scan whose journal cannot be read"; "error" => %e);
        }
        state.retire(rig, log)?;
        if !keep_uploaded {
            for path in state.uploaded_leftovers(spool) {
                match fs::remove_file(&path) {
                    Ok(()) => {
                        info!(log, "removed an uploaded photo from the spool"; "path" => %path.display())
                    }
                    Err(e) => {
                        warn!(log, "cannot remove an uploaded photo from the spool"; "path" => %path.display(), "error" => %e)
                    }
                }
            }
        }
        Ok(state)
    }

    /// Retires the settled scans, and clears the folders of retired ones
    /// that a crash left behind.
    /// A scan that cannot be retired (a folder that cannot be removed,
    /// say) is left as it is and reported: it is tried again at the next
    /// start, and nothing of it is lost meanwhile.
    fn retire(&mut self, rig: &Rig, log: &Logger) -> anyhow::Result<()> {
        let spool = &rig.spool;
        // Every folder of a retired scan, with its journal or without (a
        // crash after the journal went, before the folder did).
        let folders = fs::read_dir(spool)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.is_dir());
        for dir in folders {
            if self.retired.contains(&scan_id(&dir)) && !(rig.keep_uploaded && dir_is_tidy(&dir)) {
                info!(log, "finishing the retirement of a scan"; "folder" => %dir.display());
                if let Err(e) = history::clear_folder(&dir, rig.keep_uploaded) {
                    warn!(log, "cannot clear a retired scan's spool folder; the next start tries again"; "folder" => %dir.display(), "error" => %e);
                }
            }
        }
        let now = unix_millis_now();
        let (settled, mut kept) = std::mem::take(&mut self.scans)
            .into_iter()
            .partition::<Vec<_>, _>(ScanRecord::is_settled);
        for record in settled {
            match history::retire(
                spool,
                &record,
                rig.keep_uploaded,
                &rig.retention,
                now,
                hooks::on_retire(&rig.hooks, spool, now),
            ) {
                Ok(_) => {
                    info!(log, "scan retired: every photo is sent"; "scan" => %record.id());
                    self.retired.insert(record.id().clone());
                }
                Err(e) => {
                    warn!(log, "cannot retire a scan; the next start tries again"; "scan" => %record.id(), "error" => %e);
                    kept.push(record);
                }
            }
        }
        kept.sort_by(|a, b| a.id().cmp(b.id()));
        self.scans = kept;
        Ok(())
    }

    /// Spool photos whose upload is journaled but which are still there.
    pub fn uploaded_leftovers(&self, spool: &Path) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for scan in &self.scans {
            let dir = spool.join(scan.id().as_str());
            for (shot, (_, files)) in &scan.captured {
                if scan.uploaded.contains_key(shot) {
                    paths.extend(
                        files
                            .iter()
                            .map(|f| dir.join(&f.name))
                            .filter(|p| p.exists()),
                    );
                }
            }
        }
        paths
    }

    /// What a retry pass at `now` (Unix ms) sends: the photos whose next
    /// try is due, of every scan with photos (or a manifest) to send.
    pub fn due(&self, spool: &Path, now: u64) -> Vec<Drain> {
        self.unsettled()
            .filter_map(|r| {
                let backlog = Backlog::load(&spool.join(r.id().as_str()));
                Drain::due(r.clone(), &backlog, now)
            })
            .collect()
    }

    /// The photos still waiting of each scan with any (what `scanrig
    /// uploads` lists, and the status counts).
    pub fn waiting(&self) -> Spooled {
        Spooled(
            self.scans
                .iter()
                .map(|s| {
                    let at = s
                        .plan
                        .sent_to()
                        .iter()
                        .filter_map(|to| Some((to.name.clone()?, s.waiting_at(to).len())))
                        .collect();
                    let photos = s.pending_uploads().len();
                    (s.id().clone(), Waiting { photos, at })
                })
                .filter(|(_, w)| w.photos > 0)
                .collect(),
        )
    }

    /// Every photo (and manifest) still to send, due or not.
    pub fn everything(&self) -> Vec<Drain> {
        self.unsettled().cloned().map(Drain::all).collect()
    }

    /// Scans with uploads (or a manifest) still to send.
    pub fn unsettled(&self) -> impl Iterator<Item = &ScanRecord> {
        self.scans.iter().filter(|s| {
            !s.pending_uploads().is_empty() || (s.finished.is_some() && s.manifest.is_none())
        })
    }

    /// The scan to resume: the one named, or the latest interrupted one.
    pub fn resumable(&self, id: Option<&str>) -> Option<&ScanRecord> {
        self.scans
            .iter()
            .rev()
            .filter(|s| s.is_resumable())
            .find(|s| id.is_none_or(|id| s.id().as_str() == id))
    }
}

/// Whether a retired scan's folder holds nothing but its kept photos.
fn dir_is_tidy(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with(journal::JOURNAL_FILE)
                && name != scanrig_actors::backlog::BACKLOG_FILE
        })
    })
}

/// The id of the scan whose spool folder is `dir`.
fn scan_id(dir: &Path) -> ScanId {
    ScanId::from_existing(&dir.file_name().unwrap_or_default().to_string_lossy())
}

/// A scan as the web API and `scanrig scans --json` show it.
pub fn scan_row(s: &ScanRecord) -> serde_json::Value {
    serde_json::json!({
        "id": s.id().as_str(),
        "profile": s.plan.profile,
        "state": match s.finished {
            Some(o) => serde_json::json!(o),
            None => serde_json::json!("interrupted"),
        },
        "retired": false,
        "started_at_ms": s.started_at,
        "planned": s.plan.shots.len(),
        "captured": s.captured.len(),
        "uploaded": s.uploaded.len(),
        "waiting": s.pending_uploads().len(),
        // Photos on a wired camera's card, for `scanrig import`.
        "on_card": s.awaiting_import().len(),
        "failed": s.failed.len(),
        "missing": s.damaged.len(),
        "last_error": s.failed.values().next_back(),
        "manifest_sent": s.manifest.is_some(),
        "destination": destination(s.plan.destination.as_ref()),
        "destinations": each_destination(s),
    })
}

/// For a scan sent to several destinations, what each has: its name and
/// place, the photos still waiting for it and whether its manifest is
/// there (empty for a scan sent to one).
pub fn each_destination(s: &ScanRecord) -> Vec<serde_json::Value> {
    s.plan
        .sent_to()
        .iter()
        .filter_map(|to| {
            let name = to.name.as_ref()?;
            Some(serde_json::json!({
                "name": name,
                "place": destination(to.place.as_ref()),
                "waiting": s.waiting_at(to).len(),
                "manifest_sent": s.at(to).manifest.is_some(),
            }))
        })
        .collect()
}

/// A retired scan, in the same shape as [`scan_row`].
pub fn retired_row(s: &RetiredScan) -> serde_json::Value {
    serde_json::json!({
        "id": s.id.as_str(),
        "profile": s.profile,
        "state": s.outcome,
        "retired": true,
        "started_at_ms": s.started_at,
        "planned": s.planned,
        "captured": s.captured,
        "uploaded": s.uploaded,
        "waiting": 0,
        "failed": 0,
        "missing": s.missing,
        "last_error": null,
        "manifest_sent": true,
        "destination": destination(s.destination.as_ref()),
        "destinations": s.destinations.iter().map(|t| serde_json::json!({
            "name": t.name,
            "place": t.place.to_string(),
            "waiting": 0,
            "manifest_sent": true,
        })).collect::<Vec<_>>(),
    })
}

fn destination(place: Option<&Place>) -> String {
    place.map_or("the configured destination".to_owned(), ToString::to_string)
}

impl SpoolState {
    /// Every scan the spool knows, unfinished and retired (those the
    /// retention still remembers), newest first, as rows.
    pub fn rows(&self, history: &History, retention: &Retention) -> Vec<serde_json::Value> {
        let mut rows: Vec<(u64, serde_json::Value)> = self
            .scans
            .iter()
            .map(|s| (s.started_at, scan_row(s)))
            .chain(
                history
                    .kept(retention, unix_millis_now())
                    .iter()
                    .map(|s| (s.started_at, retired_row(s))),
            )
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// A scan the spool knows, by id, as a row with its `manifest`: as
    /// the journal tells it, or for a retired scan as it lies in a local
    /// destination folder (absent when it went to Drive).
    pub fn detail(spool: &Path, id: &str) -> anyhow::Result<Option<serde_json::Value>> {
        Ok(Found::find(spool, id)?.map(|found| {
            let mut row = found.row;
            if let Some(manifest) = found.manifest {
                row["manifest"] = manifest;
            }
            row
        }))
    }
}

/// A scan the spool knows, found by id.
#[derive(Debug)]
pub struct Found {
    /// Its row, as `scanrig scans --json` shows it.
    pub row: serde_json::Value,
    /// Its manifest, when known here: from the journal, or from a local
    /// destination folder.
    pub manifest: Option<serde_json::Value>,
    /// Its folder at a local destination, if its photos went to one.
    pub folder: Option<PathBuf>,
    /// The names of its photos (those taken whole, and the parts of a
    /// shot not taken whole yet): what of its spool folder it hands over.
    pub photos: BTreeSet<String>,
}

impl Found {
    /// Looks for scan `id` among the unfinished and the retired ones.
    pub fn find(spool: &Path, id: &str) -> anyhow::Result<Option<Found>> {
        let local = |place: Option<&Place>| match place {
            Some(Place::Local { dir }) => Some(dir.join(id)),
            _ => None,
        };
        let state = SpoolState::read(spool)?;
        if let Some(record) = state.scans.iter().find(|s| s.id().as_str() == id) {
            let taken = record.captured.values().flat_map(|(_, files)| files);
            let parts = record.parts.values().flat_map(|p| p.values().flatten());
            return Ok(Some(Found {
                row: scan_row(record),
                manifest: Some(serde_json::from_slice(
                    &Manifest::from_record(record).to_json(),
                )?),
                folder: local(record.plan.destination.as_ref()),
                photos: taken.chain(parts).map(|f| f.name.clone()).collect(),
            }));
        }
        let history = SpoolState::history(spool)?;
        let Some(retired) = history.scans.iter().find(|s| s.id.as_str() == id) else {
            return Ok(None);
        };
        let folder = local(retired.destination.as_ref());
        let manifest = folder.as_ref().and_then(|dir| {
            fs::read(dir.join("manifest.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        });
        Ok(Some(Found {
            row: retired_row(retired),
            manifest,
            folder,
            photos: retired.photos.keys().cloned().collect(),
        }))
    }
}
