//! How a scan ends: uploads coming back (journaled, the spool file let
//! go), the manifest written once every photo is at the destination, and
//! a refused scan discarded.

use actix::prelude::*;
use slog::{info, warn};

use super::faults::flat;
use super::{Progress, Supervisor};
use crate::clock::unix_millis_now;
use crate::destination::{DestinationError, MANIFEST};
use crate::journal::commit::{Append, Close, Discard};
use crate::journal::Record;
use crate::manifest::Manifest;
use crate::model::{Outcome, ScanId};
use crate::recorder::{RemoveFiles, Replay, Retire, SaveBacklog, Tidy};
use crate::sequence::{Event, ShotState};
use crate::uploader::{PutFile, PutFiles, UploadDone};

impl Supervisor {
    pub(super) fn finish(&mut self, scan: &ScanId, outcome: Outcome, ctx: &mut Context<Self>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        run.finishing = true;
        // Awaited before the scan is closed: the process may exit then.
        let save = SaveBacklog {
            dir: run.dir.clone(),
            given_up: run.given_up.clone(),
            waiting: run.waiting(),
            backoff: self.backlog_backoff,
        };
        if !(run.active || run.ended) {
            // An interrupted scan's uploads are done; it may be resumed.
            let id = scan.clone();
            self.recorder
                .send(save)
                .into_actor(self)
                .map(move |_, act, _| act.close(&id, outcome))
                .spawn(ctx);
            return;
        }
        let dir = run.dir.clone();
        let place = run.plan.destination.clone();
        let write_end = run.active;
        let recorder = self.recorder.clone();
        let journal = self.journal.clone();
        let uploader = self.uploader.clone();
        let retire = Retire {
            dir: dir.clone(),
            keep_photos: self.keep_uploaded,
            retention: self.retention,
            hooks: self.hooks,
        };
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
                flat(journal.send(append).await)?;
            }
            let mut record = flat(recorder.send(Replay(dir.clone())).await)?;
            // The manifest is the scan's commit record: it goes out only
            // once every photo that can still arrive is there.
            let waiting = record.pending_uploads().len();
            if waiting == 0 {
                // The pose priors go first, all in one go, then one record
                // of those that arrived; a crash in between only sends them
                // again (a file sent again replaces itself).
                let priors = record.plan.priors.as_ref();
                let files: Vec<(String, Vec<u8>)> = priors
                    .map(|p| crate::poses::export::files_of(p, &record))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(name, _)| !record.extra.contains_key(name))
                    .map(|(name, text)| (name, text.into_bytes()))
                    .collect();
                if !files.is_empty() {
                    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
                    let put = PutFiles {
                        place: place.clone(),
                        scan: id.clone(),
                        files,
                    };
                    let results = uploader.send(put).await.map_err(|e| e.to_string())?;
                    let mut sent = Vec::with_capacity(names.len());
                    let mut failed = None;
                    for (name, result) in names.into_iter().zip(results) {
                        match result {
                            Ok(remote) => sent.push((name, remote)),
                            Err(e) => failed = failed.or(Some(e.to_string())),
                        }
                    }
                    if !sent.is_empty() {
                        let record = Record::FilesUploaded {
                            at: unix_millis_now(),
                            files: sent.iter().cloned().collect(),
                        };
                        flat(journal.send(Append { dir: dir.clone(), record }).await)?;
                    }
                    if let Some(e) = failed {
                        return Err(e);
                    }
                    record.extra.extend(sent);
                }
                let put = PutFile {
                    place,
                    scan: id.clone(),
                    name: MANIFEST.to_owned(),
                    bytes: Manifest::from_record(&record).to_json(),
                };
                let remote = flat(uploader.send(put).await)?;
                let record = Record::ManifestUploaded {
                    at: unix_millis_now(),
                    remote,
                };
                flat(journal.send(Append { dir: dir.clone(), record }).await)?;
                // Nothing more is written to it: the scan is compacted into
                // the scans index and its spool folder goes.
                journal.do_send(Close(dir.clone()));
                match flat(recorder.send(retire).await) {
                    Ok(_) => {
                        info!(log, "scan retired: every photo and the manifest are sent"; "scan" => %id);
                        return Ok(0);
                    }
                    Err(e) => warn!(log, "the scan could not be retired; the next start does it"; "error" => e),
                }
            }
            if recorder.send(save).await.is_err() {
                warn!(log, "the scan's backlog was not written; its photos are all due");
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
        self.journal.do_send(Close(run.dir.clone()));
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
                let sent = run.files.get(&shot).cloned().unwrap_or_default();
                let name = sent
                    .first()
                    .map_or_else(|| run.plan.shot(shot).stem.clone(), |f| f.name.clone());
                let msg = Append {
                    dir: run.dir.clone(),
                    record: Record::ShotUploaded {
                        shot,
                        at: unix_millis_now(),
                        remote,
                        files: sent,
                    },
                };
                let keep = self.keep_uploaded;
                let journal = self.journal.clone();
                let scan = done.scan.clone();
                self.ask(journal.send(msg), &done.scan, |s| &mut s.uploading, move |act, r| {
                    match flat(r) {
                        Ok(()) => {
                            if !keep {
                                act.recorder.do_send(RemoveFiles(files));
                            }
                            info!(act.log, "shot uploaded"; "scan" => %scan, "shot" => shot.0);
                            act.tell(Progress::Uploaded { scan, shot, name });
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
                    self.journal.do_send(Append { dir, record });
                    return self.feed(&done.scan, Event::UploadFailed { shot, retryable }, ctx);
                }
                // Kept in the scan's backlog when the run ends, if the photo
                // still waits then: why, and when it is tried again.
                if let Some(run) = self.runs.get_mut(&done.scan) {
                    run.given_up.insert(shot, e.to_string());
                }
                self.feed(&done.scan, Event::UploadFailed { shot, retryable }, ctx);
            }
        }
    }
}
