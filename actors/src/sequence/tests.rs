//! Tests of the scan sequence, driven by a scripted world that completes
//! commands in order and can inject failures.

mod ring_checks;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

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

#[test]
fn whole_scan_completes_with_every_shot_uploaded_once() {
    let mut w = World::new(config(), 6);
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 6);
    let cmds = w.commands();
    assert_eq!(cmds.last(), Some(&&Command::Finished(Outcome::Completed)));
    assert_eq!(cmds[cmds.len() - 2], &Command::Deenergise);
    assert_eq!(w.count(|c| *c == Command::Home), 1);
    assert_eq!(w.count(|c| *c == Command::ApplySettings), 1);
}

#[test]
fn table_moves_on_as_soon_as_the_shutter_closes() {
    let mut w = World::new(config(), 3);
    w.feed(Event::Start);
    w.run();
    // The move to shot 2 is issued in the same step as shot 1's download.
    let exposed1 = w.position(&Step::Event(Event::Exposed(ShotId(1))));
    let move2 = w.position(&Step::Cmd(Command::MoveTo(ShotId(2))));
    let download1 = w.position(&Step::Cmd(Command::Download(ShotId(1))));
    let downloaded1 = w.position(&Step::Event(Event::Downloaded(ShotId(1))));
    assert!(exposed1 < move2 && move2 < downloaded1);
    assert!(download1 < downloaded1);
    // Never expose while the table moves: each Expose(k) comes after Settled(k).
    for k in 1..=3 {
        assert!(
            w.position(&Step::Event(Event::Settled(ShotId(k))))
                < w.position(&Step::Cmd(Command::Expose(ShotId(k))))
        );
    }
}

#[test]
fn sequential_mode_finishes_each_shot_before_the_next() {
    let mut w = World::new(
        SequenceConfig {
            pipelined: false,
            ..config()
        },
        3,
    );
    w.feed(Event::Start);
    w.run();
    assert_all_uploaded(&w, 3);
    for k in 1..3 {
        assert!(
            w.position(&Step::Event(Event::Uploaded(ShotId(k))))
                < w.position(&Step::Cmd(Command::MoveTo(ShotId(k + 1))))
        );
    }
}

#[test]
fn a_slow_destination_stops_the_camera_at_the_backlog_limit() {
    let mut w = World::new(config(), 10);
    w.hold_uploads = true;
    w.feed(Event::Start);
    w.run();
    assert_eq!(
        w.count(|c| matches!(c, Command::Expose(_))),
        4,
        "backlog limit is 4"
    );
    assert_eq!(w.seq.backlog(), 4);
    assert!(!w.seq.is_finished());
    // Each finished upload lets one more shot through.
    w.release_uploads();
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 10);
}

#[test]
fn camera_failing_every_fifth_exposure_is_retried_with_backoff() {
    let mut w = World::new(config(), 12);
    let mut exposures = 0;
    w.fail = Box::new(move |cmd, _| {
        if let Command::Expose(shot) = cmd {
            exposures += 1;
            if exposures % 5 == 0 {
                return Some(Event::DeviceFailed {
                    device: Device::Camera,
                    shot: Some(*shot),
                    fault: Fault {
                        kind: FaultKind::Transient,
                        message: "PTP I/O error".into(),
                    },
                    retake: false,
                });
            }
        }
        None
    });
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 12);
    assert_eq!(w.count(|c| matches!(c, Command::RetryAfter { .. })), 2);
    assert_eq!(w.count(|c| matches!(c, Command::Paused(_))), 0);
}

