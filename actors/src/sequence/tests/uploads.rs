//! Uploads that fail: retried, then abandoned, and not tried again once
//! the process is leaving.

use super::*;

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
