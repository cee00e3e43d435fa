//! What a scan is: its id, and the shots it takes, each with its place and
//! file name.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use scanrig_hardware::camera::CaptureRequest;

use crate::destination::Place;
use crate::poses::export::Priors;
use scanrig_hardware::Degrees;
use serde::{Deserialize, Serialize};

/// Identifies one scan: `<UTC start time>-<profile>`, e.g.
/// `20261122T101500Z-demo`. Sorts by start time; names the spool folder and
/// the folder at the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScanId(String);

impl ScanId {
    /// The id of a scan of `profile` started at `started` (seconds since the
    /// Unix epoch).
    pub fn new(started_unix: u64, profile: &str) -> ScanId {
        let stamp = crate::clock::compact_utc(started_unix);
        ScanId(format!("{stamp}-{profile}"))
    }

    /// Wraps an id read back from disk or given by the user.
    pub fn from_existing(id: &str) -> ScanId {
        ScanId(id.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A shot's number within its scan, counted from 1 in capture order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShotId(pub u32);

impl fmt::Display for ShotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shot {}", self.0)
    }
}

/// One planned shot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotPlan {
    /// Its number in the scan.
    pub id: ShotId,
    /// Ring number, from 1.
    pub ring: u32,
    /// Number within the ring, from 1.
    pub index: u32,
    /// Turntable angle.
    pub azimuth: Degrees,
    /// Tilt angle.
    pub tilt: Degrees,
    /// File name without extension, e.g. `demo_0003_r1_az090.0_t+15.0`.
    pub stem: String,
    /// The cameras of a column that shoot it, by name; empty: every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<String>,
}

/// Everything a scan needs to run, and to resume after a crash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanPlan {
    /// The scan's id.
    pub scan: ScanId,
    /// Name of the profile it follows.
    pub profile: String,
    /// Wait after each move before the shutter, in milliseconds.
    pub settle_ms: u64,
    /// Camera settings applied once at the start.
    pub camera: BTreeMap<String, String>,
    /// The shots, in capture order.
    pub shots: Vec<ShotPlan>,
    /// Where the photos go; set when the scan starts (`None` in journals
    /// written before scans named their place: the default destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Place>,
    /// The pose priors written beside the manifest at its end; set when
    /// the scan starts (`None`: none, or a journal from before priors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priors: Option<Priors>,
    /// Each shot a set of frames (an exposure bracket or a focus stack);
    /// `None`: one frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bracket: Option<Box<Bracket>>,
}

/// A set of frames taken at every stop, each with its own settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bracket {
    /// What the frames step: exposure or focus.
    pub kind: BracketKind,
    /// Each frame's settings, applied just before its exposure, in order.
    pub frames: Vec<BTreeMap<String, String>>,
    /// Applied after a set's last frame (back to the first setting, or
    /// the focus back to where the set began); empty: nothing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub after: BTreeMap<String, String>,
}

/// What a bracket steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BracketKind {
    /// Exposure (compensation or shutter speed): fused for range.
    Exposure,
    /// Focus: stacked for depth of field.
    Focus,
}

/// Which frame of a stop's set, for which camera: (camera's place in the
/// column, frame number from 0).
pub type Part = (usize, usize);

/// Digits of the shot number in file names: at least 4, and enough for the
/// scan's last shot, so that names sort in capture order.
pub fn number_width(shots: usize) -> usize {
    shots.to_string().len().max(4)
}

/// A place to shoot from, as a profile lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// Ring number, from 1.
    pub ring: u32,
    /// Number within the ring, from 1.
    pub index: u32,
    /// Turntable angle.
    pub azimuth: Degrees,
    /// Tilt angle.
    pub tilt: Degrees,
    /// The cameras of a column that shoot here, by name; empty: every one.
    pub cameras: Vec<String>,
}

