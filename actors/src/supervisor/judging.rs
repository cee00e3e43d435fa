//! The supervisor's side of judging: a shot's photos not judged yet go to
//! the judge (within its queue) once the shot is journaled, beside its
//! upload; each judgement is journaled with the photo, and the sequence
//! hears the problems found. A photo that finds the queue full, or that
//! the judges cannot read, is journaled as not judged. An uploaded shot's
//! spool files stay until its photos are judged.

use std::path::PathBuf;

use actix::prelude::*;
use slog::{info, warn};

use super::Supervisor;
use crate::clock::{unix_millis_now, unix_now};
use crate::journal::commit::Append;
use crate::journal::Record;
use crate::judge::{photos_of, JudgePhoto};
use crate::model::{Quality, ScanId, SettleFrom, ShotId};
use crate::recorder::RemoveFiles;
use crate::sequence::Event;
use scanrig_hardware::judge::Problem;

impl Supervisor {
    /// Judges the photos of `shot` not judged yet.
    pub(super) fn judge(&mut self, scan: &ScanId, shot: ShotId, ctx: &mut Context<Self>) {
        let (Some(judge), Some(run)) = (self.judge.clone(), self.runs.get(scan)) else {
            return self.feed(scan, judged(shot, Vec::new()), ctx);
        };
        let folder = run.sources.get(&shot).unwrap_or(&run.dir);
        let photos: Vec<(String, PathBuf)> =
            photos_of(run.files.get(&shot).map_or(&[], Vec::as_slice))
                .into_iter()
                .filter(|f| !run.judged.contains(&f.name))
                .map(|f| (f.name.clone(), folder.join(&f.name)))
                .collect();
        let free = self.judge_queue.saturating_sub(self.judging);
        let (asked, late) = photos.split_at(photos.len().min(free));
        let mut answers: Vec<(String, Quality)> = late
            .iter()
            .map(|(name, _)| {
                let reason = format!(
                    "not judged: {} photos were waiting for the judge already ([quality] queue)",
                    self.judge_queue
                );
                (name.clone(), Quality::NotJudged { reason })
            })
            .collect();
        if !late.is_empty() {
            warn!(self.log, "the judging queue is full: photos go on unjudged"; "scan" => %scan,
                "shot" => shot.0, "photos" => late.len());
        }
        self.judging += asked.len();
        let limits = self.policy.quality_limits;
        let asks: Vec<_> = asked
            .iter()
            .map(|(name, path)| {
                let reply = judge.send(JudgePhoto(path.clone()));
                let name = name.clone();
                async move { (name, reply.await) }
            })
            .collect();
        let id = scan.clone();
        futures_util::future::join_all(asks)
            .into_actor(self)
            .map(move |replies, act, ctx| {
                act.judging -= replies.len();
                answers.extend(replies.into_iter().map(|(name, reply)| {
                    let quality =
                        match reply.map_err(|e| format!("not judged: the judge stopped: {e}")) {
                            Ok(Ok(judgement)) => Quality::Measured {
                                problems: judgement.verdict(&limits).problems,
                                judgement: Box::new(judgement),
                            },
                            Ok(Err(reason)) | Err(reason) => Quality::NotJudged { reason },
                        };
                    (name, quality)
                }));
                let event = act.journal_judged(&id, shot, answers);
                act.feed(&id, event, ctx);
            })
            .spawn(ctx);
    }

