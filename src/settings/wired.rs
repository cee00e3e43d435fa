//! `[camera.trigger]`: a camera fired by a wire (`camera.backend =
//! "trigger"`), its remote socket's lines on GPIO pins through
//! opto-couplers, or simulated with the card it writes to.

use std::path::PathBuf;
use std::time::Duration;

use scanrig_hardware::camera::trigger::TriggerTiming;
use serde::{Deserialize, Serialize};

use super::{CameraBackend, Settings};

/// `[camera.trigger]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WiredCamera {
    /// The pin (BCM number) driving the shutter line's opto-coupler (the
    /// remote jack's tip).
    pub shutter_pin: Option<u8>,
    /// The pin driving the focus line's (the jack's ring); leave it out
    /// without one.
    pub focus_pin: Option<u8>,
    /// How long focus is held before the shutter is pressed, milliseconds.
    pub focus_ms: u64,
    /// How long the shutter line is held when the camera times the
    /// exposure, milliseconds (a profile's `bulb` setting holds it for
    /// the exposure instead).
    pub pulse_ms: u64,
    /// Simulate the camera: the folder its card is (the simulated rig and
    /// tests); the pins are then only checked.
    pub sim_card: Option<PathBuf>,
    /// The simulated camera's clock less the rig's, seconds.
    pub sim_clock_offset_s: i64,
}

impl Default for WiredCamera {
    fn default() -> Self {
        WiredCamera {
            shutter_pin: None,
            focus_pin: None,
            focus_ms: 500,
            pulse_ms: 150,
            sim_card: None,
            sim_clock_offset_s: 0,
        }
    }
}

impl WiredCamera {
    /// How the lines are pressed.
    pub fn timing(&self) -> TriggerTiming {
        TriggerTiming {
            focus: Duration::from_millis(self.focus_ms),
            pulse: Duration::from_millis(self.pulse_ms),
        }
    }
}

/// Whether the rig's camera is fired by a wire.
pub fn wired(s: &Settings) -> bool {
    s.camera.backend == CameraBackend::Trigger
}

/// What is wrong with `[camera.trigger]` when the camera is fired by a
/// wire: (key, reason). The pins' clashes with the rig's other pins are
/// found with theirs ([`super::pin_problems`]).
pub fn wired_problems(s: &Settings) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if !wired(s) {
        return problems;
    }
    let t = &s.camera.trigger;
    if t.shutter_pin.is_none() {
        problems.push((
            "camera.trigger.shutter_pin",
            "is missing: camera.backend = \"trigger\" needs the GPIO pin (a BCM number, e.g. 20) wired to the shutter line's opto-coupler; see deploy/HARDWARE.md".to_owned(),
        ));
    }
    if !(10..=10_000).contains(&t.pulse_ms) {
        problems.push((
            "camera.trigger.pulse_ms",
            format!("must be 10 to 10000 milliseconds, found {}", t.pulse_ms),
        ));
    }
    if t.focus_ms > 10_000 {
        problems.push((
            "camera.trigger.focus_ms",
            format!("must be 0 to 10000 milliseconds, found {}", t.focus_ms),
        ));
    }
    if t.sim_card.is_none() && !cfg!(feature = "rppal") {
        problems.push((
            "camera.backend",
            "\"trigger\" drives GPIO pins, which are not in this build of scanrig; install the Raspberry Pi package, or build with `cargo build --release --features pi` (or set camera.trigger.sim_card to simulate it)".to_owned(),
        ));
    }
    if !s.cameras.is_empty() {
        problems.push((
            "camera.backend",
            "\"trigger\" fires one camera; a column ([[cameras]]) takes cameras on USB (\"gphoto2\" or \"sim\"): remove [[cameras]] or choose another backend".to_owned(),
        ));
    }
    problems
}