#[test]
fn spent_restart_budget_pauses_with_the_reason_and_releases_the_motor() {
    let mut w = World::new(config(), 5);
    w.fail = Box::new(|cmd, _| match cmd {
        Command::Expose(shot) => Some(Event::DeviceFailed {
            device: Device::Camera,
            shot: Some(*shot),
            fault: Fault {
                kind: FaultKind::Transient,
                message: "camera unplugged".into(),
            },
            retake: false,
        }),
        _ => None,
    });
    w.feed(Event::Start);
    w.run();
    let paused = w
        .commands()
        .into_iter()
        .find_map(|c| match c {
            Command::Paused(reason) => Some(reason),
            _ => None,
        })
        .unwrap();
    assert!(
        matches!(paused, PauseReason::Fault(why)
            if why.contains("the camera failed 4 times within 60 s")
                && why.contains("camera unplugged")),
        "{paused:?}"
    );
    assert_eq!(
        w.count(|c| matches!(c, Command::Expose(_))),
        4,
        "no looping after the budget"
    );
    assert_eq!(w.count(|c| *c == Command::Deenergise), 1);
    assert!(!w.seq.is_finished());
    // The operator fixes the camera and resumes: the rig homes again.
    w.fail = Box::new(|_, _| None);
    w.control(Control::Resume).unwrap();
    w.run();
    assert_eq!(w.count(|c| *c == Command::Home), 2);
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 5);
}

#[test]
fn a_lost_download_is_retaken_after_the_table_comes_back() {
    let mut w = World::new(config(), 4);
    let mut failed = false;
    w.fail = Box::new(move |cmd, _| match cmd {
        Command::Download(ShotId(2)) if !failed => {
            failed = true;
            Some(Event::DeviceFailed {
                device: Device::Camera,
                shot: Some(ShotId(2)),
                fault: Fault {
                    kind: FaultKind::Transient,
                    message: "file gone".into(),
                },
                retake: true,
            })
        }
        _ => None,
    });
    w.feed(Event::Start);
    w.run();
    assert_all_uploaded(&w, 4);
    assert_eq!(
        w.count(|c| *c == Command::MoveTo(ShotId(2))),
        2,
        "went back to shot 2"
    );
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(2))), 2);
}

#[test]
fn a_failed_download_is_retried_before_retaking() {
    let mut w = World::new(config(), 3);
    let mut failed = false;
    w.fail = Box::new(move |cmd, _| match cmd {
        Command::Download(ShotId(1)) if !failed => {
            failed = true;
            Some(Event::DeviceFailed {
                device: Device::Camera,
                shot: Some(ShotId(1)),
                fault: Fault {
                    kind: FaultKind::Transient,
                    message: "USB reset".into(),
                },
                retake: false,
            })
        }
        _ => None,
    });
    w.feed(Event::Start);
    w.run();
    assert_all_uploaded(&w, 3);
    assert_eq!(w.count(|c| *c == Command::Download(ShotId(1))), 2);
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(1))), 1);
}

#[test]
fn pause_waits_for_the_step_in_flight_and_resume_continues() {
    let mut w = World::new(config(), 4);
    w.feed(Event::Start);
    // Run until shot 2 is exposed, then pause.
    while w.count_events(|e| *e == Event::Exposed(ShotId(2))) == 0 {
        assert!(w.step());
    }
    w.control(Control::Pause).unwrap();
    w.run();
    let cmds = w.commands();
    assert!(
        cmds.contains(&&Command::Paused(PauseReason::Operator)),
        "{cmds:?}"
    );
    assert_eq!(
        w.count(|c| *c == Command::Expose(ShotId(3))),
        0,
        "no shot while paused"
    );
    assert_eq!(
        w.count(|c| *c == Command::Deenergise),
        0,
        "operator pause holds torque"
    );
    // Shot 2, exposed before the pause, was still downloaded and uploaded.
    assert_eq!(w.seq.shot(ShotId(2)), ShotState::Uploaded);
    w.control(Control::Resume).unwrap();
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 4);
}

#[test]
fn stop_lets_captured_photos_upload_and_releases_the_motor() {
    let mut w = World::new(config(), 8);
    w.hold_uploads = true;
    w.feed(Event::Start);
    w.run();
    w.control(Control::Stop).unwrap();
    w.run();
    assert!(!w.seq.is_finished(), "uploads still out");
    w.release_uploads();
    w.run();
    assert!(w.seq.is_finished());
    let cmds = w.commands();
    assert_eq!(
        &cmds[cmds.len() - 2..],
        [&Command::Deenergise, &Command::Finished(Outcome::Stopped)]
    );
    assert_eq!(w.seq.count(ShotState::Uploaded), 4);
    assert_eq!(w.seq.count(ShotState::Pending), 4);
}

