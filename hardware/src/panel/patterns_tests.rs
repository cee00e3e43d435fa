//! Tests of the blink patterns, their timing and the player thread on recording pins.

use std::convert::Infallible;
use std::sync::Condvar;
use std::time::Duration;

use embedded_hal::digital::{ErrorKind, ErrorType};

use super::*;

const ALL: [Status; 5] = [
    Status::Idle,
    Status::Scanning,
    Status::Paused,
    Status::Uploading,
    Status::Fault,
];

/// Every level written, with when; the condvar wakes waiters on each write.
type Log = Arc<(Mutex<Vec<(bool, Instant)>>, Condvar)>;

/// An output pin that records what it is set to.
#[derive(Clone, Default)]
struct RecordingPin {
    log: Log,
}

impl RecordingPin {
    fn edges(&self) -> Vec<(bool, Instant)> {
        self.log.0.lock().unwrap().clone()
    }

    fn levels(&self) -> Vec<bool> {
        self.edges().iter().map(|&(l, _)| l).collect()
    }

    /// Waits (on the condvar, up to 5 s) until the levels satisfy `ok`.
    fn wait_for(&self, what: &str, ok: impl Fn(&[bool]) -> bool) {
        let (log, written) = &*self.log;
        let levels = |log: &Vec<(bool, Instant)>| log.iter().map(|&(l, _)| l).collect::<Vec<_>>();
        let (log, timeout) = written
            .wait_timeout_while(log.lock().unwrap(), Duration::from_secs(5), |log| {
                !ok(&levels(log))
            })
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "timed out waiting for {what}: {:?}",
            levels(&log)
        );
    }

    fn write(&self, level: bool) {
        self.log.0.lock().unwrap().push((level, Instant::now()));
        self.log.1.notify_all();
    }
}

impl ErrorType for RecordingPin {
    type Error = Infallible;
}

impl OutputPin for RecordingPin {
    fn set_low(&mut self) -> std::result::Result<(), Infallible> {
        self.write(false);
        Ok(())
    }
    fn set_high(&mut self) -> std::result::Result<(), Infallible> {
        self.write(true);
        Ok(())
    }
}

/// A pin that fails from its `works`-th write on, telling `failed` each
/// time.
struct BrokenPin {
    works: usize,
    failed: Option<mpsc::Sender<()>>,
}

impl BrokenPin {
    fn new(works: usize) -> BrokenPin {
        BrokenPin {
            works,
            failed: None,
        }
    }

    fn write(&mut self) -> std::result::Result<(), ErrorKind> {
        match self.works.checked_sub(1) {
            Some(left) => {
                self.works = left;
                Ok(())
            }
            None => {
                if let Some(failed) = &self.failed {
                    let _ = failed.send(());
                }
                Err(ErrorKind::Other)
            }
        }
    }
}

impl ErrorType for BrokenPin {
    type Error = ErrorKind;
}

impl OutputPin for BrokenPin {
    fn set_low(&mut self) -> std::result::Result<(), ErrorKind> {
        self.write()
    }
    fn set_high(&mut self) -> std::result::Result<(), ErrorKind> {
        self.write()
    }
}

#[test]
fn every_status_has_its_own_sensible_pattern() {
    for (i, a) in ALL.iter().enumerate() {
        let steps = pattern(*a);
        assert!(!steps.is_empty(), "{a}");
        assert!(steps[0].lit, "{a}: starts lit, so a change shows at once");
        for pair in steps.windows(2) {
            assert_ne!(pair[0].lit, pair[1].lit, "{a}: levels alternate");
        }
        if steps.len() > 1 {
            assert!(!steps[steps.len() - 1].lit, "{a}: the cycle ends dark");
            assert!(
                steps.iter().all(|s| s.hold >= Duration::from_millis(50)),
                "{a}: visible steps"
            );
        }
        for b in &ALL[i + 1..] {
            assert_ne!(steps, pattern(*b), "{a} and {b} look alike");
        }
    }
    assert_eq!(pattern(Status::Scanning).len(), 1, "scanning is steady");
    let period = |s| pattern(s).iter().map(|s| s.hold).sum::<Duration>();
    assert_eq!(period(Status::Idle), Duration::from_secs(2));
    assert_eq!(pattern(Status::Fault).iter().filter(|s| s.lit).count(), 3);
}

