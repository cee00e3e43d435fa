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

    /// How far a move of `distance` (from rest to rest) has gone `t` into
    /// it, and how fast it goes then: both positive, whatever its direction.
    pub fn progress(&self, distance: Degrees, t: Duration) -> (f64, f64) {
        let d = distance.get().abs();
        let (v, a) = (self.max_speed, self.acceleration);
        let total = self.move_duration(distance).as_secs_f64();
        // Time and top speed of each ramp (shorter in a triangle).
        let ramp = (v / a).min((d / a).sqrt());
        let top = a * ramp;
        let t = t.as_secs_f64();
        if t >= total {
            (d, 0.0)
        } else if t < ramp {
            (a * t * t / 2.0, a * t)
        } else if t <= total - ramp {
            (top * top / (2.0 * a) + top * (t - ramp), top)
        } else {
            let left = total - t;
            (d - a * left * left / 2.0, a * left)
        }
    }

    /// Where a move of `distance` stopped `t` into it comes to rest, braking
    /// at the axis' deceleration: the distance gone (never past the target)
    /// and how long the braking takes.
    pub fn braked(&self, distance: Degrees, t: Duration) -> (f64, Duration) {
        let (gone, speed) = self.progress(distance, t);
        let a = self.acceleration;
        let d = distance.get().abs();
        let rest = gone + speed * speed / (2.0 * a);
        if rest >= d {
            let left = self.move_duration(distance).saturating_sub(t);
            return (d, left);
        }
        (rest, Duration::from_secs_f64(speed / a))
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
    fn progress_follows_the_trapezoid_and_braking_stops_short() {
        let d = Degrees(180.0);
        let at = |t: f64| LIMITS.progress(d, Duration::from_secs_f64(t));
        assert_eq!(at(0.0), (0.0, 0.0));
        let (gone, speed) = at(0.125);
        assert!((gone - 2.8125).abs() < 1e-9 && (speed - 45.0).abs() < 1e-9);
        let (gone, speed) = at(1.0);
        assert!((gone - (11.25 + 67.5)).abs() < 1e-9 && speed == 90.0);
        assert_eq!(at(2.25), (180.0, 0.0));
        // Braked at cruise speed: 11.25° more, in 0.25 s.
        let (rest, brake) = LIMITS.braked(d, Duration::from_secs(1));
        assert!((rest - 90.0).abs() < 1e-9, "{rest}");
        assert_eq!(brake, Duration::from_millis(250));
        // Braked while already slowing down: it ends at the target.
        let (rest, brake) = LIMITS.braked(d, Duration::from_secs_f64(2.1));
        assert!((rest - 180.0).abs() < 1e-9 && brake <= Duration::from_millis(150));
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
