//! How a scan ends: uploads coming back (journaled, the spool file let
//! go), the steps of [`Closing`] carried out (priors, manifest,
//! retirement), and a refused scan discarded.

use std::future::Future;
use std::pin::Pin;

use actix::prelude::*;
use futures_util::FutureExt;
use slog::{info, warn};

use super::closing::{Answer, Closed, Closing, Failure, Step};
use super::faults::flat;
use super::{Progress, StartScan, Supervisor};
use crate::clock::unix_millis_now;
use crate::destination::{DestinationError, MANIFEST};
use crate::journal::commit::{Append, Close, Discard};
use crate::journal::Record;
use crate::model::{Outcome, ScanId, ShotId};
use crate::recorder::{Replay, Retire, SaveBacklog, Tidy};
use crate::sequence::{Event, ShotState};
use crate::uploader::{PutFile, PutFiles, UploadDone};

/// What a step of a closing comes to, once its device answers.
type Answering = Pin<Box<dyn Future<Output = Answer>>>;

impl Supervisor {
    /// Closes a scan whose sequence finished, step by step as [`Closing`]
    /// says; the scan leaves the supervisor once closed.
    pub(super) fn finish(&mut self, scan: &ScanId, outcome: Outcome, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        run.finishing = true;
        let config = &self.policy.config;
        let closing = Closing::new(run.active, !(run.active || run.ended))
            .with_tries(config.upload_attempts, config.upload_backoff);
        self.closing(scan.clone(), outcome, closing, Answer::Begin, ctx);
    }

    /// Carries out the closing's next step; its answer comes back here.
    fn closing(
        &mut self,
        scan: ScanId,
        outcome: Outcome,
        mut closing: Closing,
        answer: Answer,
        ctx: &mut Context<Self>,
    ) {
        let step = closing.next(answer);
        if let Step::Closed(how) = &step {
            self.closed(&scan, how);
            self.close(&scan, outcome);
            return self.start_deferred(scan, ctx);
        }
        let Some(answer) = self.closing_step(&scan, outcome, step) else {
            return;
        };
        answer
            .into_actor(self)
            .map(move |answer, act, ctx| act.closing(scan, outcome, closing, answer, ctx))
            .spawn(ctx);
    }

    /// One step of a closing, as the answer it comes to; `None` for a
    /// scan no longer in hand.
    fn closing_step(&self, scan: &ScanId, outcome: Outcome, step: Step) -> Option<Answering> {
        let run = self.runs.get(scan)?;
        let dir = run.dir.clone();
        let at = unix_millis_now();
        let journaled = |record| -> Answering {
            let append = Append {
                dir: dir.clone(),
                record,
            };
            Box::pin(
                self.journal
                    .send(append)
                    .map(|r| Answer::Journaled(flat(r))),
            )
        };
        Some(match step {
            Step::JournalEnd => journaled(Record::ScanFinished { at, outcome }),
            Step::JournalPriors(to, files) => journaled(Record::FilesUploaded {
                at,
                files,
                to: to.name,
            }),
            Step::JournalManifest(to, remote) => journaled(Record::ManifestUploaded {
                at,
                remote,
                to: to.name,
            }),
            Step::Replay => Box::pin(
                self.recorder
                    .send(Replay(dir.clone()))
                    .map(|r| Answer::Replayed(flat(r).map(Box::new))),
            ),
            Step::SendPriors(to, files) => {
                let put = PutFiles {
                    place: to.place,
                    scan: scan.clone(),
                    files,
                };
                Box::pin(self.uploader.send(put).map(|r| {
                    Answer::PriorsSent(match r {
                        Ok(each) => each.into_iter().map(|r| r.map_err(failure)).collect(),
                        Err(e) => vec![Err(format!("the uploader is gone: {e}").as_str().into())],
                    })
                }))
            }
            Step::SendManifest(to, bytes) => {
                let put = PutFile {
                    place: to.place,
                    scan: scan.clone(),
                    name: MANIFEST.to_owned(),
                    bytes,
                };
                Box::pin(self.uploader.send(put).map(|r| {
                    Answer::ManifestSent(match r {
                        Ok(sent) => sent.map_err(failure),
                        Err(e) => Err(format!("the uploader is gone: {e}").as_str().into()),
                    })
                }))
            }
            Step::Wait(wait) => Box::pin(actix::clock::sleep(wait).map(|()| Answer::Done)),
            Step::Retire => self.retire(dir),
            Step::SaveBacklog => {
                // Awaited: the process may exit as soon as the scan is closed.
                let save = SaveBacklog {
                    dir,
                    given_up: run.given_up.clone(),
                    waiting: run.waiting(),
                    backoff: self.policy.backlog_backoff,
                };
                let log = self.log.clone();
                Box::pin(self.recorder.send(save).map(move |r| {
                    if r.is_err() {
                        warn!(
                            log,
                            "the scan's backlog was not written; its photos are all due"
                        );
                    }
                    Answer::Done
                }))
            }
            Step::Tidy => {
                let log = self.log.clone();
                Box::pin(self.recorder.send(Tidy(dir)).map(move |r| {
                    if let Err(e) = flat(r) {
                        warn!(log, "could not tidy the scan's spool folder"; "error" => e);
                    }
                    Answer::Done
                }))
            }
            Step::Closed(_) => return None,
        })
    }

