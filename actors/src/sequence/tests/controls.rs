//! The operator's controls: pause, resume and stop, manual stops before a
//! new tilt, and what is asked out of turn.

use super::*;

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
