//! The scan journal: one append-only file of JSON lines per scan, each line
//! fsync'd before it counts. Replaying it tells what was captured, what
//! reached the destination and where an interrupted scan goes on.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::destination::Place;
use crate::plan::{ScanId, ScanPlan, ShotId};
use crate::sequence::{Outcome, ShotState};

/// Name of the journal file inside a scan's spool folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// A photo file of a shot, as it lies in the spool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolFile {
    /// File name inside the scan's spool folder (and at the destination).
    pub name: String,
    /// sha256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// A scan began; the plan makes it resumable.
    ScanStarted {
        /// Unix milliseconds.
        at: u64,
        /// What the scan will do.
        plan: ScanPlan,
    },
    /// A shot's file(s) are in the spool, fsync'd.
    ShotCaptured {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// Its file(s): one, or a JPEG+RAW pair.
        files: Vec<SpoolFile>,
    },
    /// A shot's file(s) are at the destination.
    ShotUploaded {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// The destination's id of each file, in the order of `files`.
        remote: Vec<String>,
    },
    /// A shot's upload failed for good in this run (it waits in the spool
    /// for `scanrig uploads retry` or the next start).
    UploadFailed {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// Why, in words.
        error: String,
    },
    /// A shot's photo is damaged in the spool (or gone): it can never be
    /// sent, and is not tried again.
    ShotDamaged {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// What is wrong, in words.
        error: String,
    },
    /// The scan ended (no more shots will be taken).
    ScanFinished {
        /// Unix milliseconds.
        at: u64,
        /// Completed or stopped.
        outcome: Outcome,
    },
    /// The operator moved the scan to another destination
    /// (`scanrig resume --dest DIR --move-dest`): what already arrived at
    /// the old place is sent again, to the new one.
    DestinationMoved {
        /// Unix milliseconds.
        at: u64,
        /// Where the photos went until now.
        from: Option<Place>,
        /// Where they go from now on.
        to: Place,
    },
    /// `manifest.json` is at the destination.
    ManifestUploaded {
        /// Unix milliseconds.
        at: u64,
        /// The destination's id of the manifest.
        remote: String,
    },
}

/// Appends records to one scan's journal.
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
        let path = scan_dir.join(JOURNAL_FILE);
        let created = !path.exists();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if created {
            scanrig_hardware::fsutil::sync_parent(&path)?;
        } else {
            drop_torn_line(&file, &path)?;
        }
        Ok(JournalWriter { file, path })
    }

    /// Appends one record and waits until it is on stable storage.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Truncates `file` (the journal at `path`) after its last complete line.
/// The torn record never counted: [`replay`] ignores it.
fn drop_torn_line(file: &File, path: &Path) -> io::Result<()> {
    let bytes = fs::read(path)?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    file.set_len(keep as u64)?;
    file.sync_data()
}

/// A scan as its journal tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRecord {
    /// The plan it follows.
    pub plan: ScanPlan,
    /// When it started, Unix milliseconds.
    pub started_at: u64,
    /// Captured shots: when, and their files.
    pub captured: BTreeMap<ShotId, (u64, Vec<SpoolFile>)>,
    /// Uploaded shots: their remote ids.
    pub uploaded: BTreeMap<ShotId, Vec<String>>,
    /// How it ended, if it did.
    pub finished: Option<Outcome>,
    /// The manifest's remote id, once uploaded.
    pub manifest: Option<String>,
    /// Shots whose upload last failed for good, with the error.
    pub failed: BTreeMap<ShotId, String>,
    /// Shots whose photo is damaged in the spool, with what is wrong: they
    /// are not sent, and the manifest says they are missing.
    pub damaged: BTreeMap<ShotId, String>,
    /// Shots whose files are no longer in the spool but at an earlier
    /// destination folder (the scan was moved): the scan's folder there.
    pub sources: BTreeMap<ShotId, PathBuf>,
}

impl ScanRecord {
    /// The scan's id.
    pub fn id(&self) -> &ScanId {
        &self.plan.scan
    }

    /// Where each shot stands, for resuming the sequence.
    pub fn shot_states(&self) -> Vec<ShotState> {
        self.plan
            .shots
            .iter()
            .map(|s| {
                if self.uploaded.contains_key(&s.id) {
                    ShotState::Uploaded
                } else if self.damaged.contains_key(&s.id) {
                    // Taken again if the scan goes on; lost if it ended.
                    match self.finished {
                        None => ShotState::Pending,
                        Some(_) => ShotState::UploadAbandoned,
                    }
                } else if self.captured.contains_key(&s.id) {
                    ShotState::Captured
                } else {
                    ShotState::Pending
                }
            })
            .collect()
    }

