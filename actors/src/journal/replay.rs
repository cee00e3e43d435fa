//! What each record of the journal changes in the scan read back.

use std::path::Path;

use crate::model::{Part, Place, ShotId, SpoolFile};

use super::{Record, Retaken, ScanRecord};

impl ScanRecord {
    /// Files journaled before files named their camera and frame: both
    /// read from their names.
    fn identify(&self, shot: ShotId, files: &mut [SpoolFile]) {
        if let Some(plan) = self.plan.shots.get((shot.0 as usize).wrapping_sub(1)) {
            for f in files {
                f.identify(&plan.stem);
            }
        }
    }

    pub(super) fn apply(&mut self, scan_dir: &Path, record: Record) {
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
}