#[test]
fn resumed_scan_uploads_leftovers_checking_first_and_continues() {
    use ShotState::*;
    let states = vec![Uploaded, Uploaded, Captured, Pending, Pending];
    let mut w = World::with_states(config(), states);
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    let cmds = w.commands();
    assert!(cmds.contains(&&Command::Upload {
        shot: ShotId(3),
        check_existing: true
    }));
    assert!(cmds.contains(&&Command::Upload {
        shot: ShotId(4),
        check_existing: false
    }));
    assert_eq!(
        w.count(|c| matches!(c, Command::Expose(_))),
        2,
        "only shots 4 and 5 are taken"
    );
    assert_eq!(w.count(|c| *c == Command::MoveTo(ShotId(1))), 0);
}

/// Every upload of shot 2 fails, as one that may go through later.
fn uploads_of_2_fail() -> FailPolicy {
    Box::new(|cmd, _| match cmd {
        Command::Upload {
            shot: ShotId(2), ..
        } => Some(Event::UploadFailed {
            shot: ShotId(2),
            retryable: true,
        }),
        _ => None,
    })
}

#[test]
fn uploads_are_retried_then_abandoned_without_blocking_the_scan() {
    let mut w = World::new(config(), 3);
    w.fail = uploads_of_2_fail();
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(w.seq.shot(ShotId(2)), ShotState::UploadAbandoned);
    assert_eq!(
        w.count(|c| matches!(
            c,
            Command::Upload {
                shot: ShotId(2),
                ..
            }
        )),
        3,
        "3 attempts"
    );
    assert_eq!(
        w.count(|c| *c
            == Command::Upload {
                shot: ShotId(2),
                check_existing: true
            }),
        2,
        "retries ask the destination first"
    );
    assert_eq!(w.seq.shot(ShotId(3)), ShotState::Uploaded);
}

#[test]
fn leaving_sends_no_more_tries_and_waits_only_for_what_is_on_its_way() {
    let mut w = World::with_states(config(), vec![ShotState::Captured; 3]);
    w.fail = uploads_of_2_fail();
    // Shots 1 and 3 are on their way; shot 2 failed and waits for a try.
    w.hold_uploads = true;
    w.feed(Event::Drain);
    for _ in 0..3 {
        w.step();
    }
    assert!(matches!(
        w.pending.front(),
        Some(Command::RetryAfter { .. })
    ));
    w.feed(Event::Leaving);
    assert_eq!(w.seq.shot(ShotId(2)), ShotState::UploadAbandoned);
    assert!(!w.seq.is_finished(), "what is on its way is waited for");
    w.feed(Event::Uploaded(ShotId(1)));
    // A failure now is not tried again either.
    w.feed(Event::UploadFailed {
        shot: ShotId(3),
        retryable: true,
    });
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(w.seq.shot(ShotId(3)), ShotState::UploadAbandoned);
    assert_eq!((w.uploads_of(2), w.uploads_of(3)), (1, 1), "no second try");
}

#[test]
fn a_fatal_camera_error_pauses_at_once() {
    let mut w = World::new(config(), 3);
    w.fail = Box::new(|cmd, _| match cmd {
        Command::ApplySettings => Some(Event::DeviceFailed {
            device: Device::Camera,
            shot: None,
            fault: Fault {
                kind: FaultKind::Refused,
                message: "the camera has no setting 'isoo'".into(),
            },
            retake: false,
        }),
        _ => None,
    });
    w.feed(Event::Start);
    w.run();
    let cmds = w.commands();
    assert!(cmds.iter().any(|c| matches!(
        c,
        Command::Paused(PauseReason::Refused(why)) if why.contains("no setting 'isoo'")
    )));
    assert_eq!(w.count(|c| matches!(c, Command::Expose(_))), 0);
    assert_eq!(w.count(|c| matches!(c, Command::RetryAfter { .. })), 0);
    assert_eq!(
        w.count(|c| *c == Command::Home),
        0,
        "no motor moves for a refused setting"
    );
    assert_eq!(w.count(|c| matches!(c, Command::MoveTo(_))), 0);
}

