//! What a STEP/DIR/ENABLE stepper axis looks like, and the checks that keep a bad config from ever reaching the pins.

use std::time::Duration;

use crate::axis::{MotionLimits, Travel};
use crate::Degrees;

/// Largest backlash or homing back-off accepted, degrees: a whole turn.
const MAX_TAKE_UP: f64 = 360.0;

/// Signal timing a STEP/DIR driver chip needs, from its datasheet.
///
/// The constants below round the datasheet minimums up; software stepping on
/// a Pi cannot produce edges much closer than a microsecond anyway, so the
/// margin costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTiming {
    /// Shortest time STEP may stay high, and shortest time it may stay low
    /// between two pulses. Together they bound the step rate
    /// ([`StepTiming::max_step_rate`]).
    pub min_pulse: Duration,
    /// How long DIR must be stable before a STEP rising edge (setup) and
    /// after one (hold; datasheets give the same figure for both).
    pub dir_setup: Duration,
    /// How long after ENABLE is asserted the first STEP may follow (outputs
    /// on, charge pump up, or wake-up from sleep when ENABLE drives SLEEP).
    pub enable_setup: Duration,
}

impl StepTiming {
    /// Allegro A4988: STEP high and low ≥ 1 µs, DIR setup and hold ≥ 200 ns;
    /// 1 ms after enabling covers its wake-up from sleep too.
    pub const A4988: StepTiming = StepTiming {
        min_pulse: Duration::from_micros(1),
        dir_setup: Duration::from_nanos(200),
        enable_setup: Duration::from_millis(1),
    };

    /// TI DRV8825: STEP high and low ≥ 1.9 µs, DIR setup and hold ≥ 650 ns;
    /// wake-up from sleep takes up to 1.7 ms, rounded up to 2 ms.
    pub const DRV8825: StepTiming = StepTiming {
        min_pulse: Duration::from_nanos(1_900),
        dir_setup: Duration::from_nanos(650),
        enable_setup: Duration::from_millis(2),
    };

    /// Trinamic TMC2209 in STEP/DIR mode: its datasheet asks for about
    /// 100 ns STEP high/low and 20 ns DIR setup; we use 500 ns and 100 ns,
    /// and give the driver 1 ms after enabling.
    pub const TMC2209: StepTiming = StepTiming {
        min_pulse: Duration::from_nanos(500),
        dir_setup: Duration::from_nanos(100),
        enable_setup: Duration::from_millis(1),
    };

    /// Slow enough for every driver above (2 µs pulses, 1 µs DIR setup,
    /// 2 ms after enabling) and still allows 250 000 steps/s. The default.
    pub const CONSERVATIVE: StepTiming = StepTiming {
        min_pulse: Duration::from_micros(2),
        dir_setup: Duration::from_micros(1),
        enable_setup: Duration::from_millis(2),
    };

    /// The highest step rate (steps per second) these pulse widths allow: one
    /// step needs `min_pulse` high plus `min_pulse` low. Infinite for a zero
    /// pulse width.
    pub fn max_step_rate(&self) -> f64 {
        let period = 2.0 * self.min_pulse.as_secs_f64();
        if period > 0.0 {
            1.0 / period
        } else {
            f64::INFINITY
        }
    }
}

impl Default for StepTiming {
    /// [`StepTiming::CONSERVATIVE`].
    fn default() -> StepTiming {
        StepTiming::CONSERVATIVE
    }
}

/// How an axis finds its end-stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HomingConfig {
    /// The switch reads low when pressed (the usual wiring: switch to ground,
    /// pull-up on the pin).
    pub endstop_active_low: bool,
    /// Which way the end-stop lies: −1 (towards negative angles) or +1.
    pub direction: i8,
    /// Search speed, output degrees per second (> 0, ≤ `limits.max_speed`).
    /// The search stops dead when the switch closes, so keep it slow.
    pub speed: f64,
    /// How far to back off the switch once found (≥ 0).
    pub backoff: Degrees,
    /// The angle the axis stands at once backed off (0° for a turntable;
    /// a tilt arm whose switch is at its lowest point might say -88°).
    pub position: Degrees,
    /// Longest the search for the switch (including moving off it when it
    /// starts pressed) may take.
    pub timeout: Duration,
}

