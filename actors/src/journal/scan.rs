//! A scan as its journal tells it, and what it says of the scan: where
//! each shot stands, what is left to send, judge or import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::model::{CameraName, Outcome, Part, Quality, ScanId, ScanPlan, Sent, ShotId, SpoolFile};
use crate::sequence::ShotState;

use super::SkippedLine;

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
    pub(super) fn everywhere<'a, T: 'a>(
        &self,
        at: impl Fn(&str) -> Option<&'a T>,
    ) -> Option<&'a T> {
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
