//! The end of a scan as a pure state machine (answers in, steps out, no
//! actors, no I/O): the journal's last word, the pose priors, the manifest
//! (the scan's commit record, sent only once every photo that can still
//! arrive is there) and the scan's retirement; or, for an interrupted
//! scan's drained uploads, only its backlog. `finish.rs` carries out each
//! step and feeds its answer back.

use std::collections::{BTreeMap, VecDeque};

use crate::journal::ScanRecord;
use crate::manifest::Manifest;
use crate::model::Sent;
use crate::poses::export;
use crate::restart::Backoff;

/// What the supervisor does next to close a scan.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// Journal that the scan ended (`ScanFinished`).
    JournalEnd,
    /// Read the scan's journal back.
    Replay,
    /// Send the pose priors not at a destination yet: names inside the
    /// scan's folder, and contents.
    SendPriors(Sent, Vec<(String, Vec<u8>)>),
    /// Journal the priors that arrived there, by name: their ids.
    JournalPriors(Sent, BTreeMap<String, String>),
    /// Send `manifest.json` to a destination.
    SendManifest(Sent, Vec<u8>),
    /// Journal the manifest's id there.
    JournalManifest(Sent, String),
    /// Wait this long before sending the priors or manifest that failed
    /// again (answered [`Answer::Done`]).
    Wait(std::time::Duration),
    /// Close the journal and retire the scan: nothing is left to send.
    Retire,
    /// Keep the photos still waiting in the scan's backlog.
    SaveBacklog,
    /// Remove what killed downloads left in the spool folder.
    Tidy,
    /// Closed: how it went.
    Closed(Closed),
}

/// How the closing of a scan went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Closed {
    /// Every photo, the priors and the manifest are at the destination,
    /// and the scan left the spool.
    Retired,
    /// Everything is sent but the scan could not be retired: the next
    /// start does it.
    NotRetired(String),
    /// Photos still wait; the manifest goes once they are sent.
    Waiting(usize),
    /// Photos are on a wired camera's card; the manifest goes once
    /// `scanrig import` has brought them in and they are sent.
    OnCard(usize),
    /// The priors, the manifest or a journal line failed: the next start
    /// sends them.
    Failed(String),
    /// An interrupted scan's uploads are done; it may be resumed.
    Drained,
}

/// Why a file of the scan's own did not arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    /// In words.
    pub(super) error: String,
    /// Whether another try may succeed.
    pub(super) retryable: bool,
}

impl From<&str> for Failure {
    /// A failure no try can help.
    fn from(error: &str) -> Failure {
        Failure {
            error: error.to_owned(),
            retryable: false,
        }
    }
}

/// What the last step came to.
#[derive(Debug)]
pub(super) enum Answer {
    /// Nothing yet: the first step.
    Begin,
    /// A journal line was written, or why not.
    Journaled(Result<(), String>),
    /// The journal read back, or why not.
    Replayed(Result<Box<ScanRecord>, String>),
    /// Each prior's id at the destination, or why not, in the order sent.
    PriorsSent(Vec<Result<String, Failure>>),
    /// The manifest's id at the destination, or why not.
    ManifestSent(Result<String, Failure>),
    /// Whether the scan was retired, or why not.
    Retired(Result<bool, String>),
    /// The step needs no answer (the backlog saved, the folder tidied).
    Done,
}

/// Where the closing of one scan stands.
#[derive(Debug)]
pub(super) struct Closing {
    at: At,
    /// The scan as its journal tells it, once read back.
    record: Option<ScanRecord>,
    /// The destinations still to get their priors and manifest, the one
    /// being sent to first.
    left: VecDeque<Sent>,
    /// The first destination's failure: the others go on, and the scan
    /// waits for the next start.
    missed: Option<String>,
    /// Tries of the files of the scan's own at a destination, as photos
    /// are tried (the sequence's upload attempts and backoff), and
    /// how many failed so far at the destination in hand.
    tries: (u32, Backoff),
    failures: u32,
    /// The names of the priors being sent, in order.
    sending: Vec<String>,
    /// Priors sent but not journaled yet, and the first that failed.
    priors: BTreeMap<String, String>,
    priors_failed: Option<Failure>,
    /// How it will have gone, once the backlog and the folder are done.
    outcome: Option<Closed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Start,
    Drain,
    Ending,
    Replaying,
    SendingPriors,
    JournalingPriors,
    SendingManifest,
    JournalingManifest,
    WaitingPriors,
    WaitingManifest,
    Retiring,
    SavingBacklog,
    Tidying,
    Closed,
}

