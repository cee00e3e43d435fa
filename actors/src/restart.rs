//! Retry timing: exponential backoff and a restart budget (at most N
//! failures within a window, like OTP's intensity and period).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Exponential backoff: `initial`, doubling per attempt, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// Delay before retry number `attempt` (1 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// [`Backoff::delay`] spread over its upper half by `unit` (a random
    /// number in [0, 1)), so that several failing together do not all try
    /// again at the same instant.
    pub fn jittered(&self, attempt: u32, unit: f64) -> Duration {
        let base = self.delay(attempt);
        base / 2 + base.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
    }
}

/// A number in [0, 1), different for every call: enough randomness to
/// spread retries apart (std's per-process hash keys, no extra crate).
pub fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5ca7_1e55);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Counts failures within a sliding window.
#[derive(Debug, Clone)]
pub struct RestartBudget {
    max: u32,
    window: Duration,
    failures: VecDeque<Instant>,
}

impl RestartBudget {
    /// At most `max` failures within `window`.
    pub fn new(max: u32, window: Duration) -> RestartBudget {
        RestartBudget {
            max,
            window,
            failures: VecDeque::new(),
        }
    }

    /// Records a failure at `now`; `false` once more than `max` failures
    /// fall within the window (the budget is spent).
    pub fn record(&mut self, now: Instant) -> bool {
        while let Some(&first) = self.failures.front() {
            if now.duration_since(first) > self.window {
                self.failures.pop_front();
            } else {
                break;
            }
        }
        self.failures.push_back(now);
        self.failures.len() as u32 <= self.max
    }

    /// Failures within the window at the last `record`.
    pub fn count(&self) -> usize {
        self.failures.len()
    }

    /// Forgets every failure (the operator resumed after a fault).
    pub fn reset(&mut self) {
        self.failures.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (1..=6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(200), Duration::from_secs(1));
    }

    #[test]
    fn budget_allows_max_failures_per_window() {
        let t0 = Instant::now();
        let mut budget = RestartBudget::new(3, Duration::from_secs(10));
        assert!(budget.record(t0));
        assert!(budget.record(t0 + Duration::from_secs(1)));
        assert!(budget.record(t0 + Duration::from_secs(2)));
        assert!(!budget.record(t0 + Duration::from_secs(3)), "4th in 10 s");
        // Old failures slide out of the window.
        let mut budget = RestartBudget::new(3, Duration::from_secs(10));
        for s in [0, 4, 8, 12, 16, 20] {
            assert!(budget.record(t0 + Duration::from_secs(s)), "at {s} s");
        }
    }
}
