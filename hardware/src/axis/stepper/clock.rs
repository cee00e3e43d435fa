//! Time for the step generator: the real clock, which waits to the microsecond, and a virtual one for tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A monotonic clock that the step generator reads and waits on.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Instant;

    /// Returns at `deadline` (or at once when it has passed).
    fn wait_until(&self, deadline: Instant);
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
}