/// The camera is gone at each of the first `times` exposures.
fn unplugged(times: u32) -> FailPolicy {
    let mut left = times;
    gone_at(move |cmd| {
        let hit = matches!(cmd, Command::Expose(_)) && left > 0;
        left -= u32::from(hit);
        hit
    })
}

/// The camera is gone at every command `hit` picks.
fn gone_at(mut hit: impl FnMut(&Command) -> bool + 'static) -> FailPolicy {
    Box::new(move |cmd, _| {
        let shot = match cmd {
            Command::Expose(shot) | Command::Download(shot) if hit(cmd) => *shot,
            _ => return None,
        };
        Some(Event::DeviceFailed {
            device: Device::Camera,
            shot: Some(shot),
            fault: Fault {
                kind: FaultKind::Gone,
                message: "camera disconnected".into(),
            },
            retake: false,
        })
    })
}

#[test]
fn a_camera_that_is_gone_pauses_the_scan_which_goes_on_when_it_is_back() {
    let mut w = World::new(config(), 5);
    // Gone more often than the restart budget (3) allows, and each time
    // for a few looks: the scan waits, and finishes.
    w.fail = unplugged(5);
    w.gone_for = 3;
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_all_uploaded(&w, 5);
    assert!(
        w.count(|c| matches!(c, Command::Paused(PauseReason::Disconnected(_)))) >= 1,
        "{}",
        w.dump()
    );
    assert_eq!(
        w.count(|c| matches!(c, Command::Paused(PauseReason::Fault(_)))),
        0,
        "the budget is not spent"
    );
    assert_eq!(w.count(|c| *c == Command::Probe(Device::Camera)), w.probes);
    assert!(w.probes > 3);
    let allowed = [100, 200, 400, 800, 1000].map(Duration::from_millis);
    for c in w.commands() {
        if let Command::RetryAfter {
            delay,
            retry: Retry::Probe(Device::Camera),
        } = c
        {
            assert!(
                allowed.contains(delay),
                "looks come at most a second apart: {c:?}"
            );
        }
    }
}

#[test]
fn stopping_while_the_camera_is_gone_ends_the_scan_and_the_looking() {
    let mut w = World::new(config(), 4);
    w.fail = unplugged(1);
    w.gone_for = usize::MAX;
    w.feed(Event::Start);
    // Run until the pause is announced and a look is due.
    while w.count(|c| matches!(c, Command::Paused(PauseReason::Disconnected(_)))) == 0 {
        assert!(w.step(), "{}", w.dump());
    }
    w.control(Control::Stop).unwrap();
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_eq!(w.count(|c| *c == Command::Finished(Outcome::Stopped)), 1);
    assert!(w.probes <= 1, "still looking after the stop: {}", w.probes);
}

#[test]
fn stopping_while_the_camera_is_gone_with_a_photo_on_it_ends_the_scan_without_it() {
    let mut w = World::new(config(), 4);
    // Gone while the second photo is downloaded, and never back.
    w.fail = gone_at(|cmd| matches!(cmd, Command::Download(ShotId(2))));
    w.gone_for = usize::MAX;
    w.feed(Event::Start);
    while w.count(|c| matches!(c, Command::Paused(PauseReason::Disconnected(_)))) == 0 {
        assert!(w.step(), "{}", w.dump());
    }
    assert_eq!(w.seq.shot(ShotId(2)), ShotState::Exposed);
    w.control(Control::Stop).unwrap();
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_eq!(w.count(|c| *c == Command::Finished(Outcome::Stopped)), 1);
    assert_eq!(w.seq.shot(ShotId(2)), ShotState::Pending, "not taken");
    assert_eq!(w.seq.shot(ShotId(1)), ShotState::Uploaded);
}

