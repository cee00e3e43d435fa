//! `[lighting]` and `[[lights]]`: the rig's lights on GPIO (switched, or
//! dimmed by PWM), what a pause does to them, and the idle timeout that
//! switches them off and releases the motors.

use std::collections::BTreeMap;
use std::time::Duration;

use scanrig_hardware::light::{hardware_pwm_channel, LightSpec};
use serde::{Deserialize, Serialize};

/// Where the lights are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LightsBackend {
    /// Simulated lights: the simulated camera's photos darken with them.
    #[default]
    Sim,
    /// On the Raspberry Pi's GPIO pins (feature `rppal`).
    Gpio,
}

/// What a paused scan does to its lights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseLights {
    /// They stay on (a resume goes on at once).
    #[default]
    Keep,
    /// They go off; a resume switches them on and waits their warm-up
    /// before the next photo.
    Off,
}

/// `[lighting]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lighting {
    /// The lights' driver.
    pub backend: LightsBackend,
    /// What a pause does to the lights.
    pub pause: PauseLights,
    /// After this many seconds with no scan running, the lights go off
    /// and the motors are released; 0: never.
    pub idle_timeout_s: u64,
    /// A paused scan counts as idle for `idle_timeout_s` (its motors are
    /// released then, and it homes again when resumed).
    pub idle_in_pause: bool,
}

impl Default for Lighting {
    fn default() -> Self {
        Lighting {
            backend: LightsBackend::Sim,
            pause: PauseLights::Keep,
            idle_timeout_s: 600,
            idle_in_pause: true,
        }
    }
}

impl Lighting {
    /// The idle timeout, if there is one.
    pub fn idle_timeout(&self) -> Option<Duration> {
        (self.idle_timeout_s > 0).then(|| Duration::from_secs(self.idle_timeout_s))
    }
}

/// One light, `[[lights]]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LightEntry {
    /// Its name: letters, digits, `-`, `_` (profiles, the page, MQTT).
    pub name: String,
    /// The BCM GPIO pin driving its MOSFET (or relay).
    pub pin: u8,
    /// The light is on while the pin is low.
    pub active_low: bool,
    /// Dim it by PWM at this frequency (hardware PWM on GPIO 12, 13, 18,
    /// 19; software PWM elsewhere); 0: switched on and off only.
    pub pwm_hz: u32,
    /// How long it takes to give its full, steady light once switched on,
    /// milliseconds; the first photo waits for it.
    pub warmup_ms: u64,
}

impl LightEntry {
    /// The driver's view of this light.
    pub fn spec(&self) -> LightSpec {
        LightSpec {
            name: self.name.clone(),
            pin: self.pin,
            active_low: self.active_low,
            pwm_hz: (self.pwm_hz > 0).then_some(f64::from(self.pwm_hz)),
            warmup: Duration::from_millis(self.warmup_ms),
        }
    }
}

/// The most lights a rig drives.
const MAX_LIGHTS: usize = 8;
/// The PWM frequencies a light may be dimmed at, Hz.
const PWM_HZ: (u32, u32) = (50, 20_000);
/// The longest warm-up, milliseconds.
const MAX_WARMUP_MS: u64 = 30_000;

/// Whether `name` can name a light.
pub fn valid_light_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What is wrong with `[lighting]` and `[[lights]]`, as (key, reason);
/// their pins are checked with every other pin ([`super::pin_problems`]).
/// Lights are numbered from 1, as a person counts them.
pub fn lights_problems(lighting: &Lighting, lights: &[LightEntry]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if lighting.idle_timeout_s > 86_400 {
        problems.push((
            "lighting.idle_timeout_s".into(),
            format!(
                "must be 0 (never) to 86400 seconds, found {}",
                lighting.idle_timeout_s
            ),
        ));
    }
    if lights.len() > MAX_LIGHTS {
        problems.push((
            "lights".into(),
            format!(
                "{} lights are configured; a rig drives at most {MAX_LIGHTS}",
                lights.len()
            ),
        ));
    }
    let mut names = BTreeMap::new();
    let mut channels: BTreeMap<u8, usize> = BTreeMap::new();
    for (i, light) in (1..).zip(lights) {
        let key = |k: &str| format!("lights[{i}].{k}");
        if !valid_light_name(&light.name) {
            problems.push((
                key("name"),
                format!(
                    "must be 1 to 32 letters, digits, - or _ (it names the light in profiles, on the page and in MQTT), found {:?}",
                    light.name
                ),
            ));
        } else if let Some(other) = names.insert(light.name.to_lowercase(), i) {
            problems.push((
                key("name"),
                format!(
                    "{:?} also names lights[{other}] (names are told apart regardless of case); give each light its own name",
                    light.name
                ),
            ));
        }
        let (low, high) = PWM_HZ;
        if light.pwm_hz != 0 && !(low..=high).contains(&light.pwm_hz) {
            problems.push((
                key("pwm_hz"),
                format!(
                    "must be 0 (switched on and off only) or {low} to {high} Hz, found {}",
                    light.pwm_hz
                ),
            ));
        }
        if light.warmup_ms > MAX_WARMUP_MS {
            problems.push((
                key("warmup_ms"),
                format!(
                    "must be 0 to {MAX_WARMUP_MS} milliseconds, found {}",
                    light.warmup_ms
                ),
            ));
        }
        let hardware = (lighting.backend == LightsBackend::Gpio && light.pwm_hz != 0)
            .then(|| hardware_pwm_channel(light.pin))
            .flatten();
        if let Some(channel) = hardware {
            if let Some(other) = channels.insert(channel, i) {
                problems.push((
                    key("pin"),
                    format!(
                        "GPIO {} shares hardware PWM channel {channel} with lights[{other}]; put one of them on a pin without hardware PWM (it then gets software PWM) or on the other channel (GPIO 12/18 are channel 0, 13/19 channel 1)",
                        light.pin
                    ),
                ));
            }
        }
    }
    problems
}
