//! A scan sent to several destinations: each shot enqueued for every one
//! that lacks it (each destination has its own workers and backoff in the
//! uploader), each delivery journaled as it comes, and the shot answered
//! to the sequence once every destination has answered: its spool files
//! leave only once every one has it.

use std::collections::BTreeMap;

use actix::prelude::*;
use slog::warn;

use super::faults::flat;
use super::run::Run;
use super::Supervisor;
use crate::clock::unix_millis_now;
use crate::destination::DestinationError;
use crate::journal::commit::Append;
use crate::journal::Record;
use crate::model::{Place, ScanId, Sent, ShotId};
use crate::uploader::{Enqueue, UploadDone};

/// A shot on its way to several destinations.
pub(crate) struct Sending {
    /// Destinations that have not answered yet.
    left: usize,
    /// The first that failed, and why.
    failed: Option<(String, DestinationError)>,
}

impl Run {
    /// Which of the scan's destinations `place` (as enqueued) is.
    pub(crate) fn sent_to(&self, place: Option<&Place>) -> Sent {
        self.plan
            .sent_to()
            .into_iter()
            .find(|to| to.place.as_ref() == place)
            .unwrap_or_default()
    }

    /// The journal record of a shot's files at `to` (`None`: the scan's
    /// only destination).
    pub(crate) fn uploaded_record(
        &self,
        shot: ShotId,
        remote: Vec<String>,
        to: Option<String>,
    ) -> Record {
        Record::ShotUploaded {
            shot,
            at: unix_millis_now(),
            remote,
            files: self.files.get(&shot).cloned().unwrap_or_default(),
            to,
        }
    }

    /// For a scan sent to several destinations: the photos not at each
    /// yet, by destination's name.
    pub(crate) fn waiting_at(&self) -> BTreeMap<String, usize> {
        let waiting = self.waiting();
        self.plan
            .destinations
            .iter()
            .map(|t| {
                let lacking = waiting
                    .iter()
                    .filter(|s| !self.at.get(s).is_some_and(|at| at.contains(&t.name)))
                    .count();
                (t.name.clone(), lacking)
            })
            .collect()
    }

    /// The scan's destinations that do not have `shot` yet.
    fn lacking(&self, shot: ShotId) -> Vec<Sent> {
        let at = self.at.get(&shot);
        self.plan
            .sent_to()
            .into_iter()
            .filter(|to| match &to.name {
                Some(name) => !at.is_some_and(|at| at.contains(name)),
                None => true,
            })
            .collect()
    }
}

impl Supervisor {
    /// Sends a shot to each of its scan's destinations that lacks it.
    pub(super) fn upload(
        &mut self,
        scan: &ScanId,
        shot: ShotId,
        check_existing: bool,
        ctx: &mut Context<Self>,
    ) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        let to = run.lacking(shot);
        if to.is_empty() {
            // Every destination has it (a crash came before the sequence
            // heard so).
            let event = self.shot_sent(scan, shot);
            return self.feed(scan, event, ctx);
        }
        let sending = Sending {
            left: to.len(),
            failed: None,
        };
        run.sending.insert(shot, sending);
        let files = run.uploads(shot);
        for to in to {
            self.uploader.do_send(Enqueue {
                scan: scan.clone(),
                shot,
                place: to.place,
                live: run.active,
                files: files.clone(),
                check_existing,
            });
        }
    }

    /// One destination of several answered for a shot: its delivery
    /// journaled at once, whatever the others do.
    pub(super) fn delivered(&mut self, done: UploadDone, to: Sent, ctx: &mut Context<Self>) {
        let name = to.name.unwrap_or_default();
        let remote = match done.result {
            Ok(remote) => remote,
            Err(e) => return self.answered(&done.scan, done.shot, name, Some(e), ctx),
        };
        let Some(run) = self.runs.get(&done.scan) else {
            return;
        };
        let append = Append {
            dir: run.dir.clone(),
            record: run.uploaded_record(done.shot, remote, Some(name.clone())),
        };
        let (scan, shot) = (done.scan, done.shot);
        self.journal
            .send(append)
            .into_actor(self)
            .map(move |r, act, ctx| {
                let failed = match flat(r) {
                    Ok(()) => {
                        if let Some(run) = act.runs.get_mut(&scan) {
                            run.at.entry(shot).or_default().insert(name.clone());
                        }
                        None
                    }
                    Err(e) => Some(DestinationError::Transient(format!(
                        "cannot journal the upload ({e}); it will be checked and retried"
                    ))),
                };
                act.answered(&scan, shot, name, failed, ctx);
            })
            .spawn(ctx);
    }

    /// Destination `to` answered for a shot; once every one has, the
    /// sequence hears whether the shot is everywhere.
    fn answered(
        &mut self,
        scan: &ScanId,
        shot: ShotId,
        to: String,
        failed: Option<DestinationError>,
        ctx: &mut Context<Self>,
    ) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        let Some(sending) = run.sending.get_mut(&shot) else {
            return;
        };
        sending.left = sending.left.saturating_sub(1);
        if let Some(e) = failed {
            warn!(self.log, "upload failed"; "scan" => %scan, "shot" => shot.0, "destination" => &to, "error" => %e);
            sending.failed.get_or_insert((to, e));
        }
        if sending.left > 0 {
            return;
        }
        let Some(sending) = run.sending.remove(&shot) else {
            return;
        };
        match sending.failed {
            Some((to, e)) => self.upload_failed(scan, shot, e, Some(&to), ctx),
            None => {
                let event = self.shot_sent(scan, shot);
                self.feed(scan, event, ctx);
            }
        }
    }
}
