//! Lights on the rig: lamps or LED strips switched or dimmed by a GPIO pin (through a MOSFET), with simulated ones whose level the simulated camera sees.

#[cfg(feature = "rppal")]
mod gpio;
mod sim;

use std::fmt;
use std::time::Duration;

#[cfg(feature = "rppal")]
pub use gpio::open;
pub use sim::{Lighting, RecordedLevel, RecordingOutput};

/// What can go wrong with a light.
#[derive(Debug, thiserror::Error)]
pub enum LightError {
    /// The GPIO (or PWM) driver failed.
    #[error("the light {light} failed: {reason}")]
    Driver {
        /// The light's name.
        light: String,
        /// The driver's own words.
        reason: String,
    },
    /// No light of that name is configured.
    #[error("there is no light named `{name}`; the lights are: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The configured names, comma-separated.
        known: String,
    },
}

/// Result of light operations.
pub type Result<T, E = LightError> = std::result::Result<T, E>;

/// A light's brightness, 0 (off) to 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Brightness(u8);

impl Brightness {
    /// Off.
    pub const OFF: Brightness = Brightness(0);
    /// Full brightness.
    pub const FULL: Brightness = Brightness(100);

    /// `percent` as a brightness, `None` above 100.
    pub fn new(percent: u8) -> Option<Brightness> {
        (percent <= 100).then_some(Brightness(percent))
    }

    /// The brightness in percent.
    pub fn percent(self) -> u8 {
        self.0
    }

    /// Whether the light is on at all.
    pub fn is_on(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Brightness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.0)
    }
}

/// How a light is wired and driven. Pins are BCM GPIO numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct LightSpec {
    /// Its name (on the page, in MQTT, in profiles).
    pub name: String,
    /// The pin that switches it.
    pub pin: u8,
    /// The light is on while the pin is low.
    pub active_low: bool,
    /// Dimmed by PWM at this frequency (hardware PWM on GPIO 12, 13, 18
    /// and 19, software PWM elsewhere); `None`: switched on and off only,
    /// any brightness above 0 being full.
    pub pwm_hz: Option<f64>,
    /// How long it takes from switched on to its full, steady light.
    pub warmup: Duration,
}

/// The hardware PWM channel on `pin`, if it has one (GPIO 12 and 18 share
/// channel 0, GPIO 13 and 19 channel 1; the pin must be given to PWM by
/// `dtoverlay=pwm-2chan` in config.txt, see HARDWARE.md).
pub fn hardware_pwm_channel(pin: u8) -> Option<u8> {
    match pin {
        12 | 18 => Some(0),
        13 | 19 => Some(1),
        _ => None,
    }
}

/// A pin as a light drives it: the share of time it stands high.
pub trait LightOutput: Send {
    /// Drives the pin high for `duty` (0.0 to 1.0) of the time; 0.0 and
    /// 1.0 hold it low or high.
    fn set_duty(&mut self, duty: f64) -> std::result::Result<(), String>;
}

/// One light: its wiring and the pin that drives it.
pub struct Light {
    spec: LightSpec,
    output: Box<dyn LightOutput>,
    level: Brightness,
}

impl Light {
    /// A light driven through `output`, switched off.
    pub fn new(spec: LightSpec, output: Box<dyn LightOutput>) -> Result<Light> {
        let mut light = Light {
            spec,
            output,
            level: Brightness::FULL,
        };
        light.set(Brightness::OFF)?;
        Ok(light)
    }

    /// Its wiring.
    pub fn spec(&self) -> &LightSpec {
        &self.spec
    }

    /// The brightness it was last set to.
    pub fn level(&self) -> Brightness {
        self.level
    }

    /// The share of time the pin stands high for `level`: the brightness
    /// as a duty cycle (full or nothing without PWM), inverted for a light
    /// that is on while its pin is low.
    pub fn duty_for(&self, level: Brightness) -> f64 {
        let lit = match self.spec.pwm_hz {
            Some(_) => f64::from(level.percent()) / 100.0,
            None if level.is_on() => 1.0,
            None => 0.0,
        };
        if self.spec.active_low {
            1.0 - lit
        } else {
            lit
        }
    }

    /// Sets the brightness (the same level again changes nothing).
    pub fn set(&mut self, level: Brightness) -> Result<()> {
        if level == self.level {
            return Ok(());
        }
        let duty = self.duty_for(level);
        self.output
            .set_duty(duty)
            .map_err(|reason| LightError::Driver {
                light: self.spec.name.clone(),
                reason,
            })?;
        self.level = level;
        Ok(())
    }
}

impl fmt::Debug for Light {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Light")
            .field("spec", &self.spec)
            .field("level", &self.level)
            .finish()
    }
}

#[cfg(test)]
mod tests;
