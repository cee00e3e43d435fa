//! The uploader: for each destination a queue of shots and N workers, each
//! a thread of its own that streams one file at a time from the spool to
//! it; the files of one shot go to several workers at once.
//! The queue is bounded by the supervisor, which stops the camera once the
//! backlog of unsent photos is full.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use actix::prelude::*;
use slog::{debug, Logger};

use crate::destination::{DestinationError, Destinations, Upload};
use crate::model::{Place, ScanId, ShotId};

/// Uploads one shot's file(s).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    /// The scan.
    pub scan: ScanId,
    /// The shot.
    pub shot: ShotId,
    /// Where they go (`None`: the default destination).
    pub place: Option<Place>,
    /// A photo of the scan being taken: it goes before any backlog.
    pub live: bool,
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
    /// The destination it was sent to, as enqueued.
    pub place: Option<Place>,
    /// Remote ids of its files, or why not.
    pub result: Result<Vec<String>, DestinationError>,
    /// Time spent by the worker.
    pub took: Duration,
}

/// Writes a file of a scan other than a photo (its manifest, a pose
/// prior) at the destination.
#[derive(Debug, Message)]
#[rtype(result = "Result<String, DestinationError>")]
pub struct PutFile {
    /// Where the scan's photos went (`None`: the default destination).
    pub place: Option<Place>,
    /// The scan.
    pub scan: ScanId,
    /// Its name inside the scan's folder.
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// Writes several files of a scan other than photos (its pose priors) at
/// the destination: each one's id, or why not.
#[derive(Debug, Message)]
#[rtype(result = "Vec<Result<String, DestinationError>>")]
pub struct PutFiles {
    /// Where the scan's photos went (`None`: the default destination).
    pub place: Option<Place>,
    /// The scan.
    pub scan: ScanId,
    /// Names inside the scan's folder, and contents.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The uploader actor (the queues); workers run on a `SyncArbiter` of
/// each destination's own, so a destination that is slow or down never
/// holds up another's photos. Photos of the scan being taken are sent
/// first; earlier scans' backlog gets only the workers they leave idle. A
/// shot of several files (a column's stop, a bracketed set, a RAW + JPEG
/// pair) has them sent in parallel, each by a worker of its own, and is
/// done when the last is.
pub struct Uploader {
    /// Each destination's queues and workers, by place (the default's
    /// for scans that name none).
    lanes: BTreeMap<Place, Lane>,
    default: Place,
    destinations: Destinations,
    /// Shots some of whose files are on their way, by a number of their own.
    started: HashMap<u64, Started>,
    next: u64,
    workers: usize,
    done: Recipient<UploadDone>,
    log: Logger,
}

/// One destination's queues and workers.
struct Lane {
    live: VecDeque<Enqueue>,
    backlog: VecDeque<Enqueue>,
    /// The files of shots already started that wait for a worker: (shot
    /// in `started`, file number).
    pieces: VecDeque<(u64, usize)>,
    in_flight: usize,
    pool: Addr<UploadWorker>,
}

/// A shot whose files are being sent.
struct Started {
    job: Enqueue,
    /// Each file's id at the destination, once it is there.
    ids: Vec<Option<String>>,
    /// Files not answered yet.
    left: usize,
    /// The first failure: the shot fails (and is tried again whole).
    error: Option<DestinationError>,
    since: Instant,
}

impl Actor for Uploader {
    type Context = Context<Self>;
}

impl Uploader {
    /// An uploader with `workers` parallel uploads to each of
    /// `destinations`, reporting every outcome to `done`.
    pub fn new(
        destinations: Destinations,
        workers: usize,
        done: Recipient<UploadDone>,
        log: Logger,
    ) -> Uploader {
        Uploader {
            lanes: BTreeMap::new(),
            default: destinations.default().place(),
            destinations,
            started: HashMap::new(),
            next: 0,
            workers: workers.max(1),
            done,
            log,
        }
    }