impl Closing {
    /// The closing of a scan that was being captured (`write_end`: its
    /// end is not journaled yet), or of one whose journal says it ended
    /// already; `drained`: of an interrupted scan's uploads only.
    pub(super) fn new(write_end: bool, drained: bool) -> Closing {
        let mut closing = Closing {
            at: At::Start,
            record: None,
            left: VecDeque::new(),
            missed: None,
            // One try unless told otherwise.
            tries: (
                1,
                Backoff {
                    initial: std::time::Duration::ZERO,
                    max: std::time::Duration::ZERO,
                },
            ),
            failures: 0,
            sending: Vec::new(),
            priors: BTreeMap::new(),
            priors_failed: None,
            outcome: None,
        };
        if drained {
            closing.outcome = Some(Closed::Drained);
            closing.at = At::Drain;
        } else if !write_end {
            closing.at = At::Ending;
        }
        closing
    }

    /// The next step, given what the last one came to.
    pub(super) fn next(&mut self, answer: Answer) -> Step {
        match (self.at, answer) {
            (At::Start, Answer::Begin) => self.go(At::Ending, Step::JournalEnd),
            (At::Drain, Answer::Begin) => self.go(At::SavingBacklog, Step::SaveBacklog),
            (At::Ending, Answer::Begin | Answer::Journaled(Ok(()))) => {
                self.go(At::Replaying, Step::Replay)
            }
            (At::Replaying, Answer::Replayed(Ok(record))) => self.replayed(*record),
            (At::SendingPriors, Answer::PriorsSent(results)) => self.priors_sent(results),
            (At::JournalingPriors, Answer::Journaled(Ok(()))) => self.after_priors(),
            (At::SendingManifest, Answer::ManifestSent(Ok(remote))) => {
                let to = self.left.front().cloned().unwrap_or_default();
                self.go(At::JournalingManifest, Step::JournalManifest(to, remote))
            }
            (At::SendingManifest, Answer::ManifestSent(Err(e))) => {
                self.again(e, At::WaitingManifest)
            }
            (At::WaitingManifest, Answer::Done) => self.send_manifest(),
            (At::WaitingPriors, Answer::Done) => self.next_destination(),
            (At::JournalingManifest, Answer::Journaled(Ok(()))) => {
                self.left.pop_front();
                self.failures = 0;
                self.next_destination()
            }
            (At::Retiring, Answer::Retired(Ok(_))) => {
                self.go(At::Closed, Step::Closed(Closed::Retired))
            }
            (At::Retiring, Answer::Retired(Err(e))) => {
                self.outcome = Some(Closed::NotRetired(e));
                self.go(At::SavingBacklog, Step::SaveBacklog)
            }
            (At::SavingBacklog, Answer::Done) => {
                // A drained scan's folder stays as it is: it may be resumed.
                match self.outcome {
                    Some(Closed::Drained) => self.closed(),
                    _ => self.go(At::Tidying, Step::Tidy),
                }
            }
            (At::Tidying, _) => self.closed(),
            (At::Closed, _) => self.closed(),
            (_, Answer::Journaled(Err(e)) | Answer::Replayed(Err(e))) => self.failed(e),
            (at, answer) => self.failed(format!("closing the scan met {answer:?} while {at:?}")),
        }
    }

    fn go(&mut self, at: At, step: Step) -> Step {
        self.at = at;
        step
    }

    fn closed(&mut self) -> Step {
        let outcome = self.outcome.clone().unwrap_or(Closed::Retired);
        self.go(At::Closed, Step::Closed(outcome))
    }

    /// Something failed: the photos still waiting are kept, the folder
    /// tidied, and the next start tries again.
    fn failed(&mut self, error: String) -> Step {
        self.outcome = Some(Closed::Failed(error));
        self.go(At::SavingBacklog, Step::SaveBacklog)
    }

