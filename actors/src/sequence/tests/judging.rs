//! The sequence's side of judging: every journaled shot judged once, the
//! scan ending only once every judgement is in, shots a crash left
//! unjudged judged when the scan starts again, and a photo with the
//! object out of frame pausing the scan (or only flagged).

use scanrig_hardware::judge::{Edge, Problem};

use super::*;

fn judging(on_problem: OnProblem) -> SequenceConfig {
    SequenceConfig {
        quality: Some(on_problem),
        ..config()
    }
}

const EMPTY: Problem = Problem::Empty {
    fill: 0.003,
    least: 0.05,
};

fn judged(w: &World, shot: u32) -> usize {
    w.count(|c| *c == Command::Judge(ShotId(shot)))
}

#[test]
fn each_shot_is_judged_once_after_it_is_journaled_and_the_scan_ends_after_the_last_judgement() {
    let mut w = World::new(judging(OnProblem::Flag), 4);
    w.hold_judging = true;
    w.feed(Event::Start);
    w.run();
    for k in 1..=4 {
        assert_eq!(judged(&w, k), 1, "shot {k}\n{}", w.dump());
        assert!(
            w.position(&Step::Event(Event::Persisted(ShotId(k))))
                < w.position(&Step::Cmd(Command::Judge(ShotId(k))))
        );
    }
    // Everything is uploaded, but a judgement is still out: not finished.
    assert_all_uploaded(&w, 4);
    assert!(!w.seq.is_finished(), "{}", w.dump());
    assert!(w.seq.is_judging(ShotId(4)));
    w.release_judging();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_eq!(
        w.commands().last(),
        Some(&&Command::Finished(Outcome::Completed))
    );
}

#[test]
fn judging_off_judges_nothing() {
    let mut w = World::new(config(), 3);
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished());
    assert_eq!(w.count(|c| matches!(c, Command::Judge(_))), 0);
}

#[test]
fn shots_a_crash_left_unjudged_are_judged_when_the_scan_starts_or_drains() {
    use ShotState::*;
    let states = vec![Uploaded, Captured, Uploaded, Pending];
    for start in [Event::Start, Event::Drain] {
        let mut w = World::with_states(judging(OnProblem::Flag), states.clone());
        w.seq = Sequence::new(judging(OnProblem::Flag), states.clone())
            .with_unjudged([ShotId(1), ShotId(2)]);
        w.feed(start.clone());
        w.run();
        assert!(w.seq.is_finished(), "{start:?}\n{}", w.dump());
        let judged: Vec<u32> = (1..=4).map(|k| judged(&w, k) as u32).collect();
        // Shot 4 is taken and judged as it lands when the scan goes on.
        let taken = u32::from(start == Event::Start);
        assert_eq!(judged, [1, 1, 0, taken], "{start:?}\n{}", w.dump());
    }
    // Judging off: what is unjudged stays so.
    let mut w = World::with_states(config(), states.clone());
    w.seq = Sequence::new(config(), states).with_unjudged([ShotId(1)]);
    w.feed(Event::Drain);
    w.run();
    assert_eq!(w.count(|c| matches!(c, Command::Judge(_))), 0);
}

#[test]
fn an_empty_frame_pauses_the_scan_naming_the_photo_and_resuming_goes_on() {
    let mut w = World::new(judging(OnProblem::Pause), 6);
    w.problems
        .insert(ShotId(2), vec![("s_0002.jpg".to_owned(), EMPTY)]);
    w.feed(Event::Start);
    w.run();
    let Some(PauseReason::Photo(why)) = w.seq.paused().cloned() else {
        panic!("not paused on the photo:\n{}", w.dump());
    };
    assert!(
        why.starts_with("s_0002.jpg: the object is not in the frame"),
        "{why}"
    );
    assert!(
        w.count(|c| matches!(c, Command::Paused(PauseReason::Photo(_)))) == 1,
        "{}",
        w.dump()
    );
    // The pause is not a fault: the motors stay energised.
    assert_eq!(w.count(|c| *c == Command::Deenergise), 0);
    assert!(w.seq.count(ShotState::Pending) > 0, "{}", w.dump());
    w.control(Control::Resume).unwrap();
    w.run();
    assert!(w.seq.is_finished());
    assert_all_uploaded(&w, 6);
}

#[test]
fn with_flag_or_a_problem_that_is_not_framing_the_scan_goes_on() {
    let blurred = BLURRED;
    let dark = Problem::Crushed {
        share: 0.3,
        most: 0.1,
    };
    let cut = Problem::CutOff {
        edge: Edge::Top,
        cover: 0.3,
        most: 0.02,
    };
    for (on_problem, problem, pauses) in [
        (OnProblem::Flag, EMPTY, false),
        (OnProblem::Flag, cut, false),
        (OnProblem::Pause, blurred, false),
        (OnProblem::Pause, dark, false),
        (OnProblem::Pause, cut, true),
    ] {
        let mut w = World::new(judging(on_problem), 3);
        w.problems
            .insert(ShotId(1), vec![("s_0001.jpg".to_owned(), problem)]);
        w.feed(Event::Start);
        w.run();
        assert_eq!(
            w.seq.paused().is_some(),
            pauses,
            "{on_problem:?} {problem:?}\n{}",
            w.dump()
        );
        assert_eq!(w.seq.is_finished(), !pauses);
    }
}