    /// The lane of `place` (the default's for `None`), its workers
    /// started when first needed.
    fn lane(&mut self, place: Option<&Place>) -> (Place, &mut Lane) {
        let key = place.unwrap_or(&self.default).clone();
        let (workers, destinations) = (self.workers, &self.destinations);
        let lane = self.lanes.entry(key.clone()).or_insert_with(|| {
            let destinations = destinations.clone();
            Lane {
                live: VecDeque::new(),
                backlog: VecDeque::new(),
                pieces: VecDeque::new(),
                in_flight: 0,
                pool: SyncArbiter::start(workers, move || UploadWorker {
                    destinations: destinations.clone(),
                }),
            }
        });
        (key, lane)
    }

    /// Hands the files waiting for `place`'s destination to its idle
    /// workers.
    fn pump(&mut self, place: &Place, ctx: &mut Context<Self>) {
        loop {
            let Some(lane) = self.lanes.get_mut(place) else {
                return;
            };
            if lane.in_flight >= self.workers {
                return;
            }
            if lane.pieces.is_empty() {
                let Some(job) = lane.live.pop_front().or_else(|| lane.backlog.pop_front()) else {
                    return;
                };
                debug!(self.log, "upload started"; "scan" => %job.scan, "shot" => job.shot.0, "to" => %place);
                let key = self.next;
                self.next += 1;
                let n = job.files.len();
                lane.pieces.extend((0..n).map(|i| (key, i)));
                self.started.insert(
                    key,
                    Started {
                        job,
                        ids: vec![None; n],
                        left: n,
                        error: None,
                        since: Instant::now(),
                    },
                );
            }
            let Some((key, i)) = lane.pieces.pop_front() else {
                return;
            };
            let Some(shot) = self.started.get(&key) else {
                continue;
            };
            // One file of the shot, without copying the others.
            let job = &shot.job;
            let piece = Enqueue {
                scan: job.scan.clone(),
                shot: job.shot,
                place: job.place.clone(),
                live: job.live,
                files: vec![job.files[i].clone()],
                check_existing: job.check_existing,
            };
            lane.in_flight += 1;
            let place = place.clone();
            lane.pool
                .send(Transfer(piece))
                .into_actor(self)
                .map(move |reply, act, ctx| {
                    if let Some(lane) = act.lanes.get_mut(&place) {
                        lane.in_flight -= 1;
                    }
                    let result = reply.unwrap_or_else(|e| {
                        Err(DestinationError::Transient(format!(
                            "upload worker lost: {e}"
                        )))
                    });
                    act.piece_done(key, i, result);
                    act.pump(&place, ctx);
                })
                .spawn(ctx);
        }
    }

    /// One file of a shot answered; the shot's answer once every one has.
    fn piece_done(&mut self, key: u64, i: usize, result: Result<Vec<String>, DestinationError>) {
        let Some(shot) = self.started.get_mut(&key) else {
            return;
        };
        match result {
            Ok(mut ids) => shot.ids[i] = ids.pop(),
            Err(e) => {
                shot.error.get_or_insert(e);
            }
        }
        shot.left -= 1;
        if shot.left > 0 {
            return;
        }
        let Some(shot) = self.started.remove(&key) else {
            return;
        };
        let result = match shot.error {
            Some(e) => Err(e),
            None => Ok(shot.ids.into_iter().flatten().collect()),
        };
        self.done.do_send(UploadDone {
            scan: shot.job.scan,
            shot: shot.job.shot,
            place: shot.job.place,
            result,
            took: shot.since.elapsed(),
        });
    }
}

impl Handler<Enqueue> for Uploader {
    type Result = ();

