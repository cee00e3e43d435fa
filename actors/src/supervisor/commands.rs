//! How the supervisor carries out the sequence's commands: each becomes a
//! message to a device actor (or the journal, the recorder, the uploader), whose
//! reply is fed back as an event. Nothing here blocks.

use std::rc::Rc;
use std::time::Instant;

use actix::prelude::*;
use scanrig_hardware::axis::StopKind;
use slog::{debug, error, info, warn};

use super::column;
use super::faults::{flat, table_failed, table_lost};
use super::{Progress, Supervisor};
use crate::camera::{ApplySettings, Connect, Download, Expose};
use crate::clock::unix_millis_now;
use crate::journal::commit::Append;
use crate::journal::Record;
use crate::model::{CameraName, Device, FaultKind, Part, PhotoName, ScanId, ShotId, SpoolFile};
use crate::recorder::FreeSpace;
use crate::sequence::{Command, Event, Fault, PauseReason};
use crate::turntable::{Home, MoveTo, Moved, Release};
use crate::uploader::Enqueue;
use scanrig_hardware::camera::DownloadedFile;

impl Supervisor {
    /// Feeds an event to a scan's sequence and carries out its commands.
    /// An event that comes up while a batch of commands is carried out (a
    /// download with nothing to download) waits its turn in the queue:
    /// the sequence never sees an event in the middle of a batch.
    pub(super) fn feed(&mut self, scan: &ScanId, event: Event, ctx: &mut Context<Self>) {
        self.queued.push_back((scan.clone(), event));
        if self.feeding {
            return;
        }
        self.feeding = true;
        while let Some((scan, event)) = self.queued.pop_front() {
            self.take(&scan, event, ctx);
        }
        self.feeding = false;
        self.refresh();
    }

    /// One event: noted, journaled if it is a fault, handed to the
    /// sequence, its commands carried out.
    fn take(&mut self, scan: &ScanId, event: Event, ctx: &mut Context<Self>) {
        self.note(&event);
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        if let Event::DeviceFailed { device, fault, .. } = &event {
            let record = Record::DeviceFault {
                at: unix_millis_now(),
                device: *device,
                kind: fault.kind,
                message: fault.message.clone(),
            };
            self.journal.do_send(Append {
                dir: run.dir.clone(),
                record,
            });
        }
        for command in run.seq.handle(event, Instant::now()) {
            self.execute(scan, command, ctx);
        }
    }

    /// Sends `msg` to a device and feeds the event made from its reply,
    /// adding the time taken to one of the run's stage timers.
    pub(super) fn ask<F>(
        &mut self,
        request: F,
        scan: &ScanId,
        stage: fn(&mut super::StageTimes) -> &mut std::time::Duration,
        then: impl FnOnce(&mut Supervisor, F::Output) -> Event + 'static,
        ctx: &mut Context<Self>,
    ) where
        F: std::future::Future + 'static,
    {
        let scan = scan.clone();
        let sent = Instant::now();
        request
            .into_actor(self)
            .map(move |reply, act, ctx| {
                if let Some(run) = act.runs.get_mut(&scan) {
                    *stage(&mut run.stages) += sent.elapsed();
                }
                let event = then(act, reply);
                act.feed(&scan, event, ctx);
            })
            .spawn(ctx);
    }