    /// Closes the journal (nothing more is written to it) and retires the
    /// scan: compacted into the scans index, its spool folder gone.
    fn retire(&self, dir: std::path::PathBuf) -> Answering {
        self.journal.do_send(Close(dir.clone()));
        let retire = Retire {
            dir,
            keep_photos: self.policy.keep_uploaded,
            retention: self.policy.retention,
            hooks: self.policy.hooks.clone(),
        };
        Box::pin(self.recorder.send(retire).map(|r| Answer::Retired(flat(r))))
    }

    /// Starts the scan resumed while its earlier uploads were being
    /// closed, from its journal as they left it; nothing else is taken in
    /// meanwhile.
    fn start_deferred(&mut self, scan: ScanId, ctx: &mut Context<Self>) {
        if self.deferred.as_ref() != Some(&scan) {
            return;
        }
        let dir = self.policy.spool.join(scan.as_str());
        self.recorder
            .send(Replay(dir))
            .into_actor(self)
            .map(move |read, act, ctx| {
                act.deferred = None;
                let started = flat(read).and_then(|record| {
                    let plan = record.plan.clone();
                    let start = StartScan {
                        plan,
                        resume: Some(record),
                    };
                    Handler::handle(act, start, ctx).map_err(|busy| busy.to_string())
                });
                if let Err(e) = started {
                    warn!(act.log, "the scan was not resumed; its journal is as it was"; "scan" => %scan, "error" => e);
                }
            })
            .wait(ctx);
    }

    /// Says how the closing of a scan went.
    fn closed(&self, scan: &ScanId, how: &Closed) {
        match how {
            Closed::Retired => {
                info!(self.log, "scan retired: every photo and the manifest are sent"; "scan" => %scan)
            }
            Closed::NotRetired(e) => {
                warn!(self.log, "the scan could not be retired; the next start does it"; "scan" => %scan, "error" => e)
            }
            Closed::Waiting(waiting) => {
                warn!(self.log, "the manifest waits until every photo is at the destination";
                    "scan" => %scan, "photos waiting" => waiting,
                    "to do" => "scanrig uploads retry, or the next start, sends them and then the manifest")
            }
            Closed::OnCard(photos) => {
                info!(self.log, "the scan's photos are on the camera's card; the manifest waits for them";
                    "scan" => %scan, "photos" => photos,
                    "to do" => format!("scanrig import {scan} FOLDER (the card's folder) brings them in and sends them"))
            }
            Closed::Failed(e) => {
                warn!(self.log, "the manifest was not written; it will be on the next start"; "scan" => %scan, "error" => e)
            }
            Closed::Drained => {}
        }
    }

    /// A new scan refused before it took anything (the camera lacks a
    /// setting the profile asks for) is not kept: nothing to resume, its
    /// spool folder removed; it ends without an outcome, and only then is
    /// the rig quiet.
    pub(super) fn discard_if_untouched(&mut self, scan: &ScanId, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        if !run.active || run.seq.count(ShotState::Pending) != run.plan.shots.len() {
            return;
        }
        run.discarding = true;
        let (id, dir) = (scan.clone(), run.dir.clone());
        self.journal
            .send(Discard(dir.clone()))
            .into_actor(self)
            .map(move |removed, act, _| {
                if let Err(e) = flat(removed) {
                    warn!(act.log, "could not remove a refused scan's spool folder"; "path" => %dir.display(), "error" => e);
                }
                let Some(run) = act.runs.remove(&id) else {
                    return;
                };
                let summary = run.summary(None, &act.policy.destination);
                info!(act.log, "refused scan discarded"; "scan" => %id);
                act.last_finished = Some(summary.clone());
                act.tell(Progress::Finished(Box::new(summary)));
                act.refresh();
            })
            .spawn(ctx);
    }

