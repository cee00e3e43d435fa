//! Homing a stepper axis against its end-stop: off the switch if it starts pressed, onto it, then back off to 0°.

use std::time::Instant;

use embedded_hal::digital::{InputPin, OutputPin};

use super::ramp::Ramp;
use super::{pin_error, Clock, HomingConfig, Run, StepperAxis, MAX_STEPS};
use crate::axis::{AxisError, Result, Ticket};

/// One stretch of homing, for the timeout check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seek {
    /// The switch started pressed: move away until it opens.
    LeaveSwitch,
    /// Move towards the switch until it closes.
    FindSwitch,
}

impl<S, D, E, I, C> StepperAxis<S, D, E, I, C>
where
    S: OutputPin,
    D: OutputPin,
    E: OutputPin,
    I: InputPin,
    C: Clock,
{
    /// Whether the end-stop reads pressed.
    pub(super) fn endstop_active(&mut self, active_low: bool) -> Result<bool> {
        let axis = self.config.name;
        let Some(pin) = self.endstop.as_mut() else {
            let reason = "homing is configured but no end-stop pin was given".into();
            return Err(AxisError::Driver { axis, reason });
        };
        let high = pin.is_high().map_err(|e| pin_error(axis, "end-stop", e))?;
        Ok(high != active_low)
    }

    /// One search stretch of homing: step at the homing speed until the
    /// switch reads `want_pressed`, within the timeout counted from `started`.
    fn seek(
        &mut self,
        h: &HomingConfig,
        what: Seek,
        started: Instant,
        ticket: &Ticket,
    ) -> Result<()> {
        let (dir, want_pressed) = match what {
            Seek::LeaveSwitch => (-h.direction, false),
            Seek::FindSwitch => (h.direction, true),
        };
        let spd = self.steps_per_degree;
        let (speed, accel) = (h.speed * spd, self.config.limits.acceleration * spd);
        // More steps than fit in the timeout: the clock check ends the search
        // first, this bound only guarantees it ends.
        let bound = h.timeout.as_secs_f64() * speed + speed * speed / (2.0 * accel) + 2.0;
        let ramp = Ramp::new(bound.ceil().min(MAX_STEPS) as u64, speed, accel);
        let axis = self.config.name;
        let timed_out = |after| AxisError::HomingTimeout { axis, after };
        let run = self.run(dir, &ramp, ticket, |me| {
            let after = me.clock.now().saturating_duration_since(started);
            if after > h.timeout {
                return Err(timed_out(after));
            }
            Ok(me.endstop_active(h.endstop_active_low)? == want_pressed)
        })?;
        match run {
            Run::Stopped => Ok(()),
            Run::Halted(_) => Err(AxisError::Stopped { axis }),
            Run::Completed => Err(timed_out(
                self.clock.now().saturating_duration_since(started),
            )),
        }
    }

    /// Finds the switch, backs off and leaves the motor there (the caller
    /// calls it 0°). The timeout covers both search stretches.
    pub(super) fn find_home(&mut self, h: &HomingConfig, ticket: &Ticket) -> Result<()> {
        let started = self.clock.now();
        if self.endstop_active(h.endstop_active_low)? {
            self.seek(h, Seek::LeaveSwitch, started, ticket)?;
        }
        self.seek(h, Seek::FindSwitch, started, ticket)?;
        self.steps = 0;
        let backoff = (h.backoff.get() * self.steps_per_degree).round() as i64;
        match self.travel(-i64::from(h.direction) * backoff, h.speed, ticket)? {
            Run::Halted(_) => Err(AxisError::Stopped {
                axis: self.config.name,
            }),
            Run::Completed | Run::Stopped => Ok(()),
        }
    }
}
