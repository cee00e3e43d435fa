//! Whole scans: the stages overlapping (or not, in sequential mode), the
//! upload backlog holding the camera back, and a camera fired by a wire.

use super::*;

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
