//! Which GPIO pins the operator panel is wired to, and how; checked before any pin is touched.

use std::time::Duration;

use super::debounce::{DEFAULT_LONG_PRESS, DEFAULT_SETTLE};
use super::{PanelError, Result};

/// The resistor that holds a button's input at its idle level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    /// The Pi's built-in pull-up: for buttons that connect the pin to ground
    /// (active-low), the usual wiring.
    #[default]
    Up,
    /// The Pi's built-in pull-down: for buttons that connect the pin to
    /// 3.3 V (active-high).
    Down,
    /// No built-in resistor: the board has its own.
    Off,
}

/// The panel's wiring: BCM GPIO numbers (not header pin numbers) and the
/// buttons' timing. The status LED and the buzzer are lit / sounding when
/// their pin is high.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelPins {
    /// The start button's input.
    pub start: u8,
    /// The pause button's input.
    pub pause: u8,
    /// The stop button's input.
    pub stop: u8,
    /// The status LED's output.
    pub led: u8,
    /// The buzzer's output, if there is a buzzer.
    pub buzzer: Option<u8>,
    /// Whether a pressed button reads low (wired to ground).
    pub active_low: bool,
    /// The buttons' bias resistor.
    pub pull: Pull,
    /// How long a button must be held for a long press.
    pub long_press: Duration,
    /// How long a button's level must stay unchanged to count (contact
    /// bounce is shorter).
    pub debounce: Duration,
}

impl Default for PanelPins {
    /// Start on GPIO 17, pause on 27, stop on 22 (active-low, pulled up),
    /// the LED on 23, no buzzer, and the default debounce and long-press
    /// times.
    fn default() -> PanelPins {
        PanelPins {
            start: 17,
            pause: 27,
            stop: 22,
            led: 23,
            buzzer: None,
            active_low: true,
            pull: Pull::Up,
            long_press: DEFAULT_LONG_PRESS,
            debounce: DEFAULT_SETTLE,
        }
    }
}

impl PanelPins {
    /// Every pin in use, with what it is for.
    pub fn roles(&self) -> Vec<(&'static str, u8)> {
        let mut roles = vec![
            ("start button", self.start),
            ("pause button", self.pause),
            ("stop button", self.stop),
            ("status LED", self.led),
        ];
        roles.extend(self.buzzer.map(|pin| ("buzzer", pin)));
        roles
    }

    /// Checks the wiring makes sense: no pin used twice, a pull that holds
    /// the buttons released, and a long press longer than the debounce time.
    pub fn validate(&self) -> Result<()> {
        let roles = self.roles();
        for (i, &(role, pin)) in roles.iter().enumerate() {
            if let Some(&(other, _)) = roles[..i].iter().find(|&&(_, p)| p == pin) {
                return Err(driver(format!(
                    "GPIO {pin} is wired to both the {other} and the {role}"
                )));
            }
        }
        match (self.active_low, self.pull) {
            (true, Pull::Down) => {
                return Err(driver(
                    "active-low buttons need a pull-up (or Pull::Off with the board's own resistors): \
                     a pull-down would hold them pressed"
                        .into(),
                ))
            }
            (false, Pull::Up) => {
                return Err(driver(
                    "active-high buttons need a pull-down (or Pull::Off with the board's own resistors): \
                     a pull-up would hold them pressed"
                        .into(),
                ))
            }
            _ => {}
        }
        if self.long_press <= self.debounce {
            return Err(driver(format!(
                "the long-press time ({:?}) must be longer than the debounce time ({:?})",
                self.long_press, self.debounce
            )));
        }
        Ok(())
    }
}

fn driver(reason: String) -> PanelError {
    PanelError::Driver { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_wiring_is_valid() {
        PanelPins::default().validate().unwrap();
        let with_buzzer = PanelPins {
            buzzer: Some(24),
            ..PanelPins::default()
        };
        with_buzzer.validate().unwrap();
        assert_eq!(with_buzzer.roles().len(), 5);
    }

    #[test]
    fn bad_wiring_is_refused_with_a_reason() {
        let cases = [
            (
                PanelPins {
                    buzzer: Some(17),
                    ..PanelPins::default()
                },
                "GPIO 17 is wired to both the start button and the buzzer",
            ),
            (
                PanelPins {
                    led: 22,
                    ..PanelPins::default()
                },
                "both the stop button and the status LED",
            ),
            (
                PanelPins {
                    pull: Pull::Down,
                    ..PanelPins::default()
                },
                "active-low buttons need a pull-up",
            ),
            (
                PanelPins {
                    active_low: false,
                    ..PanelPins::default()
                },
                "active-high buttons need a pull-down",
            ),
            (
                PanelPins {
                    long_press: Duration::from_millis(10),
                    ..PanelPins::default()
                },
                "must be longer than the debounce time",
            ),
        ];
        for (pins, want) in cases {
            let err = pins.validate().unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        let external = PanelPins {
            active_low: false,
            pull: Pull::Off,
            ..PanelPins::default()
        };
        external.validate().unwrap();
    }
}