    /// Journals what the judges made of a shot's photos, lets its spool
    /// files go if it was uploaded meanwhile; the sequence's event.
    fn journal_judged(
        &mut self,
        scan: &ScanId,
        shot: ShotId,
        answers: Vec<(String, Quality)>,
    ) -> Event {
        let Some(run) = self.runs.get_mut(scan) else {
            return judged(shot, Vec::new());
        };
        let mut problems = Vec::new();
        for (photo, quality) in answers {
            problems.extend(quality.problems().iter().map(|p| (photo.clone(), *p)));
            match &quality {
                Quality::Measured { problems, .. } if problems.is_empty() => {}
                Quality::Measured { problems, .. } => {
                    let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    warn!(self.log, "photo flagged"; "scan" => %scan, "photo" => &photo,
                        "problems" => said.join(" / "));
                }
                Quality::NotJudged { reason } => {
                    info!(self.log, "photo not judged"; "scan" => %scan, "photo" => &photo, "reason" => reason);
                }
            }
            if let Some(flag) = quality.flag(&photo) {
                run.flagged.entry(shot).or_default().push(flag);
            }
            run.judged.insert(photo.clone());
            let record = Record::PhotoJudged {
                shot,
                photo,
                at: unix_millis_now(),
                quality,
            };
            self.journal.do_send(Append {
                dir: run.dir.clone(),
                record,
            });
        }
        if let Some(files) = run.unlink_when_judged.remove(&shot) {
            self.recorder.do_send(RemoveFiles(files));
        }
        let blurred = problems
            .iter()
            .any(|(_, p)| matches!(p, Problem::Blurred { .. }));
        if blurred && run.plan.settle_from == SettleFrom::Learned {
            let settle_ms = run.plan.settle_ms;
            self.lengthen_settle(settle_ms);
        }
        judged(shot, problems)
    }

    /// A photo settled as long as the rig learned came out blurred: the
    /// learned settle time grows and is kept, off the actor's thread.
    fn lengthen_settle(&self, settle_ms: u64) {
        let Some(store) = self.policy.settle.clone() else {
            return;
        };
        let log = self.log.clone();
        actix::spawn(async move {
            let now = unix_now();
            let grown = tokio::task::spawn_blocking(move || store.judged(settle_ms, true, now))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            match grown {
                Ok(Some(l)) => {
                    warn!(log, "a photo came out blurred at the settle time learned: it is lengthened for the next scans"; "from_ms" => settle_ms, "to_ms" => l.settle_ms)
                }
                Ok(None) => {}
                Err(e) => warn!(log, "cannot lengthen the settle time learned"; "error" => %e),
            }
        });
    }

    /// A photo of `shot` came out blurred: journals that the shot is taken
    /// again, as take `take`; the earlier take waits in the spool until
    /// the new one is journaled.
    pub(super) fn retake(&mut self, scan: &ScanId, shot: ShotId, take: u32, why: String) {
        let Some(run) = self.runs.get_mut(scan) else {
            return;
        };
        warn!(self.log, "photo blurred: the shot is taken again, settling longer"; "scan" => %scan,
            "shot" => shot.0, "take" => take, "settle_ms" => run.plan.settle_for(take).as_millis() as u64,
            "why" => &why);
        // The flags of a take given up are not the scan's.
        run.flagged.remove(&shot);
        let record = Record::ShotRetaken {
            shot,
            at: unix_millis_now(),
            take,
            why,
        };
        self.journal.do_send(Append {
            dir: run.dir.clone(),
            record,
        });
    }

    /// Removes the spool files of the take a newly journaled one replaced.
    pub(super) fn remove_superseded(&mut self, scan: &ScanId, shot: ShotId) {
        if let Some(files) = self
            .runs
            .get_mut(scan)
            .and_then(|run| run.superseded.remove(&shot))
        {
            self.recorder.do_send(RemoveFiles(files));
        }
    }

    /// Removes an uploaded shot's spool files, now or, while its photos
    /// are being judged, once they are.
    pub(super) fn unlink_uploaded(&mut self, scan: &ScanId, shot: ShotId, files: Vec<PathBuf>) {
        let Some(run) = self.runs.get_mut(scan) else {
            return self.recorder.do_send(RemoveFiles(files));
        };
        if run.seq.is_judging(shot) {
            run.unlink_when_judged.insert(shot, files);
        } else {
            self.recorder.do_send(RemoveFiles(files));
        }
    }
}

fn judged(shot: ShotId, problems: Vec<(String, scanrig_hardware::judge::Problem)>) -> Event {
    Event::Judged { shot, problems }
}
