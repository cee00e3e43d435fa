//! Group commit: the journals' writer. Records are appended on a thread of
//! its own; records that arrive together — a burst of uploads coming back,
//! a capture and an upload of two shots — are written one after the other
//! and committed with one fdatasync per journal, and each sender hears
//! back only once its record is on stable storage. A photo's durability
//! point is unchanged: the photo is fsync'd and renamed before its capture
//! record is sent, and counts once that record's reply comes.
//!
//! A capture record is committed at once (with whatever is queued): the
//! scan's next step waits for it. An upload, part or fault record waits up to
//! `delay` for others to share its fdatasync, unless a capture comes and
//! ends the wait; a burst of uploads (a backlog going out) is committed a
//! few records at a time, and a scan's pace does not change.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use super::{JournalWriter, Record};

/// Appends a record to the journal in a scan's spool folder; the reply comes
/// once it is on stable storage.
#[derive(Message)]
#[rtype(result = "io::Result<()>")]
pub struct Append {
    /// The scan's spool folder.
    pub dir: PathBuf,
    /// What to record.
    pub record: Record,
}

/// Forgets a scan's open journal (its scan is over, or its folder goes).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Close(pub PathBuf);

/// Removes a refused scan's spool folder, journal and all, once every
/// record sent for it before is written: on the journal's own thread, so
/// that no record of it comes after and makes the folder again. Records
/// sent for it later are refused.
#[derive(Message)]
#[rtype(result = "io::Result<()>")]
pub struct Discard(pub PathBuf);

/// Most records committed together.
const MAX_BATCH: usize = 512;

enum Job {
    Append {
        dir: PathBuf,
        record: Box<Record>,
        reply: oneshot::Sender<io::Result<()>>,
    },
    Close(PathBuf),
    Discard {
        dir: PathBuf,
        reply: oneshot::Sender<io::Result<()>>,
    },
}

/// The journals' writer, as an actor: it hands records to the commit
/// thread and never blocks its arbiter.
pub struct Journal {
    jobs: Sender<Job>,
}

impl Actor for Journal {
    type Context = Context<Self>;
}

impl Journal {
    /// Starts the commit thread; upload and fault records wait up to
    /// `delay` for others to be committed with.
    pub fn start(delay: Duration) -> Addr<Journal> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || commit_loop(&queue, delay))
            .expect("cannot start the journal thread");
        Journal { jobs }.start()
    }
}

impl Handler<Append> for Journal {
    type Result = ResponseFuture<io::Result<()>>;

    fn handle(&mut self, msg: Append, _: &mut Self::Context) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        let job = Job::Append {
            dir: msg.dir,
            record: Box::new(msg.record),
            reply,
        };
        let sent = self.jobs.send(job).is_ok();
        Box::pin(async move {
            match answer.await {
                Ok(result) if sent => result,
                _ => Err(io::Error::other("the journal thread is gone")),
            }
        })
    }
}

impl Handler<Close> for Journal {
    type Result = ();

    fn handle(&mut self, msg: Close, _: &mut Self::Context) {
        // The thread is gone only if it panicked; then nothing is open.
        let _ = self.jobs.send(Job::Close(msg.0));
    }
}

impl Handler<Discard> for Journal {
    type Result = ResponseFuture<io::Result<()>>;

    fn handle(&mut self, msg: Discard, _: &mut Self::Context) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        let sent = self.jobs.send(Job::Discard { dir: msg.0, reply }).is_ok();
        Box::pin(async move {
            match answer.await {
                Ok(result) if sent => result,
                _ => Err(io::Error::other("the journal thread is gone")),
            }
        })
    }
}

impl Job {
    /// Whether it may wait for company: an upload or a fault may; a
    /// capture (the scan's next step waits for it), a scan's start or end
    /// may not, and ends the wait of those before it.
    fn may_wait(&self) -> bool {
        match self {
            Job::Append { record, .. } => matches!(
                **record,
                Record::ShotUploaded { .. }
                    | Record::PartCaptured { .. }
                    | Record::DeviceFault { .. }
                    | Record::PowerFault { .. }
                    | Record::ShotDamaged { .. }
                    | Record::UploadFailed { .. }
                    | Record::DestinationMoved { .. }
            ),
            Job::Close(_) => true,
            Job::Discard { .. } => false,
        }
    }
}

