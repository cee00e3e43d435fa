//! The uploader: a queue of photos and N workers, each a thread of its own
//! that streams one photo at a time from the spool to the destination.
//! The queue is bounded by the supervisor, which stops the camera once the
//! backlog of unsent photos is full.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use actix::prelude::*;
use slog::{debug, Logger};

use crate::destination::{DestinationError, Destinations, Place, Upload};
use crate::plan::{ScanId, ShotId};

/// Uploads one shot's file(s).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    /// Where they go (`None`: the default destination).
    pub place: Option<Place>,
    /// The file(s) of the shot, all of which must arrive.
    pub files: Vec<Upload>,
    /// Ask the destination first whether it already has them.
    pub check_existing: bool,
}

/// The outcome of an upload, told to the supervisor.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct UploadDone {
    /// The scan.
    pub scan: ScanId,
    /// The shot.
    pub shot: ShotId,
    /// Remote ids of its files, or why not.
    pub result: Result<Vec<String>, DestinationError>,
    /// Time spent by the worker.
    pub took: Duration,
}

/// Writes a scan's manifest at the destination.
#[derive(Debug, Message)]
#[rtype(result = "Result<String, DestinationError>")]
pub struct PutManifest {
    /// Where the scan's photos went (`None`: the default destination).
    pub place: Option<Place>,
    /// The scan.
    pub scan: ScanId,
    /// The manifest's JSON.
    pub json: Vec<u8>,
}

/// The uploader actor (the queue); workers run on a `SyncArbiter`.
pub struct Uploader {
    queue: VecDeque<Enqueue>,
    in_flight: usize,
    workers: usize,
    pool: Addr<UploadWorker>,
    done: Recipient<UploadDone>,
    log: Logger,
}

impl Actor for Uploader {
    type Context = Context<Self>;
}

impl Uploader {
    /// An uploader with `workers` parallel uploads to `destinations`,
    /// reporting every outcome to `done`.
    pub fn new(
        destinations: Destinations,
        workers: usize,
        done: Recipient<UploadDone>,
        log: Logger,
    ) -> Uploader {
        let workers = workers.max(1);
        let pool = SyncArbiter::start(workers, move || UploadWorker {
            destinations: destinations.clone(),
        });
        Uploader {
            queue: VecDeque::new(),
            in_flight: 0,
            workers,
            pool,
            done,
            log,
        }
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        while self.in_flight < self.workers {
            let Some(job) = self.queue.pop_front() else {
                return;
            };
            self.in_flight += 1;
            let (scan, shot) = (job.files[0].scan.clone(), job.files[0].shot);
            debug!(self.log, "upload started"; "scan" => %scan, "shot" => shot.0);
            let started = Instant::now();
            self.pool
                .send(Transfer(job))
                .into_actor(self)
                .map(move |reply, act, ctx| {
                    act.in_flight -= 1;
                    let result = reply.unwrap_or_else(|e| {
                        Err(DestinationError::Transient(format!(
                            "upload worker lost: {e}"
                        )))
                    });
                    act.done.do_send(UploadDone {
                        scan,
                        shot,
                        result,
                        took: started.elapsed(),
                    });
                    act.pump(ctx);
                })
                .spawn(ctx);
        }
    }
}

impl Handler<Enqueue> for Uploader {
    type Result = ();

    fn handle(&mut self, msg: Enqueue, ctx: &mut Self::Context) {
        if msg.files.is_empty() {
            return;
        }
        self.queue.push_back(msg);
        self.pump(ctx);
    }
}

impl Handler<PutManifest> for Uploader {
    type Result = ResponseFuture<Result<String, DestinationError>>;

    fn handle(&mut self, msg: PutManifest, _: &mut Self::Context) -> Self::Result {
        let reply = self.pool.send(msg);
        Box::pin(async move {
            reply.await.unwrap_or_else(|e| {
                Err(DestinationError::Transient(format!(
                    "upload worker lost: {e}"
                )))
            })
        })
    }
}

/// One upload worker thread.
pub struct UploadWorker {
    destinations: Destinations,
}

impl Actor for UploadWorker {
    type Context = SyncContext<Self>;
}

/// One job handed to a worker.
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, DestinationError>")]
struct Transfer(Enqueue);

impl Handler<Transfer> for UploadWorker {
    type Result = Result<Vec<String>, DestinationError>;

    fn handle(&mut self, Transfer(msg): Transfer, _: &mut Self::Context) -> Self::Result {
        let destination = self.destinations.of(msg.place.as_ref())?;
        msg.files
            .iter()
            .map(|file| {
                if msg.check_existing {
                    if let Some(id) = destination.find(file)? {
                        return Ok(id);
                    }
                    // A photo that waited (a crash, a failed attempt) is
                    // checked before it is sent: the spool may have damaged it.
                    file.verify()?;
                }
                match destination.upload(file) {
                    // Damaged in transit, or already in the spool?
                    Err(e @ DestinationError::Mismatch { .. }) => {
                        Err(file.verify().err().unwrap_or(e))
                    }
                    other => other,
                }
            })
            .collect()
    }
}

impl Handler<PutManifest> for UploadWorker {
    type Result = Result<String, DestinationError>;

    fn handle(&mut self, msg: PutManifest, _: &mut Self::Context) -> Self::Result {
        self.destinations
            .of(msg.place.as_ref())?
            .put_manifest(&msg.scan, &msg.json)
    }
}
