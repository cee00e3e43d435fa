//! One scan as the supervisor tracks it: its sequence, the exposures and
//! files in flight, and the time spent in each stage.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use scanrig_hardware::camera::CameraError;
use serde::Serialize;

use super::stop::Stop;
use crate::destination::Upload;
use crate::journal::ScanRecord;
use crate::model::{CameraName, Outcome, Place, ScanPlan, ShotId, SpoolFile};
use crate::sequence::{Event, Sequence, ShotState};

/// Time spent per stage, summed over the shots of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimes {
    /// Homing and moving.
    #[serde(serialize_with = "secs")]
    pub moving: Duration,
    /// Waiting for the rig to settle.
    #[serde(serialize_with = "secs")]
    pub settling: Duration,
    /// Shutter open to closed.
    #[serde(serialize_with = "secs")]
    pub exposing: Duration,
    /// Camera to spool.
    #[serde(serialize_with = "secs")]
    pub downloading: Duration,
    /// Spool to destination, summed over the workers.
    #[serde(serialize_with = "secs")]
    pub uploading: Duration,
    /// The checks after each ring that the object has not moved: the
    /// check frame taken, compared and journaled (the move back to the
    /// ring's first shot counts in `moving` and `settling`).
    #[serde(serialize_with = "secs")]
    pub checking: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// What a scan did, told when it ends (or pauses for good).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanSummary {
    /// The scan's id.
    pub scan: String,
    /// The profile it followed.
    pub profile: String,
    /// How it ended; `None` if it is paused and can be resumed.
    pub outcome: Option<Outcome>,
    /// Why it is paused, if it is.
    pub paused: Option<String>,
    /// Shots in the plan.
    pub planned: usize,
    /// Shots captured (in this run and earlier ones).
    pub captured: usize,
    /// Shots at the destination.
    pub uploaded: usize,
    /// Shots whose upload gave up; they stay in the spool for a later run.
    pub upload_failed: usize,
    /// Photos judged (in this run and earlier ones).
    pub judged: usize,
    /// Photos the judges found a problem in.
    pub flagged: usize,
    /// Where the photos went.
    pub destination: String,
    /// Wall time of this run.
    #[serde(serialize_with = "secs")]
    pub wall: Duration,
    /// Time per stage.
    pub stages: StageTimes,
}

/// A scan the supervisor is working on: the one being captured, or an
/// earlier one whose uploads are being finished.
pub(crate) struct Run {
    pub(crate) plan: ScanPlan,
    pub(crate) dir: PathBuf,
    pub(crate) seq: Sequence,
    /// Being captured (not only drained).
    pub(crate) active: bool,
    /// The journal already says the scan ended.
    pub(crate) ended: bool,
    /// The stops whose parts are not all in the spool yet: a retry
    /// fires and downloads only the others.
    pub(crate) stops: HashMap<ShotId, Stop>,
    pub(crate) files: HashMap<ShotId, Vec<SpoolFile>>,
    /// Shots read from an earlier destination's folder, not the spool.
    pub(crate) sources: BTreeMap<ShotId, PathBuf>,
    pub(crate) stages: StageTimes,
    pub(crate) started: Instant,
    pub(crate) paused: Option<String>,
    /// Refused before it took anything: its folder is being removed.
    pub(crate) discarding: bool,
    /// Its end is being written (the manifest, its retirement): not quiet
    /// yet, so the process does not quit half-way.
    pub(crate) finishing: bool,
    /// Photos whose upload failed in this run, and the last error.
    pub(crate) given_up: BTreeMap<ShotId, String>,
    /// Shots captured before this run (a resumed scan).
    pub(crate) captured_before: usize,
    /// The photos judged, by file name.
    pub(crate) judged: BTreeSet<String>,
    /// The photos flagged, by shot: each photo and its problems in words.
    pub(crate) flagged: BTreeMap<ShotId, Vec<String>>,
    /// Uploaded shots' spool files, removed once their photos are judged.
    pub(crate) unlink_when_judged: BTreeMap<ShotId, Vec<PathBuf>>,
    /// Takes given up for a retake: their spool files, removed once the
    /// new take is journaled.
    pub(crate) superseded: BTreeMap<ShotId, Vec<PathBuf>>,
    /// For a scan sent to several destinations: those that have each
    /// shot, by name.
    pub(crate) at: BTreeMap<ShotId, BTreeSet<String>>,
    /// For a scan sent to several destinations: the shots on their way.
    pub(crate) sending: BTreeMap<ShotId, super::delivery::Sending>,
}

