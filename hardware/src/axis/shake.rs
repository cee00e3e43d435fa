//! The rig's shake after a move: a simulated axis notes when it stopped and
//! how it makes the rig sway; the simulated camera asks how far the rig
//! still sways as its shutter opens, and smears its photo that far.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How a stopping axis makes the rig sway: the camera against the object,
/// every way, measured at the object, dying down exponentially.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sway {
    /// How far the rig sways each way just as the axis stops, millimetres;
    /// 0: not at all.
    pub mm: f64,
    /// How long the sway takes to die down to a twentieth of that.
    pub settle: Duration,
}

impl Sway {
    /// How far the rig still sways each way, millimetres, `since` the stop.
    pub fn after(&self, since: Duration) -> f64 {
        if self.mm.is_nan() || self.mm <= 0.0 || self.settle.is_zero() {
            return 0.0;
        }
        self.mm * 20f64.powf(-since.as_secs_f64() / self.settle.as_secs_f64())
    }
}

/// An axis's last stop: the axis, when, and the sway it set off.
type Stop = (&'static str, Instant, Sway);

/// The axes' last stops, each axis's own, shared by the simulated axes
/// that note them and the simulated camera that reads them; clones share
/// one record.
#[derive(Debug, Clone, Default)]
pub struct Shake(Arc<Mutex<Vec<Stop>>>);

impl Shake {
    /// The `axis` stopped now, making the rig sway as `sway` says.
    pub fn stopped(&self, axis: &'static str, sway: Sway) {
        let mut stops = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        stops.retain(|(name, _, _)| *name != axis);
        stops.push((axis, Instant::now(), sway));
    }

    /// How far the rig sways each way now, millimetres: every axis's sway
    /// added up.
    pub fn now(&self) -> f64 {
        let stops = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        stops
            .iter()
            .map(|(_, at, sway)| sway.after(at.elapsed()))
            .sum()
    }
}

/// Two handles are equal when they share one record.
impl PartialEq for Shake {
    fn eq(&self, other: &Shake) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sway_dies_down_to_a_twentieth_in_its_settle_time() {
        let sway = Sway {
            mm: 2.0,
            settle: Duration::from_millis(200),
        };
        assert_eq!(sway.after(Duration::ZERO), 2.0);
        assert!((sway.after(Duration::from_millis(200)) - 0.1).abs() < 1e-9);
        assert!(sway.after(Duration::from_millis(400)) < 0.006);
        assert_eq!(Sway::default().after(Duration::ZERO), 0.0);
    }

    #[test]
    fn each_axis_keeps_its_own_last_stop_and_the_sways_add_up() {
        let shake = Shake::default();
        assert_eq!(shake.now(), 0.0);
        let sway = |mm| Sway {
            mm,
            settle: Duration::from_secs(3600),
        };
        shake.clone().stopped("tilt", sway(3.0));
        shake.stopped("turntable", sway(1.0));
        shake.stopped("turntable", sway(2.0));
        let now = shake.now();
        assert!(now > 4.99 && now <= 5.0, "{now}");
    }
}
