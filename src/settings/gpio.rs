//! Settings of the rig's GPIO hardware: stepper axes (`[turntable.stepper]`,
//! `[tilt.stepper]`), the button panel (`[buttons.gpio]`) and the lights
//! (`[[lights]]`), with the
//! checks that need them all together (a pin used twice).

use std::collections::BTreeMap;
use std::time::Duration;

use scanrig_hardware::axis::stepper::{HomingConfig, StepTiming, StepperConfig};
use scanrig_hardware::axis::MotionLimits;
use scanrig_hardware::axis::Travel;
use scanrig_hardware::Degrees;

use serde::{Deserialize, Serialize};

use super::{ButtonsBackend, Settings, TiltBackend, TurntableBackend};

/// Step/direction driver chips, for their timing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepDriver {
    /// Allegro A4988.
    #[default]
    A4988,
    /// TI DRV8825.
    Drv8825,
    /// Trinamic TMC2209 in step/dir mode.
    Tmc2209,
}

/// `[turntable.stepper]`, `[tilt.stepper]`: a stepper motor on a STEP/DIR/
/// ENABLE driver. Pins are BCM GPIO numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Stepper {
    /// The driver chip.
    pub driver: StepDriver,
    /// STEP pin.
    pub step_pin: u8,
    /// DIR pin.
    pub dir_pin: u8,
    /// ENABLE pin; leave out when the driver is always enabled.
    pub enable_pin: Option<u8>,
    /// ENABLE is active low (A4988, DRV8825, TMC2209: true).
    pub enable_active_low: bool,
    /// Full steps per motor revolution (200 for a 1.8° motor).
    pub full_steps_per_rev: u32,
    /// Microsteps per full step, as set on the driver.
    pub microsteps: u32,
    /// Motor revolutions per revolution of the table (or arm).
    pub gear_ratio: f64,
    /// Top speed of the table, degrees per second.
    pub max_speed_dps: f64,
    /// Acceleration, degrees per second squared.
    pub accel_dps2: f64,
    /// Swap the direction of rotation.
    pub invert_direction: bool,
    /// Take up gear backlash: approach every target moving the same way,
    /// overshooting by this many degrees when needed; 0 turns it off.
    pub backlash_deg: f64,
    /// End-stop pin for homing; leave out for an axis without one (its
    /// start position is home).
    pub endstop_pin: Option<u8>,
    /// The end-stop reads low when pressed.
    pub endstop_active_low: bool,
    /// Direction towards the end-stop: -1 or 1.
    pub home_direction: i8,
    /// Speed while homing, degrees per second.
    pub home_speed_dps: f64,
    /// How far to back off the end-stop after it is found, degrees.
    pub home_backoff_deg: f64,
    /// Homing gives up after this many seconds.
    pub home_timeout_s: u64,
    /// The angle the axis stands at once homed and backed off the
    /// end-stop, degrees (the end-stop lies `home_backoff_deg` further
    /// towards `home_direction`).
    pub home_deg: f64,
}

impl Stepper {
    /// A turntable on GPIO 17 (STEP), 27 (DIR), 22 (ENABLE), no end-stop.
    pub fn turntable_default() -> Stepper {
        Stepper {
            driver: StepDriver::A4988,
            step_pin: 17,
            dir_pin: 27,
            enable_pin: Some(22),
            enable_active_low: true,
            full_steps_per_rev: 200,
            microsteps: 16,
            gear_ratio: 1.0,
            max_speed_dps: 60.0,
            accel_dps2: 120.0,
            invert_direction: false,
            backlash_deg: 0.0,
            endstop_pin: None,
            endstop_active_low: true,
            home_direction: -1,
            home_speed_dps: 10.0,
            home_backoff_deg: 2.0,
            home_timeout_s: 60,
            home_deg: 0.0,
        }
    }

    /// A tilt arm on GPIO 23 (STEP), 24 (DIR), 25 (ENABLE), end-stop on 16.
    pub fn tilt_default() -> Stepper {
        Stepper {
            step_pin: 23,
            dir_pin: 24,
            enable_pin: Some(25),
            max_speed_dps: 20.0,
            accel_dps2: 40.0,
            endstop_pin: Some(16),
            // The end-stop at the arm's lowest point, -90°.
            home_deg: -88.0,
            ..Stepper::turntable_default()
        }
    }

    /// Microsteps per degree of the table (or arm).
    pub fn steps_per_degree(&self) -> f64 {
        f64::from(self.full_steps_per_rev) * f64::from(self.microsteps) * self.gear_ratio / 360.0
    }
}

impl Default for Stepper {
    fn default() -> Self {
        Stepper::turntable_default()
    }
}

/// `[buttons.gpio]`: buttons and status light on GPIO (BCM numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpioPanel {
    /// Start button.
    pub start_pin: u8,
    /// Pause button.
    pub pause_pin: u8,
    /// Stop button (hold for a long press: abort).
    pub stop_pin: u8,
    /// Status LED.
    pub led_pin: u8,
    /// Buzzer; leave out if there is none.
    pub buzzer_pin: Option<u8>,
    /// Buttons connect the pin to ground when pressed (internal pull-ups on).
    pub active_low: bool,
    /// A press must last this long to count, in milliseconds.
    pub debounce_ms: u64,
}

impl Default for GpioPanel {
    fn default() -> Self {
        GpioPanel {
            start_pin: 5,
            pause_pin: 6,
            stop_pin: 13,
            led_pin: 26,
            buzzer_pin: None,
            active_low: true,
            debounce_ms: 30,
        }
    }
}

