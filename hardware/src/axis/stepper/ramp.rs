//! Trapezoidal step timing: when each microstep of a move falls, in closed form.
//!
//! A move of `n` steps starts and ends at rest. Position follows exact
//! constant-acceleration kinematics: `s = a·t²/2` while accelerating, `s = v·t`
//! while cruising, mirrored while decelerating; short moves that never reach
//! cruise speed are triangles. Step `k` (1-based) fires when the position
//! passes `k − ½`, so the average speed between two steps (one step over their
//! interval) is the true speed halfway between them: it never exceeds the cruise
//! speed, and it changes by exactly the acceleration in the ramps.

/// Which part of the trapezoid a position lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Speeding up from rest.
    Accelerate,
    /// At cruise speed (absent in triangles).
    Cruise,
    /// Slowing to rest.
    Decelerate,
}

/// The timing of one move, in steps and seconds from its start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ramp {
    steps: u64,
    /// Cruise speed, steps/s (> 0).
    speed: f64,
    /// Acceleration, steps/s² (> 0).
    accel: f64,
    /// Steps covered while accelerating (and, mirrored, decelerating).
    ramp_steps: f64,
    /// Time spent accelerating (and decelerating).
    ramp_time: f64,
    total_time: f64,
}

impl Ramp {
    /// The plan for `steps` steps with cruise `speed` (steps/s) and
    /// `accel` (steps/s²), both positive and finite (the config check sees to
    /// that).
    pub(super) fn new(steps: u64, speed: f64, accel: f64) -> Ramp {
        let n = steps as f64;
        let full_ramp = speed * speed / (2.0 * accel);
        let (ramp_steps, ramp_time) = if 2.0 * full_ramp <= n {
            (full_ramp, speed / accel)
        } else {
            (n / 2.0, (n / accel).sqrt())
        };
        let total_time = 2.0 * ramp_time + (n - 2.0 * ramp_steps).max(0.0) / speed;
        Ramp {
            steps,
            speed,
            accel,
            ramp_steps,
            ramp_time,
            total_time,
        }
    }

    /// Steps in the move.
    pub(super) fn steps(&self) -> u64 {
        self.steps
    }

    /// Start to standstill, seconds.
    pub(super) fn total_time(&self) -> f64 {
        self.total_time
    }

    /// The move never reaches cruise speed.
    #[cfg(test)]
    pub(super) fn is_triangle(&self) -> bool {
        self.ramp_time < self.speed / self.accel
    }

    /// Which phase position `s` (steps from the start) lies in.
    pub(super) fn phase(&self, s: f64) -> Phase {
        if s < self.ramp_steps {
            Phase::Accelerate
        } else if s <= self.steps as f64 - self.ramp_steps {
            Phase::Cruise
        } else {
            Phase::Decelerate
        }
    }

    /// When the motor passes position `s` (0 ≤ s ≤ steps), seconds from the
    /// start.
    pub(super) fn time_at(&self, s: f64) -> f64 {
        match self.phase(s) {
            Phase::Accelerate => (2.0 * s / self.accel).sqrt(),
            Phase::Cruise => self.ramp_time + (s - self.ramp_steps) / self.speed,
            Phase::Decelerate => {
                let left = (self.steps as f64 - s).max(0.0);
                self.total_time - (2.0 * left / self.accel).sqrt()
            }
        }
    }

    /// When step `k` (1-based) fires: as the position passes `k − ½`.
    pub(super) fn step_time(&self, k: u64) -> f64 {
        self.time_at(k as f64 - 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axis::MotionLimits;
    use crate::Degrees;

    #[test]
    fn total_time_matches_the_motion_limits_formula() {
        let limits = MotionLimits {
            max_speed: 2400.0,
            acceleration: 9600.0,
        };
        for n in [1u64, 2, 7, 100, 599, 600, 601, 10_000] {
            let ramp = Ramp::new(n, limits.max_speed, limits.acceleration);
            let expected = limits.move_duration(Degrees(n as f64)).as_secs_f64();
            assert!((ramp.total_time() - expected).abs() < 1e-9, "{n}");
            assert_eq!(ramp.is_triangle(), n < 600, "{n}");
        }
    }

    #[test]
    fn time_is_continuous_and_increasing_across_phases() {
        let ramp = Ramp::new(1000, 2400.0, 9600.0);
        assert_eq!(ramp.phase(10.0), Phase::Accelerate);
        assert_eq!(ramp.phase(500.0), Phase::Cruise);
        assert_eq!(ramp.phase(990.0), Phase::Decelerate);
        let mut last = -1.0;
        for i in 0..=100_000 {
            let t = ramp.time_at(i as f64 / 100.0);
            assert!(t > last, "not increasing at {i}");
            assert!(t - last.max(0.0) < 0.02, "jump at {i}");
            last = t;
        }
        assert!((last - ramp.total_time()).abs() < 1e-12);
    }

    #[test]
    fn empty_move_takes_no_time() {
        let ramp = Ramp::new(0, 10.0, 10.0);
        assert_eq!(ramp.total_time(), 0.0);
        assert_eq!(ramp.steps(), 0);
    }
}