    /// The journal read back: with photos waiting (to be sent, or on a
    /// wired camera's card to be imported), the manifest waits too; else the priors not sent yet go first, then the manifest.
    fn replayed(&mut self, record: ScanRecord) -> Step {
        let on_card = record.awaiting_import().len();
        if on_card > 0 {
            self.outcome = Some(Closed::OnCard(on_card));
            return self.go(At::SavingBacklog, Step::SaveBacklog);
        }
        let waiting = record.pending_uploads().len();
        if waiting > 0 {
            self.outcome = Some(Closed::Waiting(waiting));
            return self.go(At::SavingBacklog, Step::SaveBacklog);
        }
        // A destination of several that has its manifest already is done.
        self.left = record
            .plan
            .sent_to()
            .into_iter()
            .filter(|to| to.name.is_none() || record.at(to).manifest.is_none())
            .collect();
        self.record = Some(record);
        self.next_destination()
    }

    /// The priors and manifest for the next destination that lacks them;
    /// once none is left, the scan retires (or, if one failed, waits).
    fn next_destination(&mut self) -> Step {
        let (Some(to), Some(record)) = (self.left.front(), &self.record) else {
            return match self.missed.take() {
                Some(e) => self.failed(e),
                None => self.go(At::Retiring, Step::Retire),
            };
        };
        let record = record.at(to);
        let priors: Vec<(String, Vec<u8>)> = record
            .plan
            .priors
            .as_ref()
            .map(|p| export::files_of(p, &record))
            .unwrap_or_default()
            .into_iter()
            .filter(|(name, _)| !record.extra.contains_key(name))
            .map(|(name, text)| (name, text.into_bytes()))
            .collect();
        if priors.is_empty() {
            return self.send_manifest();
        }
        let to = to.clone();
        self.sending = priors.iter().map(|(n, _)| n.clone()).collect();
        self.go(At::SendingPriors, Step::SendPriors(to, priors))
    }

    /// Tries of the files of the scan's own at each destination: as many
    /// as of a photo, `attempts`, waiting `backoff` between.
    pub(super) fn with_tries(mut self, attempts: u32, backoff: Backoff) -> Closing {
        self.tries = (attempts.max(1), backoff);
        self
    }

    /// The priors or manifest failed at the destination in hand: tried
    /// again after the backoff (waiting `at`) while tries are left and
    /// another may succeed; else that destination is missed.
    fn again(&mut self, failure: Failure, at: At) -> Step {
        self.failures += 1;
        let (attempts, backoff) = self.tries;
        if failure.retryable && self.failures < attempts {
            return self.go(at, Step::Wait(backoff.delay(self.failures)));
        }
        self.missed(failure.error)
    }

    /// A destination could not get its priors or manifest: noted, and the
    /// next one goes on.
    fn missed(&mut self, error: String) -> Step {
        self.failures = 0;
        let to = self.left.pop_front();
        let error = match to.and_then(|to| to.name) {
            Some(name) => format!("{name}: {error}"),
            None => error,
        };
        self.missed.get_or_insert(error);
        self.next_destination()
    }

    /// The priors' answers, in the order sent: those that arrived are
    /// journaled in one record (a crash before it only sends them again:
    /// a file sent again replaces itself).
    fn priors_sent(&mut self, results: Vec<Result<String, Failure>>) -> Step {
        let names = std::mem::take(&mut self.sending);
        let mut sent = BTreeMap::new();
        for (name, result) in names.into_iter().zip(results) {
            match result {
                Ok(remote) => {
                    sent.insert(name, remote);
                }
                Err(e) => {
                    self.priors_failed.get_or_insert(e);
                }
            }
        }
        if sent.is_empty() {
            return self.after_priors();
        }
        self.priors.clone_from(&sent);
        let to = self.left.front().cloned().unwrap_or_default();
        self.go(At::JournalingPriors, Step::JournalPriors(to, sent))
    }

    fn after_priors(&mut self) -> Step {
        let sent = std::mem::take(&mut self.priors);
        if let (Some(record), Some(to)) = (&mut self.record, self.left.front()) {
            match &to.name {
                Some(name) => record.extras.entry(name.clone()).or_default().extend(sent),
                None => record.extra.extend(sent),
            }
        }
        // Those that failed are sent again (with the manifest after them).
        if let Some(e) = self.priors_failed.take() {
            return self.again(e, At::WaitingPriors);
        }
        self.send_manifest()
    }

    fn send_manifest(&mut self) -> Step {
        let (Some(record), Some(to)) = (&self.record, self.left.front()) else {
            return self.failed("the journal was not read".into());
        };
        let bytes = Manifest::from_record(&record.at(to)).to_json();
        let to = to.clone();
        self.go(At::SendingManifest, Step::SendManifest(to, bytes))
    }
}

#[cfg(test)]
mod tests;
