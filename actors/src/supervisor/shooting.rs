//! The sequence's camera commands carried out on every camera of the
//! column: settings (after checking the plan's cameras are all there),
//! exposures and downloads as the stop's [`Stop`](super::stop::Stop) asks,
//! and looking for a camera that is gone. Nothing here blocks.

use std::collections::BTreeMap;
use std::rc::Rc;

use actix::prelude::*;
use scanrig_hardware::camera::DownloadedFile;
use slog::{debug, info};

use super::column;
use super::commands::spool_file;
use super::Supervisor;
use crate::camera::{ApplySettings, Connect, Download, Expose};
use crate::clock::{unix_millis, unix_millis_now};
use crate::journal::commit::Append;
use crate::journal::Record;
use crate::model::{CameraName, Device, FaultKind, Part, PhotoName, ScanId, ScanPlan, ShotId};
use crate::sequence::{Event, Fault};

/// The refusal of a plan that names cameras the column (`names`) does
/// not have (the column changed since the scan began); `None` when it has
/// them all.
pub(super) fn missing_cameras(plan: &ScanPlan, names: &[Option<CameraName>]) -> Option<Event> {
    let missing = plan.cameras_missing(names);
    if missing.is_empty() {
        return None;
    }
    let list = |names: &mut dyn Iterator<Item = &CameraName>| {
        names.map(CameraName::as_str).collect::<Vec<_>>().join(", ")
    };
    let message = format!(
        "the scan's profile names camera(s) {} the rig no longer has (its cameras: {}); put them back in [[cameras]] and resume, or discard the scan",
        list(&mut missing.iter()),
        list(&mut names.iter().flatten())
    );
    Some(Event::DeviceFailed {
        device: Device::Camera,
        shot: None,
        retake: false,
        fault: Fault {
            kind: FaultKind::Refused,
            message,
        },
    })
}

/// Frame 0 of camera `camera`: what a question to the whole camera is
/// keyed by.
fn whole(camera: Option<CameraName>) -> Part {
    Part { camera, frame: 0 }
}

impl Supervisor {
    /// Before any motor moves: every camera the plan names is the rig's;
    /// then each camera's own settings, under the profile's, and every
    /// bracket frame's checked against each camera first.
    pub(super) fn apply_settings(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        if let Some(refusal) = missing_cameras(&run.plan, &column::names(&self.cameras)) {
            return self.feed(scan, refusal, ctx);
        }
        let frames: Vec<_> = run
            .plan
            .bracket
            .iter()
            .flat_map(|b| b.frames.iter().chain([&b.after]).cloned())
            .collect();
        let settings: Vec<_> = self
            .cameras
            .iter()
            .map(|c| {
                let mut settings = c.settings.clone();
                settings.extend(run.plan.camera.clone());
                let frames = frames.clone();
                (whole(c.name.clone()), ApplySettings { settings, frames })
            })
            .collect();
        self.ask_cameras(
            settings,
            "apply settings",
            scan,
            |s| &mut s.exposing,
            |act, mut answers| {
                act.camera_fault(None, &mut answers)
                    .unwrap_or(Event::SettingsApplied)
            },
            ctx,
        );
    }