#[test]
fn a_drain_uploads_leftovers_and_a_later_start_continues_the_scan() {
    use ShotState::*;
    let mut w = World::with_states(config(), vec![Uploaded, Captured, Pending]);
    w.hold_uploads = true;
    w.feed(Event::Drain);
    w.run();
    assert_eq!(
        w.count(|c| *c
            == Command::Upload {
                shot: ShotId(2),
                check_existing: true
            }),
        1
    );
    assert_eq!(w.count(|c| *c == Command::Home), 0, "a drain moves nothing");
    // The operator resumes the scan while the upload is still out.
    w.seq.claim();
    w.feed(Event::Start);
    w.release_uploads();
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(w.seq.count(ShotState::Uploaded), 3);
    assert_eq!(w.uploads_of(2), 1, "no second upload");
    assert_eq!(w.uploads_of(1), 0);
    assert_eq!(
        w.count(|c| matches!(c, Command::Expose(_))),
        1,
        "only shot 3 is taken"
    );
}

#[test]
fn a_drain_claimed_by_a_resume_waits_for_start_when_its_uploads_end_first() {
    use ShotState::*;
    let mut w = World::with_states(config(), vec![Uploaded, Captured, Pending]);
    w.hold_uploads = true;
    w.feed(Event::Drain);
    w.run();
    // Resumed; the upload out comes back before the scan's Start does
    // (the lights warm up first).
    w.seq.claim();
    w.release_uploads();
    w.run();
    assert!(!w.seq.is_finished(), "ended before its start: {}", w.dump());
    assert_eq!(w.count(|c| matches!(c, Command::Finished(_))), 0);
    w.feed(Event::Start);
    w.run();
    assert_eq!(
        w.commands().last(),
        Some(&&Command::Finished(Outcome::Completed))
    );
    assert_eq!(w.seq.count(ShotState::Uploaded), 3);
    assert_eq!(w.uploads_of(2), 1, "no second upload");
}

#[test]
fn a_drain_that_has_ended_is_not_claimed() {
    use ShotState::*;
    let mut w = World::with_states(config(), vec![Uploaded, Captured, Pending]);
    w.feed(Event::Drain);
    w.run();
    assert!(w.seq.is_finished());
    w.seq.claim();
    assert!(w.seq.is_finished(), "its closing is under way");
}

#[test]
fn a_drain_alone_finishes_once_uploads_settle() {
    use ShotState::*;
    let mut w = World::with_states(config(), vec![Captured, Captured, Pending]);
    w.feed(Event::Drain);
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(
        w.commands().last(),
        Some(&&Command::Finished(Outcome::Stopped))
    );
    assert_eq!(w.count(|c| *c == Command::Deenergise), 0);
}

#[test]
fn a_failed_exposure_of_the_last_shot_is_retaken_not_dropped() {
    let mut w = World::new(config(), 4);
    let mut failed = false;
    w.fail = Box::new(move |cmd, _| match cmd {
        Command::Expose(ShotId(4)) if !failed => {
            failed = true;
            Some(Event::DeviceFailed {
                device: Device::Camera,
                shot: Some(ShotId(4)),
                fault: Fault {
                    kind: FaultKind::Transient,
                    message: "PTP I/O error".into(),
                },
                retake: false,
            })
        }
        _ => None,
    });
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(
        w.commands().last(),
        Some(&&Command::Finished(Outcome::Completed))
    );
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(4))), 2);
    assert_all_uploaded(&w, 4);
}