/// Takes jobs until every sender is gone.
fn commit_loop(queue: &Receiver<Job>, delay: Duration) {
    let mut open: HashMap<PathBuf, JournalWriter> = HashMap::new();
    let mut discarded: HashSet<PathBuf> = HashSet::new();
    while let Ok(first) = queue.recv() {
        let mut waits = first.may_wait();
        let mut batch = vec![first];
        let deadline = Instant::now() + delay;
        while batch.len() < MAX_BATCH {
            // What is queued already goes along; only records that may
            // wait wait for more.
            let next = if waits {
                queue.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            } else {
                queue.try_recv().map_err(|_| RecvTimeoutError::Timeout)
            };
            match next {
                Ok(job) => {
                    waits &= job.may_wait();
                    batch.push(job);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        commit(&mut open, &mut discarded, batch);
    }
}

/// Writes a batch's records in order, syncs each journal written once, and
/// answers every sender.
fn commit(
    open: &mut HashMap<PathBuf, JournalWriter>,
    discarded: &mut HashSet<PathBuf>,
    batch: Vec<Job>,
) {
    let mut written: Vec<(PathBuf, oneshot::Sender<io::Result<()>>)> = Vec::new();
    let mut closed = Vec::new();
    let mut discards = Vec::new();
    for job in batch {
        match job {
            Job::Append { dir, reply, .. } if discarded.contains(&dir) => {
                let gone = io::Error::other("the scan was discarded: its folder is gone");
                let _ = reply.send(Err(gone));
            }
            Job::Append { dir, record, reply } => match write(open, &dir, &record) {
                Ok(()) => written.push((dir, reply)),
                Err(e) => {
                    // A half-written line is cut off when it is reopened.
                    open.remove(&dir);
                    let _ = reply.send(Err(e));
                }
            },
            Job::Close(dir) => closed.push(dir),
            Job::Discard { dir, reply } => {
                discarded.insert(dir.clone());
                discards.push((dir, reply));
            }
        }
    }
    let mut failed: HashMap<PathBuf, io::Error> = HashMap::new();
    let dirs: HashSet<&PathBuf> = written.iter().map(|(dir, _)| dir).collect();
    for dir in dirs {
        let synced = match open.get_mut(dir) {
            Some(writer) => writer.sync(),
            None => Err(io::Error::other(
                "the journal was closed after a failed write",
            )),
        };
        if let Err(e) = synced {
            failed.insert(dir.clone(), e);
        }
    }
    for (dir, reply) in written {
        let result = match failed.get(&dir) {
            Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
            None => Ok(()),
        };
        // A sender that stopped waiting has nothing to hear.
        let _ = reply.send(result);
    }
    for dir in failed.into_keys().chain(closed) {
        open.remove(&dir);
    }
    // After the records before them are written and synced.
    for (dir, reply) in discards {
        open.remove(&dir);
        let _ = reply.send(std::fs::remove_dir_all(&dir));
    }
}

/// Writes one record to the journal in `dir`, opening it if needed.
fn write(
    open: &mut HashMap<PathBuf, JournalWriter>,
    dir: &Path,
    record: &Record,
) -> io::Result<()> {
    let writer = match open.entry(dir.to_path_buf()) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => e.insert(JournalWriter::open(dir)?),
    };
    writer.write(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::replay;
    use crate::journal::tests::{file, plan};
    use crate::model::ShotId;

    fn captured(n: u32) -> Record {
        Record::ShotCaptured {
            shot: ShotId(n),
            at: u64::from(n),
            files: file(n),
        }
    }

    #[test]
    fn records_sent_together_are_all_committed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("scan");
        actix::System::new().block_on(async {
            let journal = Journal::start(Duration::from_millis(3));
            let start = Record::ScanStarted {
                at: 0,
                plan: plan(300),
            };
            let first = Append {
                dir: scan.clone(),
                record: start,
            };
            journal.send(first).await.unwrap().unwrap();
            // Sent at once, answered as each is on disk.
            let sends: Vec<_> = (1..=300)
                .map(|n| {
                    journal.send(Append {
                        dir: scan.clone(),
                        record: captured(n),
                    })
                })
                .collect();
            for reply in all_in_order(sends).await {
                reply.unwrap().unwrap();
            }
        });
        let record = replay(&scan).unwrap();
        let shots: Vec<u32> = record.captured.keys().map(|s| s.0).collect();
        assert_eq!(shots, (1..=300).collect::<Vec<_>>());
        let text = std::fs::read_to_string(scan.join(super::super::JOURNAL_FILE)).unwrap();
        let order: Vec<u64> = text
            .lines()
            .skip(1)
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["at"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(order, (1..=300).collect::<Vec<_>>(), "sent order kept");
    }

    #[test]
    fn a_journal_that_cannot_be_written_fails_only_its_own_records() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        // A file where the scan's folder should be.
        let bad = dir.path().join("bad");
        std::fs::write(&bad, b"not a folder").unwrap();
        let mut open = HashMap::new();
        let mut answers = Vec::new();
        let mut batch = Vec::new();
        for (dir, record) in [
            (
                &good,
                Record::ScanStarted {
                    at: 0,
                    plan: plan(2),
                },
            ),
            (&bad, captured(1)),
            (&good, captured(1)),
        ] {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            batch.push(Job::Append {
                dir: dir.clone(),
                record: Box::new(record),
                reply,
            });
        }
        batch.push(Job::Close(good.clone()));
        commit(&mut open, &mut HashSet::new(), batch);
        let results: Vec<bool> = answers
            .into_iter()
            .map(|mut a| a.try_recv().unwrap().is_ok())
            .collect();
        assert_eq!(results, [true, false, true]);
        assert!(open.is_empty(), "closed, and the failed one not kept");
        assert_eq!(replay(&good).unwrap().captured.len(), 1);
    }

    #[test]
    fn a_discarded_scan_s_folder_goes_after_its_records_and_none_makes_it_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("scan");
        let (mut open, mut discarded) = (HashMap::new(), HashSet::new());
        let append = |record: Record| {
            let (reply, answer) = oneshot::channel();
            let job = Job::Append {
                dir: dir.clone(),
                record: Box::new(record),
                reply,
            };
            (job, answer)
        };
        let (start, mut started) = append(Record::ScanStarted {
            at: 0,
            plan: plan(2),
        });
        let (reply, mut removed) = oneshot::channel();
        let discard = Job::Discard {
            dir: dir.clone(),
            reply,
        };
        commit(&mut open, &mut discarded, vec![start, discard]);
        assert!(started.try_recv().unwrap().is_ok());
        assert!(removed.try_recv().unwrap().is_ok());
        assert!(!dir.exists(), "the folder is gone");
        // A record sent for it afterwards does not make it again.
        let (late, mut refused) = append(captured(1));
        commit(&mut open, &mut discarded, vec![late]);
        assert!(refused.try_recv().unwrap().is_err());
        assert!(!dir.exists(), "a late record made the folder again");
    }

    /// Awaits every future, in order.
    async fn all_in_order<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
        let mut out = Vec::with_capacity(futures.len());
        for f in futures {
            out.push(f.await);
        }
        out
    }
}
