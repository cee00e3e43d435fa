//! One stop of the table as a pure state machine (no actors, no I/O): the
//! parts it needs (each frame of each camera that shoots it), those whose
//! shutter has closed and those whose files are in the spool. The table
//! leaves once every shutter has closed; the shot is downloaded once every
//! part is in the spool; a camera retried takes only its own parts again.

use std::collections::BTreeMap;
use std::time::SystemTime;

use scanrig_hardware::camera::{CameraError, Exposure};

use super::faults::camera_failed;
use crate::model::{CameraName, Part, ShotId, SpoolFile};
use crate::sequence::Event;

/// Where one stop stands.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    /// The parts it needs, in the column's order.
    needed: Vec<Part>,
    /// Exposures waiting for their download.
    exposed: BTreeMap<Part, Exposure>,
    /// Files in the spool, by part.
    landed: BTreeMap<Part, Vec<SpoolFile>>,
}

impl Stop {
    /// A stop whose parts `landed` are in the spool already (a crash
    /// kept them).
    pub(crate) fn with_landed(landed: BTreeMap<Part, Vec<SpoolFile>>) -> Stop {
        Stop {
            landed,
            ..Stop::default()
        }
    }

    /// The parts the stop needs, in the column's order (the column's
    /// cameras as they are now).
    pub(crate) fn need(&mut self, needed: Vec<Part>) -> &mut Stop {
        self.needed = needed;
        self
    }

    /// The parts to expose: those with neither an exposure waiting nor
    /// their files in the spool.
    pub(crate) fn to_expose(&self) -> Vec<Part> {
        self.needed
            .iter()
            .filter(|p| !self.exposed.contains_key(p) && !self.landed.contains_key(p))
            .cloned()
            .collect()
    }

    /// Whether the stop has several parts: each is journaled as it lands,
    /// so that a crash keeps it.
    pub(crate) fn several(&self) -> bool {
        self.needed.len() > 1
    }

    /// What the cameras' answers to their exposures come to: the first
    /// failure, if any (the exposures that worked are kept); else
    /// `Exposed` only when every part's shutter has closed, else the
    /// missing ones are taken again. The table leaves a stop on
    /// `Exposed` and on nothing else.
    pub(crate) fn exposed(
        &mut self,
        shot: ShotId,
        answers: Vec<(Part, Result<Exposure, CameraError>)>,
    ) -> Event {
        let mut fault = None;
        for (part, answer) in answers {
            match answer {
                Ok(exposure) => {
                    self.exposed.insert(part, exposure);
                }
                Err(e) => {
                    fault.get_or_insert_with(|| failed(Some(shot), &part, e));
                }
            }
        }
        if let Some(fault) = fault {
            return fault;
        }
        match self.to_expose().first() {
            None => Event::Exposed(shot),
            Some(part) => camera_failed(
                Some(shot),
                CameraError::Driver {
                    during: "expose",
                    reason: format!(
                        "frame {} of {} was not exposed",
                        part.frame + 1,
                        called(part.camera.as_ref())
                    ),
                },
            ),
        }
    }

    /// The exposures waiting for their download.
    pub(crate) fn downloads(&self) -> Vec<(Part, Exposure)> {
        self.exposed
            .iter()
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect()
    }

    /// Lands the exposed parts whose camera, fired by a wire, keeps its
    /// photo on its card: in, with no file to download. Returns when each
    /// one's shutter was pressed.
    pub(crate) fn on_card(&mut self) -> Vec<(Option<CameraName>, SystemTime)> {
        let pressed: Vec<(Part, SystemTime)> = self
            .exposed
            .iter()
            .filter_map(|(part, e)| Some((part.clone(), e.left_on_card?)))
            .collect();
        for (part, _) in &pressed {
            self.landed(part.clone(), Vec::new());
        }
        pressed.into_iter().map(|(p, at)| (p.camera, at)).collect()
    }

    /// Whether no part of the stop has a file in the spool (every part in
    /// is a camera's fired by a wire, whose photo stays on its card).
    pub(crate) fn holds_no_file(&self) -> bool {
        self.landed.values().all(Vec::is_empty)
    }

    /// A part's files are in the spool.
    pub(crate) fn landed(&mut self, part: Part, files: Vec<SpoolFile>) {
        self.exposed.remove(&part);
        self.landed.insert(part, files);
    }

    /// The shot's files once every part is in the spool, in the column's
    /// order (parts of a camera that no longer shoots here, journaled
    /// before it left the column, after them); else the part missing.
    pub(crate) fn complete(&mut self) -> Result<Vec<SpoolFile>, Part> {
        if let Some(missing) = self.needed.iter().find(|p| !self.landed.contains_key(p)) {
            return Err(missing.clone());
        }
        let mut landed = std::mem::take(&mut self.landed);
        let mut files: Vec<SpoolFile> = self
            .needed
            .iter()
            .filter_map(|p| landed.remove(p))
            .flatten()
            .collect();
        files.extend(landed.into_values().flatten());
        self.exposed.clear();
        Ok(files)
    }
}

/// A part's failure as the sequence's event, naming the camera in a
/// column.
pub(crate) fn failed(shot: Option<ShotId>, part: &Part, e: CameraError) -> Event {
    let mut event = camera_failed(shot, e);
    if let (Event::DeviceFailed { fault, .. }, Some(name)) = (&mut event, &part.camera) {
        fault.message = format!("camera {name}: {}", fault.message);
    }
    event
}

/// How a camera is called in messages: by its name in a column.
pub(super) fn called(camera: Option<&CameraName>) -> String {
    camera.map_or_else(|| "the camera".to_owned(), |c| format!("camera {c}"))
}

#[cfg(test)]
mod tests;
