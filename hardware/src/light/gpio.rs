//! Real lights on the Raspberry Pi's pins, through rppal (feature `rppal`): hardware PWM on GPIO 12, 13, 18 and 19, rppal's software PWM elsewhere, or plain on/off.

use rppal::gpio::{Gpio, OutputPin};
use rppal::pwm::{Channel, Polarity, Pwm};

use super::{hardware_pwm_channel, Light, LightError, LightOutput, LightSpec, Result};

/// A pin switched on and off.
struct Switched(OutputPin);

/// Holds `pin` high for a duty of at least a half, else low.
fn switch(pin: &mut OutputPin, duty: f64) {
    if duty >= 0.5 {
        pin.set_high();
    } else {
        pin.set_low();
    }
}

impl LightOutput for Switched {
    fn set_duty(&mut self, duty: f64) -> std::result::Result<(), String> {
        switch(&mut self.0, duty);
        Ok(())
    }
}

/// A pin dimmed by rppal's software PWM (a thread of its own, some jitter:
/// fine for LEDs at a few hundred Hz).
struct SoftPwm {
    pin: OutputPin,
    hz: f64,
}

impl LightOutput for SoftPwm {
    fn set_duty(&mut self, duty: f64) -> std::result::Result<(), String> {
        if duty <= 0.0 || duty >= 1.0 {
            self.pin.clear_pwm().map_err(|e| e.to_string())?;
            switch(&mut self.pin, duty);
            Ok(())
        } else {
            self.pin
                .set_pwm_frequency(self.hz, duty)
                .map_err(|e| e.to_string())
        }
    }
}

/// A pin dimmed by the Pi's PWM hardware (no jitter, no CPU).
struct HardPwm(Pwm);

impl LightOutput for HardPwm {
    fn set_duty(&mut self, duty: f64) -> std::result::Result<(), String> {
        self.0.set_duty_cycle(duty).map_err(|e| e.to_string())
    }
}

/// Claims the light's pin (or PWM channel) and opens it, switched off.
pub fn open(spec: LightSpec) -> Result<Light> {
    let fail = |what: String, e: &dyn std::fmt::Display| LightError::Driver {
        light: spec.name.clone(),
        reason: format!(
            "cannot use {what}: {e} — is this a Raspberry Pi, and is the user in the gpio group?"
        ),
    };
    let output: Box<dyn LightOutput> = match (spec.pwm_hz, hardware_pwm_channel(spec.pin)) {
        (Some(hz), Some(channel)) => {
            let channel = if channel == 0 {
                Channel::Pwm0
            } else {
                Channel::Pwm1
            };
            let idle = if spec.active_low { 1.0 } else { 0.0 };
            let pwm =
                Pwm::with_frequency(channel, hz, idle, Polarity::Normal, true).map_err(|e| {
                    fail(
                        format!(
                            "PWM channel {channel} (GPIO {}; dtoverlay=pwm-2chan set?)",
                            spec.pin
                        ),
                        &e,
                    )
                })?;
            Box::new(HardPwm(pwm))
        }
        (pwm, _) => {
            let gpio = Gpio::new().map_err(|e| fail("GPIO".into(), &e))?;
            let pin = gpio
                .get(spec.pin)
                .map_err(|e| fail(format!("GPIO {}", spec.pin), &e))?;
            let pin = if spec.active_low {
                pin.into_output_high()
            } else {
                pin.into_output_low()
            };
            match pwm {
                Some(hz) => Box::new(SoftPwm { pin, hz }),
                None => Box::new(Switched(pin)),
            }
        }
    };
    Light::new(spec, output)
}
