//! How the supervisor carries out the sequence's commands: each becomes a
//! message to a device actor, whose reply is fed back as an event. Nothing
//! here blocks.

use std::time::{Duration, Instant};

use actix::dev::Request;
use actix::prelude::*;
use scanrig_hardware::axis::{AxisError, StopKind};
use scanrig_hardware::camera::CameraError;
use slog::{error, info, warn};

use super::{Progress, Supervisor};
use crate::camera::{ApplySettings, Connect, Download, Expose};
use crate::clock::unix_millis_now;
use crate::destination::DestinationError;
use crate::journal::{Record, SpoolFile};
use crate::manifest::Manifest;
use crate::plan::{ScanId, ShotId};
use crate::recorder::{Append, Close, Discard, FreeSpace, RemoveFiles, Replay, Tidy};
use crate::sequence::{Command, Device, Event, Fault, FaultKind, Outcome, PauseReason, ShotState};
use crate::turntable::{Home, MoveTo, Moved, Release};
use crate::uploader::{Enqueue, PutManifest, UploadDone};

impl Supervisor {
    /// Feeds an event to a scan's sequence and carries out its commands.
    pub(super) fn feed(&mut self, scan: &ScanId, event: Event, ctx: &mut Context<Self>) {
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
            self.recorder.do_send(Append {
                dir: run.dir.clone(),
                record,
            });
        }
        for command in run.seq.handle(event, Instant::now()) {
            self.execute(scan, command, ctx);
        }
        self.refresh();
    }

    /// Sends `msg` to a device and feeds the event made from its reply,
    /// adding the time taken to one of the run's stage timers.
    fn ask<A, M>(
        &mut self,
        request: Request<A, M>,
        scan: &ScanId,
        stage: fn(&mut super::StageTimes) -> &mut std::time::Duration,
        then: impl FnOnce(&mut Supervisor, Result<M::Result, MailboxError>) -> Event + 'static,
        ctx: &mut Context<Self>,
    ) where
        A: Actor + Handler<M>,
        A::Context: actix::dev::ToEnvelope<A, M>,
        M: Message + Send + 'static,
        M::Result: Send,
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
                let settings = run.plan.camera.clone();
                let camera = self.camera.clone();
                let timeout = self.camera_timeout;
                let request = camera.send(ApplySettings(settings)).timeout(timeout);
                self.ask(
                    request,
                    scan,
                    |s| &mut s.exposing,
                    move |_, r| match flatten(r, "apply settings", timeout) {
                        Ok(()) => Event::SettingsApplied,
                        Err(e) => camera_failed(None, e),
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
                let request = run.plan.capture_request(shot);
                let camera = self.camera.clone();
                let id = scan.clone();
                let timeout = self.camera_timeout;
                let request = camera.send(Expose(request)).timeout(timeout);
                self.ask(
                    request,
                    scan,
                    |s| &mut s.exposing,
                    move |act, r| match flatten(r, "expose", timeout) {
                        Ok(exposure) => {
                            if let Some(run) = act.runs.get_mut(&id) {
                                run.exposures.insert(shot, exposure);
                            }
                            Event::Exposed(shot)
                        }
                        Err(e) => camera_failed(Some(shot), e),
                    },
                    ctx,
                );
            }
            Command::Download(shot) => self.download(scan, shot, ctx),
            Command::Persist(shot) => {
                self.persist(scan, shot, ctx);
                self.check_space(scan, ctx);
            }
            Command::Upload {
                shot,
                check_existing,
            } => {
                let files = run.uploads(shot);
                self.uploader.do_send(Enqueue {
                    scan: scan.clone(),
                    shot,
                    place: run.plan.destination.clone(),
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
                let camera = self.camera.clone();
                let request = camera.send(Connect).timeout(self.camera_timeout);
                let id = scan.clone();
                self.ask(
                    request,
                    scan,
                    |s| &mut s.exposing,
                    move |act, r| {
                        let present = matches!(r, Ok(Ok(())));
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

    fn download(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        let Some(exposure) = run.exposures.get(&shot).cloned() else {
            // Nothing to download (lost in a restart): take the shot again.
            let event = camera_failed(
                Some(shot),
                CameraError::FileGone {
                    file: run.plan.shot(shot).stem.clone(),
                },
            );
            return self.feed(scan, event, ctx);
        };
        let msg = Download {
            exposure,
            dir: run.dir.clone(),
        };
        let camera = self.camera.clone();
        let id = scan.clone();
        let timeout = self.camera_timeout;
        let request = camera.send(msg).timeout(timeout);
        self.ask(
            request,
            scan,
            |s| &mut s.downloading,
            move |act, r| match flatten(r, "download", timeout) {
                Ok(files) => {
                    if let Some(run) = act.runs.get_mut(&id) {
                        run.exposures.remove(&shot);
                        let files = files
                            .into_iter()
                            .map(|f| SpoolFile {
                                name: f
                                    .path
                                    .file_name()
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .unwrap_or_default(),
                                sha256: f.sha256,
                                size: f.size,
                            })
                            .collect();
                        run.files.insert(shot, files);
                    }
                    Event::Downloaded(shot)
                }
                Err(e) => camera_failed(Some(shot), e),
            },
            ctx,
        );
    }

    fn persist(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
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
        let recorder = self.recorder.clone();
        let id = scan.clone();
        self.ask(
            recorder.send(msg),
            scan,
            |s| &mut s.downloading,
            move |act, r| match flat(r) {
                Ok(()) => {
                    info!(act.log, "shot captured"; "scan" => %id, "shot" => shot.0, "file" => &name);
                    act.tell(Progress::Captured { scan: id, name });
                    Event::Persisted(shot)
                }
                Err(e) => Event::PersistFailed(shot, e),
            },
            ctx,
        );
    }

    /// Pauses the scan when the spool's disk gets too full to take the
    /// next photos.
    fn check_space(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
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
        // The recorder handles messages in order, so this line is on disk
        // before any capture of the scan is recorded.
        self.recorder
            .send(msg)
            .into_actor(self)
            .map(move |r, act, _| {
                if let Err(e) = flat(r) {
                    error!(act.log, "cannot write the scan journal"; "scan" => %id, "error" => e);
                }
            })
            .spawn(ctx);
    }

    fn finish(&mut self, scan: &ScanId, outcome: Outcome, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get(scan) else {
            return;
        };
        if !(run.active || run.ended) {
            // An interrupted scan's uploads are done; it may be resumed.
            return self.close(scan, outcome);
        }
        let dir = run.dir.clone();
        let place = run.plan.destination.clone();
        let write_end = run.active;
        let recorder = self.recorder.clone();
        let uploader = self.uploader.clone();
        let log = self.log.clone();
        let id = scan.clone();
        let scan = scan.clone();
        async move {
            if write_end {
                let end = Record::ScanFinished {
                    at: unix_millis_now(),
                    outcome,
                };
                let append = Append {
                    dir: dir.clone(),
                    record: end,
                };
                flat(recorder.send(append).await)?;
            }
            let record = flat(recorder.send(Replay(dir.clone())).await)?;
            // The manifest is the scan's commit record: it goes out only
            // once every photo that can still arrive is there.
            let waiting = record.pending_uploads().len();
            if waiting == 0 {
                let json = Manifest::from_record(&record).to_json();
                let put = PutManifest {
                    place,
                    scan: id,
                    json,
                };
                let remote = flat(uploader.send(put).await)?;
                let record = Record::ManifestUploaded {
                    at: unix_millis_now(),
                    remote,
                };
                flat(recorder.send(Append { dir: dir.clone(), record }).await)?;
            }
            // Awaited: the process may exit as soon as the scan is closed.
            if let Err(e) = flat(recorder.send(Tidy(dir)).await) {
                warn!(log, "could not tidy the scan's spool folder"; "error" => e);
            }
            Ok::<usize, String>(waiting)
        }
        .into_actor(self)
        .map(move |result, act, _| {
            match result {
                Ok(0) => {}
                Ok(waiting) => {
                    warn!(act.log, "the manifest waits until every photo is at the destination";
                        "scan" => %scan, "photos waiting" => waiting,
                        "to do" => "scanrig uploads retry, or the next start, sends them and then the manifest")
                }
                Err(e) => {
                    warn!(act.log, "the manifest was not written; it will be on the next start"; "error" => e)
                }
            }
            act.close(&scan, outcome);
        })
        .spawn(ctx);
    }

    /// A new scan refused before it took anything (the camera lacks a
    /// setting the profile asks for) is not kept: nothing to resume, its
    /// spool folder removed; it ends without an outcome, and only then is
    /// the rig quiet.
    fn discard_if_untouched(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        if !run.active || run.seq.count(ShotState::Pending) != run.plan.shots.len() {
            return;
        }
        run.discarding = true;
        let id = scan.clone();
        self.recorder
            .send(Discard(run.dir.clone()))
            .into_actor(self)
            .map(move |_, act, _| {
                let Some(run) = act.runs.remove(&id) else {
                    return;
                };
                let summary = run.summary(None, &act.destination);
                info!(act.log, "refused scan discarded"; "scan" => %id);
                act.last_finished = Some(summary.clone());
                act.tell(Progress::Finished(summary));
                act.refresh();
            })
            .spawn(ctx);
    }

    fn close(&mut self, scan: &ScanId, outcome: Outcome) {
        let Some(run) = self.runs.remove(scan) else {
            return;
        };
        self.recorder.do_send(Close(run.dir.clone()));
        if run.active {
            let summary = run.summary(Some(outcome), &self.destination);
            info!(self.log, "scan finished"; "scan" => %scan, "outcome" => ?outcome,
                "captured" => summary.captured, "uploaded" => summary.uploaded);
            self.last_finished = Some(summary.clone());
            self.tell(Progress::Finished(summary));
        } else {
            info!(self.log, "earlier scan's uploads finished"; "scan" => %scan);
        }
        self.refresh();
    }
}

impl Handler<UploadDone> for Supervisor {
    type Result = ();

    fn handle(&mut self, done: UploadDone, ctx: &mut Self::Context) {
        let Some(run) = self.runs.get_mut(&done.scan) else {
            return;
        };
        run.stages.uploading += done.took;
        let shot = done.shot;
        match done.result {
            Ok(remote) => {
                // Only spool files leave: a copy read from an earlier
                // destination's folder stays where it is.
                let files: Vec<_> = run
                    .uploads(shot)
                    .into_iter()
                    .map(|u| u.local)
                    .filter(|p| p.starts_with(&run.dir))
                    .collect();
                let name = run.plan.shot(shot).stem.clone();
                let msg = Append {
                    dir: run.dir.clone(),
                    record: Record::ShotUploaded {
                        shot,
                        at: unix_millis_now(),
                        remote,
                        files: run.files.get(&shot).cloned().unwrap_or_default(),
                    },
                };
                let keep = self.keep_uploaded;
                let recorder = self.recorder.clone();
                let scan = done.scan.clone();
                self.ask(recorder.send(msg), &done.scan, |s| &mut s.uploading, move |act, r| {
                    match flat(r) {
                        Ok(()) => {
                            if !keep {
                                act.recorder.do_send(RemoveFiles(files));
                            }
                            info!(act.log, "shot uploaded"; "scan" => %scan, "shot" => shot.0);
                            act.tell(Progress::Uploaded { scan, name });
                            Event::Uploaded(shot)
                        }
                        Err(e) => {
                            warn!(act.log, "cannot journal an upload; it will be checked and retried"; "error" => e);
                            Event::UploadFailed {
                                shot,
                                retryable: true,
                            }
                        }
                    }
                }, ctx);
            }
            Err(e) => {
                warn!(self.log, "upload failed"; "scan" => %done.scan, "shot" => shot.0, "error" => %e);
                let retryable = e.is_retryable();
                let dir = run.dir.clone();
                self.note_upload_failure(e.to_string());
                if let DestinationError::SpoolDamaged { .. } = e {
                    // Journaled before the scan can end on it, so that the
                    // manifest knows the photo is lost, not waiting.
                    let record = Record::ShotDamaged {
                        shot,
                        at: unix_millis_now(),
                        error: e.to_string(),
                    };
                    self.recorder.do_send(Append { dir, record });
                    return self.feed(&done.scan, Event::UploadFailed { shot, retryable }, ctx);
                }
                self.feed(&done.scan, Event::UploadFailed { shot, retryable }, ctx);
                let abandoned = self
                    .runs
                    .get(&done.scan)
                    .is_some_and(|r| r.seq.shot(shot) == ShotState::UploadAbandoned);
                if abandoned {
                    // For `scanrig uploads`: why this photo still waits.
                    let record = Record::UploadFailed {
                        shot,
                        at: unix_millis_now(),
                        error: e.to_string(),
                    };
                    self.recorder.do_send(Append { dir, record });
                }
            }
        }
    }
}

fn flatten<T>(
    reply: Result<Result<T, CameraError>, MailboxError>,
    during: &'static str,
    timeout: Duration,
) -> Result<T, CameraError> {
    reply.unwrap_or_else(|e| {
        Err(match e {
            MailboxError::Timeout => CameraError::Timeout {
                during,
                seconds: timeout.as_secs(),
            },
            MailboxError::Closed => CameraError::Driver {
                during,
                reason: "the camera thread is gone".into(),
            },
        })
    })
}

fn camera_failed(shot: Option<ShotId>, e: CameraError) -> Event {
    let (kind, message) = match &e {
        // Writing to the spool failed: the spool's fault, not the camera's.
        CameraError::Io { path, source } => (
            FaultKind::Fatal,
            format!(
                "the spool cannot take the photo: writing {} failed: {source}; free some space on the spool's disk (or make spool.dir writable), then resume",
                path.display()
            ),
        ),
        CameraError::NotConnected { .. } | CameraError::Disconnected { .. } => {
            (FaultKind::Gone, format!("camera disconnected ({e})"))
        }
        e if e.is_configuration() => (FaultKind::Refused, e.to_string()),
        e => (FaultKind::Transient, e.to_string()),
    };
    Event::DeviceFailed {
        device: Device::Camera,
        shot,
        retake: matches!(e, CameraError::FileGone { .. }),
        fault: Fault { kind, message },
    }
}

/// What an axis error means for the scan: a stop asked for is no failure;
/// a limit, a missing axis or an end-stop never found is fatal at once;
/// the rest is retried within the restart budget.
fn table_failed(shot: Option<ShotId>, e: AxisError) -> Event {
    if let AxisError::Stopped { .. } = e {
        return Event::Halted { lost: true };
    }
    let kind = if e.is_fatal() {
        FaultKind::Fatal
    } else {
        FaultKind::Transient
    };
    table_fault(shot, kind, e.to_string())
}

/// The turntable's thread did not answer.
fn table_lost(shot: Option<ShotId>, e: MailboxError) -> Event {
    table_fault(
        shot,
        FaultKind::Transient,
        format!("the turntable did not answer: {e}"),
    )
}

fn table_fault(shot: Option<ShotId>, kind: FaultKind, message: String) -> Event {
    Event::DeviceFailed {
        device: Device::Table,
        shot,
        retake: false,
        fault: Fault { kind, message },
    }
}

/// A reply from an actor whose handler returns a `Result`, as one `Result`.
fn flat<T, E: std::fmt::Display>(reply: Result<Result<T, E>, MailboxError>) -> Result<T, String> {
    match reply {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("actor gone: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(e: CameraError) -> Fault {
        match camera_failed(Some(ShotId(1)), e) {
            Event::DeviceFailed { fault, .. } => fault,
            other => panic!("{other:?}"),
        }
    }

    /// Every camera error and its class.
    #[test]
    fn every_camera_error_has_its_class() {
        use FaultKind::*;
        let during = "expose";
        let table: Vec<(CameraError, FaultKind)> = vec![
            (
                CameraError::NotConnected {
                    detail: String::new(),
                },
                Gone,
            ),
            (CameraError::Disconnected { during }, Gone),
            (CameraError::Busy { during }, Transient),
            (
                CameraError::Timeout {
                    during,
                    seconds: 30,
                },
                Transient,
            ),
            (
                CameraError::UnknownSetting {
                    key: "isoo".into(),
                    known: vec!["iso".into()],
                },
                Refused,
            ),
            (
                CameraError::InvalidValue {
                    key: "iso".into(),
                    value: "-1".into(),
                    choices: vec![],
                },
                Refused,
            ),
            (CameraError::Ambiguous { found: vec![] }, Refused),
            (CameraError::FileGone { file: "a".into() }, Transient),
            (
                CameraError::Io {
                    path: "/spool/a".into(),
                    source: std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem),
                },
                Fatal,
            ),
            (
                CameraError::Claimed {
                    port: "usb:".into(),
                },
                Transient,
            ),
            (
                CameraError::Unsupported {
                    during,
                    reason: "no".into(),
                },
                Transient,
            ),
            (
                CameraError::Driver {
                    during,
                    reason: "PTP".into(),
                },
                Transient,
            ),
        ];
        for (e, want) in table {
            let text = e.to_string();
            assert_eq!(fault(e).kind, want, "{text}");
        }
    }

    /// Every destination error and whether it is retried.
    #[test]
    fn every_destination_error_says_whether_it_is_retried() {
        use crate::destination::DestinationError as D;
        let table = [
            (D::Transient("network down".into()), true),
            (D::Permanent("authorisation revoked".into()), false),
            (
                D::Mismatch {
                    name: "a".into(),
                    got: "x".into(),
                    expected: "y".into(),
                },
                true,
            ),
            (
                D::SpoolDamaged {
                    name: "a".into(),
                    reason: "cut short".into(),
                },
                false,
            ),
        ];
        for (e, retried) in table {
            assert_eq!(e.is_retryable(), retried, "{e}");
        }
    }

    #[test]
    fn camera_failures_are_told_apart_by_what_is_at_fault() {
        let full = fault(CameraError::Io {
            path: "/spool/scan/a.jpg".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        });
        assert_eq!(full.kind, FaultKind::Fatal);
        assert!(
            full.message.starts_with("the spool cannot take the photo"),
            "{}",
            full.message
        );
        assert!(full.message.contains("free some space"), "{}", full.message);

        let gone = fault(CameraError::Disconnected { during: "expose" });
        assert_eq!(gone.kind, FaultKind::Gone);
        let refused = fault(CameraError::InvalidValue {
            key: "iso".into(),
            value: "-1".into(),
            choices: vec!["100".into()],
        });
        assert_eq!(refused.kind, FaultKind::Refused);
        let busy = fault(CameraError::Busy { during: "expose" });
        assert_eq!(busy.kind, FaultKind::Transient);
    }

    fn table(e: AxisError) -> Event {
        table_failed(Some(ShotId(1)), e)
    }

    fn kind(event: Event) -> FaultKind {
        match event {
            Event::DeviceFailed { fault, .. } => fault.kind,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn axis_errors_are_classed_by_their_type() {
        use scanrig_hardware::Degrees;
        use std::time::Duration;
        let timeout = AxisError::HomingTimeout {
            axis: "tilt",
            after: Duration::from_secs(60),
        };
        let limit = AxisError::BeyondLimit {
            axis: "tilt",
            target: Degrees(100.0),
            limit: Degrees(90.0),
            setting: "tilt.max_deg",
        };
        let driver = AxisError::Driver {
            axis: "turntable",
            reason: "STEP pin failed".into(),
        };
        assert_eq!(kind(table(timeout)), FaultKind::Fatal);
        assert_eq!(kind(table(limit)), FaultKind::Fatal);
        assert_eq!(kind(table(AxisError::NoTiltAxis)), FaultKind::Fatal);
        assert_eq!(kind(table(driver)), FaultKind::Transient);
        assert_eq!(
            kind(table(AxisError::NotHomed { axis: "tilt" })),
            FaultKind::Transient
        );
        assert_eq!(
            table(AxisError::Stopped { axis: "tilt" }),
            Event::Halted { lost: true },
            "a stop asked for is no failure"
        );
        assert_eq!(
            kind(table_lost(None, MailboxError::Timeout)),
            FaultKind::Transient
        );
    }
}