impl Run {
    /// A run over a new plan, or over a scan read back from its journal.
    pub(crate) fn new(
        plan: ScanPlan,
        dir: PathBuf,
        seq: Sequence,
        record: Option<&ScanRecord>,
    ) -> Run {
        let files = record
            .map(|r| {
                r.captured
                    .iter()
                    .map(|(id, (_, files))| (*id, files.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let captured_before = record.map_or(0, |r| r.captured.len());
        Run {
            captured_before,
            plan,
            dir,
            seq,
            active: false,
            ended: record.is_some_and(|r| r.finished.is_some()),
            // What a crash left of shots not captured whole: a resume takes
            // only the rest.
            stops: record
                .map(|r| {
                    r.parts
                        .iter()
                        .map(|(shot, parts)| (*shot, Stop::with_landed(parts.clone())))
                        .collect()
                })
                .unwrap_or_default(),
            files,
            sources: record.map(|r| r.sources.clone()).unwrap_or_default(),
            stages: StageTimes::default(),
            started: Instant::now(),
            paused: None,
            discarding: false,
            finishing: false,
            given_up: BTreeMap::new(),
            judged: record
                .map(|r| r.judged.keys().cloned().collect())
                .unwrap_or_default(),
            flagged: record.map(ScanRecord::flagged).unwrap_or_default(),
            unlink_when_judged: BTreeMap::new(),
            superseded: BTreeMap::new(),
            at: record.map(delivered).unwrap_or_default(),
            sending: BTreeMap::new(),
        }
    }

    /// Stop `shot`, needing the parts of the cameras `cameras` (the
    /// column as it is now) that shoot it.
    pub(crate) fn stop(&mut self, shot: ShotId, cameras: &[Option<CameraName>]) -> &mut Stop {
        let needed = self.plan.parts(shot, cameras);
        self.stops.entry(shot).or_default().need(needed)
    }

    /// The shot's files, once every part of its stop is in the spool:
    /// `Downloaded`; else the event that takes the missing parts again.
    pub(crate) fn complete(&mut self, shot: ShotId, cameras: &[Option<CameraName>]) -> Event {
        match self.stop(shot, cameras).complete() {
            Ok(files) => {
                self.stops.remove(&shot);
                let kept: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
                let earlier = self.files.get(&shot).into_iter().flatten();
                let given_up: Vec<PathBuf> = earlier
                    .filter(|f| !kept.contains(f.name.as_str()))
                    .map(|f| self.dir.join(&f.name))
                    .collect();
                if !given_up.is_empty() {
                    self.superseded.insert(shot, given_up);
                }
                self.files.insert(shot, files);
                self.at.remove(&shot);
                Event::Downloaded(shot)
            }
            // A part's exposure was lost: take it again.
            Err(_) => super::faults::camera_failed(
                Some(shot),
                CameraError::FileGone {
                    file: self.plan.shot(shot).stem.clone(),
                },
            ),
        }
    }

    /// The uploads of a shot's files.
    pub(crate) fn uploads(&self, shot: ShotId) -> Vec<Upload> {
        let folder = self.sources.get(&shot).unwrap_or(&self.dir);
        self.files
            .get(&shot)
            .into_iter()
            .flatten()
            .map(|f| Upload {
                scan: self.plan.scan.clone(),
                shot,
                local: folder.join(&f.name),
                name: f.name.clone(),
                sha256: f.sha256.clone(),
                size: f.size,
            })
            .collect()
    }

    /// Where the scan's photos go (`default`: where new scans go, for a
    /// plan journaled before scans named their place).
    pub(crate) fn place<'a>(&'a self, default: &'a Place) -> &'a Place {
        self.plan.destination.as_ref().unwrap_or(default)
    }

    /// The shots captured but not at the destination.
    pub(crate) fn waiting(&self) -> BTreeSet<ShotId> {
        (1..=self.plan.shots.len() as u32)
            .map(ShotId)
            .filter(|&s| {
                matches!(
                    self.seq.shot(s),
                    ShotState::Captured | ShotState::Uploading | ShotState::UploadAbandoned
                )
            })
            .collect()
    }

    /// How long the shots not taken yet should take, from this run's
    /// stage times per shot: the table's move and settle overlap the
    /// download, the exposure does not. `None` before a shot of this run.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        let pending = self.seq.count(ShotState::Pending);
        let taken = (self.plan.shots.len() - pending).checked_sub(self.captured_before)?;
        let taken = u32::try_from(taken).ok().filter(|&n| n > 0)?;
        let s = &self.stages;
        let per_shot = ((s.moving + s.settling).max(s.downloading) + s.exposing) / taken;
        Some(per_shot * u32::try_from(pending).ok()?)
    }

    pub(crate) fn summary(&self, outcome: Option<Outcome>, default: &Place) -> ScanSummary {
        let captured = self.plan.shots.len() - self.seq.count(ShotState::Pending);
        ScanSummary {
            scan: self.plan.scan.to_string(),
            profile: self.plan.profile.clone(),
            outcome,
            // A scan that ended is no longer paused, whatever it last waited for.
            paused: self.paused.clone().filter(|_| outcome.is_none()),
            planned: self.plan.shots.len(),
            captured,
            uploaded: self.seq.count(ShotState::Uploaded),
            upload_failed: self.seq.count(ShotState::UploadAbandoned),
            judged: self.judged.len(),
            flagged: self.flagged.values().map(Vec::len).sum(),
            destination: self.place(default).to_string(),
            wall: self.started.elapsed(),
            stages: self.stages,
        }
    }
}

/// The destinations of several that have each shot, as the journal tells.
fn delivered(record: &ScanRecord) -> BTreeMap<ShotId, BTreeSet<String>> {
    let mut at: BTreeMap<ShotId, BTreeSet<String>> = BTreeMap::new();
    for (name, shots) in &record.delivered {
        for shot in shots.keys() {
            at.entry(*shot).or_default().insert(name.clone());
        }
    }
    at
}