    /// Captured shots not known to be at the destination that can still
    /// be sent (a photo damaged in the spool cannot).
    pub fn pending_uploads(&self) -> Vec<ShotId> {
        self.captured
            .keys()
            .filter(|s| !self.uploaded.contains_key(s) && !self.damaged.contains_key(s))
            .copied()
            .collect()
    }

    /// Everything sent so far is to be sent again, to `to`; photos that
    /// left the spool are read from the old place's folder.
    fn moved(&mut self, scan_dir: &Path, from: Option<Place>, to: Place) {
        let old_folder = match from {
            Some(Place::Local { dir }) => Some(dir.join(self.id().as_str())),
            _ => None,
        };
        for shot in std::mem::take(&mut self.uploaded).into_keys() {
            let Some((_, files)) = self.captured.get(&shot) else {
                continue;
            };
            let in_spool = files.iter().all(|f| scan_dir.join(&f.name).is_file());
            if let (false, Some(folder)) = (in_spool, &old_folder) {
                self.sources.insert(shot, folder.clone());
            }
        }
        self.failed.clear();
        self.manifest = None;
        self.plan.destination = Some(to);
    }

    /// Whether shots remain to be taken.
    pub fn is_resumable(&self) -> bool {
        self.finished.is_none()
    }

    /// Whether nothing is left to do for this scan.
    pub fn is_settled(&self) -> bool {
        self.finished.is_some() && self.pending_uploads().is_empty() && self.manifest.is_some()
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
    /// A line in the middle is not a record (the last line may be torn by a
    /// power cut; that one is ignored).
    #[error("{}: line {line} is not a journal record ({reason}); move the scan folder aside to continue without it", .path.display())]
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// The first record is not `scan_started`.
    #[error("{}: the journal does not begin with scan_started", .path.display())]
    NoStart {
        /// The journal.
        path: PathBuf,
    },
}

/// Reads a scan's journal.
pub fn replay(scan_dir: &Path) -> Result<ScanRecord, ReplayError> {
    let path = scan_dir.join(JOURNAL_FILE);
    let io_err = |source| ReplayError::Io {
        path: path.clone(),
        source,
    };
    let reader = BufReader::new(File::open(&path).map_err(io_err)?);
    let lines: Vec<String> = reader.lines().collect::<Result<_, _>>().map_err(io_err)?;
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            // A torn final line: the write never completed, so it never counted.
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => {
                return Err(ReplayError::Corrupt {
                    path: path.clone(),
                    line: i + 1,
                    reason: e.to_string(),
                })
            }
        }
    }
    let mut records = records.into_iter();
    let Some(Record::ScanStarted { at, plan }) = records.next() else {
        return Err(ReplayError::NoStart { path });
    };
    let mut scan = ScanRecord {
        plan,
        started_at: at,
        captured: BTreeMap::new(),
        uploaded: BTreeMap::new(),
        finished: None,
        manifest: None,
        failed: BTreeMap::new(),
        damaged: BTreeMap::new(),
        sources: BTreeMap::new(),
    };
    for record in records {
        match record {
            Record::ScanStarted { .. } => {}
            Record::ShotCaptured { shot, at, files } => {
                // A retaken shot replaces the earlier capture.
                scan.uploaded.remove(&shot);
                scan.failed.remove(&shot);
                scan.damaged.remove(&shot);
                scan.sources.remove(&shot);
                scan.captured.insert(shot, (at, files));
            }
            Record::UploadFailed { shot, error, .. } => {
                scan.failed.insert(shot, error);
            }
            Record::ShotDamaged { shot, error, .. } => {
                scan.failed.remove(&shot);
                scan.damaged.insert(shot, error);
            }
            Record::ShotUploaded { shot, remote, .. } => {
                scan.failed.remove(&shot);
                scan.uploaded.insert(shot, remote);
            }
            Record::ScanFinished { outcome, .. } => scan.finished = Some(outcome),
            Record::ManifestUploaded { remote, .. } => scan.manifest = Some(remote),
            Record::DestinationMoved { from, to, .. } => scan.moved(scan_dir, from, to),
        }
    }
    Ok(scan)
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
mod tests {
    use std::time::Duration;

    use scanrig_hardware::Degrees;

    use super::*;
    use crate::plan::Station;

    fn plan(n: u32) -> ScanPlan {
        let stations: Vec<Station> = (0..n)
            .map(|i| Station {
                ring: 1,
                index: i + 1,
                azimuth: Degrees(f64::from(i) * 90.0),
                tilt: Degrees(0.0),
            })
            .collect();
        ScanPlan::new(
            ScanId::new(1_800_000_000, "t"),
            "t",
            "t",
            Duration::ZERO,
            BTreeMap::new(),
            &stations,
        )
    }