    fn handle(&mut self, msg: Enqueue, ctx: &mut Self::Context) {
        if msg.files.is_empty() {
            // Answered all the same, or the scan would wait for it forever.
            let reason = format!(
                "no file of {} is recorded in the journal, so nothing can be sent",
                msg.shot
            );
            self.done.do_send(UploadDone {
                scan: msg.scan,
                shot: msg.shot,
                place: msg.place,
                result: Err(DestinationError::Permanent(reason)),
                took: Duration::ZERO,
            });
            return;
        }
        let (place, lane) = self.lane(msg.place.as_ref());
        match msg.live {
            true => lane.live.push_back(msg),
            false => lane.backlog.push_back(msg),
        }
        self.pump(&place, ctx);
    }
}

impl Handler<PutFile> for Uploader {
    type Result = ResponseFuture<Result<String, DestinationError>>;

    fn handle(&mut self, msg: PutFile, _: &mut Self::Context) -> Self::Result {
        let reply = self.lane(msg.place.as_ref()).1.pool.send(msg);
        Box::pin(async move {
            reply.await.unwrap_or_else(|e| {
                Err(DestinationError::Transient(format!(
                    "upload worker lost: {e}"
                )))
            })
        })
    }
}

impl Handler<PutFiles> for Uploader {
    type Result = ResponseFuture<Vec<Result<String, DestinationError>>>;

