//! The scan journal: one append-only file of JSON lines per scan, each line
//! fsync'd before it counts. Replaying it tells what was captured, what
//! reached the destination and where an interrupted scan goes on;
//! [`repair`] sets a damaged journal aside and keeps what it can prove.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{
    CameraName, Device, FaultKind, Outcome, Part, Place, Quality, ScanId, ScanPlan, Sent, ShotId,
    SpoolFile,
};
use crate::sequence::ShotState;

/// Name of the journal file inside a scan's spool folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// One line of the journal.
// A record is made, written and dropped one at a time (never kept in
// bulk): the plan of a scan's start is as large as it needs to be.
#[allow(clippy::large_enum_variant)]
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
    /// Some of a shot's files are in the spool, fsync'd: one camera's
    /// frame of a stop shot by several (a column, a bracketed set). The
    /// shot counts only once `ShotCaptured` lists it whole; until then a
    /// resume takes only the parts not recorded, known by the camera and
    /// frame each file names (journals written before files named them
    /// also hold `camera`, the camera's place in the column then, and
    /// `frame`: both are ignored, and the files' names say instead).
    PartCaptured {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// Its file(s), all of one part.
        files: Vec<SpoolFile>,
    },
    /// A wired camera's shutter fired for a shot (`backend =
    /// "trigger"`): its photo stays on the camera's card until `scanrig
    /// import` brings it into the spool (`ShotCaptured`, with the shot's
    /// other files). The shot's pose is the plan's. The rig's one camera
    /// has taken the shot; a column's camera has taken its part of the
    /// stop, which counts as in the spool (as `PartCaptured` would), and
    /// the shot is captured with the other cameras' photos, or taken
    /// (`whole`) when every camera of the stop keeps its photo on a card.
    ShotTriggered {
        /// The shot.
        shot: ShotId,
        /// When the shutter fired, Unix milliseconds.
        at: u64,
        /// The column's camera fired (absent: the rig's one camera).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        camera: Option<CameraName>,
        /// Every camera of the column's stop is fired by a wire: the shot
        /// is taken, as the rig's one camera's is.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        whole: bool,
    },
    /// `scanrig import` matched a camera card's photos to the shots
    /// triggered: those matched are journaled `ShotCaptured` before it;
    /// the shots it names missing had no photo on the card and stay
    /// missing, and the card's other photos were left alone.
    Imported {
        /// Unix milliseconds.
        at: u64,
        /// The card's folder.
        folder: String,
        /// The camera clock's offset found: its EXIF times minus the
        /// trigger times, milliseconds.
        offset_ms: i64,
        /// Triggered shots with no photo on the card.
        missing: Vec<ShotId>,
        /// The card's photos that match no shot, by path in the folder.
        extra: Vec<String>,
        /// The column's camera whose card it was (absent: the rig's one
        /// camera).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        camera: Option<CameraName>,
    },
    /// A photo of a captured shot was judged (or could not be): written
    /// after the shot's `ShotCaptured`, beside its upload; a photo without
    /// one is judged at the next start.
    PhotoJudged {
        /// The shot.
        shot: ShotId,
        /// The photo's file name.
        photo: String,
        /// Unix milliseconds.
        at: u64,
        /// What the judges made of it.
        quality: Quality,
    },
    /// A photo of a captured shot came out blurred: the shot is taken
    /// again, as take `take`. The earlier take stays in the spool, not
    /// sent, until the new one's `ShotCaptured` replaces it; if the scan
    /// ends first, the earlier take is kept and sent.
    ShotRetaken {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// The new take's number, from 2.
        take: u32,
        /// Why, in words.
        why: String,
    },
    /// A shot's file(s) are at the destination (at one of them, named by
    /// `to`, for a scan sent to several).
    ShotUploaded {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// The destination's id of each file, in the order of `files`.
        remote: Vec<String>,
        /// The files sent, as captured: a capture record lost to a damaged
        /// line is recovered from here (absent in older journals).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<SpoolFile>,
        /// The destination, by name, for a scan sent to several (absent:
        /// its only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
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
    /// A device failed during the scan: which, how (its class decides
    /// what the scan did: retry, pause, wait for it), and why.
    DeviceFault {
        /// Unix milliseconds.
        at: u64,
        /// The device.
        device: Device,
        /// Its class.
        kind: FaultKind,
        /// What went wrong, in words.
        message: String,
    },
    /// The Pi's supply sagged during the scan (under-voltage): a camera
    /// fault that follows often comes from it.
    PowerFault {
        /// Unix milliseconds.
        at: u64,
        /// What happened, with its time, in words.
        message: String,
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
    /// Files of the scan other than its photos (its pose priors) are at
    /// the destination; written before the manifest, which lists them.
    FilesUploaded {
        /// Unix milliseconds.
        at: u64,
        /// Their names inside the scan's folder, and their ids there.
        files: BTreeMap<String, String>,
        /// The destination, by name, for a scan sent to several (absent:
        /// its only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// The check after a ring: the camera's frame from the ring's first
    /// shot, taken once the ring was shot, held against that shot's photo.
    RingChecked {
        /// The ring.
        ring: u32,
        /// Unix milliseconds.
        at: u64,
        /// The share of the frame that differs (`None`: not compared, see
        /// `note`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        changed: Option<f32>,
        /// What was found, in words for the operator, when the object
        /// moved: the scan pauses until the operator goes on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        moved: Option<String>,
        /// Why the frame was not compared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The operator went on after the check of a ring found the object
    /// moved.
    MovedAccepted {
        /// The ring.
        ring: u32,
        /// Unix milliseconds.
        at: u64,
    },
    /// `manifest.json` is at the destination (at the one named by `to`,
    /// for a scan sent to several).
    ManifestUploaded {
        /// Unix milliseconds.
        at: u64,
        /// The destination's id of the manifest.
        remote: String,
        /// The destination, by name, for a scan sent to several (absent:
        /// its only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
}

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

/// A scan as its journal tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRecord {
    /// The plan it follows.
    pub plan: ScanPlan,
    /// When it started, Unix milliseconds.
    pub started_at: u64,
    /// Captured shots: when, and their files.
    pub captured: BTreeMap<ShotId, (u64, Vec<SpoolFile>)>,
    /// Shots at every destination: their remote ids (at the first, for a
    /// scan sent to several).
    pub uploaded: BTreeMap<ShotId, Vec<String>>,
    /// For a scan sent to several destinations: the shots at each, by
    /// destination's name, with their remote ids there.
    pub delivered: BTreeMap<String, BTreeMap<ShotId, Vec<String>>>,
    /// For a scan sent to several destinations: the manifest's id at each
    /// that has it, by name.
    pub manifests: BTreeMap<String, String>,
    /// For a scan sent to several destinations: its other files at each,
    /// by destination's name.
    pub extras: BTreeMap<String, BTreeMap<String, String>>,
    /// How it ended, if it did.
    pub finished: Option<Outcome>,
    /// The manifest's remote id, once uploaded.
    pub manifest: Option<String>,
    /// The scan's other files at the destination (pose priors), by name:
    /// their remote ids.
    pub extra: BTreeMap<String, String>,
    /// Shots whose upload last failed for good, with the error.
    pub failed: BTreeMap<ShotId, String>,
    /// Shots whose photo is damaged in the spool, with what is wrong: they
    /// are not sent, and the manifest says they are missing.
    pub damaged: BTreeMap<ShotId, String>,
    /// Shots whose files are no longer in the spool but at an earlier
    /// destination folder (the scan was moved): the scan's folder there.
    pub sources: BTreeMap<ShotId, PathBuf>,
    /// Damaged lines of the journal, skipped.
    pub skipped: Vec<SkippedLine>,
    /// Parts already in the spool of shots not captured whole, by part.
    pub parts: BTreeMap<ShotId, BTreeMap<Part, Vec<SpoolFile>>>,
    /// What the judges made of each photo judged, by file name.
    pub judged: BTreeMap<String, Quality>,
    /// The rings checked after they were shot: what was found when the
    /// object moved and the operator has not gone on yet, else `None`.
    pub checks: BTreeMap<u32, Option<String>>,
    /// The shots taken again because a photo came out blurred: each
    /// take given up, in order.
    pub retaken: BTreeMap<ShotId, Vec<Retaken>>,
    /// Shots a wired camera was fired for, by shot and camera (`None`:
    /// the rig's one camera): when, Unix milliseconds.
    pub triggered: BTreeMap<(ShotId, Option<CameraName>), u64>,
    /// Shots taken with every photo on a camera's card: nothing of them
    /// comes into the spool before an import.
    pub on_card: BTreeSet<ShotId>,
    /// The cameras whose card `scanrig import` read.
    pub imported: BTreeSet<Option<CameraName>>,
    /// Triggered shots the import found no photo for, by shot and
    /// camera, with why.
    pub not_imported: BTreeMap<(ShotId, Option<CameraName>), String>,
}

/// A take of a shot given up for a retake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retaken {
    /// The take given up.
    pub take: u32,
    /// Its photos' file names (not sent, unless the scan ended before the
    /// retake was taken: then it is the take kept).
    pub files: Vec<String>,
    /// Why, in words.
    pub why: String,
}

/// The take the photos of `files` are of (1 without any).
pub fn take_of(files: &[SpoolFile]) -> u32 {
    files
        .first()
        .and_then(|f| crate::model::PhotoName::of_file(&f.name))
        .map_or(1, |n| n.take)
}

impl ScanRecord {
    /// The scan's id.
    pub fn id(&self) -> &ScanId {
        &self.plan.scan
    }

    /// The take each shot is on: 1, or the latest retake journaled.
    pub fn takes(&self) -> Vec<u32> {
        self.plan
            .shots
            .iter()
            .map(|s| {
                let retaken = self.retaken.get(&s.id).and_then(|r| r.last());
                retaken.map_or(1, |r| r.take + 1)
            })
            .collect()
    }

    /// Whether a shot's retake was journaled and not taken.
    fn retake_pending(&self, shot: ShotId) -> bool {
        let Some(last) = self.retaken.get(&shot).and_then(|r| r.last()) else {
            return false;
        };
        self.captured
            .get(&shot)
            .is_some_and(|(_, files)| take_of(files) <= last.take)
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
                } else if self.finished.is_none() && self.retake_pending(s.id) {
                    // Taken again when the scan goes on.
                    ShotState::Pending
                } else if self.captured.contains_key(&s.id) {
                    ShotState::Captured
                } else if self.on_card.contains(&s.id) {
                    // Its photo is on the camera's card: not taken again.
                    ShotState::Triggered
                } else {
                    ShotState::Pending
                }
            })
            .collect()
    }

    /// Captured shots not known to be at the destination that can still
    /// be sent (a photo damaged in the spool cannot; a take that waits
    /// for its retake is not sent unless the scan ends first).
    pub fn pending_uploads(&self) -> Vec<ShotId> {
        self.captured
            .keys()
            .filter(|s| !self.uploaded.contains_key(s) && !self.damaged.contains_key(s))
            .filter(|s| self.finished.is_some() || !self.retake_pending(**s))
            .copied()
            .collect()
    }

    /// What `at` gives for the first of the plan's destinations, once it
    /// gives something for every one of them (`None` for a scan sent to
    /// one destination).
    fn everywhere<'a, T: 'a>(&self, at: impl Fn(&str) -> Option<&'a T>) -> Option<&'a T> {
        let mut each = self.plan.destinations.iter().map(|t| at(&t.name));
        let first = each.next()??;
        each.all(|found| found.is_some()).then_some(first)
    }

    /// The scan as `to` has it: for one of several destinations, the
    /// shots, other files and manifest there (the scan itself for its
    /// only one).
    pub fn at(&self, to: &Sent) -> ScanRecord {
        let Some(name) = &to.name else {
            return self.clone();
        };
        ScanRecord {
            uploaded: self.delivered.get(name).cloned().unwrap_or_default(),
            manifest: self.manifests.get(name).cloned(),
            extra: self.extras.get(name).cloned().unwrap_or_default(),
            ..self.clone()
        }
    }

    /// Of the photos still to send, those `to` does not have yet.
    pub fn waiting_at(&self, to: &Sent) -> Vec<ShotId> {
        let at = to.name.as_ref().and_then(|n| self.delivered.get(n));
        self.pending_uploads()
            .into_iter()
            .filter(|s| !at.is_some_and(|at| at.contains_key(s)))
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
        self.extra.clear();
        self.delivered.clear();
        self.manifests.clear();
        self.extras.clear();
        self.plan.destination = Some(to);
    }

    /// Triggered shots whose photo is still on a camera's card, by shot
    /// and camera: no import of that camera's card has run yet. The
    /// manifest waits for them.
    pub fn awaiting_import(&self) -> Vec<&(ShotId, Option<CameraName>)> {
        self.triggered
            .keys()
            .filter(|(_, camera)| !self.imported.contains(camera))
            .filter(|(shot, camera)| match (self.captured.get(shot), camera) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some((_, files)), Some(_)) => !files.iter().any(|f| f.camera == *camera),
            })
            .collect()
    }

    /// Captured shots with a photo not judged yet (a crash came first).
    pub fn unjudged(&self) -> Vec<ShotId> {
        self.captured
            .iter()
            .filter(|(_, (_, files))| {
                crate::judge::photos_of(files)
                    .iter()
                    .any(|f| !self.judged.contains_key(&f.name))
            })
            .map(|(shot, _)| *shot)
            .collect()
    }

    /// The photos the judges found a problem in, by shot: each as
    /// `<photo>: <problems>`, in words.
    pub fn flagged(&self) -> BTreeMap<ShotId, Vec<String>> {
        let mut flagged: BTreeMap<ShotId, Vec<String>> = BTreeMap::new();
        for (shot, (_, files)) in &self.captured {
            for f in files {
                if let Some(said) = self.judged.get(&f.name).and_then(|q| q.flag(&f.name)) {
                    flagged.entry(*shot).or_default().push(said);
                }
            }
        }
        flagged
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

    /// Files journaled before files named their camera and frame: both
    /// read from their names.
    fn identify(&self, shot: ShotId, files: &mut [SpoolFile]) {
        if let Some(plan) = self.plan.shots.get((shot.0 as usize).wrapping_sub(1)) {
            for f in files {
                f.identify(&plan.stem);
            }
        }
    }

    fn apply(&mut self, scan_dir: &Path, record: Record) {
        match record {
            Record::ScanStarted { at, plan } => {
                self.plan = plan;
                self.started_at = at;
            }
            Record::PartCaptured {
                shot, mut files, ..
            } => {
                self.identify(shot, &mut files);
                let part = files.first().and_then(SpoolFile::part);
                if let (false, Some(part)) = (self.captured.contains_key(&shot), part) {
                    self.parts.entry(shot).or_default().insert(part, files);
                }
            }
            Record::ShotCaptured {
                shot,
                at,
                mut files,
            } => {
                self.identify(shot, &mut files);
                // A retaken shot replaces the earlier capture; an import
                // adds a wired camera's photo to it.
                self.parts.remove(&shot);
                self.uploaded.remove(&shot);
                for at in self.delivered.values_mut() {
                    at.remove(&shot);
                }
                self.failed.remove(&shot);
                self.damaged.remove(&shot);
                self.sources.remove(&shot);
                // A retake's photos are judged anew; those an import adds
                // to are kept as they were judged.
                let adds = self.captured.remove(&shot).is_some_and(|(_, earlier)| {
                    files.len() > earlier.len() && earlier.iter().all(|e| files.contains(e))
                });
                for f in files.iter().filter(|_| !adds) {
                    self.judged.remove(&f.name);
                }
                self.captured.insert(shot, (at, files));
            }
            Record::ShotRetaken {
                shot, take, why, ..
            } => {
                let files = self.captured.get(&shot).map_or(Vec::new(), |(_, files)| {
                    files.iter().map(|f| f.name.clone()).collect()
                });
                let retaken = Retaken {
                    take: take.saturating_sub(1),
                    files,
                    why,
                };
                self.retaken.entry(shot).or_default().push(retaken);
            }
            Record::UploadFailed { shot, error, .. } => {
                self.failed.insert(shot, error);
            }
            Record::ShotDamaged { shot, error, .. } => {
                self.failed.remove(&shot);
                self.damaged.insert(shot, error);
            }
            Record::ShotUploaded {
                shot,
                at,
                remote,
                mut files,
                to,
            } => {
                self.identify(shot, &mut files);
                if !self.captured.contains_key(&shot) && !files.is_empty() {
                    self.captured.insert(shot, (at, files));
                }
                let Some(to) = to else {
                    self.failed.remove(&shot);
                    self.uploaded.insert(shot, remote);
                    return;
                };
                self.delivered.entry(to).or_default().insert(shot, remote);
                let first = self.everywhere(|name| self.delivered.get(name)?.get(&shot));
                if let Some(first) = first.cloned() {
                    self.failed.remove(&shot);
                    self.uploaded.insert(shot, first);
                }
            }
            Record::PhotoJudged { photo, quality, .. } => {
                self.judged.insert(photo, quality);
            }
            Record::ScanFinished { outcome, .. } => self.finished = Some(outcome),
            Record::FilesUploaded { files, to, .. } => match to {
                None => self.extra.extend(files),
                Some(to) => self.extras.entry(to).or_default().extend(files),
            },
            Record::ManifestUploaded { remote, to, .. } => match to {
                None => self.manifest = Some(remote),
                Some(to) => {
                    self.manifests.insert(to, remote);
                    self.manifest = self.everywhere(|name| self.manifests.get(name)).cloned();
                }
            },
            Record::DestinationMoved { from, to, .. } => self.moved(scan_dir, from, to),
            Record::RingChecked { ring, moved, .. } => {
                self.checks.insert(ring, moved);
            }
            Record::MovedAccepted { ring, .. } => {
                self.checks.insert(ring, None);
            }
            Record::ShotTriggered {
                shot,
                at,
                camera,
                whole,
            } => {
                if camera.is_none() || whole {
                    self.on_card.insert(shot);
                } else if !self.captured.contains_key(&shot) {
                    // A column camera's part of the stop is in: a resume
                    // does not fire it again.
                    let part = Part {
                        camera: camera.clone(),
                        frame: 0,
                    };
                    self.parts.entry(shot).or_default().insert(part, Vec::new());
                }
                self.triggered.insert((shot, camera), at);
            }
            Record::Imported {
                folder,
                missing,
                camera,
                ..
            } => {
                let whose = camera
                    .as_ref()
                    .map_or_else(String::new, |c| format!("camera {c} "));
                for shot in missing {
                    let key = (shot, camera.clone());
                    let at = self.triggered.get(&key).copied().unwrap_or_default();
                    let why = format!(
                        "{whose}triggered at {}, but no photo on the card in {folder} matched it",
                        crate::clock::rfc3339_millis(at)
                    );
                    self.not_imported.insert(key, why);
                }
                self.imported.insert(camera);
            }
            Record::DeviceFault { .. } | Record::PowerFault { .. } => {}
        }
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

pub mod commit;
mod repair;

pub use repair::{repair, Repaired};

#[cfg(test)]
pub(crate) mod tests;
