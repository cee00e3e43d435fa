//! The real axis driver: a stepper motor behind a STEP/DIR/ENABLE driver chip (A4988, DRV8825, TMC2209), stepped in software along trapezoidal ramps.
//!
//! [`StepperAxis`] is generic over embedded-hal 1.0 pins and a [`Clock`]. On a
//! Pi the pins are rppal's `gpio::OutputPin`/`InputPin` (rppal feature
//! `hal`) and the clock is [`SystemClock`]; tests use the recording pins of
//! [`bench`](mod@bench) and a [`VirtualClock`] (a [`LockstepClock`] for
//! several axes moving at once).
//!
//! Positions are whole microsteps from home; a target angle maps to
//! `round(angle · steps_per_degree)` from 0, so repeated moves never drift.
//! Every call blocks until the motor stands still and busy-waits near each
//! edge: run it on a thread of its own, never on an async executor.

pub mod bench;
mod clock;
mod config;
#[cfg(feature = "rppal")]
pub mod gpio;
mod homing;
mod ramp;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

pub use clock::{Clock, LockstepClock, SystemClock, VirtualClock, SPIN_WINDOW};
pub use config::{ConfigError, HomingConfig, StepTiming, StepperConfig};

use super::{Axis, AxisError, MoveReport, Result, StopKind, Ticket, Travel};
use crate::Degrees;
use ramp::Ramp;

/// Largest microstep position a target may map to (2^53: beyond it f64 no
/// longer holds every integer).
const MAX_STEPS: f64 = 9_007_199_254_740_992.0;

