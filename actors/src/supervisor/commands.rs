//! How the supervisor carries out the sequence's commands: each becomes a
//! message to a device actor (or the journal, the recorder, the uploader),
//! whose reply is fed back as an event; the camera's are in `shooting`.
//! Nothing here blocks.

use std::time::{Instant, SystemTime};

use actix::prelude::*;
use scanrig_hardware::axis::StopKind;
use slog::{error, info, warn};

use super::faults::{camera_failed, flat, table_failed, table_lost};
use super::{Progress, Supervisor};
use crate::clock::{unix_millis, unix_millis_now};
use crate::journal::commit::Append;
use crate::journal::Record;
use crate::model::{CameraName, PhotoName, ScanId, ShotId, SpoolFile};
use crate::recorder::FreeSpace;
use crate::sequence::{Command, Event, PauseReason};
use crate::turntable::{Home, MoveTo, Moved, Release};
use scanrig_hardware::camera::{CameraError, DownloadedFile};

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

    pub(super) fn execute(&mut self, scan: &ScanId, command: Command, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        match command {
            Command::ApplySettings => self.apply_settings(scan, ctx),
            Command::Home => self.home(scan, ctx),
            Command::MoveTo(shot) => self.move_to(scan, shot, ctx),
            Command::Settle(shot) => {
                let settle = run.plan.settle_for(run.seq.take(shot));
                run.stages.settling += settle;
                let scan = scan.clone();
                ctx.run_later(settle, move |act, ctx| {
                    act.feed(&scan, Event::Settled(shot), ctx)
                });
            }
            Command::Expose(shot) => self.expose(scan, shot, ctx),
            Command::Download(shot) => self.download(scan, shot, ctx),
            Command::Persist(shot) => self.merge_then_persist(scan, shot, ctx),
            Command::Judge(shot) => self.judge(scan, shot, ctx),
            Command::Retake { shot, take, why } => self.retake(scan, shot, take, why),
            Command::RetakesStopped(why) => {
                warn!(self.log, "retakes stopped"; "scan" => %scan, "why" => why)
            }
            Command::Upload {
                shot,
                check_existing,
            } => self.upload(scan, shot, check_existing, ctx),
            Command::RetryAfter { delay, retry } => {
                let scan = scan.clone();
                ctx.run_later(delay, move |act, ctx| {
                    act.feed(&scan, Event::RetryDue(retry), ctx)
                });
            }
            Command::Probe(device) => self.probe(scan, device, ctx),
            Command::CheckRing { ring, first } => self.check_ring(scan, ring, first, ctx),
            Command::MovedAccepted(ring) => self.moved_accepted(scan, ring),
            Command::Deenergise => self.turntable.do_send(Release),
            Command::Paused(reason) => self.paused(scan, reason, ctx),
            Command::Finished(outcome) => self.finish(scan, outcome, ctx),
        }
    }

    fn home(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
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

    fn move_to(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let p = run.plan.shot(shot);
        let msg = MoveTo {
            azimuth: p.azimuth,
            way: run.plan.table_way,
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

    fn paused(&mut self, scan: &ScanId, reason: PauseReason, ctx: &mut Context<Self>) {
        let log = &self.log;
        let why = match &reason {
            PauseReason::Fault(why) => {
                error!(log, "scan paused"; "scan" => %scan, "reason" => why);
                Some(why)
            }
            PauseReason::Manual(what) => {
                info!(log, "scan paused for the operator"; "scan" => %scan, "to do" => what);
                None
            }
            PauseReason::Refused(why) => {
                error!(log, "scan refused"; "scan" => %scan, "reason" => why);
                Some(why)
            }
            PauseReason::Disconnected(why) => {
                warn!(log, "scan paused until the device is back"; "scan" => %scan, "reason" => why);
                Some(why)
            }
            PauseReason::Photo(why) => {
                warn!(log, "scan paused on a photo"; "scan" => %scan, "reason" => why);
                Some(why)
            }
            PauseReason::Operator => {
                info!(log, "scan paused"; "scan" => %scan);
                None
            }
            PauseReason::Moved { ring, message } => {
                warn!(log, "scan paused: the object moved"; "scan" => %scan, "ring" => ring, "found" => message);
                None
            }
        };
        if let (Some(why), Some(run)) = (why, self.runs.get_mut(scan)) {
            run.paused = Some(why.clone());
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
                    act.remove_superseded(&id, shot);
                    act.tell(Progress::Captured {
                        scan: id.clone(),
                        shot,
                        name,
                    });
                    act.keep_for_check(&id, shot);
                    Event::Persisted(shot)
                }
                Err(e) => Event::PersistFailed(shot, e),
            },
            ctx,
        );
    }

    /// Journals a shot whose cameras (the rig's one, or every camera of
    /// the column's stop), fired by a wire, keep their photos on their
    /// cards: when each one's shutter was pressed (`presses`), for
    /// `scanrig import` to match the card's photos by. A journal that
    /// cannot be written stops the scan as a spool that cannot take a
    /// photo does.
    pub(super) fn triggered(
        &mut self,
        scan: &ScanId,
        shot: ShotId,
        presses: Vec<(Option<CameraName>, SystemTime)>,
        ctx: &mut Context<Self>,
    ) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        let journal_file = run.dir.join(crate::journal::JOURNAL_FILE);
        let name = run.plan.shot(shot).stem.clone();
        let mut records: Vec<Record> = presses
            .into_iter()
            .map(|(camera, pressed)| Record::ShotTriggered {
                shot,
                at: unix_millis(pressed),
                whole: camera.is_some(),
                camera,
            })
            .collect();
        let Some(last) = records.pop() else {
            return;
        };
        // The journal writes them in order: the shot is taken at the last.
        for record in records {
            let dir = run.dir.clone();
            self.journal.do_send(Append { dir, record });
        }
        let msg = Append {
            dir: run.dir.clone(),
            record: last,
        };
        let journal = self.journal.clone();
        let id = scan.clone();
        self.ask(
            journal.send(msg),
            scan,
            |s| &mut s.exposing,
            move |act, r| match flat(r) {
                Ok(()) => {
                    info!(act.log, "shot triggered; its photo is on the camera's card"; "scan" => %id, "shot" => shot.0);
                    act.tell(Progress::Captured {
                        scan: id.clone(),
                        shot,
                        name,
                    });
                    Event::Triggered(shot)
                }
                Err(e) => camera_failed(
                    Some(shot),
                    CameraError::Io {
                        path: journal_file,
                        source: std::io::Error::other(e),
                    },
                ),
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
        let (id, min) = (scan.clone(), self.policy.min_free);
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
        self.journal
            .send(msg)
            .into_actor(self)
            // The journal handles records in order, so this line is on disk
            // before any capture of the scan is recorded.
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
