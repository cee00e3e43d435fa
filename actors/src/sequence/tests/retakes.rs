//! The sequence's side of retakes: a shot whose photo is judged blurred is
//! taken again at once, settling longer, up to `retakes` times; its upload
//! waits for its judgement, so that only the take kept is sent; a scan
//! stopped before a retake keeps the earlier take.

use super::*;

fn retaking(retakes: u32) -> SequenceConfig {
    SequenceConfig {
        quality: Some(OnProblem::Flag),
        retakes,
        ..config()
    }
}

/// Where the `n`-th (from 0) step matching `pred` is in the log.
fn nth(w: &World, n: usize, pred: impl Fn(&Step) -> bool) -> usize {
    w.log
        .iter()
        .enumerate()
        .filter(|(_, s)| pred(s))
        .nth(n)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("fewer than {} such steps in:\n{}", n + 1, w.dump()))
}

fn retakes_of(w: &World, shot: u32) -> Vec<u32> {
    w.commands()
        .into_iter()
        .filter_map(|c| match c {
            Command::Retake { shot: s, take, .. } if *s == ShotId(shot) => Some(*take),
            _ => None,
        })
        .collect()
}

#[test]
fn a_blurred_shot_is_taken_again_at_once_settling_and_only_its_sharp_take_is_uploaded() {
    // Shot 2 in the middle and shot 4, the last, come out blurred once.
    for blurred in [2, 4] {
        let mut w = World::new(retaking(2), 4);
        w.blurred.insert(ShotId(blurred), 1);
        w.feed(Event::Start);
        w.run();
        assert!(w.seq.is_finished(), "{}", w.dump());
        assert_eq!(
            w.commands().last(),
            Some(&&Command::Finished(Outcome::Completed))
        );
        assert_all_uploaded(&w, 4);
        assert_eq!(retakes_of(&w, blurred), [2], "{}", w.dump());
        assert_eq!(w.seq.take(ShotId(blurred)), 2);
        let shot = ShotId(blurred);
        // Exposed twice, judged twice, uploaded once: after the second
        // take was journaled and judged.
        assert_eq!(w.count(|c| *c == Command::Expose(shot)), 2);
        assert_eq!(w.count(|c| *c == Command::Judge(shot)), 2);
        let upload = nth(
            &w,
            0,
            |s| matches!(s, Step::Cmd(Command::Upload { shot: s, .. }) if *s == shot),
        );
        let second_judgement = nth(
            &w,
            1,
            |s| matches!(s, Step::Event(Event::Judged { shot: s, .. }) if *s == shot),
        );
        assert!(upload > second_judgement, "{}", w.dump());
        // At once: from the retake on, the next shot exposed is this one,
        // after a settle at its pose.
        let retake = nth(&w, 0, |s| matches!(s, Step::Cmd(Command::Retake { .. })));
        let next_expose = (retake..w.log.len())
            .find(|&i| matches!(w.log[i], Step::Cmd(Command::Expose(_))))
            .unwrap();
        assert_eq!(w.log[next_expose], Step::Cmd(Command::Expose(shot)));
        let settled = w.log[retake..next_expose].contains(&Step::Cmd(Command::Settle(shot)));
        assert!(settled, "{}", w.dump());
        // The others were taken once.
        for other in (1..=4).filter(|&k| k != blurred) {
            assert_eq!(w.count(|c| *c == Command::Expose(ShotId(other))), 1);
            assert_eq!(w.seq.take(ShotId(other)), 1);
        }
    }
}

#[test]
fn a_shot_blurred_at_every_take_keeps_its_last_take_flagged_and_uploads_it_once() {
    let mut w = World::new(retaking(2), 3);
    w.blurred.insert(ShotId(1), 10);
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_all_uploaded(&w, 3);
    assert_eq!(retakes_of(&w, 1), [2, 3]);
    assert_eq!(w.seq.take(ShotId(1)), 3);
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(1))), 3);
}

#[test]
fn an_upload_waits_for_the_judgement_only_while_blurred_shots_are_retaken() {
    for (retakes, waits) in [(2, true), (0, false)] {
        let mut w = World::new(retaking(retakes), 2);
        w.hold_judging = true;
        w.feed(Event::Start);
        w.run();
        let uploads = w.count(|c| matches!(c, Command::Upload { .. }));
        assert_eq!(uploads, if waits { 0 } else { 2 }, "{}", w.dump());
        // Nor does the scan end with a judgement out.
        assert!(!w.seq.is_finished());
        w.release_judging();
        assert!(w.seq.is_finished(), "{}", w.dump());
        assert_all_uploaded(&w, 2);
    }
}

#[test]
fn a_scan_stopped_before_its_retake_keeps_the_earlier_take_and_uploads_it() {
    let mut w = World::new(retaking(2), 3);
    w.hold_judging = true;
    w.feed(Event::Start);
    w.run();
    let held = std::mem::take(&mut w.held_judging);
    assert!(held.contains(&ShotId(1)), "{}", w.dump());
    w.hold_judging = false;
    for shot in held {
        let problems = if shot == ShotId(1) {
            vec![("shot1.jpg".to_owned(), BLURRED)]
        } else {
            Vec::new()
        };
        w.feed(Event::Judged { shot, problems });
    }
    assert_eq!(retakes_of(&w, 1), [2]);
    assert_eq!(w.seq.shot(ShotId(1)), ShotState::Pending);
    w.control(Control::Stop).unwrap();
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    // Taken once, uploaded once: the blurred take is all the scan has.
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(1))), 1);
    assert_eq!(w.seq.shot(ShotId(1)), ShotState::Uploaded);
    assert_eq!(
        w.count_events(|e| *e == Event::Uploaded(ShotId(1))),
        1,
        "{}",
        w.dump()
    );
}

