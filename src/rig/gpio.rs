//! The Raspberry Pi's pins (rppal): stepper axes and the button panel, as
//! the settings describe them.

use std::convert::Infallible;
use std::time::Duration;

use anyhow::Context;
use embedded_hal::digital::{ErrorType, OutputPin};
use rppal::gpio::{Gpio, InputPin, OutputPin as PiOutput};
use scanrig_hardware::axis::stepper::{StepperAxis, SystemClock};
use scanrig_hardware::axis::{Axis, AxisError, Travel};
use scanrig_hardware::panel::{self, Buttons, Indicator, PanelPins, Pull};

use super::AxisOpener;
use crate::settings::{Settings, Stepper};

/// The ENABLE "pin" of a driver whose ENABLE is wired to stay on.
struct AlwaysEnabled;

impl ErrorType for AlwaysEnabled {
    type Error = Infallible;
}

impl OutputPin for AlwaysEnabled {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Opens a stepper axis on its pins; each call claims them afresh (rppal
/// resets pins it drops).
pub(super) fn stepper_opener(
    name: &'static str,
    s: &Stepper,
    travel: Travel,
) -> anyhow::Result<AxisOpener> {
    let config = s.config(name, travel);
    config.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = s.clone();
    Ok(Box::new(move || {
        let fail = |what: &str, e: rppal::gpio::Error| {
            AxisError::Driver {
            axis: name,
            reason: format!("cannot use {what}: {e} — is this a Raspberry Pi, and is the user in the gpio group?"),
        }
        };
        let gpio = Gpio::new().map_err(|e| fail("GPIO", e))?;
        let output = |pin: u8, what: &str| -> Result<PiOutput, AxisError> {
            Ok(gpio
                .get(pin)
                .map_err(|e| fail(&format!("GPIO {pin} ({what})"), e))?
                .into_output_low())
        };
        let step = output(s.step_pin, "STEP")?;
        let dir = output(s.dir_pin, "DIR")?;
        let endstop: Option<InputPin> = match s.endstop_pin {
            Some(pin) => Some(
                gpio.get(pin)
                    .map_err(|e| fail(&format!("GPIO {pin} (end-stop)"), e))?
                    .into_input_pullup(),
            ),
            None => None,
        };
        let axis: Box<dyn Axis> = match s.enable_pin {
            Some(pin) => {
                let mut enable = output(pin, "ENABLE")?;
                // Keep driving the released level after the axis is
                // dropped: a floating ENABLE may switch the driver on.
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
        };
        Ok(axis)
    }))
}

/// Opens the buttons and the status light.
pub(super) fn panel(settings: &Settings) -> anyhow::Result<(Box<dyn Buttons>, Box<dyn Indicator>)> {
    let g = &settings.buttons.gpio;
    let pins = PanelPins {
        start: g.start_pin,
        pause: g.pause_pin,
        stop: g.stop_pin,
        led: g.led_pin,
        buzzer: g.buzzer_pin,
        active_low: g.active_low,
        pull: if g.active_low { Pull::Up } else { Pull::Down },
        long_press: Duration::from_millis(settings.buttons.long_press_ms),
        debounce: Duration::from_millis(g.debounce_ms),
    };
    let (buttons, light) = panel::open(&pins).context("cannot open the buttons")?;
    Ok((Box::new(buttons), Box::new(light)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs a Raspberry Pi with a stepper driver on GPIO 17 (STEP), 27 (DIR), 22 (ENABLE)"]
    fn the_turntable_jogs_and_comes_back_on_a_pi() {
        let open = stepper_opener(
            "turntable",
            &Stepper::turntable_default(),
            Travel::default(),
        )
        .expect("config");
        let mut axis = open().expect("GPIO");
        axis.set_zero_here().unwrap();
        let go = scanrig_hardware::axis::Ticket::unstoppable();
        let there = axis.move_to(scanrig_hardware::Degrees(90.0), &go).unwrap();
        assert!(there.duration > Duration::ZERO);
        let back = axis.move_to(scanrig_hardware::Degrees(0.0), &go).unwrap();
        assert_eq!(back.to, scanrig_hardware::Degrees(0.0));
        axis.set_energised(false).unwrap();
    }
}
