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

/// Whether a camera of the rig is fired by a wire: `[camera]`'s, or one
/// of the column's.
pub fn wired(s: &Settings) -> bool {
    !wired_cameras(s).is_empty()
}

/// The rig's cameras fired by a wire: the key of each one's
/// `[camera.trigger]` (or `[cameras.trigger]` in a column), the name of a
/// column's, and its lines.
pub fn wired_cameras(s: &Settings) -> Vec<(String, Option<&str>, &WiredCamera)> {
    if s.cameras.is_empty() {
        return if s.camera.backend == CameraBackend::Trigger {
            vec![("camera.trigger".to_owned(), None, &s.camera.trigger)]
        } else {
            Vec::new()
        };
    }
    // Numbered from 1, as every problem with a `[[cameras]]` table is.
    (1..)
        .zip(&s.cameras)
        .filter(|(_, c)| c.backend.unwrap_or(s.camera.backend) == CameraBackend::Trigger)
        .map(|(i, c)| {
            (
                format!("cameras[{i}].trigger"),
                Some(c.name.as_str()),
                &c.trigger,
            )
        })
        .collect()
}

/// What is wrong with the `[camera.trigger]` (or `[cameras.trigger]`) of
/// each camera fired by a wire: (key, reason). The pins' clashes with the
/// rig's other pins are found with theirs ([`super::pin_problems`]).
pub fn wired_problems(s: &Settings) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if !s.cameras.is_empty() && s.camera.backend == CameraBackend::Trigger {
        problems.push((
            "camera.backend".to_owned(),
            "\"trigger\" is what the column's cameras share, and each camera fired by a wire has pins of its own: set backend = \"trigger\" and its [cameras.trigger] on that camera's [[cameras]] entry, and \"gphoto2\" or \"sim\" here".to_owned(),
        ));
        return problems;
    }
    for (section, _, t) in wired_cameras(s) {
        let fail = |key: &str, reason: String| (format!("{section}.{key}"), reason);
        if t.shutter_pin.is_none() {
            problems.push(fail(
                "shutter_pin",
                "is missing: a camera fired by a wire (backend = \"trigger\") needs the GPIO pin (a BCM number, e.g. 20) wired to the shutter line's opto-coupler; see deploy/HARDWARE.md".to_owned(),
            ));
        }
        if !(10..=10_000).contains(&t.pulse_ms) {
            problems.push(fail(
                "pulse_ms",
                format!("must be 10 to 10000 milliseconds, found {}", t.pulse_ms),
            ));
        }
        if t.focus_ms > 10_000 {
            problems.push(fail(
                "focus_ms",
                format!("must be 0 to 10000 milliseconds, found {}", t.focus_ms),
            ));
        }
        if t.sim_card.is_none() && !cfg!(feature = "rppal") {
            let backend = format!("{}backend", section.trim_end_matches("trigger"));
            problems.push((
                backend,
                "\"trigger\" drives GPIO pins, which are not in this build of scanrig; install the Raspberry Pi package, or build with `cargo build --release --features pi` (or set sim_card under its trigger table to simulate it)".to_owned(),
            ));
        }
    }
    problems
}
