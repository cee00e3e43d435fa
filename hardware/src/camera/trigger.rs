//! A camera fired by a wire: the shutter line (and an optional focus line)
//! of its remote socket, each driven from a GPIO output through an
//! opto-coupler, pressed as a hand presses a cable release: focus held
//! first, then the shutter, for a short pulse or for a bulb exposure's
//! whole length. The photos stay on the camera's card.
//!
//! [`Trigger`] is generic over embedded-hal output pins and a [`Clock`]: on
//! a Pi the pins are rppal's, the clock the system's; tests use the
//! recording pins and the virtual clock of the stepper's bench. A press
//! blocks for its whole length: run it on a thread of its own.

use std::time::{Duration, Instant};

use embedded_hal::digital::OutputPin;

use crate::axis::stepper::Clock;

/// How the lines are pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerTiming {
    /// How long the focus line (a half-press) is held before the shutter
    /// is pressed, for the camera to focus and meter; ignored without a
    /// focus line.
    pub focus: Duration,
    /// How long the shutter line is held for an exposure the camera times
    /// itself (most cameras need 50–200 ms to see a press).
    pub pulse: Duration,
}

/// How long the shutter line is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// For [`TriggerTiming::pulse`]: the camera times the exposure.
    Pulse,
    /// For the whole exposure: the camera in bulb mode exposes while the
    /// line is held.
    Bulb(Duration),
}

/// A line that could not be driven.
#[derive(Debug, thiserror::Error)]
#[error("could not drive the camera's {line} line: {reason}; check its GPIO pin")]
pub struct TriggerError {
    /// `shutter` or `focus`.
    pub line: &'static str,
    /// The pin's own words.
    pub reason: String,
}

/// A camera's remote socket on output pins `P`, timed by clock `C`. Both
/// lines stand released (low: the opto-couplers off) between presses, and
/// are released when it is dropped.
pub struct Trigger<P: OutputPin, C: Clock> {
    shutter: P,
    focus: Option<P>,
    timing: TriggerTiming,
    clock: C,
}

impl<P: OutputPin, C: Clock> Trigger<P, C> {
    /// The socket with its `shutter` line and, if wired, its `focus` line;
    /// both are released first.
    pub fn new(
        shutter: P,
        focus: Option<P>,
        timing: TriggerTiming,
        clock: C,
    ) -> Result<Self, TriggerError> {
        let mut trigger = Trigger {
            shutter,
            focus,
            timing,
            clock,
        };
        trigger.release()?;
        Ok(trigger)
    }

    /// Presses the release: the focus line, held [`TriggerTiming::focus`];
    /// then the shutter, held as `hold` says; then both released, the
    /// shutter first. Returns when the shutter line was pressed. On an
    /// error both lines are released.
    pub fn fire(&mut self, hold: Hold) -> Result<Instant, TriggerError> {
        let pressed = self.press(hold);
        let released = self.release();
        let pressed = pressed?;
        released?;
        Ok(pressed)
    }

    fn press(&mut self, hold: Hold) -> Result<Instant, TriggerError> {
        if let Some(focus) = &mut self.focus {
            focus.set_high().map_err(|e| fault("focus", e))?;
            let focused = self.clock.now() + self.timing.focus;
            self.clock.wait_until(focused);
        }
        self.shutter.set_high().map_err(|e| fault("shutter", e))?;
        let pressed = self.clock.now();
        let held = match hold {
            Hold::Pulse => self.timing.pulse,
            Hold::Bulb(exposure) => exposure,
        };
        self.clock.wait_until(pressed + held);
        Ok(pressed)
    }

    /// Both lines released, the shutter first; the first error, if any.
    fn release(&mut self) -> Result<(), TriggerError> {
        let shutter = self.shutter.set_low().map_err(|e| fault("shutter", e));
        let focus = match &mut self.focus {
            Some(focus) => focus.set_low().map_err(|e| fault("focus", e)),
            None => Ok(()),
        };
        shutter.and(focus)
    }
}

impl<P: OutputPin, C: Clock> Drop for Trigger<P, C> {
    fn drop(&mut self) {
        // Nothing to tell anyone: a line that cannot be driven now could
        // not be driven at the last press either, which said so.
        let _ = self.release();
    }
}

fn fault(line: &'static str, e: impl std::fmt::Debug) -> TriggerError {
    TriggerError {
        line,
        reason: format!("{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axis::stepper::bench::RecordingPin;
    use crate::axis::stepper::VirtualClock;

    type Pin = RecordingPin<VirtualClock>;

    const TIMING: TriggerTiming = TriggerTiming {
        focus: Duration::from_millis(400),
        pulse: Duration::from_millis(150),
    };

    fn wired(focus: bool) -> (Trigger<Pin, VirtualClock>, Pin, Pin, VirtualClock) {
        let clock = VirtualClock::new();
        let (shutter, half) = (Pin::new(clock.clone()), Pin::new(clock.clone()));
        let trigger = Trigger::new(
            shutter.clone(),
            focus.then(|| half.clone()),
            TIMING,
            clock.clone(),
        )
        .unwrap();
        (trigger, shutter, half, clock)
    }

    #[test]
    fn focus_is_held_first_then_the_shutter_for_its_pulse_then_both_released() {
        let (mut trigger, shutter, focus, clock) = wired(true);
        let start = clock.now();
        let pressed = trigger.fire(Hold::Pulse).unwrap();
        let f = focus.presses();
        let s = shutter.presses();
        assert_eq!((f.len(), s.len()), (1, 1), "one press of each line");
        assert_eq!(f[0].0, start, "focus first");
        assert_eq!(
            s[0].0,
            start + TIMING.focus,
            "the shutter after the focus time"
        );
        assert_eq!(pressed, s[0].0, "the trigger time is the shutter's press");
        assert_eq!(s[0].1 - s[0].0, TIMING.pulse, "the pulse's width");
        assert!(f[0].1 >= s[0].1, "focus held until the shutter is released");
        assert!(!shutter.is_high() && !focus.is_high(), "both released");
    }

    #[test]
    fn a_bulb_exposure_holds_the_shutter_for_its_length() {
        let (mut trigger, shutter, focus, _) = wired(false);
        trigger.fire(Hold::Bulb(Duration::from_secs(4))).unwrap();
        let s = shutter.presses();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].1 - s[0].0, Duration::from_secs(4));
        assert!(focus.events().is_empty(), "no focus line, never driven");
    }

    #[test]
    fn a_line_that_fails_is_named_and_the_other_released() {
        let (mut trigger, shutter, focus, _) = wired(true);
        // The first write after `new`'s release: the shutter's press.
        shutter.fail_after(0);
        let e = trigger.fire(Hold::Pulse).unwrap_err();
        assert_eq!(e.line, "shutter");
        assert!(e.to_string().contains("shutter line"), "{e}");
        assert!(!focus.is_high(), "the focus line let go");
    }

    #[test]
    fn lines_are_released_when_set_up_and_when_dropped() {
        let (trigger, shutter, focus, _) = wired(true);
        let low = |p: &Pin| p.events().iter().all(|e| !e.high) && !p.events().is_empty();
        assert!(low(&shutter) && low(&focus));
        drop(trigger);
        assert_eq!(shutter.events().len(), 2, "released again on drop");
    }
}
