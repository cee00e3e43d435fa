//! Time for the step generator: the real clock, which waits to the microsecond, and virtual ones for tests.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// A monotonic clock that the step generator reads and waits on.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;

    /// Returns at `deadline` (or at once when it has passed).
    fn wait_until(&self, deadline: Instant);

    /// Says that the step generator on this thread waits no more for now
    /// (its move or homing is over): a clock that several generators share
    /// ([`LockstepClock`]) moves on without it. The real clock ignores it.
    fn rest(&self) {}
}

/// How close to a deadline [`SystemClock`] stops sleeping and starts spinning.
///
/// Step pulses are a few microseconds wide and a few hundred microseconds
/// apart, but a Linux sleep wakes up late by the timer slack (50 µs by
/// default) plus the scheduler's latency. Sleeping until this much before the
/// deadline and busy-waiting the rest keeps the edges on time to within a few
/// microseconds while the CPU still sleeps through most of a slow move.
pub const SPIN_WINDOW: Duration = Duration::from_micros(100);

/// The real monotonic clock; waits by sleeping, then spinning for the last
/// [`SPIN_WINDOW`].
///
/// Spinning keeps one core busy for up to that long per step, which is why
/// the stepper driver runs on the turntable actor's own thread and never on an
/// actor event loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wait_until(&self, deadline: Instant) {
        loop {
            let now = Instant::now();
            let Some(left) = deadline.checked_duration_since(now) else {
                return;
            };
            if left.is_zero() {
                return;
            }
            if left > SPIN_WINDOW {
                thread::sleep(left - SPIN_WINDOW);
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// A clock that only moves when waited on: `wait_until` jumps straight to the
/// deadline, so tests of long moves finish at once, with exact edge times.
///
/// Clones share one time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: Instant,
    elapsed_nanos: Arc<AtomicU64>,
}

impl VirtualClock {
    /// A clock standing at its origin.
    pub fn new() -> VirtualClock {
        VirtualClock {
            origin: Instant::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The instant this clock started at.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Time since the origin.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.wait_until(self.now() + by);
    }
}

impl Default for VirtualClock {
    fn default() -> VirtualClock {
        VirtualClock::new()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        self.origin + self.elapsed()
    }

    fn wait_until(&self, deadline: Instant) {
        let target = deadline.saturating_duration_since(self.origin).as_nanos();
        let target = u64::try_from(target).unwrap_or(u64::MAX);
        self.elapsed_nanos.fetch_max(target, Ordering::SeqCst);
    }
}

/// How long [`LockstepClock`] waits, in real time, for the step generators
/// it was told to expect before it moves on with those it has.
const EXPECT_AT_MOST: Duration = Duration::from_secs(2);

/// A virtual clock shared by several step generators, each on a thread of
/// its own (two axes moving together): time moves on only once every
/// thread that is moving waits, and then straight to the earliest of their
/// deadlines, so each generator keeps its own timing on one time line, as
/// on the real clock, and tests of long moves still finish at once.
///
/// A thread counts as moving from its first wait until it calls
/// [`Clock::rest`]. Clones share one time.
#[derive(Debug, Clone)]
pub struct LockstepClock(Arc<Lockstep>);

#[derive(Debug)]
struct Lockstep {
    origin: Instant,
    state: Mutex<Steps>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Steps {
    /// Time since the origin.
    now: Duration,
    /// The threads moving.
    moving: HashSet<ThreadId>,
    /// The deadlines of those waiting.
    waiting: HashMap<ThreadId, Duration>,
    /// Time waits for this many threads to be moving before it moves on.
    expect: usize,
}

impl Steps {
    /// Whether every thread moving waits for a time still to come.
    fn all_waiting(&self) -> bool {
        self.waiting.len() == self.moving.len() && self.waiting.values().all(|d| *d > self.now)
    }

    /// Moves time to the earliest deadline.
    fn advance(&mut self) {
        if let Some(next) = self.waiting.values().min() {
            self.now = self.now.max(*next);
        }
    }
}

impl LockstepClock {
    /// A clock standing at its origin.
    pub fn new() -> LockstepClock {
        LockstepClock(Arc::new(Lockstep {
            origin: Instant::now(),
            state: Mutex::new(Steps::default()),
            wake: Condvar::new(),
        }))
    }

    /// The instant this clock started at.
    pub fn origin(&self) -> Instant {
        self.0.origin
    }

    /// Holds time still until `threads` step generators are moving (or
    /// two seconds of real time have passed, so that code that moves them
    /// one after the other is seen to, rather than hang): for a test that
    /// starts them from threads the clock does not know of yet.
    pub fn expect(&self, threads: usize) {
        self.lock().expect = threads;
    }

    fn lock(&self) -> MutexGuard<'_, Steps> {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for LockstepClock {
    fn default() -> LockstepClock {
        LockstepClock::new()
    }
}

impl Clock for LockstepClock {
    fn now(&self) -> Instant {
        self.0.origin + self.lock().now
    }

    fn wait_until(&self, deadline: Instant) {
        let me = thread::current().id();
        let deadline = deadline.saturating_duration_since(self.0.origin);
        let mut steps = self.lock();
        steps.moving.insert(me);
        steps.waiting.insert(me, deadline);
        let mut expecting_since = None;
        while steps.now < deadline {
            if !steps.all_waiting() {
                steps = self
                    .0
                    .wake
                    .wait(steps)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            if steps.moving.len() < steps.expect {
                let since = *expecting_since.get_or_insert_with(Instant::now);
                let left = EXPECT_AT_MOST.saturating_sub(since.elapsed());
                if !left.is_zero() {
                    steps = self
                        .0
                        .wake
                        .wait_timeout(steps, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    continue;
                }
            }
            steps.expect = 0;
            steps.advance();
            self.0.wake.notify_all();
        }
        steps.waiting.remove(&me);
    }

    fn rest(&self) {
        let mut steps = self.lock();
        steps.moving.remove(&thread::current().id());
        steps.waiting.remove(&thread::current().id());
        self.0.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_jumps_forward_only() {
        let clock = VirtualClock::new();
        let t0 = clock.now();
        clock.wait_until(t0 + Duration::from_millis(5));
        assert_eq!(clock.elapsed(), Duration::from_millis(5));
        clock.wait_until(t0 + Duration::from_millis(1));
        assert_eq!(clock.now() - t0, Duration::from_millis(5));
        clock.clone().advance(Duration::from_micros(3));
        assert_eq!(clock.elapsed(), Duration::from_micros(5_003));
    }

    #[test]
    fn system_clock_waits_at_least_until_the_deadline() {
        let clock = SystemClock;
        for micros in [0u64, 30, 250, 2_000] {
            let deadline = clock.now() + Duration::from_micros(micros);
            clock.wait_until(deadline);
            assert!(Instant::now() >= deadline, "{micros} µs");
        }
    }

    #[test]
    fn a_lockstep_clock_moves_on_when_every_moving_thread_waits() {
        let clock = LockstepClock::new();
        let t0 = clock.origin();
        clock.expect(2);
        let ms = Duration::from_millis;
        // Two threads, each waking every 3 or 5 ms; each sees its own
        // deadlines met exactly, on one time line.
        let run = |every: u64, times: u64| {
            let clock = clock.clone();
            thread::spawn(move || {
                let seen: Vec<Duration> = (1..=times)
                    .map(|k| {
                        clock.wait_until(t0 + ms(every * k));
                        clock.now() - t0
                    })
                    .collect();
                clock.rest();
                seen
            })
        };
        let (three, five) = (run(3, 10), run(5, 3));
        assert_eq!(
            three.join().unwrap(),
            (1..=10).map(|k| ms(3 * k)).collect::<Vec<_>>()
        );
        assert_eq!(five.join().unwrap(), [ms(5), ms(10), ms(15)]);
        assert_eq!(clock.now() - t0, ms(30), "the later thread sets the end");
    }
}