/// The fastest step rate scanrig generates, steps per second: pulses are
/// timed by a thread of their own under Linux, which keeps a few µs of
/// jitter up to about this rate.
pub const MAX_STEP_RATE: f64 = 20_000.0;

/// The fastest a driver chip can be stepped by scanrig, steps per second.
pub fn stepper_rate_limit(driver: StepDriver) -> f64 {
    MAX_STEP_RATE.min(driver.timing().max_step_rate())
}

impl StepDriver {
    /// The chip's signal timing.
    pub fn timing(self) -> StepTiming {
        match self {
            StepDriver::A4988 => StepTiming::A4988,
            StepDriver::Drv8825 => StepTiming::DRV8825,
            StepDriver::Tmc2209 => StepTiming::TMC2209,
        }
    }
}

impl Stepper {
    /// Its speed and acceleration, and the angle it stands at once homed
    /// (`home_deg` with an end-stop; else where it started: 0°).
    pub fn motion(&self) -> (MotionLimits, f64) {
        let limits = MotionLimits {
            max_speed: self.max_speed_dps,
            acceleration: self.accel_dps2,
        };
        (limits, self.endstop_pin.map_or(0.0, |_| self.home_deg))
    }

    /// The driver's view of these settings, moving within `travel`.
    pub fn config(&self, name: &'static str, travel: Travel) -> StepperConfig {
        StepperConfig {
            name,
            travel,
            full_steps_per_rev: self.full_steps_per_rev,
            microsteps: self.microsteps,
            gear_ratio: self.gear_ratio,
            limits: self.motion().0,
            invert_direction: self.invert_direction,
            enable_active_low: self.enable_active_low,
            backlash: (self.backlash_deg > 0.0).then_some(Degrees(self.backlash_deg)),
            homing: self.endstop_pin.map(|_| HomingConfig {
                endstop_active_low: self.endstop_active_low,
                direction: self.home_direction,
                speed: self.home_speed_dps,
                backoff: Degrees(self.home_backoff_deg),
                position: Degrees(self.home_deg),
                timeout: Duration::from_secs(self.home_timeout_s),
            }),
            timing: self.driver.timing(),
        }
    }
}

/// The highest BCM GPIO number on the Raspberry Pi's 40-pin header.
pub const MAX_GPIO: u8 = 27;

/// Every GPIO pin the configured backends use, by key.
pub fn pins_in_use(s: &Settings) -> Vec<(String, u8)> {
    let mut pins = Vec::new();
    let mut stepper = |section: &str, st: &Stepper| {
        pins.push((format!("{section}.step_pin"), st.step_pin));
        pins.push((format!("{section}.dir_pin"), st.dir_pin));
        if let Some(p) = st.enable_pin {
            pins.push((format!("{section}.enable_pin"), p));
        }
        if let Some(p) = st.endstop_pin {
            pins.push((format!("{section}.endstop_pin"), p));
        }
    };
    if s.turntable.backend == TurntableBackend::Stepper {
        stepper("turntable.stepper", &s.turntable.stepper);
    }
    if s.tilt.backend == TiltBackend::Stepper {
        stepper("tilt.stepper", &s.tilt.stepper);
    }
    if s.buttons.backend == ButtonsBackend::Gpio {
        let g = &s.buttons.gpio;
        pins.push(("buttons.gpio.start_pin".into(), g.start_pin));
        pins.push(("buttons.gpio.pause_pin".into(), g.pause_pin));
        pins.push(("buttons.gpio.stop_pin".into(), g.stop_pin));
        pins.push(("buttons.gpio.led_pin".into(), g.led_pin));
        if let Some(p) = g.buzzer_pin {
            pins.push(("buttons.gpio.buzzer_pin".into(), p));
        }
    }
    // Numbered from 1, as every problem with a `[[lights]]` table is.
    for (i, light) in (1..).zip(&s.lights) {
        pins.push((format!("lights[{i}].pin"), light.pin));
    }
    for (section, _, t) in super::wired_cameras(s) {
        let lines = [("shutter_pin", t.shutter_pin), ("focus_pin", t.focus_pin)];
        for (key, pin) in lines {
            if let Some(p) = pin {
                pins.push((format!("{section}.{key}"), p));
            }
        }
    }
    pins
}

/// Problems with the pins: numbers not on the header, pins used twice.
/// Returns (key, reason) pairs.
pub fn pin_problems(s: &Settings) -> Vec<(String, String)> {
    let pins = pins_in_use(s);
    let mut problems = Vec::new();
    let mut first: BTreeMap<u8, &str> = BTreeMap::new();
    for (key, pin) in &pins {
        if *pin > MAX_GPIO {
            problems.push((
                key.clone(),
                format!("GPIO {pin} is not on the Raspberry Pi's header; use a BCM GPIO number from 2 to {MAX_GPIO}"),
            ));
        } else if *pin < 2 {
            problems.push((
                key.clone(),
                format!("GPIO {pin} is reserved for the HAT EEPROM (ID_SD/ID_SC); use a BCM GPIO number from 2 to {MAX_GPIO}"),
            ));
        } else if let Some(other) = first.get(pin) {
            problems.push((
                key.clone(),
                format!("GPIO {pin} is already used by {other}; every pin can do one job"),
            ));
        } else {
            first.insert(*pin, key);
        }
    }
    problems
}
