//! `[moved]`: the check after each ring that the object has not moved
//! (slipped on the table, fallen over), before more rings are wasted.

use scanrig_hardware::judge::MAX_CHANGED;
use serde::{Deserialize, Serialize};

/// `[moved]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Moved {
    /// Check after each ring (of more than one shot).
    pub check: bool,
    /// The largest share of the camera's view, 0 to 1, that may differ
    /// from the ring's first photo before the scan pauses.
    pub max_changed: f32,
}

impl Default for Moved {
    fn default() -> Self {
        Moved {
            check: true,
            max_changed: MAX_CHANGED,
        }
    }
}

impl Moved {
    /// The largest share that may differ, when the check is on.
    pub fn limit(&self) -> Option<f32> {
        self.check.then_some(self.max_changed)
    }
}

/// What is wrong with `[moved]`: (key, reason).
pub fn moved_problems(m: &Moved) -> Vec<(&'static str, String)> {
    if m.max_changed > 0.0 && m.max_changed < 1.0 {
        return Vec::new();
    }
    vec![(
        "moved.max_changed",
        format!(
            "must be a share of the view above 0 and below 1 (0.03 is 3 %), found {}",
            m.max_changed
        ),
    )]
}