impl ScanPlan {
    /// Numbers and names the stations of a profile.
    pub fn new(
        scan: ScanId,
        profile: &str,
        prefix: &str,
        settle: Duration,
        camera: BTreeMap<String, String>,
        stations: &[Station],
    ) -> ScanPlan {
        let width = number_width(stations.len());
        let shots = stations
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let id = ShotId(i as u32 + 1);
                ShotPlan {
                    id,
                    ring: s.ring,
                    index: s.index,
                    azimuth: s.azimuth,
                    tilt: s.tilt,
                    stem: format!(
                        "{prefix}_{:0width$}_r{}_az{:05.1}_t{:+05.1}",
                        id.0,
                        s.ring,
                        s.azimuth.get(),
                        s.tilt.get()
                    ),
                    cameras: s.cameras.clone(),
                }
            })
            .collect();
        ScanPlan {
            scan,
            profile: profile.to_owned(),
            settle_ms: settle.as_millis() as u64,
            camera,
            shots,
            destination: None,
            priors: None,
            bracket: None,
        }
    }

    /// The settle time.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }

    /// The plan of one shot.
    pub fn shot(&self, id: ShotId) -> &ShotPlan {
        &self.shots[id.0 as usize - 1]
    }

    /// Whether the column's camera `camera` shoots shot `id` (a rig's only
    /// camera, named "", shoots every shot).
    pub fn shoots(&self, id: ShotId, camera: &str) -> bool {
        let named = &self.shot(id).cameras;
        camera.is_empty() || named.is_empty() || named.iter().any(|n| n == camera)
    }

    /// The camera names some shot of the plan asks for that `rig` (the
    /// column's camera names) does not have.
    pub fn cameras_missing(&self, rig: &[&str]) -> Vec<String> {
        let mut missing: Vec<String> = self
            .shots
            .iter()
            .flat_map(|s| &s.cameras)
            .filter(|n| !rig.contains(&n.as_str()))
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// Frames in each shot's set (1 without a bracket).
    pub fn frames(&self) -> usize {
        self.bracket.as_ref().map_or(1, |b| b.frames.len().max(1))
    }

    /// What camera `camera` of a column (empty: the rig's only camera)
    /// takes at shot `id` as frame `frame` (from 0) of its set: its photos
    /// are named `<shot's stem>_<camera>_b<frame + 1>` (no `_<camera>` for
    /// a rig's only camera, no `_b…` without a bracket).
    pub fn capture_request(&self, id: ShotId, camera: &str, frame: usize) -> CaptureRequest {
        let s = self.shot(id);
        let mut stem = match camera {
            "" => s.stem.clone(),
            name => format!("{}_{name}", s.stem),
        };
        if self.bracket.is_some() {
            stem = format!("{stem}_b{}", frame + 1);
        }
        CaptureRequest {
            stem,
            label: format!("{} #{} ring {} shot {}", self.scan, id.0, s.ring, s.index),
            azimuth: s.azimuth,
            tilt: s.tilt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: u32, tilt: f64) -> Vec<Station> {
        (0..n)
            .map(|i| Station {
                ring: 1,
                index: i + 1,
                azimuth: Degrees(f64::from(i) * 360.0 / f64::from(n)),
                tilt: Degrees(tilt),
                cameras: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn names_sort_in_capture_order_and_carry_the_angles() {
        let plan = ScanPlan::new(
            ScanId::new(0, "demo"),
            "demo",
            "demo",
            Duration::from_millis(100),
            BTreeMap::new(),
            &ring(12, -15.0),
        );
        let names: Vec<&str> = plan.shots.iter().map(|s| s.stem.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names[3], "demo_0004_r1_az090.0_t-15.0");
        assert_eq!(plan.scan.as_str(), "19700101T000000Z-demo");
        assert_eq!(plan.shot(ShotId(4)).azimuth, Degrees(90.0));
    }

    #[test]
    fn past_9999_shots_the_number_widens_and_names_still_sort() {
        let plan = ScanPlan::new(
            ScanId::new(0, "big"),
            "big",
            "big",
            Duration::ZERO,
            BTreeMap::new(),
            &ring(10_000, 0.0),
        );
        assert_eq!(plan.shots[0].stem, "big_00001_r1_az000.0_t+00.0");
        assert!(plan.shots[9_999].stem.starts_with("big_10000_"));
        let names: Vec<&str> = plan.shots.iter().map(|s| s.stem.as_str()).collect();
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "names sort in capture order"
        );
        assert_eq!(
            (number_width(8), number_width(9_999), number_width(10_000)),
            (4, 4, 5)
        );
    }
}
