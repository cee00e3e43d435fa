//! Simulated lights: outputs that record every duty cycle written with its time, and the rig's lighting as the simulated camera sees it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use super::LightOutput;

/// The share of a light's full light that reaches the object with every
/// light off (a dim room).
pub(crate) const AMBIENT: f64 = 1.0 / 32.0;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One write to a light's pin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordedLevel {
    /// When.
    pub at: SystemTime,
    /// The share of time the pin stands high.
    pub duty: f64,
}

/// The rig's lights as the simulated camera sees them: how much light each
/// gives now (0.0 to 1.0). Clones share one room.
#[derive(Debug, Clone, Default)]
pub struct Lighting(Arc<Mutex<BTreeMap<String, f64>>>);

impl PartialEq for Lighting {
    fn eq(&self, other: &Lighting) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Lighting {
    /// A recording output for the light `name`, whose light reaches the
    /// room: lit while its pin is high, or low when `active_low`.
    pub fn output(&self, name: &str, active_low: bool) -> RecordingOutput {
        lock(&self.0).insert(name.to_owned(), 0.0);
        RecordingOutput {
            events: Arc::default(),
            room: Some((self.clone(), name.to_owned(), active_low)),
        }
    }

    /// How bright the object is lit, as a share of full light: `None` on
    /// a rig without lights (the camera's photos as they always were);
    /// else the brightest light's share, above the room's [`AMBIENT`] light.
    pub fn exposure(&self) -> Option<f64> {
        let lights = lock(&self.0);
        let lit = lights.values().copied().reduce(f64::max)?;
        Some(AMBIENT + (1.0 - AMBIENT) * lit)
    }
}

/// A light's output that logs every duty cycle written; clones share the
/// log, so a test keeps one and gives the other to the light.
#[derive(Debug, Clone, Default)]
pub struct RecordingOutput {
    events: Arc<Mutex<Vec<RecordedLevel>>>,
    room: Option<(Lighting, String, bool)>,
}

impl RecordingOutput {
    /// Every write, oldest first.
    pub fn events(&self) -> Vec<RecordedLevel> {
        lock(&self.events).clone()
    }

    /// The duty cycle last written (0.0 before any).
    pub fn duty(&self) -> f64 {
        lock(&self.events).last().map_or(0.0, |e| e.duty)
    }
}

impl LightOutput for RecordingOutput {
    fn set_duty(&mut self, duty: f64) -> Result<(), String> {
        lock(&self.events).push(RecordedLevel {
            at: SystemTime::now(),
            duty,
        });
        if let Some((room, name, active_low)) = &self.room {
            let lit = if *active_low { 1.0 - duty } else { duty };
            lock(&room.0).insert(name.clone(), lit);
        }
        Ok(())
    }
}