/// Everything a STEP/DIR/ENABLE stepper axis needs to know about its
/// mechanics and driver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepperConfig {
    /// Which axis ("turntable", "tilt"); used in errors.
    pub name: &'static str,
    /// Full steps per motor revolution (200 for a 1.8° motor).
    pub full_steps_per_rev: u32,
    /// Microsteps per full step, as set on the driver's MS pins (1, 2, … 256).
    pub microsteps: u32,
    /// Motor revolutions per output revolution (1 for direct drive, 3 for a
    /// 20-tooth pulley driving a 60-tooth one).
    pub gear_ratio: f64,
    /// Speed and acceleration limits, in output degrees.
    pub limits: MotionLimits,
    /// Swap which DIR level turns the output towards positive angles.
    pub invert_direction: bool,
    /// ENABLE is active low (A4988, DRV8825, TMC2209 all are).
    pub enable_active_low: bool,
    /// Gear or belt backlash to take up: when set, every target is approached
    /// moving in the positive direction, overshooting by this much first when
    /// coming from above.
    pub backlash: Option<Degrees>,
    /// End-stop homing; `None` makes the position at homing time 0°.
    pub homing: Option<HomingConfig>,
    /// The soft limits every move (and the homing back-off) keeps to.
    pub travel: Travel,
    /// The driver chip's signal timing.
    pub timing: StepTiming,
}

/// A config field with a value the driver cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{axis} stepper: {field} {problem}")]
pub struct ConfigError {
    /// Which axis.
    pub axis: &'static str,
    /// The offending field, as spelled in [`StepperConfig`] ("microsteps",
    /// "limits.max_speed", "homing.timeout", …).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl StepperConfig {
    /// Microsteps per output degree.
    pub fn steps_per_degree(&self) -> f64 {
        f64::from(self.full_steps_per_rev) * f64::from(self.microsteps) * self.gear_ratio / 360.0
    }

    /// Checks every field; the first bad one is named in the error. Pure, so
    /// config loading can call it long before any pin is opened.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |field: &'static str, problem: String| ConfigError {
            axis: self.name,
            field,
            problem,
        };
        if self.full_steps_per_rev == 0 {
            return Err(bad("full_steps_per_rev", "must be at least 1".into()));
        }
        if self.microsteps == 0 {
            return Err(bad("microsteps", "must be at least 1".into()));
        }
        if !(self.gear_ratio.is_finite() && self.gear_ratio > 0.0) {
            let problem = format!("must be a positive number, not {}", self.gear_ratio);
            return Err(bad("gear_ratio", problem));
        }
        let MotionLimits {
            max_speed,
            acceleration,
        } = self.limits;
        if !(max_speed.is_finite() && max_speed > 0.0) {
            let problem = format!("must be a positive number of °/s, not {max_speed}");
            return Err(bad("limits.max_speed", problem));
        }
        if !(acceleration.is_finite() && acceleration > 0.0) {
            let problem = format!("must be a positive number of °/s², not {acceleration}");
            return Err(bad("limits.acceleration", problem));
        }
        let spd = self.steps_per_degree();
        if !(max_speed * spd).is_normal() {
            let problem = format!("{max_speed} °/s is too slow to step at");
            return Err(bad("limits.max_speed", problem));
        }
        if !(acceleration * spd).is_normal() {
            let problem = format!("{acceleration} °/s² is too small to step with");
            return Err(bad("limits.acceleration", problem));
        }
        let max_rate = self.timing.max_step_rate();
        let rate = max_speed * spd;
        if rate > max_rate {
            let problem = format!(
                "{max_speed} °/s needs {rate:.0} steps/s, but timing.min_pulse {:?} allows at most {max_rate:.0} steps/s",
                self.timing.min_pulse
            );
            return Err(bad("limits.max_speed", problem));
        }
        if let Some(b) = self.backlash {
            if !(0.0..=MAX_TAKE_UP).contains(&b.get()) {
                let problem = format!("must be between 0° and {MAX_TAKE_UP}°, not {}", b.get());
                return Err(bad("backlash", problem));
            }
        }
        if let Some(h) = &self.homing {
            if h.direction != 1 && h.direction != -1 {
                let problem = format!("must be -1 or +1, not {}", h.direction);
                return Err(bad("homing.direction", problem));
            }
            if !((h.speed * spd).is_normal() && h.speed > 0.0 && h.speed <= max_speed) {
                let problem = format!(
                    "must be a positive number of °/s no faster than limits.max_speed ({max_speed}), not {}",
                    h.speed
                );
                return Err(bad("homing.speed", problem));
            }
            if !(0.0..=MAX_TAKE_UP).contains(&h.backoff.get()) {
                let problem = format!(
                    "must be between 0° and {MAX_TAKE_UP}°, not {}",
                    h.backoff.get()
                );
                return Err(bad("homing.backoff", problem));
            }
            if !h.position.get().is_finite() {
                let problem = format!("must be a finite angle, not {}", h.position.get());
                return Err(bad("homing.position", problem));
            }
            if h.timeout.is_zero() {
                return Err(bad("homing.timeout", "must be longer than zero".into()));
            }
        }
        Ok(())
    }
}