/// Plays `status` on the pure playback for `cycles` cycles, waking exactly
/// at each deadline, and returns (level, time since start) of every edge.
fn play_exactly(status: Status, speedup: u32, edges: usize) -> Vec<(bool, Duration)> {
    let t0 = Instant::now();
    let mut p = Playback::start(pattern(status), speedup, t0);
    let mut seen = vec![(p.lit(), Duration::ZERO)];
    while seen.len() < edges {
        let Some(at) = p.deadline() else { break };
        assert_eq!(p.advance(at - Duration::from_nanos(1)), None, "not early");
        let lit = p.advance(at).expect("due");
        seen.push((lit, at - t0));
    }
    seen
}

#[test]
fn playback_walks_each_pattern_on_time_and_repeats_it() {
    let ms = Duration::from_millis;
    assert_eq!(
        play_exactly(Status::Idle, 1, 6),
        vec![
            (true, ms(0)),
            (false, ms(80)),
            (true, ms(230)),
            (false, ms(310)),
            (true, ms(2000)),
            (false, ms(2080)),
        ]
    );
    assert_eq!(
        play_exactly(Status::Scanning, 1, 6),
        vec![(true, ms(0))],
        "steady: no deadline"
    );
    assert_eq!(
        play_exactly(Status::Paused, 1, 4),
        vec![
            (true, ms(0)),
            (false, ms(1000)),
            (true, ms(2000)),
            (false, ms(3000))
        ]
    );
    assert_eq!(
        play_exactly(Status::Uploading, 5, 4),
        vec![
            (true, ms(0)),
            (false, ms(25)),
            (true, ms(50)),
            (false, ms(75))
        ]
    );
    let fault: Vec<_> = play_exactly(Status::Fault, 1, 8);
    let times: Vec<_> = fault.iter().map(|&(_, t)| t.as_millis()).collect();
    let levels: Vec<_> = fault.iter().map(|&(l, _)| l).collect();
    assert_eq!(times, [0, 150, 300, 450, 600, 750, 1750, 1900]);
    assert_eq!(levels, [true, false, true, false, true, false, true, false]);
}

#[test]
fn playback_does_not_race_to_catch_up_after_a_late_wake_up() {
    let t0 = Instant::now();
    let mut p = Playback::start(pattern(Status::Uploading), 1, t0);
    let late = t0 + Duration::from_secs(10);
    assert_eq!(p.advance(late), Some(false));
    assert_eq!(p.deadline(), Some(late + FAST_BLINK), "carries on from now");
    assert_eq!(p.advance(late), None);
    // A slightly late wake-up keeps the original schedule.
    let slightly = late + FAST_BLINK + Duration::from_millis(3);
    assert_eq!(p.advance(slightly), Some(true));
    assert_eq!(p.deadline(), Some(late + 2 * FAST_BLINK));
}

#[test]
fn scaling_never_yields_zero_steps() {
    assert_eq!(scaled(FAST_BLINK, 0), FAST_BLINK);
    assert_eq!(scaled(FAST_BLINK, u32::MAX), MIN_STEP);
    assert_eq!(scaled(Duration::MAX, 2), Duration::MAX / 2);
    let off = Playback::off();
    assert!(!off.lit());
    assert_eq!(off.deadline(), None);
}

const SPEEDUP: u32 = 4;

/// Shows `status` on a fresh player and returns the light's edges after
/// `wait`, as (level, offset from the first write after the initial off).
fn record(status: Status, wait: Duration) -> Vec<(bool, Duration)> {
    let led = RecordingPin::default();
    let player = PatternPlayer::with_speedup(led.clone(), None, SPEEDUP).unwrap();
    player.show(status).unwrap();
    std::thread::sleep(wait);
    drop(player);
    let edges = led.edges();
    let start = edges[1].1;
    // Leave out the initial and final "off".
    edges[1..edges.len() - 1]
        .iter()
        .map(|&(l, at)| (l, at - start))
        .collect()
}

#[test]
fn the_player_plays_each_status_on_the_pin_with_its_timing() {
    let threads: Vec<_> = ALL
        .iter()
        .map(|&status| {
            std::thread::spawn(move || (status, record(status, Duration::from_millis(700))))
        })
        .collect();
    for thread in threads {
        let (status, seen) = thread.join().unwrap();
        let expected = play_exactly(status, SPEEDUP, 64);
        assert!(!seen.is_empty(), "{status}: nothing shown");
        // In 700 ms at 4x, every blinking pattern gets through a cycle.
        let cycle = pattern(status).len();
        if cycle > 1 {
            assert!(seen.len() > cycle, "{status}: only {} edges", seen.len());
        } else {
            assert_eq!(seen.len(), 1, "{status}: steady");
        }
        for (k, (&(lit, at), &(want_lit, want_at))) in seen.iter().zip(&expected).enumerate() {
            assert_eq!(lit, want_lit, "{status}: edge {k}");
            // Never early; late only by scheduling (generous: shared CI).
            assert!(
                at + Duration::from_millis(1) >= want_at,
                "{status}: edge {k} early: {at:?} < {want_at:?}"
            );
            assert!(
                at <= want_at + Duration::from_millis(150),
                "{status}: edge {k} late: {at:?} vs {want_at:?}"
            );
        }
    }
}

