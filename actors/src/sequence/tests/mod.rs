//! Tests of the scan sequence, driven by a scripted world that completes
//! commands in order and can inject failures.

mod controls;
mod drains;
mod faults;
mod flow;
mod gone;
mod judging;
mod retakes;
mod ring_checks;
mod uploads;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use scanrig_hardware::judge::Problem;

use crate::model::{Device, FaultKind, Outcome, ShotId};
use crate::restart::Backoff;

use super::*;

pub(crate) fn config() -> SequenceConfig {
    SequenceConfig {
        upload_backlog: 4,
        max_restarts: 3,
        restart_window: Duration::from_secs(60),
        device_backoff: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        },
        upload_attempts: 3,
        upload_backoff: Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(5),
        },
        download_attempts: 2,
        pipelined: true,
        quality: None,
        retakes: 0,
    }
}

/// Decides whether a command fails: returns the failure event.
type FailPolicy = Box<dyn FnMut(&Command, usize) -> Option<Event>>;

/// One entry of the world's log: an event fed to the sequence, or a
/// command it gave.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Event(Event),
    Control(Control),
    Cmd(Command),
}

/// Runs commands to completion, one at a time in issue order, and logs
/// every command and event.
struct World {
    seq: Sequence,
    now: Instant,
    pending: VecDeque<Command>,
    log: Vec<Step>,
    /// Decides whether a command fails: returns the failure event.
    fail: FailPolicy,
    issued: usize,
    /// Uploads are held back (not completed) while true.
    hold_uploads: bool,
    held: Vec<ShotId>,
    /// Downloads are held back (not completed) while true.
    hold_downloads: bool,
    held_downloads: Vec<ShotId>,
    /// Probes of a gone device answered so far, and how many say "absent".
    probes: usize,
    gone_for: usize,
    /// What the judges find in each shot's photos (nothing: good).
    problems: BTreeMap<ShotId, Vec<(String, Problem)>>,
    /// How many takes of a shot come out blurred before one is sharp.
    blurred: BTreeMap<ShotId, u32>,
    /// Shots whose blurred takes all measure the same (the object soft);
    /// others come out sharper at each take (the rig settling longer).
    soft: BTreeSet<ShotId>,
    /// Judgements are held back (not answered) while true.
    hold_judging: bool,
    held_judging: Vec<ShotId>,
    /// The rings whose check finds the object moved.
    moved_rings: Vec<u32>,
    /// The camera is fired by a wire: its photos stay on its card.
    wired: bool,
}

impl World {
    fn new(config: SequenceConfig, shots: usize) -> World {
        World::with_states(config, vec![ShotState::Pending; shots])
    }

    fn with_states(config: SequenceConfig, states: Vec<ShotState>) -> World {
        World {
            seq: Sequence::new(config, states),
            now: Instant::now(),
            pending: VecDeque::new(),
            log: Vec::new(),
            fail: Box::new(|_, _| None),
            issued: 0,
            hold_uploads: false,
            held: Vec::new(),
            hold_downloads: false,
            held_downloads: Vec::new(),
            probes: 0,
            gone_for: 0,
            problems: BTreeMap::new(),
            blurred: BTreeMap::new(),
            soft: BTreeSet::new(),
            hold_judging: false,
            held_judging: Vec::new(),
            moved_rings: Vec::new(),
            wired: false,
        }
    }

    fn feed(&mut self, event: Event) {
        self.log.push(Step::Event(event.clone()));
        self.now += Duration::from_millis(10);
        let commands = self.seq.handle(event, self.now);
        self.issue(commands);
    }

    /// Uploads go through again, and those held come back done.
    fn release_uploads(&mut self) {
        self.hold_uploads = false;
        for shot in std::mem::take(&mut self.held) {
            self.feed(Event::Uploaded(shot));
        }
    }

    /// How many uploads of `shot` were asked for.
    fn uploads_of(&self, shot: u32) -> usize {
        self.count(|c| matches!(c, Command::Upload { shot: s, .. } if *s == ShotId(shot)))
    }

    /// The operator asks; carried out or refused.
    fn control(&mut self, control: Control) -> Result<(), Refusal> {
        self.log.push(Step::Control(control));
        let commands = self.seq.control(control)?;
        self.issue(commands);
        Ok(())
    }

    fn issue(&mut self, commands: Vec<Command>) {
        for c in commands {
            self.log.push(Step::Cmd(c.clone()));
            self.pending.push_back(c);
        }
    }

    /// Completes commands until nothing is left.
    fn run(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the sequence did not settle:\n{}", self.dump());
    }