/// Longest a single move may be planned to take; longer ones are refused
/// (they come from absurd targets, and their times would overflow).
const MAX_MOVE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The end-stop pin type for axes without one: pass `None::<NoEndstop>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEndstop;

impl ErrorType for NoEndstop {
    type Error = Infallible;
}

impl InputPin for NoEndstop {
    fn is_high(&mut self) -> std::result::Result<bool, Infallible> {
        Ok(false)
    }

    fn is_low(&mut self) -> std::result::Result<bool, Infallible> {
        Ok(true)
    }
}

/// How a run of steps ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Every planned step was made and the motor has come to rest.
    Completed,
    /// The stop condition held after a step (homing found what it sought).
    Stopped,
    /// A stop was asked for on the ticket: the motor stands still after
    /// braking (controlled) or at once (emergency).
    Halted(StopKind),
}

/// A stepper motor axis on STEP (`S`), DIR (`D`) and ENABLE (`E`) outputs,
/// an optional end-stop input (`I`), timed by clock `C`.
///
/// Dropping it releases the motor. After any error during homing or a move
/// the motor is released and the axis counts as unhomed.
pub struct StepperAxis<S, D, E, I, C>
where
    S: OutputPin,
    D: OutputPin,
    E: OutputPin,
    I: InputPin,
    C: Clock,
{
    config: StepperConfig,
    steps_per_degree: f64,
    step: S,
    dir: D,
    enable: E,
    endstop: Option<I>,
    clock: C,
    /// Microsteps from home (meaningless until homed).
    steps: i64,
    homed: bool,
    energised: bool,
    /// The direction DIR is known to be set for.
    direction: Option<i8>,
    /// Direction of the last step made; backlash take-up depends on it.
    last_step_dir: i8,
    /// Earliest time the next STEP rising edge may come (pulse low time,
    /// DIR setup, ENABLE setup).
    ready_at: Instant,
    /// The last STEP rising edge, for DIR hold time.
    last_rise: Instant,
}

fn pin_error(axis: &'static str, pin: &str, error: impl std::fmt::Debug) -> AxisError {
    AxisError::Driver {
        axis,
        reason: format!("{pin} pin failed: {error:?}"),
    }
}

/// `t + secs`, or `t` when `secs` is negative or not representable.
fn later(t: Instant, secs: f64) -> Instant {
    Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| t.checked_add(d))
        .unwrap_or(t)
}

impl<S, D, E, I, C> StepperAxis<S, D, E, I, C>
where
    S: OutputPin,
    D: OutputPin,
    E: OutputPin,
    I: InputPin,
    C: Clock,
{
    /// An unhomed, released axis. Checks the config ([`StepperConfig::check`]);
    /// an axis with homing configured needs an end-stop pin. Drives STEP low
    /// and ENABLE to its released level.
    pub fn new(
        config: StepperConfig,
        step: S,
        dir: D,
        enable: E,
        endstop: Option<I>,
        clock: C,
    ) -> Result<Self> {
        let axis = config.name;
        config.check().map_err(|e| AxisError::Driver {
            axis,
            reason: format!("invalid config: {} {}", e.field, e.problem),
        })?;
        if config.homing.is_some() && endstop.is_none() {
            return Err(AxisError::Driver {
                axis,
                reason: "homing is configured but no end-stop pin was given".into(),
            });
        }
        let now = clock.now();
        let mut stepper = StepperAxis {
            steps_per_degree: config.steps_per_degree(),
            config,
            step,
            dir,
            enable,
            endstop,
            clock,
            steps: 0,
            homed: false,
            energised: false,
            direction: None,
            last_step_dir: 1,
            ready_at: now,
            last_rise: now,
        };
        stepper
            .step
            .set_low()
            .map_err(|e| pin_error(axis, "STEP", e))?;
        stepper.write_enable(false)?;
        Ok(stepper)
    }

    /// The config the axis runs with.
    pub fn config(&self) -> &StepperConfig {
        &self.config
    }

    /// The position in microsteps from home, or `None` until homed.
    pub fn steps(&self) -> Option<i64> {
        self.homed.then_some(self.steps)
    }

    /// Whether ENABLE is asserted.
    pub fn is_energised(&self) -> bool {
        self.energised
    }

    fn degrees(&self, steps: i64) -> Degrees {
        Degrees(steps as f64 / self.steps_per_degree)
    }

    fn write_enable(&mut self, on: bool) -> Result<()> {
        let high = on != self.config.enable_active_low;
        let written = if high {
            self.enable.set_high()
        } else {
            self.enable.set_low()
        };
        written.map_err(|e| pin_error(self.config.name, "ENABLE", e))?;
        if on && !self.energised {
            let settled = self.clock.now() + self.config.timing.enable_setup;
            self.ready_at = self.ready_at.max(settled);
        }
        self.energised = on;
        Ok(())
    }

    /// Sets DIR for `dir` (−1/+1), keeping it stable `dir_setup` after the
    /// last STEP edge and before the next one.
    fn set_direction(&mut self, dir: i8) -> Result<()> {
        if self.direction == Some(dir) {
            return Ok(());
        }
        let setup = self.config.timing.dir_setup;
        self.clock.wait_until(self.last_rise + setup);
        self.direction = None;
        let written = if (dir > 0) != self.config.invert_direction {
            self.dir.set_high()
        } else {
            self.dir.set_low()
        };
        written.map_err(|e| pin_error(self.config.name, "DIR", e))?;
        self.direction = Some(dir);
        self.ready_at = self.ready_at.max(self.clock.now() + setup);
        Ok(())
    }

    /// One STEP pulse, rising no earlier than `due` nor before the pins are
    /// ready; returns the time of the rising edge.
    fn pulse(&mut self, due: Instant) -> Result<Instant> {
        let axis = self.config.name;
        let min_pulse = self.config.timing.min_pulse;
        self.clock.wait_until(due.max(self.ready_at));
        self.step
            .set_high()
            .map_err(|e| pin_error(axis, "STEP", e))?;
        let rise = self.clock.now();
        self.last_rise = rise;
        self.clock.wait_until(rise + min_pulse);
        self.step
            .set_low()
            .map_err(|e| pin_error(axis, "STEP", e))?;
        self.ready_at = self.clock.now() + min_pulse;
        Ok(rise)
    }

    /// Steps in `dir` along `ramp`, asking `stop` after every step whether to
    /// stop dead there (homing), and `ticket` whether a stop was asked for:
    /// an emergency stop ends stepping after the step just made; a
    /// controlled one brakes at the ramp's deceleration.
    ///
    /// A late edge (the thread was preempted, or a setup time held it back)
    /// shifts the rest of the plan by its lateness, so it delays the move
    /// instead of being followed by a burst faster than the ramp allows.
    fn run(
        &mut self,
        dir: i8,
        ramp: &Ramp,
        ticket: &Ticket,
        mut stop: impl FnMut(&mut Self) -> Result<bool>,
    ) -> Result<Run> {
        self.set_direction(dir)?;
        let mut origin = self.clock.now();
        let mut halted = None;
        for k in 1..=ramp.steps() {
            let due = later(origin, ramp.step_time(k));
            // Asked when the step is due, before it is made: a stop pressed
            // since the last step gets no further edge (emergency), or
            // brakes from the last step as if pressed right after it.
            self.clock.wait_until(due.max(self.ready_at));
            match (halted, ticket.stop()) {
                (_, Some(StopKind::Emergency)) => return Ok(Run::Halted(StopKind::Emergency)),
                (None, Some(StopKind::Controlled)) => {
                    halted = Some(StopKind::Controlled);
                    let last = k - 1;
                    if last == 0 {
                        return Ok(Run::Halted(StopKind::Controlled));
                    }
                    if let Some(braking) = ramp.braking(last) {
                        let began = later(origin, ramp.step_time(last));
                        self.brake(dir, &braking, began, ticket)?;
                        return Ok(Run::Halted(StopKind::Controlled));
                    }
                    // The plan itself comes to rest sooner: follow it.
                }
                _ => {}
            }
            let rise = self.pulse(due)?;
            origin += rise.saturating_duration_since(due);
            self.step_made(dir);
            if stop(self)? {
                return Ok(Run::Stopped);
            }
        }
        self.clock.wait_until(later(origin, ramp.total_time()));
        Ok(halted.map_or(Run::Completed, Run::Halted))
    }

    /// Counts a step made in `dir`.
    fn step_made(&mut self, dir: i8) {
        self.steps += i64::from(dir);
        self.last_step_dir = dir;
    }

    /// The steps of `braking`, timed from `began`; an emergency stop asked
    /// for meanwhile still ends stepping at once.
    fn brake(
        &mut self,
        dir: i8,
        braking: &ramp::Braking,
        began: Instant,
        ticket: &Ticket,
    ) -> Result<()> {
        let mut origin = began;
        for i in 1..=braking.steps() {
            let due = later(origin, braking.step_time(i));
            self.clock.wait_until(due.max(self.ready_at));
            if ticket.stop() == Some(StopKind::Emergency) {
                return Ok(());
            }
            let rise = self.pulse(due)?;
            origin += rise.saturating_duration_since(due);
            self.step_made(dir);
        }
        self.clock.wait_until(later(origin, braking.total_time()));
        Ok(())
    }

    /// The ramp for a move of `distance` microsteps at up to `speed` (°/s).
    fn ramp(&self, distance: u64, speed: f64) -> Ramp {
        let spd = self.steps_per_degree;
        Ramp::new(distance, speed * spd, self.config.limits.acceleration * spd)
    }

    /// Moves to microstep `to` at up to `speed` (°/s), unless stopped.
    fn travel(&mut self, to: i64, speed: f64, ticket: &Ticket) -> Result<Run> {
        let ramp = self.ramp(to.abs_diff(self.steps), speed);
        let dir = if to > self.steps { 1 } else { -1 };
        self.run(dir, &ramp, ticket, |_| Ok(false))
    }

    fn backlash_steps(&self) -> i64 {
        let b = self.config.backlash.map_or(0.0, Degrees::get);
        (b * self.steps_per_degree).round() as i64
    }

    /// Where a move to `target` ends, in microsteps, if it is a move the axis
    /// can make.
    fn target_steps(&self, target: Degrees) -> Result<i64> {
        let axis = self.config.name;
        let raw = target.get() * self.steps_per_degree;
        if !(raw.is_finite() && raw.abs() <= MAX_STEPS) {
            let reason = format!(
                "target {} is not an angle this axis can reach",
                target.get()
            );
            return Err(AxisError::Driver { axis, reason });
        }
        let to = raw.round() as i64;
        let speed = self.config.limits.max_speed;
        let backlash = self.backlash_steps().unsigned_abs();
        let longest = self
            .ramp(to.abs_diff(self.steps) + backlash, speed)
            .total_time()
            + self.ramp(backlash, speed).total_time();
        if longest.is_nan() || longest > MAX_MOVE.as_secs_f64() {
            let reason = format!("a move to {target} would take longer than {MAX_MOVE:?}");
            return Err(AxisError::Driver { axis, reason });
        }
        Ok(to)
    }

    /// Moves to `to`, finishing in the positive direction when backlash
    /// take-up is configured; a stop ends it where it is.
    fn approach(&mut self, to: i64, ticket: &Ticket) -> Result<Run> {
        let speed = self.config.limits.max_speed;
        let backlash = self.backlash_steps();
        let from_above = to < self.steps || (to == self.steps && self.last_step_dir < 0);
        if backlash > 0 && from_above {
            if let Run::Halted(kind) = self.travel(to - backlash, speed, ticket)? {
                return Ok(Run::Halted(kind));
            }
        }
        self.travel(to, speed, ticket)
    }

    /// Releases the motor after a failure and forgets the position.
    fn abort(&mut self, error: AxisError, doing: &str) -> AxisError {
        let released = self.write_enable(false);
        self.homed = false;
        match error {
            AxisError::Driver { axis, reason } => {
                let release = match released {
                    Ok(()) => "motor released".to_string(),
                    Err(e) => format!("releasing the motor failed too: {e}"),
                };
                let reason = format!("{reason} (while {doing}; {release}; home the axis again)");
                AxisError::Driver { axis, reason }
            }
            other => other,
        }
    }
}

impl<S, D, E, I, C> Axis for StepperAxis<S, D, E, I, C>
where
    S: OutputPin + Send,
    D: OutputPin + Send,
    E: OutputPin + Send,
    I: InputPin + Send,
    C: Clock + Send,
{
    /// Energises, then finds the end-stop (see [`HomingConfig`]) and backs
    /// off; without homing config the current position becomes 0°.
    fn home(&mut self, ticket: &Ticket) -> Result<()> {
        let homed = self.find_and_set_home(ticket);
        self.clock.rest();
        homed
    }

    /// Energises and calls the microstep the motor stands on 0°.
    fn set_zero_here(&mut self) -> Result<()> {
        if let Err(e) = self.write_enable(true) {
            return Err(self.abort(e, "zeroing"));
        }
        self.steps = 0;
        self.homed = true;
        Ok(())
    }

    fn move_to(&mut self, target: Degrees, ticket: &Ticket) -> Result<MoveReport> {
        let report = self.make_move(target, ticket);
        self.clock.rest();
        report
    }

    fn check(&self, target: Degrees) -> Result<()> {
        self.config.travel.check(self.config.name, target)
    }

    fn travel(&self) -> Travel {
        self.config.travel
    }

    /// The angle of the microstep the motor stands on: the last target,
    /// rounded to the nearest microstep.
    fn position(&self) -> Option<Degrees> {
        self.homed.then(|| self.degrees(self.steps))
    }

    /// Releasing keeps the position: the driver keeps its microstep counter,
    /// though a released motor can be turned by hand.
    fn set_energised(&mut self, on: bool) -> Result<()> {
        self.write_enable(on)
    }
}

impl<S, D, E, I, C> StepperAxis<S, D, E, I, C>
where
    S: OutputPin,
    D: OutputPin,
    E: OutputPin,
    I: InputPin,
    C: Clock,
{
    /// [`Axis::home`], short of telling the clock it rests.
    fn find_and_set_home(&mut self, ticket: &Ticket) -> Result<()> {
        self.homed = false;
        if let Some(h) = &self.config.homing {
            // Where homing leaves the axis is a target too: within the limits.
            self.config.travel.check(self.config.name, h.position)?;
        }
        let found = match self.config.homing {
            None => self.write_enable(true),
            Some(h) => self
                .write_enable(true)
                .and_then(|()| self.find_home(&h, ticket)),
        };
        if let Err(e) = found {
            return Err(self.abort(e, "homing"));
        }
        let position = self.config.homing.map_or(0.0, |h| h.position.get());
        self.steps = (position * self.steps_per_degree).round() as i64;
        self.homed = true;
        Ok(())
    }

    /// [`Axis::move_to`], short of telling the clock it rests.
    fn make_move(&mut self, target: Degrees, ticket: &Ticket) -> Result<MoveReport> {
        let started = self.clock.now();
        if !self.homed {
            return Err(AxisError::NotHomed {
                axis: self.config.name,
            });
        }
        self.config.travel.check(self.config.name, target)?;
        let to = self.target_steps(target)?;
        let from = self.degrees(self.steps);
        let run = match self
            .write_enable(true)
            .and_then(|()| self.approach(to, ticket))
        {
            Ok(run) => run,
            Err(e) => return Err(self.abort(e, &format!("moving to {target}"))),
        };
        let stopped = match run {
            Run::Halted(kind) => Some(kind),
            Run::Completed | Run::Stopped => None,
        };
        if stopped == Some(StopKind::Emergency) {
            // Released at once; the counted steps no longer bind the rotor.
            self.homed = false;
            self.write_enable(false)?;
        }
        Ok(MoveReport {
            from,
            to: self.degrees(self.steps),
            duration: self.clock.now().saturating_duration_since(started),
            stopped,
        })
    }
}

impl<S, D, E, I, C> Drop for StepperAxis<S, D, E, I, C>
where
    S: OutputPin,
    D: OutputPin,
    E: OutputPin,
    I: InputPin,
    C: Clock,
{
    fn drop(&mut self) {
        let _ = self.write_enable(false);
    }
}

#[cfg(test)]
mod tests;