    fn close(&mut self, scan: &ScanId, outcome: Outcome) {
        let Some(run) = self.runs.remove(scan) else {
            return;
        };
        match run.seq.waiting() {
            0 => self.spooled.remove(scan),
            photos => {
                let at = run.waiting_at();
                self.spooled
                    .insert(scan.clone(), super::Waiting { photos, at })
            }
        };
        self.journal.do_send(Close(run.dir.clone()));
        if run.active {
            let summary = run.summary(Some(outcome), &self.policy.destination);
            info!(self.log, "scan finished"; "scan" => %scan, "outcome" => ?outcome,
                "captured" => summary.captured, "uploaded" => summary.uploaded);
            self.last_finished = Some(summary.clone());
            self.tell(Progress::Finished(Box::new(summary)));
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
        let to = run.sent_to(done.place.as_ref());
        if to.name.is_some() {
            // One of several destinations: the shot is answered once
            // every one has.
            return self.delivered(done, to, ctx);
        }
        match done.result {
            Ok(remote) => {
                let record = run.uploaded_record(done.shot, remote, None);
                let msg = Append {
                    dir: run.dir.clone(),
                    record,
                };
                let journal = self.journal.clone();
                let (scan, shot) = (done.scan.clone(), done.shot);
                self.ask(journal.send(msg), &done.scan, |s| &mut s.uploading, move |act, r| {
                    match flat(r) {
                        Ok(()) => act.shot_sent(&scan, shot),
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
            Err(e) => self.upload_failed(&done.scan, done.shot, e, None, ctx),
        }
    }
}

/// A destination's refusal of a file of the scan's own, for the closing.
fn failure(e: DestinationError) -> Failure {
    Failure {
        retryable: e.is_retryable(),
        error: e.to_string(),
    }
}

impl Supervisor {
    /// A shot journaled at every destination: its spool files let go,
    /// subscribers told.
    pub(super) fn shot_sent(&mut self, scan: &ScanId, shot: ShotId) -> Event {
        let Some(run) = self.runs.get(scan) else {
            return Event::Uploaded(shot);
        };
        // Only spool files leave: a copy read from an earlier
        // destination's folder stays where it is.
        let files: Vec<_> = run
            .uploads(shot)
            .into_iter()
            .map(|u| u.local)
            .filter(|p| p.starts_with(&run.dir))
            .collect();
        let name = run
            .files
            .get(&shot)
            .and_then(|f| f.first())
            .map_or_else(|| run.plan.shot(shot).stem.clone(), |f| f.name.clone());
        if !self.policy.keep_uploaded {
            self.unlink_uploaded(scan, shot, files);
        }
        info!(self.log, "shot uploaded"; "scan" => %scan, "shot" => shot.0);
        let scan = scan.clone();
        self.tell(Progress::Uploaded { scan, shot, name });
        Event::Uploaded(shot)
    }

    /// A shot's upload failed (at `to`, one of several destinations).
    pub(super) fn upload_failed(
        &mut self,
        scan: &ScanId,
        shot: ShotId,
        e: DestinationError,
        to: Option<&str>,
        ctx: &mut Context<Self>,
    ) {
        let error = match to {
            Some(to) => format!("{to}: {e}"),
            None => e.to_string(),
        };
        warn!(self.log, "upload failed"; "scan" => %scan, "shot" => shot.0, "error" => &error);
        let retryable = e.is_retryable();
        self.note_upload_failure(error.clone());
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        if let DestinationError::SpoolDamaged { .. } = e {
            // Journaled before the scan can end on it, so that the
            // manifest knows the photo is lost, not waiting.
            let record = Record::ShotDamaged {
                shot,
                at: unix_millis_now(),
                error,
            };
            let dir = run.dir.clone();
            self.journal.do_send(Append { dir, record });
            return self.feed(scan, Event::UploadFailed { shot, retryable }, ctx);
        }
        // Kept in the scan's backlog when the run ends, if the photo
        // still waits then: why, and when it is tried again.
        run.given_up.insert(shot, error);
        self.feed(scan, Event::UploadFailed { shot, retryable }, ctx);
    }
}
