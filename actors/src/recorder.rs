//! The recorder: the spool's file work, on a thread of its own because it
//! waits for the disk. It reads journals back, removes spool files once
//! their upload is journaled, keeps backlogs and retires settled scans
//! (the journals themselves are written by [`crate::journal::commit`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;

use actix::prelude::*;
use scanrig_hardware::fsutil::remove_stale_temps;
use slog::{warn, Logger};

use crate::backlog::Backlog;
use crate::clock::unix_millis_now;
use crate::history::{self, Retention};
use crate::hooks;
use crate::journal::{self, ReplayError, ScanRecord};
use crate::model::ShotId;
use crate::restart::{random_unit, Backoff};

/// Reads a scan's journal back.
#[derive(Message)]
#[rtype(result = "Result<ScanRecord, ReplayError>")]
pub struct Replay(pub PathBuf);

/// Deletes spool files that are safely at the destination.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveFiles(pub Vec<PathBuf>);

/// Removes the temp files that processes killed in the middle of a download
/// left in a scan's spool folder; the reply comes once they are gone.
#[derive(Message)]
#[rtype(result = "io::Result<usize>")]
pub struct Tidy(pub PathBuf);

/// Bytes free on the disk holding a folder (for unprivileged users).
#[derive(Message)]
#[rtype(result = "io::Result<u64>")]
pub struct FreeSpace(pub PathBuf);

/// Updates a scan's backlog once a run of it ends: the photos it gave up
/// on get their next try pushed back; those no longer waiting are dropped.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SaveBacklog {
    /// The scan's spool folder.
    pub dir: PathBuf,
    /// Photos whose upload failed in the run, and the last error (only
    /// those still waiting count).
    pub given_up: BTreeMap<ShotId, String>,
    /// Every photo of the scan still waiting.
    pub waiting: BTreeSet<ShotId>,
    /// The wait after each failed run.
    pub backoff: Backoff,
}

/// Retires a scan whose photos and manifest are all sent: its journal is
/// compacted into the scans index and its spool folder removed. The reply
/// says whether it was retired (a scan with something left to send is not).
#[derive(Message)]
#[rtype(result = "io::Result<bool>")]
pub struct Retire {
    /// The scan's spool folder.
    pub dir: PathBuf,
    /// Keep its photos in the spool.
    pub keep_photos: bool,
    /// How long the index remembers retired scans.
    pub retention: Retention,
    /// The scan-done hooks to queue.
    pub hooks: Vec<hooks::HookKind>,
}

/// The recorder actor.
pub struct Recorder {
    log: Logger,
}

impl Actor for Recorder {
    type Context = SyncContext<Self>;
}

impl Recorder {
    /// Starts the recorder on a thread of its own.
    pub fn start(log: Logger) -> Addr<Recorder> {
        SyncArbiter::start(1, move || Recorder { log: log.clone() })
    }
}

impl Handler<Replay> for Recorder {
    type Result = Result<ScanRecord, ReplayError>;

    fn handle(&mut self, msg: Replay, _: &mut Self::Context) -> Self::Result {
        journal::replay(&msg.0)
    }
}

impl Handler<RemoveFiles> for Recorder {
    type Result = ();

    fn handle(&mut self, msg: RemoveFiles, _: &mut Self::Context) {
        for path in msg.0 {
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != io::ErrorKind::NotFound {
                    warn!(self.log, "could not remove an uploaded spool file"; "path" => %path.display(), "error" => %e);
                }
            }
        }
    }
}

impl Handler<Tidy> for Recorder {
    type Result = io::Result<usize>;

    fn handle(&mut self, msg: Tidy, _: &mut Self::Context) -> Self::Result {
        remove_stale_temps(&msg.0)
    }
}

impl Handler<FreeSpace> for Recorder {
    type Result = io::Result<u64>;

    fn handle(&mut self, msg: FreeSpace, _: &mut Self::Context) -> Self::Result {
        free_space(&msg.0)
    }
}

/// Bytes free for unprivileged users on the file system holding `dir`.
pub fn free_space(dir: &std::path::Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the path"))?;
    // SAFETY: statvfs is plain data, valid zeroed; `path` is NUL-terminated
    // and outlives the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // The field types are 32-bit on some targets (32-bit Raspberry Pi OS).
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(stat.f_bavail) * u64::from(stat.f_frsize))
}

impl Handler<Retire> for Recorder {
    type Result = io::Result<bool>;

    fn handle(&mut self, msg: Retire, _: &mut Self::Context) -> Self::Result {
        let record = journal::replay(&msg.dir).map_err(io::Error::other)?;
        let spool = msg.dir.parent().unwrap_or(&msg.dir);
        let now = unix_millis_now();
        history::retire(
            spool,
            &record,
            msg.keep_photos,
            &msg.retention,
            now,
            hooks::on_retire(&msg.hooks, spool, now),
        )
    }
}

impl Handler<SaveBacklog> for Recorder {
    type Result = ();

    fn handle(&mut self, msg: SaveBacklog, _: &mut Self::Context) {
        let mut backlog = Backlog::load(&msg.dir);
        let now = unix_millis_now();
        for (shot, error) in msg.given_up.iter().filter(|(s, _)| msg.waiting.contains(s)) {
            backlog.failed(*shot, error, now, &msg.backoff, random_unit());
        }
        backlog.keep_only(&msg.waiting);
        // A scan whose folder is gone (discarded) has nothing to keep.
        if msg.dir.is_dir() {
            if let Err(e) = backlog.save(&msg.dir) {
                warn!(self.log, "cannot write the scan's backlog; its photos are all tried at the next pass"; "error" => %e);
            }
        }
    }
}