    fn execute(&mut self, scan: &ScanId, command: Command, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        match command {
            Command::ApplySettings => {
                // Before any motor moves: every camera the plan names is
                // the rig's (a column changed since the scan began).
                let names = column::names(&self.cameras);
                let missing = run.plan.cameras_missing(&names);
                if !missing.is_empty() {
                    let list = |names: &mut dyn Iterator<Item = &CameraName>| {
                        names.map(CameraName::as_str).collect::<Vec<_>>().join(", ")
                    };
                    let message = format!(
                        "the scan's profile names camera(s) {} the rig no longer has (its cameras: {}); put them back in [[cameras]] and resume, or discard the scan",
                        list(&mut missing.iter()),
                        list(&mut names.iter().flatten())
                    );
                    let event = Event::DeviceFailed {
                        device: Device::Camera,
                        shot: None,
                        retake: false,
                        fault: Fault {
                            kind: FaultKind::Refused,
                            message,
                        },
                    };
                    return self.feed(scan, event, ctx);
                }
                // Each camera's own settings, under the profile's; every
                // bracket frame's checked against each camera first.
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
                        let mut all = c.settings.clone();
                        all.extend(run.plan.camera.clone());
                        let frames = frames.clone();
                        (
                            Part {
                                camera: c.name.clone(),
                                frame: 0,
                            },
                            ApplySettings {
                                settings: all,
                                frames,
                            },
                        )
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
            Command::Home => {
                let table = self.turntable.clone();
                self.ask(
                    table.send(Home(self.halt.ticket())),
                    scan,
                    |s| &mut s.moving,
                    |_, r| match r {
                        Ok(Ok(())) => Event::Homed,
                        Ok(Err(e)) => table_failed(None, e),
                        Err(e) => table_lost(None, e),
                    },
                    ctx,
                );
            }
            Command::MoveTo(shot) => {
                let p = run.plan.shot(shot);
                let msg = MoveTo {
                    azimuth: p.azimuth,
                    tilt: p.tilt,
                    ticket: self.halt.ticket(),
                };
                let table = self.turntable.clone();
                self.ask(
                    table.send(msg),
                    scan,
                    |s| &mut s.moving,
                    move |_, r| match r {
                        Ok(Ok(Moved {
                            stopped: Some(kind),
                            ..
                        })) => Event::Halted {
                            lost: kind == StopKind::Emergency,
                        },
                        Ok(Ok(m)) => Event::Moved {
                            shot,
                            still: m.still,
                        },
                        Ok(Err(e)) => table_failed(Some(shot), e),
                        Err(e) => table_lost(Some(shot), e),
                    },
                    ctx,
                );
            }
            Command::Settle(shot) => {
                let settle = run.plan.settle();
                run.stages.settling += settle;
                let scan = scan.clone();
                ctx.run_later(settle, move |act, ctx| {
                    act.feed(&scan, Event::Settled(shot), ctx)
                });
            }
            Command::Expose(shot) => {
                // Only the parts (cameras, frames) without a photo of this
                // stop yet: one camera retried does not expose the others
                // again, nor the frames of its set it has taken.
                let shooting = run.plan.parts(shot, &column::names(&self.cameras));
                let closed = run.closed(shot);
                let frames = run.plan.frames();
                let asks: Vec<_> = shooting
                    .iter()
                    .filter(|p| !closed.contains(p))
                    .map(|part| {
                        let request = run.plan.capture_request(shot, part);
                        let mut expose = Expose::plain(request);
                        if let Some(b) = &run.plan.bracket {
                            expose.before = b.frames[part.frame].clone();
                            if part.frame + 1 == frames {
                                expose.after = b.after.clone();
                            }
                        }
                        (part.clone(), expose)
                    })
                    .collect();
                let id = scan.clone();
                self.ask_cameras(
                    asks,
                    "expose",
                    scan,
                    |s| &mut s.exposing,
                    move |act, mut answers| {
                        let fault = act.camera_fault(Some(shot), &mut answers);
                        let Some(run) = act.runs.get_mut(&id) else {
                            return fault.unwrap_or(Event::Exposed(shot));
                        };
                        for (part, exposure) in answers {
                            if let Ok(exposure) = exposure {
                                run.exposures
                                    .entry(shot)
                                    .or_default()
                                    .insert(part, exposure);
                            }
                        }
                        column::stop_exposed(shot, &shooting, &run.closed(shot), fault)
                    },
                    ctx,
                );
            }
            Command::Download(shot) => self.download(scan, shot, ctx),
            Command::Persist(shot) => self.merge_then_persist(scan, shot, ctx),
            Command::Upload {
                shot,
                check_existing,
            } => {
                let files = run.uploads(shot);
                self.uploader.do_send(Enqueue {
                    scan: scan.clone(),
                    shot,
                    place: run.plan.destination.clone(),
                    live: run.active,
                    files,
                    check_existing,
                });
            }
            Command::RetryAfter { delay, retry } => {
                let scan = scan.clone();
                ctx.run_later(delay, move |act, ctx| {
                    act.feed(&scan, Event::RetryDue(retry), ctx)
                });
            }
            Command::Probe(device) => {
                debug!(self.log, "looking for the gone device"; "scan" => %scan, "device" => ?device);
                let id = scan.clone();
                let every = column::names(&self.cameras).into_iter().map(|camera| {
                    let part = Part { camera, frame: 0 };
                    (part, Connect)
                });
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
            Command::Deenergise => self.turntable.do_send(Release),
            Command::Paused(reason) => {
                match &reason {
                    PauseReason::Fault(why) => {
                        error!(self.log, "scan paused"; "scan" => %scan, "reason" => why);
                        run.paused = Some(why.clone());
                    }
                    PauseReason::Manual(what) => {
                        info!(self.log, "scan paused for the operator"; "scan" => %scan, "to do" => what)
                    }
                    PauseReason::Refused(why) => {
                        error!(self.log, "scan refused"; "scan" => %scan, "reason" => why);
                        run.paused = Some(why.clone());
                    }
                    PauseReason::Disconnected(why) => {
                        warn!(self.log, "scan paused until the device is back"; "scan" => %scan, "reason" => why);
                        run.paused = Some(why.clone());
                    }
                    PauseReason::Operator => info!(self.log, "scan paused"; "scan" => %scan),
                }
                let refused = matches!(reason, PauseReason::Refused(_));
                self.tell(Progress::Paused {
                    scan: scan.clone(),
                    reason,
                });
                if refused {
                    self.discard_if_untouched(scan, ctx);
                }
            }
            Command::Finished(outcome) => self.finish(scan, outcome, ctx),
        }
    }

    /// Downloads the exposures of a stop, every camera's together; the
    /// shot is downloaded once every camera's files are in the spool.
    fn download(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let names = column::names(&self.cameras);
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        let exposures = run.exposures.get(&shot).cloned().unwrap_or_default();
        if exposures.is_empty() {
            // Every part already in the spool (a resume after a crash that
            // kept them all), or nothing to download (lost in a restart):
            // take the shot again.
            let event = run.complete(shot, &names);
            return self.feed(scan, event, ctx);
        }
        let dir = run.dir.clone();
        let id = scan.clone();
        // A part of a stop shot by several is journaled as it lands: a
        // crash before the whole stop is in keeps it.
        let several = run.plan.parts(shot, &names).len() > 1;
        // Each part's photo name, for the journal to record its identity.
        let photos: Rc<std::collections::BTreeMap<Part, PhotoName>> = Rc::new(
            exposures
                .keys()
                .map(|p| (p.clone(), run.plan.photo(shot, p)))
                .collect(),
        );
        let (journal, at) = (self.journal.clone(), dir.clone());
        let named = Rc::clone(&photos);
        let each: column::OnAnswer<Vec<DownloadedFile>> =
            Rc::new(move |part, files: &Vec<DownloadedFile>| {
                if let (true, Some(photo)) = (several, named.get(part)) {
                    journal.do_send(Append {
                        dir: at.clone(),
                        record: Record::PartCaptured {
                            shot,
                            at: unix_millis_now(),
                            files: files.iter().map(|f| spool_file(f.clone(), photo)).collect(),
                        },
                    });
                }
            });
        self.ask_cameras_each(
            exposures.into_iter().map(|(part, exposure)| {
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
                    if let Some(e) = run.exposures.get_mut(&shot) {
                        e.remove(&part);
                    }
                    let files = files.into_iter().map(|f| spool_file(f, photo)).collect();
                    run.parts.entry(shot).or_default().insert(part, files);
                }
                if let Some(fault) = fault {
                    return fault;
                }
                run.complete(shot, &names)
            },
            ctx,
        );
    }

    pub(super) fn persist(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let files = run.files.get(&shot).cloned().unwrap_or_default();
        let name = files.first().map(|f| f.name.clone()).unwrap_or_default();
        let msg = Append {
            dir: run.dir.clone(),
            record: Record::ShotCaptured {
                shot,
                at: unix_millis_now(),
                files,
            },
        };
        let journal = self.journal.clone();
        let id = scan.clone();
        self.ask(
            journal.send(msg),
            scan,
            |s| &mut s.downloading,
            move |act, r| match flat(r) {
                Ok(()) => {
                    info!(act.log, "shot captured"; "scan" => %id, "shot" => shot.0, "file" => &name);
                    act.tell(Progress::Captured {
                        scan: id,
                        shot,
                        name,
                    });
                    Event::Persisted(shot)
                }
                Err(e) => Event::PersistFailed(shot, e),
            },
            ctx,
        );
    }

    /// Pauses the scan when the spool's disk gets too full to take the
    /// next photos.
    pub(super) fn check_space(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let (id, min) = (scan.clone(), self.min_free);
        self.recorder
            .send(FreeSpace(run.dir.clone()))
            .into_actor(self)
            .map(move |free, act, ctx| match flat(free) {
                Ok(free) if free < min => {
                    let message = format!(
                        "the spool's disk has only {} MB free (spool.min_free_mb is {}); free some space or wait for uploads, then resume",
                        free / 1_000_000,
                        min / 1_000_000
                    );
                    act.feed(&id, Event::SpaceLow(message), ctx);
                }
                Ok(_) => {}
                Err(e) => warn!(act.log, "cannot tell the free space of the spool"; "error" => e),
            })
            .spawn(ctx);
    }

    /// Journals a new scan's plan before anything else happens.
    pub(super) fn record_start(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let msg = Append {
            dir: run.dir.clone(),
            record: Record::ScanStarted {
                at: unix_millis_now(),
                plan: run.plan.clone(),
            },
        };
        let id = scan.clone();
        // The journal handles records in order, so this line is on disk
        // before any capture of the scan is recorded.
        self.journal
            .send(msg)
            .into_actor(self)
            .map(move |r, act, _| {
                if let Err(e) = flat(r) {
                    error!(act.log, "cannot write the scan journal"; "scan" => %id, "error" => e);
                }
            })
            .spawn(ctx);
    }
}

/// A file downloaded into the spool (or merged there), as the journal
/// records it: with the camera and frame of the photo `photo` it is.
pub(super) fn spool_file(f: DownloadedFile, photo: &PhotoName) -> SpoolFile {
    SpoolFile {
        camera: photo.camera.clone(),
        frame: photo.frame,
        name: f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: f.sha256,
        size: f.size,
        pixels: f.pixels.map(|(w, h)| [w, h]),
    }
}