    fn file(n: u32) -> Vec<SpoolFile> {
        vec![SpoolFile {
            name: format!("t_{n}.jpg"),
            sha256: "ab".repeat(32),
            size: 10,
        }]
    }

    #[test]
    fn replay_tells_what_was_captured_and_uploaded() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = JournalWriter::open(dir.path()).unwrap();
        let p = plan(4);
        j.append(&Record::ScanStarted {
            at: 1,
            plan: p.clone(),
        })
        .unwrap();
        for n in 1..=3 {
            j.append(&Record::ShotCaptured {
                shot: ShotId(n),
                at: 2,
                files: file(n),
            })
            .unwrap();
        }
        j.append(&Record::ShotUploaded {
            shot: ShotId(1),
            at: 3,
            remote: vec!["r1".into()],
        })
        .unwrap();
        let scan = replay(dir.path()).unwrap();
        assert_eq!(scan.plan, p);
        assert_eq!(scan.pending_uploads(), [ShotId(2), ShotId(3)]);
        use ShotState::*;
        assert_eq!(scan.shot_states(), [Uploaded, Captured, Captured, Pending]);
        assert!(scan.is_resumable());
        assert!(!scan.is_settled());
    }

    #[test]
    fn a_failed_upload_is_remembered_until_the_shot_is_uploaded() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = JournalWriter::open(dir.path()).unwrap();
        j.append(&Record::ScanStarted {
            at: 1,
            plan: plan(2),
        })
        .unwrap();
        for n in 1..=2 {
            j.append(&Record::ShotCaptured {
                shot: ShotId(n),
                at: 2,
                files: file(n),
            })
            .unwrap();
            let error = format!("quota full {n}");
            j.append(&Record::UploadFailed {
                shot: ShotId(n),
                at: 3,
                error,
            })
            .unwrap();
        }
        let scan = replay(dir.path()).unwrap();
        assert_eq!(scan.failed.len(), 2);
        assert_eq!(scan.failed[&ShotId(2)], "quota full 2");
        j.append(&Record::ShotUploaded {
            shot: ShotId(1),
            at: 4,
            remote: vec!["r".into()],
        })
        .unwrap();
        let scan = replay(dir.path()).unwrap();
        assert_eq!(scan.failed.keys().collect::<Vec<_>>(), [&ShotId(2)]);
        assert_eq!(scan.pending_uploads(), [ShotId(2)], "still waiting");
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_corrupt_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = JournalWriter::open(dir.path()).unwrap();
        j.append(&Record::ScanStarted {
            at: 1,
            plan: plan(2),
        })
        .unwrap();
        let path = j.path().to_path_buf();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"record\":\"shot_capt").unwrap();
        drop(f);
        let scan = replay(dir.path()).unwrap();
        assert!(scan.captured.is_empty());

        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"\n{\"record\":\"scan_finished\",\"at\":5,\"outcome\":\"stopped\"}\n")
            .unwrap();
        let err = replay(dir.path()).unwrap_err().to_string();
        assert!(err.contains("line 2 is not a journal record"), "{err}");
    }

    #[test]
    fn appending_after_a_torn_last_line_keeps_the_journal_readable() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = JournalWriter::open(dir.path()).unwrap();
        j.append(&Record::ScanStarted {
            at: 1,
            plan: plan(2),
        })
        .unwrap();
        let path = j.path().to_path_buf();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"record\":\"shot_capt").unwrap();
        drop(f);
        let mut j = JournalWriter::open(dir.path()).unwrap();
        j.append(&Record::ShotCaptured {
            shot: ShotId(1),
            at: 2,
            files: file(1),
        })
        .unwrap();
        let scan = replay(dir.path()).unwrap();
        assert_eq!(
            scan.captured.keys().copied().collect::<Vec<_>>(),
            [ShotId(1)]
        );
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn scan_dirs_lists_only_folders_with_a_journal_oldest_first() {
        let spool = tempfile::tempdir().unwrap();
        for name in ["20260102T000000Z-b", "20260101T000000Z-a"] {
            JournalWriter::open(&spool.path().join(name)).unwrap();
        }
        fs::create_dir(spool.path().join("stray")).unwrap();
        let dirs = scan_dirs(spool.path()).unwrap();
        let names: Vec<_> = dirs.iter().map(|d| d.file_name().unwrap()).collect();
        assert_eq!(names, ["20260101T000000Z-a", "20260102T000000Z-b"]);
        assert!(scan_dirs(&spool.path().join("missing")).unwrap().is_empty());
    }
}
