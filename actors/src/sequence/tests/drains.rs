//! Resumed scans and drains: leftover photos uploaded first, and a drain
//! claimed by a resume.

use super::*;

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
