//! Device failures: retries with backoff, the restart budget, retakes of
//! lost photos, faults that pause at once, and stopped or failed moves.

use super::*;

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
