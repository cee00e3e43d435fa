//! A camera that is gone: the scan waits and looks for it, and goes on
//! once it is back, or ends when stopped.

use super::*;

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