    /// Exposes the parts of stop `shot` without a photo yet: one camera
    /// retried does not expose the others again, nor the frames of its
    /// set it has taken.
    pub(super) fn expose(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let names = column::names(&self.cameras);
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        let (frames, take) = (run.plan.frames(), run.seq.take(shot));
        let parts = run.stop(shot, &names).to_expose();
        let asks: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let mut expose = Expose::plain(run.plan.capture_request(shot, &part, take));
                if let Some(b) = &run.plan.bracket {
                    expose.before = b.frames[part.frame].clone();
                    if part.frame + 1 == frames {
                        expose.after = b.after.clone();
                    }
                }
                (part, expose)
            })
            .collect();
        let id = scan.clone();
        self.ask_cameras(
            asks,
            "expose",
            scan,
            |s| &mut s.exposing,
            move |act, answers| match act.runs.get_mut(&id) {
                Some(run) => run.stop(shot, &names).exposed(shot, answers),
                None => Event::Exposed(shot),
            },
            ctx,
        );
    }

    /// Downloads the exposures of a stop, every camera's together; the
    /// shot is downloaded once every part's files are in the spool. A part
    /// of a stop shot by several is journaled as it lands: a crash before
    /// the whole stop is in keeps it.
    pub(super) fn download(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let names = column::names(&self.cameras);
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        let (take, journal_dir) = (run.seq.take(shot), run.dir.clone());
        let stop = run.stop(shot, &names);
        let pressed = stop.on_card();
        let (downloads, several) = (stop.downloads(), stop.several());
        if !pressed.is_empty() && downloads.is_empty() && stop.holds_no_file() {
            // Every photo of the stop is on a card: the shot is taken.
            run.stops.remove(&shot);
            return self.triggered(scan, shot, pressed, ctx);
        }
        // A column's camera's part is in once its trigger is journaled
        // (before the shot's capture, by the same journal); the others
        // download.
        for (camera, at) in pressed {
            let record = Record::ShotTriggered {
                shot,
                at: unix_millis(at),
                camera,
                whole: false,
            };
            self.journal.do_send(Append {
                dir: journal_dir.clone(),
                record,
            });
        }
        if downloads.is_empty() {
            // Every part already in the spool (a resume after a crash that
            // kept them all), or nothing to download (lost in a restart):
            // take the shot again.
            let event = run.complete(shot, &names);
            return self.feed(scan, event, ctx);
        }
        // Each part's photo name, for the journal to record its identity.
        let photos: Rc<BTreeMap<Part, PhotoName>> = Rc::new(
            downloads
                .iter()
                .map(|(p, _)| (p.clone(), run.plan.photo(shot, p, take)))
                .collect(),
        );
        let dir = run.dir.clone();
        let (journal, at, named) = (self.journal.clone(), dir.clone(), Rc::clone(&photos));
        let each: column::OnAnswer<Vec<DownloadedFile>> =
            Rc::new(move |part, files: &Vec<DownloadedFile>| {
                if let (true, Some(photo)) = (several, named.get(part)) {
                    let files = files.iter().map(|f| spool_file(f.clone(), photo)).collect();
                    journal.do_send(Append {
                        dir: at.clone(),
                        record: Record::PartCaptured {
                            shot,
                            at: unix_millis_now(),
                            files,
                        },
                    });
                }
            });
        let id = scan.clone();
        self.ask_cameras_each(
            downloads.into_iter().map(|(part, exposure)| {
                let dir = dir.clone();
                (part, Download { exposure, dir })
            }),
            "download",
            scan,
            |s| &mut s.downloading,
            each,
            move |act, mut answers| {
                let fault = act.camera_fault(Some(shot), &mut answers);
                let Some(run) = act.runs.get_mut(&id) else {
                    return fault.unwrap_or(Event::Downloaded(shot));
                };
                for (part, files) in answers {
                    let (Ok(files), Some(photo)) = (files, photos.get(&part)) else {
                        continue;
                    };
                    let files = files.into_iter().map(|f| spool_file(f, photo)).collect();
                    run.stop(shot, &names).landed(part, files);
                }
                fault.unwrap_or_else(|| run.complete(shot, &names))
            },
            ctx,
        );
    }

    /// Looks for a device that is gone: every camera of the column must
    /// answer for the scan to go on.
    pub(super) fn probe(&mut self, scan: &ScanId, device: Device, ctx: &mut Context<Self>) {
        debug!(self.log, "looking for the gone device"; "scan" => %scan, "device" => ?device);
        let id = scan.clone();
        let every = column::names(&self.cameras)
            .into_iter()
            .map(|camera| (whole(camera), Connect));
        self.ask_cameras(
            every,
            "connect",
            scan,
            |s| &mut s.exposing,
            move |act, answers| {
                let present = answers.iter().all(|(_, r)| r.is_ok());
                if let (true, Some(run)) = (present, act.runs.get_mut(&id)) {
                    info!(act.log, "the camera is back; the scan goes on"; "scan" => %id);
                    run.paused = None;
                }
                Event::Probed { device, present }
            },
            ctx,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scanrig_hardware::Degrees;

    use super::*;
    use crate::model::Station;

    #[test]
    fn a_plan_naming_a_camera_the_column_lacks_is_refused_naming_both() {
        let camera = |n: &str| CameraName::new(n).unwrap();
        let station = Station {
            ring: 1,
            index: 1,
            azimuth: Degrees(0.0),
            tilt: Degrees(0.0),
            cameras: vec![camera("top")],
        };
        let plan = ScanPlan::new(
            ScanId::from_existing("s"),
            "s",
            "s",
            Duration::ZERO,
            BTreeMap::new(),
            &[station],
        );
        let column = |names: &[&str]| -> Vec<Option<CameraName>> {
            names.iter().map(|n| Some(camera(n))).collect()
        };
        assert_eq!(missing_cameras(&plan, &column(&["low", "top"])), None);
        let Some(Event::DeviceFailed { fault, shot, .. }) =
            missing_cameras(&plan, &column(&["low", "mid"]))
        else {
            panic!("not refused");
        };
        assert_eq!((fault.kind, shot), (FaultKind::Refused, None));
        assert!(
            fault.message.starts_with(
                "the scan's profile names camera(s) top the rig no longer has (its cameras: low, mid)"
            ),
            "{}",
            fault.message
        );
    }
}
