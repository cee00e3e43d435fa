//! A problem said at the pose of the rig that showed it: which tilt and
//! which camera, and what to change on the rig there (the ring, the camera
//! of a column) beside what to change on the camera.

use serde::{Deserialize, Serialize};

use super::Problem;
use crate::Degrees;

/// Where a tilt stands among a scan's tilts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ring {
    /// The lowest of several (the camera lowest, looking up the most).
    Lowest,
    /// The highest of several (the camera highest, looking down the most).
    Highest,
    /// The scan's only tilt.
    Only,
}

/// The pose a photo was taken at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose<'a> {
    /// The camera's tilt (+: above the table, looking down).
    pub tilt: Degrees,
    /// Where that tilt stands among the scan's.
    pub ring: Ring,
    /// The camera of a column that took it; `None` for a rig's only camera.
    pub camera: Option<&'a str>,
}

impl Problem {
    /// The problem as seen at `pose`, with what to change there: "at tilt
    /// +45°: the object leaves the frame at the top edge (…); move the
    /// camera back or aim it at the object's middle, or lower the top ring".
    pub fn at(&self, pose: &Pose<'_>) -> String {
        let camera = match pose.camera {
            Some(name) => format!(", camera {name}"),
            None => String::new(),
        };
        let tilt = pose.tilt.get();
        let framing = matches!(self, Problem::Empty { .. } | Problem::CutOff { .. });
        let ring = match (framing, pose.ring) {
            (true, Ring::Highest) => format!(", or lower the top ring (tilt {tilt:+.0}°)"),
            (true, Ring::Lowest) => format!(", or raise the bottom ring (tilt {tilt:+.0}°)"),
            _ => String::new(),
        };
        let which = match (pose.camera, self) {
            (Some(name), Problem::Blurred { .. }) => format!(" (camera {name}'s lens)"),
            (Some(name), _) if framing => format!(" (camera {name})"),
            _ => String::new(),
        };
        format!("at tilt {tilt:+.0}°{camera}: {self}{which}{ring}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::Edge;
    use super::*;

    fn cut_off() -> Problem {
        Problem::CutOff {
            edge: Edge::Top,
            cover: 0.4,
            most: 0.02,
        }
    }

    #[test]
    fn a_problem_of_the_top_ring_says_its_tilt_and_to_lower_it() {
        let pose = Pose {
            tilt: Degrees(45.0),
            ring: Ring::Highest,
            camera: None,
        };
        assert_eq!(
            cut_off().at(&pose),
            "at tilt +45°: the object leaves the frame at the top edge (40 % of it, at most 2 %); \
             move the camera back or aim it at the object's middle, or lower the top ring (tilt +45°)"
        );
    }

    #[test]
    fn the_bottom_ring_is_raised_and_a_column_camera_named() {
        let empty = Problem::Empty {
            fill: 0.001,
            least: 0.05,
        };
        let pose = Pose {
            tilt: Degrees(-10.0),
            ring: Ring::Lowest,
            camera: Some("low"),
        };
        let said = empty.at(&pose);
        assert!(said.starts_with("at tilt -10°, camera low: the object is not in the frame"));
        assert!(
            said.ends_with("point the camera at the table's middle (camera low), or raise the bottom ring (tilt -10°)"),
            "{said}"
        );
    }

    #[test]
    fn exposure_and_focus_name_no_ring() {
        let pose = Pose {
            tilt: Degrees(20.0),
            ring: Ring::Highest,
            camera: Some("top"),
        };
        let blurred = Problem::Blurred {
            sharpness: 5.0,
            least: 20.0,
        };
        assert!(blurred
            .at(&pose)
            .ends_with("focus on the object or let the rig settle longer (camera top's lens)"));
        let dark = Problem::Crushed {
            share: 0.3,
            most: 0.1,
        };
        let only = Pose {
            ring: Ring::Only,
            camera: None,
            ..pose
        };
        assert_eq!(
            dark.at(&only),
            format!("at tilt +20°: {dark}"),
            "nothing to change on the rig"
        );
    }
}