    /// Completes the oldest command; `false` when none is left.
    fn step(&mut self) -> bool {
        let Some(cmd) = self.pending.pop_front() else {
            return false;
        };
        self.issued += 1;
        if let Some(failure) = (self.fail)(&cmd, self.issued) {
            self.feed(failure);
            return true;
        }
        let event = match cmd {
            Command::ApplySettings => Some(Event::SettingsApplied),
            Command::Home => Some(Event::Homed),
            Command::MoveTo(shot) => Some(Event::Moved { shot, still: false }),
            Command::Settle(shot) => Some(Event::Settled(shot)),
            Command::Expose(shot) => Some(Event::Exposed(shot)),
            Command::Download(shot) if self.hold_downloads => {
                self.held_downloads.push(shot);
                None
            }
            Command::Download(shot) if self.wired => Some(Event::Triggered(shot)),
            Command::Download(shot) => Some(Event::Downloaded(shot)),
            Command::Persist(shot) => Some(Event::Persisted(shot)),
            Command::Upload { shot, .. } if self.hold_uploads => {
                self.held.push(shot);
                None
            }
            Command::Upload { shot, .. } => Some(Event::Uploaded(shot)),
            Command::Judge(shot) if self.hold_judging => {
                self.held_judging.push(shot);
                None
            }
            Command::Judge(shot) => {
                let mut problems = self.problems.get(&shot).cloned().unwrap_or_default();
                if let Some(n) = self.blurred.get_mut(&shot).filter(|n| **n > 0) {
                    *n -= 1;
                    let take = self.seq.take(shot);
                    let sharpness = if self.soft.contains(&shot) {
                        8.0
                    } else {
                        4.0 * take as f32
                    };
                    let problem = Problem::Blurred {
                        sharpness,
                        least: 20.0,
                    };
                    problems.push((format!("shot{}_take{take}.jpg", shot.0), problem));
                }
                Some(Event::Judged { shot, problems })
            }
            Command::RetryAfter { delay, retry } => {
                self.now += delay;
                Some(Event::RetryDue(retry))
            }
            Command::Probe(device) => {
                self.probes += 1;
                let present = self.probes > self.gone_for;
                Some(Event::Probed { device, present })
            }
            Command::CheckRing { ring, .. } => Some(Event::RingChecked {
                ring,
                moved: self
                    .moved_rings
                    .contains(&ring)
                    .then(|| format!("ring {ring} moved")),
            }),
            Command::Deenergise
            | Command::Paused(_)
            | Command::Finished(_)
            | Command::MovedAccepted(_)
            | Command::Retake { .. }
            | Command::RetakesStopped(_) => None,
        };
        if let Some(e) = event {
            self.feed(e);
        }
        true
    }

    /// The whole log, one step a line.
    fn dump(&self) -> String {
        self.log
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Where `step` first appears in the log; panics with the log if it
    /// never does.
    fn position(&self, step: &Step) -> usize {
        self.log
            .iter()
            .position(|s| s == step)
            .unwrap_or_else(|| panic!("no `{step:?}` in:\n{}", self.dump()))
    }

    /// How many commands given so far satisfy `pred`.
    fn count(&self, pred: impl Fn(&Command) -> bool) -> usize {
        self.commands().into_iter().filter(|c| pred(c)).count()
    }

    /// How many events fed so far satisfy `pred`.
    fn count_events(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.log
            .iter()
            .filter(|s| matches!(s, Step::Event(e) if pred(e)))
            .count()
    }

    /// Answers the judgements held back (nothing found), then runs on.
    fn release_judging(&mut self) {
        for shot in std::mem::take(&mut self.held_judging) {
            self.feed(Event::Judged {
                shot,
                problems: Vec::new(),
            });
        }
        self.run();
    }

    /// Every command given so far, in order.
    fn commands(&self) -> Vec<&Command> {
        self.log
            .iter()
            .filter_map(|s| match s {
                Step::Cmd(c) => Some(c),
                Step::Event(_) | Step::Control(_) => None,
            })
            .collect()
    }
}

/// A blurred photo, as the judges tell it.
const BLURRED: Problem = Problem::Blurred {
    sharpness: 8.0,
    least: 20.0,
};

fn assert_all_uploaded(w: &World, n: u32) {
    for i in 1..=n {
        assert_eq!(w.seq.shot(ShotId(i)), ShotState::Uploaded, "shot {i}");
        assert_eq!(
            w.count_events(|e| *e == Event::Uploaded(ShotId(i))),
            1,
            "shot {i} uploaded once"
        );
    }
}
