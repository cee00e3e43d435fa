//! The range checks of the axes: the steppers, the simulated axes, and the
//! soft limits against where homing leaves each axis and its end-stop.

use scanrig_hardware::axis::{AxisError, Travel};
use scanrig_hardware::Degrees;

use super::checker::Checker;
use crate::settings::{
    stepper_rate_limit, Settings, SimAxis, Stepper, TiltBackend, TurntableBackend,
};

impl Checker<'_> {
    /// Checks a simulated axis under `section`.
    pub(super) fn stepper(&mut self, section: &str, st: &Stepper) {
        self.positive(
            &format!("{section}.full_steps_per_rev"),
            st.full_steps_per_rev.into(),
            "step",
        );
        self.positive(
            &format!("{section}.microsteps"),
            st.microsteps.into(),
            "microstep",
        );
        if !(st.gear_ratio > 0.0 && st.gear_ratio.is_finite()) {
            let reason = format!(
                "must be a number above 0 (motor turns per turn of the axis), found {}",
                st.gear_ratio
            );
            self.fail(&format!("{section}.gear_ratio"), reason);
        }
        self.sim_axis(
            section,
            &SimAxis {
                max_speed_dps: st.max_speed_dps,
                accel_dps2: st.accel_dps2,
                home_ms: 0,
                ..SimAxis::default()
            },
        );
        let rate = st.max_speed_dps * st.steps_per_degree();
        let limit = stepper_rate_limit(st.driver);
        if rate.is_finite() && rate > limit {
            let reason = format!(
                "{} degrees per second needs {rate:.0} steps per second, more than the {:?} driver can be stepped at ({limit:.0}); lower it to at most {:.1} or use fewer microsteps",
                st.max_speed_dps,
                st.driver,
                limit / st.steps_per_degree()
            );
            self.fail(&format!("{section}.max_speed_dps"), reason);
        }
        if !(st.backlash_deg >= 0.0 && st.backlash_deg <= 45.0) {
            let reason = format!("must be 0 (off) to 45 degrees, found {}", st.backlash_deg);
            self.fail(&format!("{section}.backlash_deg"), reason);
        }
        if st.home_direction != -1 && st.home_direction != 1 {
            let reason = format!("must be -1 or 1, found {}", st.home_direction);
            self.fail(&format!("{section}.home_direction"), reason);
        }
        if !(st.home_speed_dps > 0.0 && st.home_speed_dps <= st.max_speed_dps) {
            let reason = format!(
                "must be above 0 and at most max_speed_dps ({}), found {}",
                st.max_speed_dps, st.home_speed_dps
            );
            self.fail(&format!("{section}.home_speed_dps"), reason);
        }
        self.positive(
            &format!("{section}.home_timeout_s"),
            st.home_timeout_s,
            "second",
        );
        if let Err(e) = st.config("axis", Travel::default()).check() {
            // Whatever the checks above do not cover, in the driver's words.
            if self.problems.is_empty() {
                self.fail(section, format!("{} {}", e.field, e.problem));
            }
        }
    }

    /// The soft limits: sane, and where homing leaves each axis within
    /// them, and no limit past the axis' end-stop.
    pub(super) fn limits(&mut self, s: &Settings) {
        let t = &s.tilt;
        self.range("tilt.min_deg", t.min_deg, -180.0, 180.0, "degrees");
        self.range("tilt.max_deg", t.max_deg, -180.0, 180.0, "degrees");
        if t.min_deg >= t.max_deg {
            let reason = format!(
                "must be above tilt.min_deg ({}), found {}",
                t.min_deg, t.max_deg
            );
            self.fail("tilt.max_deg", reason);
        }
        if let Some(turns) = s.turntable.max_turns {
            self.range("turntable.max_turns", turns, 0.01, 1000.0, "turns");
        }
        let limits = s.limits();
        let axes = [
            (
                "turntable",
                s.turntable.backend == TurntableBackend::Stepper,
                &s.turntable.stepper,
                limits.turntable,
            ),
            (
                "tilt",
                s.tilt.backend == TiltBackend::Stepper,
                &s.tilt.stepper,
                limits.tilt,
            ),
        ];
        for (name, stepper, st, travel) in axes {
            let endstop = stepper && st.endstop_pin.is_some();
            let home = if endstop { st.home_deg } else { 0.0 };
            if let Err(e) = travel.check(name, Degrees(home)) {
                let key = match (&e, endstop) {
                    (_, true) => format!("{name}.stepper.home_deg"),
                    (AxisError::BeyondLimit { setting, .. }, false) => setting.to_string(),
                    _ => name.to_owned(),
                };
                self.fail(&key, format!("homing leaves the axis at {home}°: {e}"));
            }
            if !endstop {
                continue;
            }
            // The end-stop lies `home_backoff_deg` beyond where homing
            // leaves the axis; a limit past it would drive the arm into it.
            let switch = home + f64::from(st.home_direction) * st.home_backoff_deg;
            let past = match (st.home_direction, travel.min, travel.max) {
                (-1, Some((min, key)), _) if min.get() < switch => Some((key, min)),
                (1, _, Some((max, key))) if max.get() > switch => Some((key, max)),
                _ => None,
            };
            if let Some((key, limit)) = past {
                let reason = format!(
                    "{limit} lies past the {name} end-stop, at {switch}° ({name}.stepper.home_deg {home}° backed off {}° from it); set {key} to {switch} or within, or correct home_deg",
                    st.home_backoff_deg
                );
                self.fail(key, reason);
            }
        }
    }

    pub(super) fn sim_axis(&mut self, section: &str, axis: &SimAxis) {
        let speed = axis.max_speed_dps;
        if !(speed > 0.0 && speed <= 3600.0) {
            let reason =
                format!("must be above 0 and at most 3600 degrees per second, found {speed}");
            self.fail(&format!("{section}.max_speed_dps"), reason);
        }
        let accel = axis.accel_dps2;
        if !(accel > 0.0 && accel.is_finite()) {
            let reason = format!("must be above 0 degrees per second squared, found {accel}");
            self.fail(&format!("{section}.accel_dps2"), reason);
        }
        let shake = &format!("{section}.shake_mm");
        self.range(shake, axis.shake_mm, 0.0, 50.0, "millimetres");
        let settle = &format!("{section}.shake_ms");
        self.range(settle, axis.shake_ms, 0, 60_000, "milliseconds");
    }
}