#[test]
fn a_fault_pause_is_quiet_only_once_the_moving_table_has_stopped() {
    let mut seq = Sequence::new(config(), vec![ShotState::Pending; 3]);
    let now = Instant::now();
    seq.handle(Event::Start, now);
    seq.handle(Event::SettingsApplied, now);
    seq.handle(Event::Homed, now);
    let shot1 = ShotId(1);
    seq.handle(
        Event::Moved {
            shot: shot1,
            still: true,
        },
        now,
    );
    let cmds = seq.handle(Event::Exposed(shot1), now);
    assert!(cmds.contains(&Command::MoveTo(ShotId(2))), "{cmds:?}");
    // The download fails for good while the table is on its way.
    let failed = Event::DeviceFailed {
        device: Device::Camera,
        shot: Some(shot1),
        fault: Fault {
            kind: FaultKind::Refused,
            message: "the camera has no card".into(),
        },
        retake: true,
    };
    let cmds = seq.handle(failed, now);
    assert!(seq.paused().is_some());
    assert!(!cmds.iter().any(|c| matches!(c, Command::Paused(_))));
    assert!(!seq.is_quiet(), "the table is still moving");
    seq.handle(
        Event::Moved {
            shot: ShotId(2),
            still: false,
        },
        now,
    );
    assert!(!seq.is_quiet(), "the table is settling");
    let cmds = seq.handle(Event::Settled(ShotId(2)), now);
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Paused(_))),
        "{cmds:?}"
    );
    assert!(seq.is_quiet());
}

#[test]
fn a_rig_without_a_tilt_motor_pauses_before_each_new_tilt_and_resume_continues() {
    let stops = BTreeMap::from([(
        ShotId(3),
        "set the tilt to +15.0° and press Start".to_string(),
    )]);
    let mut w = World::new(config(), 4);
    w.seq = Sequence::new(config(), vec![ShotState::Pending; 4]).with_manual_stops(stops);
    w.feed(Event::Start);
    w.run();
    let cmds = w.commands();
    assert!(
        cmds.contains(&&Command::Paused(PauseReason::Manual(
            "set the tilt to +15.0° and press Start".into()
        ))),
        "{cmds:?}"
    );
    assert_eq!(
        w.count(|c| *c == Command::Expose(ShotId(3))),
        0,
        "waits for the operator"
    );
    assert_eq!(
        w.seq.shot(ShotId(2)),
        ShotState::Uploaded,
        "ring 1 finished"
    );
    assert_eq!(
        w.count(|c| *c == Command::Deenergise),
        0,
        "holds the table where it is"
    );
    w.control(Control::Resume).unwrap();
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 4);
    assert_eq!(
        w.count(|c| matches!(c, Command::Paused(_))),
        1,
        "asked once"
    );
}

#[test]
fn a_stopped_move_goes_on_from_where_it_stood_and_a_lost_position_homes_first() {
    for lost in [false, true] {
        let mut w = World::new(config(), 3);
        let mut stopped = false;
        w.fail = Box::new(move |cmd, _| match cmd {
            Command::MoveTo(ShotId(2)) if !stopped => {
                stopped = true;
                Some(Event::Halted { lost })
            }
            _ => None,
        });
        w.feed(Event::Start);
        w.run();
        assert!(w.seq.is_finished(), "{}", w.dump());
        assert_all_uploaded(&w, 3);
        assert_eq!(
            w.count(|c| *c == Command::MoveTo(ShotId(2))),
            2,
            "asked again"
        );
        let homes = if lost { 2 } else { 1 };
        assert_eq!(
            w.count(|c| *c == Command::Home),
            homes,
            "lost: {lost}\n{}",
            w.dump()
        );
        assert_eq!(
            w.count(|c| matches!(c, Command::Paused(_))),
            0,
            "a stop asked for is no fault"
        );
    }
}

#[test]
fn a_homing_timeout_pauses_after_one_attempt_and_spends_no_budget() {
    let mut w = World::new(config(), 3);
    w.fail = Box::new(|cmd, _| match cmd {
        Command::Home => Some(Event::DeviceFailed {
            device: Device::Table,
            shot: None,
            fault: Fault {
                kind: FaultKind::Fatal,
                message: "homing the tilt axis found no end-stop within 60s".into(),
            },
            retake: false,
        }),
        _ => None,
    });
    w.feed(Event::Start);
    w.run();
    assert_eq!(w.count(|c| *c == Command::Home), 1, "{}", w.dump());
    assert_eq!(
        w.count(|c| matches!(c, Command::RetryAfter { .. })),
        0,
        "no retry"
    );
    assert!(
        w.count(|c| matches!(
            c,
            Command::Paused(PauseReason::Fault(why)) if why.starts_with("homing the tilt axis")
        )) == 1,
        "{}",
        w.dump()
    );
    // Resumed by hand, it homes again (once more, not in a loop).
    w.control(Control::Resume).unwrap();
    w.run();
    assert_eq!(w.count(|c| *c == Command::Home), 2);
}

