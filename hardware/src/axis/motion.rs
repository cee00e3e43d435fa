//! Trapezoidal motion: how long a move of a given length takes under a speed
//! and acceleration limit.

use std::time::Duration;

use crate::Degrees;

/// Speed and acceleration limits of an axis, in output degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionLimits {
    /// Cruise speed, degrees per second (> 0).
    pub max_speed: f64,
    /// Acceleration and deceleration, degrees per second squared (> 0).
    pub acceleration: f64,
}

impl MotionLimits {
    /// Time for a move of `distance` that starts and ends at rest: a
    /// trapezoid (accelerate, cruise, decelerate) or, for short moves that
    /// never reach cruise speed, a triangle.
    pub fn move_duration(&self, distance: Degrees) -> Duration {
        let d = distance.get().abs();
        if d == 0.0 {
            return Duration::ZERO;
        }
        let (v, a) = (self.max_speed, self.acceleration);
        let ramp_distance = v * v / a; // accelerate to v and back to rest
        let secs = if d >= ramp_distance {
            2.0 * v / a + (d - ramp_distance) / v
        } else {
            2.0 * (d / a).sqrt()
        };
        Duration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MotionLimits = MotionLimits {
        max_speed: 90.0,
        acceleration: 360.0,
    };

    #[test]
    fn zero_distance_takes_no_time() {
        assert_eq!(LIMITS.move_duration(Degrees(0.0)), Duration::ZERO);
    }

    #[test]
    fn long_move_is_a_trapezoid() {
        // 0.25 s up, 0.25 s down covering 22.5°, then 157.5° at 90°/s = 1.75 s.
        let t = LIMITS.move_duration(Degrees(180.0)).as_secs_f64();
        assert!((t - 2.25).abs() < 1e-9, "{t}");
    }

    #[test]
    fn short_move_is_a_triangle_and_direction_does_not_matter() {
        // 10° < 22.5°: t = 2 * sqrt(10 / 360).
        let t = LIMITS.move_duration(Degrees(-10.0)).as_secs_f64();
        assert!((t - 2.0 * (10.0f64 / 360.0).sqrt()).abs() < 1e-9, "{t}");
    }

    #[test]
    fn longer_moves_take_longer() {
        let mut last = Duration::ZERO;
        for d in [1.0, 5.0, 10.0, 22.5, 45.0, 90.0, 360.0] {
            let t = LIMITS.move_duration(Degrees(d));
            assert!(t > last, "{d}° took {t:?}, not more than {last:?}");
            last = t;
        }
    }
}
