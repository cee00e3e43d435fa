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

    /// The speed at position `s`, steps/s.
    pub(super) fn speed_at(&self, s: f64) -> f64 {
        match self.phase(s) {
            Phase::Accelerate => (2.0 * self.accel * s).sqrt(),
            Phase::Cruise => self.speed,
            Phase::Decelerate => (2.0 * self.accel * (self.steps as f64 - s).max(0.0)).sqrt(),
        }
    }

    /// How to come to rest as soon as the axis may, from the moment step
    /// `k` fires: `None` when the plan itself ends no later (it is already
    /// slowing down, or nearly done).
    pub(super) fn braking(&self, k: u64) -> Option<Braking> {
        let speed = self.speed_at(k as f64 - 0.5);
        let distance = speed * speed / (2.0 * self.accel);
        let steps = distance.floor() as u64;
        (steps < self.steps.saturating_sub(k)).then_some(Braking {
            steps,
            speed,
            accel: self.accel,
        })
    }
}

/// Slowing to rest at the ramp's deceleration from `speed`: the steps that
/// still fire, timed from the step at which braking began.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Braking {
    steps: u64,
    speed: f64,
    accel: f64,
}

impl Braking {
    /// Steps still made while braking.
    pub(super) fn steps(&self) -> u64 {
        self.steps
    }

    /// When braking step `i` (1-based) fires, seconds after braking began:
    /// as the position passes `i` steps further on.
    pub(super) fn step_time(&self, i: u64) -> f64 {
        let (v, a) = (self.speed, self.accel);
        (v - (v * v - 2.0 * a * i as f64).max(0.0).sqrt()) / a
    }

    /// Until standstill, seconds.
    pub(super) fn total_time(&self) -> f64 {
        self.speed / self.accel
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
    fn braking_from_cruise_takes_the_ramp_and_from_the_last_steps_nothing() {
        let ramp = Ramp::new(10_000, 2400.0, 9600.0);
        let b = ramp.braking(5000).expect("room to brake");
        // 2400²/(2·9600) = 300 steps in 0.25 s, each step later than the last.
        assert_eq!(b.steps(), 300);
        assert!((b.total_time() - 0.25).abs() < 1e-12);
        let times: Vec<f64> = (1..=300).map(|i| b.step_time(i)).collect();
        assert!(times.windows(2).all(|w| w[1] > w[0]));
        assert!(times[299] <= b.total_time());
        assert_eq!(ramp.braking(9_800), None, "already slowing down");
        let ramp = Ramp::new(1000, 2400.0, 9600.0);
        assert!(ramp.braking(10).is_some_and(|b| b.steps() < 10));
    }

    #[test]
    fn empty_move_takes_no_time() {
        let ramp = Ramp::new(0, 10.0, 10.0);
        assert_eq!(ramp.total_time(), 0.0);
        assert_eq!(ramp.steps(), 0);
    }
}
