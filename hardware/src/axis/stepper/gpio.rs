//! A stepper axis on the Raspberry Pi's pins, through rppal (feature
//! `rppal`): STEP, DIR, an optional ENABLE and an optional end-stop input
//! with its pull-up.

use std::convert::Infallible;

use embedded_hal::digital::{ErrorType, OutputPin};
use rppal::gpio::{Gpio, InputPin, OutputPin as PiOutput};

use super::{StepperAxis, StepperConfig, SystemClock};
use crate::axis::{Axis, AxisError, Result};

/// The BCM GPIO numbers of a stepper axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepperPins {
    /// STEP.
    pub step: u8,
    /// DIR.
    pub dir: u8,
    /// ENABLE; `None` when the driver's ENABLE is wired to stay on.
    pub enable: Option<u8>,
    /// The end-stop, read with the internal pull-up.
    pub endstop: Option<u8>,
}

/// The ENABLE "pin" of a driver whose ENABLE is wired to stay on.
struct AlwaysEnabled;

impl ErrorType for AlwaysEnabled {
    type Error = Infallible;
}

impl OutputPin for AlwaysEnabled {
    fn set_low(&mut self) -> std::result::Result<(), Infallible> {
        Ok(())
    }

    fn set_high(&mut self) -> std::result::Result<(), Infallible> {
        Ok(())
    }
}

/// Claims the pins and opens the axis; each call claims them afresh
/// (rppal resets the pins it drops).
pub fn open(config: StepperConfig, pins: StepperPins) -> Result<Box<dyn Axis>> {
    let name = config.name;
    let fail = |what: &str, e: rppal::gpio::Error| AxisError::Driver {
        axis: name,
        reason: format!(
            "cannot use {what}: {e} — is this a Raspberry Pi, and is the user in the gpio group?"
        ),
    };
    let gpio = Gpio::new().map_err(|e| fail("GPIO", e))?;
    let output = |pin: u8, what: &str| -> Result<PiOutput> {
        Ok(gpio
            .get(pin)
            .map_err(|e| fail(&format!("GPIO {pin} ({what})"), e))?
            .into_output_low())
    };
    let step = output(pins.step, "STEP")?;
    let dir = output(pins.dir, "DIR")?;
    let endstop: Option<InputPin> = match pins.endstop {
        Some(pin) => Some(
            gpio.get(pin)
                .map_err(|e| fail(&format!("GPIO {pin} (end-stop)"), e))?
                .into_input_pullup(),
        ),
        None => None,
    };
    Ok(match pins.enable {
        Some(pin) => {
            let mut enable = output(pin, "ENABLE")?;
            // Keep driving the released level after the axis is dropped: a
            // floating ENABLE may switch the driver on.
            enable.set_reset_on_drop(false);
            Box::new(StepperAxis::new(
                config,
                step,
                dir,
                enable,
                endstop,
                SystemClock,
            )?)
        }
        None => Box::new(StepperAxis::new(
            config,
            step,
            dir,
            AlwaysEnabled,
            endstop,
            SystemClock,
        )?),
    })
}