#[test]
fn switching_status_switches_the_pattern_and_steady_idles() {
    let led = RecordingPin::default();
    let mut player = PatternPlayer::with_speedup(led.clone(), None, SPEEDUP).unwrap();
    player.show(Status::Uploading).unwrap();
    led.wait_for("a few fast blinks", |l| l.len() >= 5);
    Indicator::show(&mut player, Status::Scanning).unwrap();
    // Several fast-blink steps' time: uploading would have written again.
    std::thread::sleep(Duration::from_millis(100));
    let settled = led.levels().len();
    std::thread::sleep(Duration::from_millis(150));
    let levels = led.levels();
    assert_eq!(
        levels.len(),
        settled,
        "a steady light is left alone: {levels:?}"
    );
    assert_eq!(levels.last(), Some(&true), "scanning is solid on");
    player.show(Status::Scanning).unwrap();
    player.show(Status::Paused).unwrap();
    led.wait_for("paused goes dark", |l| {
        l.len() > settled && l.last() == Some(&false)
    });
    // Paused lights, then goes dark; the repeat of scanning wrote nothing.
    let levels = led.levels();
    assert_eq!(&levels[settled..], &[true, false], "{levels:?}");
    let edges = led.edges();
    let on_for = edges[settled + 1].1 - edges[settled].1;
    assert!(
        on_for + Duration::from_millis(1) >= SLOW_BLINK / SPEEDUP,
        "{on_for:?}"
    );
}

#[test]
fn drop_turns_the_light_and_buzzer_off() {
    let led = RecordingPin::default();
    let buzzer = RecordingPin::default();
    let player = PatternPlayer::with_speedup(led.clone(), Some(buzzer.clone()), SPEEDUP).unwrap();
    assert_eq!(led.levels(), [false], "off from the start");
    player.show(Status::Scanning).unwrap();
    led.wait_for("on", |l| l == [false, true]);
    player.show(Status::Fault).unwrap();
    buzzer.wait_for("beeping", |l| l.starts_with(&[false, true]));
    drop(player);
    assert_eq!(led.levels().last(), Some(&false));
    assert_eq!(buzzer.levels().last(), Some(&false));
}

#[test]
fn fault_beeps_once_per_entry() {
    let led = RecordingPin::default();
    let buzzer = RecordingPin::default();
    let player = PatternPlayer::with_speedup(led, Some(buzzer.clone()), SPEEDUP).unwrap();
    player.show(Status::Fault).unwrap();
    buzzer.wait_for("one beep", |l| l == [false, true, false]);
    let beep = buzzer.edges();
    assert!(beep[2].1 - beep[1].1 >= FAULT_BEEP / SPEEDUP);
    player.show(Status::Fault).unwrap();
    std::thread::sleep(FAULT_BEEP / SPEEDUP * 2);
    assert_eq!(
        buzzer.levels(),
        [false, true, false],
        "a repeat is not a new fault"
    );
    player.show(Status::Idle).unwrap();
    player.show(Status::Fault).unwrap();
    buzzer.wait_for("a second beep", |l| l == [false, true, false, true, false]);
}

#[test]
fn pin_failures_are_reported_not_panicked_on() {
    let err = PatternPlayer::new(BrokenPin::new(0), None).unwrap_err();
    assert!(
        err.to_string().contains("status light's pin failed"),
        "{err}"
    );
    let err = PatternPlayer::new(BrokenPin::new(1), Some(BrokenPin::new(0))).unwrap_err();
    assert!(err.to_string().contains("buzzer's pin failed"), "{err}");

    // Off, then lit for scanning, then broken: a later show says so, once.
    let (tx, failures) = mpsc::channel();
    let pin = BrokenPin {
        works: 2,
        failed: Some(tx),
    };
    // Sped up so that paused's steps (all failing) come every millisecond.
    let player = PatternPlayer::with_speedup(pin, None, 1_000_000).unwrap();
    player.show(Status::Scanning).unwrap();
    player.show(Status::Paused).unwrap();
    // The second failure means the first has been kept.
    for _ in 0..2 {
        failures.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    let err = player.show(Status::Paused).unwrap_err();
    assert!(
        err.to_string().contains("status light's pin failed"),
        "{err}"
    );
}
