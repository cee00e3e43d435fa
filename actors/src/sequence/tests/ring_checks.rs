//! The check after each ring that the object has not moved: the table goes
//! back to the ring's first shot, the check runs before the next ring (or
//! the end), a moved object pauses the scan until the operator goes on.

use super::*;

/// Two rings of three shots, each checked.
fn two_rings(state: [CheckState; 2]) -> Vec<RingCheck> {
    let [one, two] = state;
    vec![
        RingCheck {
            ring: 1,
            first: ShotId(1),
            last: ShotId(3),
            state: one,
        },
        RingCheck {
            ring: 2,
            first: ShotId(4),
            last: ShotId(6),
            state: two,
        },
    ]
}

fn world(states: Vec<ShotState>, checks: Vec<RingCheck>) -> World {
    let mut w = World::with_states(config(), states.clone());
    w.seq = Sequence::new(config(), states).with_ring_checks(checks);
    w
}

impl World {
    /// Where `step` first appears in the log after position `from`.
    fn after(&self, from: usize, step: &Step) -> usize {
        from + 1
            + self.log[from + 1..]
                .iter()
                .position(|s| s == step)
                .unwrap_or_else(|| panic!("no `{step:?}` after {from} in:\n{}", self.dump()))
    }
}

fn check(ring: u32, first: u32) -> Step {
    Step::Cmd(Command::CheckRing {
        ring,
        first: ShotId(first),
    })
}

#[test]
fn each_ring_is_checked_from_its_first_pose_before_the_next_ring_and_the_end() {
    let mut w = world(
        vec![ShotState::Pending; 6],
        two_rings([CheckState::Due, CheckState::Due]),
    );
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_all_uploaded(&w, 6);
    assert_eq!(
        w.count(|c| matches!(c, Command::Expose(_))),
        6,
        "no extra photo"
    );
    assert_eq!(w.count(|c| matches!(c, Command::Paused(_))), 0);

    // The table goes back to shot 1 (its second move there), settles, and
    // only then is the ring checked, before ring 2.
    let exposed_3 = w.position(&Step::Event(Event::Exposed(ShotId(3))));
    let back = w.after(exposed_3, &Step::Cmd(Command::MoveTo(ShotId(1))));
    let settled = w.after(back, &Step::Event(Event::Settled(ShotId(1))));
    let checked_1 = w.position(&check(1, 1));
    let to_ring_2 = w.position(&Step::Cmd(Command::MoveTo(ShotId(4))));
    assert!(settled < checked_1 && checked_1 < to_ring_2, "{}", w.dump());

    let checked_2 = w.position(&check(2, 4));
    let finished = w.position(&Step::Cmd(Command::Finished(Outcome::Completed)));
    assert!(checked_2 < finished);
    assert_eq!(w.count(|c| matches!(c, Command::CheckRing { .. })), 2);
}

#[test]
fn a_moved_object_pauses_after_its_ring_and_resume_goes_on_with_the_next() {
    let mut w = world(
        vec![ShotState::Pending; 6],
        two_rings([CheckState::Due, CheckState::Due]),
    );
    w.moved_rings = vec![1];
    w.feed(Event::Start);
    w.run();
    let reason = PauseReason::Moved {
        ring: 1,
        message: "ring 1 moved".into(),
    };
    assert_eq!(w.seq.paused(), Some(&reason));
    assert!(!reason.is_fault(), "the motors hold");
    assert!(w.seq.is_quiet());
    assert_eq!(w.count(|c| *c == Command::Paused(reason.clone())), 1);
    assert_eq!(
        w.count(|c| *c == Command::Expose(ShotId(4))),
        0,
        "ring 2 waits"
    );
    assert_eq!(w.count(|c| *c == Command::Deenergise), 0);
    assert_eq!(w.seq.shot(ShotId(3)), ShotState::Uploaded, "ring 1 is kept");

    w.control(Control::Resume).unwrap();
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_all_uploaded(&w, 6);
    assert_eq!(w.count(|c| *c == Command::MovedAccepted(1)), 1);
    assert_eq!(
        w.count(|c| matches!(c, Command::Paused(_))),
        1,
        "asked once"
    );
    assert_eq!(w.count(|c| matches!(c, Command::CheckRing { .. })), 2);
    assert_eq!(w.count(|c| matches!(c, Command::Expose(_))), 6);
}

#[test]
fn a_moved_object_found_before_a_crash_pauses_again_and_a_passed_check_is_not_made_again() {
    // Ring 1 shot and found moved, the operator not asked yet.
    let mut states = vec![ShotState::Captured; 3];
    states.extend([ShotState::Pending; 3]);
    let mut w = world(
        states.clone(),
        two_rings([CheckState::Held("ring 1 moved".into()), CheckState::Due]),
    );
    w.feed(Event::Start);
    w.run();
    assert!(matches!(
        w.seq.paused(),
        Some(PauseReason::Moved { ring: 1, .. })
    ));
    assert_eq!(
        w.count(|c| matches!(c, Command::Expose(_) | Command::MoveTo(_))),
        0
    );
    w.control(Control::Resume).unwrap();
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(
        w.count(|c| matches!(c, Command::CheckRing { .. })),
        1,
        "ring 2 only"
    );

    // Ring 1 checked and passed (or the operator went on) before the crash.
    let mut w = world(states, two_rings([CheckState::Done, CheckState::Due]));
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(w.count(|c| matches!(c, Command::Paused(_))), 0);
    assert_eq!(
        w.commands()
            .iter()
            .filter(|c| matches!(c, Command::CheckRing { .. }))
            .count(),
        1
    );
    assert_eq!(w.count(|c| *c == Command::MoveTo(ShotId(1))), 0);
}

#[test]
fn an_operator_pause_during_the_check_keeps_what_it_found() {
    let mut w = world(
        vec![ShotState::Pending; 6],
        two_rings([CheckState::Due, CheckState::Due]),
    );
    w.moved_rings = vec![1];
    w.feed(Event::Start);
    // Run until the check of ring 1 is asked for, then pause.
    while !w.log.contains(&check(1, 1)) {
        assert!(w.step(), "{}", w.dump());
    }
    w.control(Control::Pause).unwrap();
    w.run();
    assert_eq!(w.seq.paused(), Some(&PauseReason::Operator));
    // Going on asks about the moved object before anything else.
    w.control(Control::Resume).unwrap();
    w.run();
    assert!(matches!(
        w.seq.paused(),
        Some(PauseReason::Moved { ring: 1, .. })
    ));
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(4))), 0);
    w.control(Control::Resume).unwrap();
    w.run();
    assert!(w.seq.is_finished());
}