    fn handle(&mut self, msg: PutFiles, _: &mut Self::Context) -> Self::Result {
        let count = msg.files.len();
        let reply = self.lane(msg.place.as_ref()).1.pool.send(msg);
        Box::pin(async move {
            reply.await.unwrap_or_else(|e| {
                (0..count)
                    .map(|_| {
                        Err(DestinationError::Transient(format!(
                            "upload worker lost: {e}"
                        )))
                    })
                    .collect()
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

impl Handler<PutFile> for UploadWorker {
    type Result = Result<String, DestinationError>;

    fn handle(&mut self, msg: PutFile, _: &mut Self::Context) -> Self::Result {
        self.destinations
            .of(msg.place.as_ref())?
            .put_file(&msg.scan, &msg.name, &msg.bytes)
    }
}

impl Handler<PutFiles> for UploadWorker {
    type Result = Vec<Result<String, DestinationError>>;

    fn handle(&mut self, msg: PutFiles, _: &mut Self::Context) -> Self::Result {
        match self.destinations.of(msg.place.as_ref()) {
            Ok(destination) => destination.put_files(&msg.scan, &msg.files),
            Err(e) => {
                let why = e.to_string();
                msg.files
                    .iter()
                    .map(|_| Err(DestinationError::Transient(why.clone())))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::destination::LocalDir;

    /// Collects what the uploader answers.
    struct Answers(tokio::sync::mpsc::UnboundedSender<UploadDone>);

    impl Actor for Answers {
        type Context = Context<Self>;
    }

    impl Handler<UploadDone> for Answers {
        type Result = ();

        fn handle(&mut self, msg: UploadDone, _: &mut Self::Context) {
            let _ = self.0.send(msg);
        }
    }

    #[test]
    fn the_live_scans_photos_go_before_the_backlog() {
        use crate::destination::{SimRemote, Upload};
        let dir = tempfile::tempdir().unwrap();
        let log = Logger::root(slog::Discard, slog::o!());
        let job = |scan: &str, shot: u32, live: bool| {
            let local = dir.path().join(format!("{scan}-{shot}.jpg"));
            std::fs::write(&local, format!("{scan} {shot}")).unwrap();
            let d = scanrig_hardware::fsutil::digest_file(&local).unwrap();
            let scan = ScanId::from_existing(scan);
            Enqueue {
                scan: scan.clone(),
                shot: ShotId(shot),
                place: None,
                live,
                files: vec![Upload {
                    scan,
                    shot: ShotId(shot),
                    local,
                    name: format!("{shot}.jpg"),
                    sha256: d.sha256,
                    size: d.size,
                }],
                check_existing: false,
            }
        };
        let order = System::new().block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let answers = Answers(tx).start();
            let remote = SimRemote::new(
                LocalDir::new(dir.path().join("dest")),
                Duration::from_millis(30),
                0,
            );
            let destinations = Destinations::only(Arc::new(remote));
            let uploader = Uploader::new(destinations, 1, answers.recipient(), log).start();
            for shot in 1..=3 {
                uploader.do_send(job("old", shot, false));
            }
            uploader.do_send(job("live", 1, true));
            let mut order = Vec::new();
            for _ in 0..4 {
                let done = rx.recv().await.expect("an answer");
                assert!(done.result.is_ok());
                order.push(format!("{}-{}", done.scan, done.shot.0));
            }
            order
        });
        // One worker: the backlog photo already on its way finishes, then
        // the live one goes before the rest of the backlog.
        assert_eq!(order, ["old-1", "live-1", "old-2", "old-3"]);
    }

    /// A destination whose uploads each wait until `n` are in progress at
    /// once (or fail after 10 s): only files sent in parallel get through.
    struct Together {
        n: usize,
        inside: std::sync::Mutex<usize>,
        all_in: std::sync::Condvar,
    }

    impl crate::destination::Destination for Together {
        fn describe(&self) -> String {
            "together".into()
        }

        fn place(&self) -> Place {
            Place::Local { dir: "/".into() }
        }

        fn find(&self, _: &crate::destination::Upload) -> Result<Option<String>, DestinationError> {
            Ok(None)
        }

        fn upload(&self, upload: &crate::destination::Upload) -> Result<String, DestinationError> {
            let mut inside = self.inside.lock().unwrap();
            *inside += 1;
            self.all_in.notify_all();
            let (inside, waited) = self
                .all_in
                .wait_timeout_while(inside, Duration::from_secs(10), |i| *i < self.n)
                .unwrap();
            match waited.timed_out() {
                true => Err(DestinationError::Transient(format!(
                    "only {} at once",
                    *inside
                ))),
                false => Ok(upload.name.clone()),
            }
        }

        fn probe(&self, _: bool) -> Result<(), DestinationError> {
            Ok(())
        }

        fn put_file(&self, _: &ScanId, name: &str, _: &[u8]) -> Result<String, DestinationError> {
            Ok(name.into())
        }
    }

    #[test]
    fn a_shot_s_files_are_sent_in_parallel_and_answered_together_in_order() {
        use crate::destination::Upload;
        let log = Logger::root(slog::Discard, slog::o!());
        let scan = ScanId::from_existing("20260101T000000Z-t");
        let files: Vec<Upload> = ["a_low.jpg", "a_mid.jpg", "a_high.jpg"]
            .iter()
            .map(|name| Upload {
                scan: scan.clone(),
                shot: ShotId(1),
                local: name.into(),
                name: name.to_string(),
                sha256: String::new(),
                size: 0,
            })
            .collect();
        let done = System::new().block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let answers = Answers(tx).start();
            let together = Together {
                n: 3,
                inside: std::sync::Mutex::new(0),
                all_in: std::sync::Condvar::new(),
            };
            let destinations = Destinations::only(Arc::new(together));
            let uploader = Uploader::new(destinations, 3, answers.recipient(), log).start();
            uploader.do_send(Enqueue {
                scan: scan.clone(),
                shot: ShotId(1),
                place: None,
                live: true,
                files,
                check_existing: false,
            });
            rx.recv().await.expect("an answer")
        });
        assert_eq!(done.shot, ShotId(1));
        assert_eq!(
            done.result.unwrap(),
            ["a_low.jpg", "a_mid.jpg", "a_high.jpg"]
        );
    }

    #[test]
    fn a_shot_with_no_file_is_answered_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let log = Logger::root(slog::Discard, slog::o!());
        System::new().block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let answers = Answers(tx).start();
            let destinations = Destinations::only(Arc::new(LocalDir::new(dir.path())));
            let uploader = Uploader::new(destinations, 1, answers.recipient(), log).start();
            uploader.do_send(Enqueue {
                scan: ScanId::from_existing("20260101T000000Z-t"),
                shot: ShotId(3),
                place: None,
                live: true,
                files: Vec::new(),
                check_existing: false,
            });
            let done = rx.recv().await.expect("an answer");
            assert_eq!(done.shot, ShotId(3));
            let err = done.result.unwrap_err();
            assert!(!err.is_retryable(), "{err}");
            assert!(err.to_string().contains("shot 3"), "{err}");
        });
    }

    /// A destination that is down until `open` is set: its uploads wait
    /// for it (or fail after 10 s).
    struct Down {
        open: std::sync::Mutex<bool>,
        opened: std::sync::Condvar,
    }

    impl crate::destination::Destination for Down {
        fn describe(&self) -> String {
            "down".into()
        }

        fn place(&self) -> Place {
            Place::Webdav { url: "down".into() }
        }

        fn find(&self, _: &crate::destination::Upload) -> Result<Option<String>, DestinationError> {
            Ok(None)
        }

        fn upload(&self, upload: &crate::destination::Upload) -> Result<String, DestinationError> {
            let open = self.open.lock().unwrap();
            let (open, _) = self
                .opened
                .wait_timeout_while(open, Duration::from_secs(10), |open| !*open)
                .unwrap();
            match *open {
                true => Ok(upload.name.clone()),
                false => Err(DestinationError::Transient("down".into())),
            }
        }

        fn probe(&self, _: bool) -> Result<(), DestinationError> {
            Ok(())
        }

        fn put_file(&self, _: &ScanId, name: &str, _: &[u8]) -> Result<String, DestinationError> {
            Ok(name.into())
        }
    }

    #[test]
    fn a_destination_that_is_down_holds_up_no_other_destination_s_photos() {
        use crate::destination::{Destination, Upload};
        let dir = tempfile::tempdir().unwrap();
        let log = Logger::root(slog::Discard, slog::o!());
        let scan = ScanId::from_existing("20260101T000000Z-t");
        let down = Arc::new(Down {
            open: std::sync::Mutex::new(false),
            opened: std::sync::Condvar::new(),
        });
        let up = Arc::new(LocalDir::new(dir.path().join("up")));
        let places = [down.place(), up.place()];
        let named: Vec<(String, Arc<dyn Destination>)> =
            vec![("nas".into(), down.clone()), ("offsite".into(), up)];
        let open: crate::destination::Opener = Arc::new(|p: &Place| Err(format!("no {p}")));
        let destinations = Destinations::several(named, open).unwrap();
        let answered = System::new().block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let answers = Answers(tx).start();
            let uploader = Uploader::new(destinations, 1, answers.recipient(), log).start();
            for shot in 1..=3 {
                let local = dir.path().join(format!("{shot}.jpg"));
                std::fs::write(&local, format!("photo {shot}")).unwrap();
                let d = scanrig_hardware::fsutil::digest_file(&local).unwrap();
                let file = Upload {
                    scan: scan.clone(),
                    shot: ShotId(shot),
                    local,
                    name: format!("{shot}.jpg"),
                    sha256: d.sha256,
                    size: d.size,
                };
                for place in &places {
                    uploader.do_send(Enqueue {
                        scan: scan.clone(),
                        shot: ShotId(shot),
                        place: Some(place.clone()),
                        live: true,
                        files: vec![file.clone()],
                        check_existing: false,
                    });
                }
            }
            let mut answered = Vec::new();
            for _ in 0..3 {
                let done = rx.recv().await.expect("an answer");
                answered.push((done.place.clone(), done.shot, done.result.is_ok()));
            }
            // Only now does the destination that was down come up.
            *down.open.lock().unwrap() = true;
            down.opened.notify_all();
            for _ in 0..3 {
                let done = rx.recv().await.expect("an answer");
                answered.push((done.place.clone(), done.shot, done.result.is_ok()));
            }
            answered
        });
        let expected: Vec<_> = [&places[1], &places[0]]
            .into_iter()
            .flat_map(|place| (1..=3).map(move |s| (Some(place.clone()), ShotId(s), true)))
            .collect();
        assert_eq!(
            answered, expected,
            "every photo at the destination that was up while the other was down, then the rest"
        );
    }
}