#[test]
fn the_table_turns_and_settles_for_the_next_shot_while_a_download_runs() {
    // Downloads that finish only when nothing else is left to do: the
    // slowest camera there is.
    let mut w = World::new(config(), 3);
    w.hold_downloads = true;
    w.feed(Event::Start);
    w.run();
    assert_eq!(w.held_downloads, [ShotId(1)], "{}", w.dump());
    // While download 1 runs, the table has already moved to shot 2 and
    // settled there; exposure 2 waits only for the camera.
    for done in [
        Event::Moved {
            shot: ShotId(2),
            still: false,
        },
        Event::Settled(ShotId(2)),
    ] {
        assert_eq!(
            w.count_events(|e| *e == done),
            1,
            "{done:?} before download 1 ended:\n{}",
            w.dump()
        );
    }
    assert_eq!(
        w.count(|c| *c == Command::Expose(ShotId(2))),
        0,
        "one camera: no exposure during a download"
    );
    // Download 1 ends: exposure 2 is the very next camera command.
    w.hold_downloads = false;
    w.held_downloads.clear();
    w.feed(Event::Downloaded(ShotId(1)));
    let next = w
        .commands()
        .into_iter()
        .rev()
        .find(|c| matches!(c, Command::Expose(_) | Command::Download(_)));
    assert_eq!(next, Some(&Command::Expose(ShotId(2))), "{}", w.dump());
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 3);
}

#[test]
fn what_the_operator_asks_out_of_turn_is_refused_and_changes_nothing() {
    let mut w = World::new(config(), 3);
    // Before the scan starts: nothing to pause or resume.
    assert_eq!(w.control(Control::Pause), Err(Refusal::NotRunning));
    assert_eq!(w.control(Control::Resume), Err(Refusal::NotPaused));
    w.feed(Event::Start);
    assert_eq!(w.control(Control::Resume), Err(Refusal::NotPaused));
    w.control(Control::Pause).unwrap();
    assert_eq!(w.control(Control::Pause), Err(Refusal::NotRunning));
    let before = w.commands().len();
    w.run();
    w.control(Control::Stop).unwrap();
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    // Over: nothing is carried out any more.
    for control in [Control::Pause, Control::Resume, Control::Stop] {
        assert!(w.control(control).is_err(), "{control:?}");
    }
    assert!(
        w.commands()[before..]
            .iter()
            .all(|c| !matches!(c, Command::Expose(_) | Command::MoveTo(_))),
        "{}",
        w.dump()
    );
}

mod judging;
mod retakes;

#[test]
fn a_camera_fired_by_a_wire_is_fired_only_with_the_table_still_and_its_shots_await_import() {
    let mut w = World::new(config(), 6);
    w.wired = true;
    w.feed(Event::Start);
    w.run();
    let mut moving = false;
    for step in &w.log {
        match step {
            Step::Cmd(Command::MoveTo(_)) => moving = true,
            Step::Event(Event::Moved { .. }) => moving = false,
            Step::Cmd(Command::Expose(shot)) => {
                assert!(!moving, "{shot} fired while the table moved:\n{}", w.dump())
            }
            _ => {}
        }
    }
    for i in 1..=6 {
        assert_eq!(w.seq.shot(ShotId(i)), ShotState::Triggered, "shot {i}");
    }
    assert_eq!(w.count(|c| matches!(c, Command::Expose(_))), 6, "each once");
    assert_eq!(
        w.count(|c| matches!(c, Command::Persist(_) | Command::Upload { .. })),
        0,
        "nothing to journal as captured nor to send until the import"
    );
    assert_eq!(
        w.commands().last(),
        Some(&&Command::Finished(Outcome::Completed))
    );
}