#[test]
fn a_retake_journaled_before_a_crash_is_taken_when_the_scan_goes_on() {
    use ShotState::*;
    let states = vec![Uploaded, Pending, Pending];
    let mut w = World::with_states(retaking(2), states.clone());
    w.seq = Sequence::new(retaking(2), states).with_takes(vec![1, 2, 1]);
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_eq!(w.seq.take(ShotId(2)), 2);
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(2))), 1);
    // Its next retake would be its third take, the last of two retakes.
    assert_eq!(retakes_of(&w, 2), Vec::<u32>::new());
}

#[test]
fn a_blurred_frame_of_a_bracketed_set_is_not_retaken_but_a_blurred_merged_image_is() {
    let stem = "s_0001_r1_az000.0_t+00.0";
    for (photo, retaken) in [
        (format!("{stem}_b2.jpg"), false),
        (format!("{stem}_low_b1.jpg"), false),
        (format!("{stem}_stacked.jpg"), true),
        (format!("{stem}.jpg"), true),
    ] {
        let mut w = World::new(retaking(1), 2);
        w.problems.insert(ShotId(1), vec![(photo.clone(), BLURRED)]);
        w.feed(Event::Start);
        w.run();
        assert!(w.seq.is_finished(), "{}", w.dump());
        let expected: &[u32] = if retaken { &[2] } else { &[] };
        assert_eq!(retakes_of(&w, 1), expected, "{photo}");
    }
}

#[test]
fn a_retake_no_sharper_than_the_take_before_is_kept_flagged_and_not_taken_again() {
    let mut w = World::new(retaking(2), 3);
    w.blurred.insert(ShotId(2), 10);
    w.soft.insert(ShotId(2));
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_all_uploaded(&w, 3);
    // One retake, which measured the same: the object is soft, not the
    // rig swaying, so a third take would be time lost.
    assert_eq!(retakes_of(&w, 2), [2], "{}", w.dump());
    assert_eq!(w.seq.take(ShotId(2)), 2);
    assert_eq!(w.count(|c| *c == Command::Expose(ShotId(2))), 2);
    assert_eq!(w.count(|c| matches!(c, Command::RetakesStopped(_))), 0);
}

#[test]
fn retakes_that_never_come_out_sharper_stop_for_the_rest_of_the_scan() {
    let w = soft_scan(1..=6, |_| ());
    // The first three shots are taken twice; then retaking is given up,
    // once, with the reason: a retake already under way is finished, and
    // no other is started (the last shots are taken once).
    for shot in 1..=3 {
        assert_eq!(retakes_of(&w, shot), [2], "shot {shot}\n{}", w.dump());
    }
    let given_up = nth(&w, 0, |s| {
        matches!(s, Step::Cmd(Command::RetakesStopped(_)))
    });
    let retakes_after = w.log[given_up..]
        .iter()
        .filter(|s| matches!(s, Step::Cmd(Command::Retake { .. })))
        .count();
    assert_eq!(retakes_after, 0, "{}", w.dump());
    for shot in 5..=6 {
        assert_eq!(w.count(|c| *c == Command::Expose(ShotId(shot))), 1);
    }
    let stopped: Vec<_> = w
        .commands()
        .into_iter()
        .filter_map(|c| match c {
            Command::RetakesStopped(why) => Some(why.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(stopped.len(), 1, "{}", w.dump());
    assert!(
        stopped[0].contains("3 shots") && stopped[0].contains("min_sharpness"),
        "{}",
        stopped[0]
    );
}

#[test]
fn once_a_retake_has_made_a_shot_sharp_soft_shots_do_not_stop_retaking() {
    // Shot 1 was shaken (its retake is sharp); the rest are soft.
    let w = soft_scan(2..=6, |w| {
        w.blurred.insert(ShotId(1), 1);
    });
    for shot in 1..=6 {
        assert_eq!(retakes_of(&w, shot), [2], "shot {shot}\n{}", w.dump());
    }
    assert_eq!(w.count(|c| matches!(c, Command::RetakesStopped(_))), 0);
}

/// A scan of six shots, retaking up to twice, whose `soft` shots come out
/// blurred at every take, measuring the same (and what `also` sets),
/// run to its end: every shot uploaded once.
fn soft_scan(soft: std::ops::RangeInclusive<u32>, also: impl FnOnce(&mut World)) -> World {
    let mut w = World::new(retaking(2), 6);
    for shot in soft {
        w.blurred.insert(ShotId(shot), 10);
        w.soft.insert(ShotId(shot));
    }
    also(&mut w);
    w.feed(Event::Start);
    w.run();
    assert!(w.seq.is_finished(), "{}", w.dump());
    assert_all_uploaded(&w, 6);
    w
}
