//! The shots a scan takes, each with its place and name, and what makes
//! one shot a set of frames (a bracket).

use std::collections::BTreeMap;
use std::time::Duration;

use scanrig_hardware::axis::TableWay;
use scanrig_hardware::camera::CaptureRequest;
use scanrig_hardware::Degrees;
use serde::{Deserialize, Serialize};

use super::{CameraName, Frame, Part, PhotoName, Place, Priors, ScanId, Sent, ShotId, Target};

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
    pub cameras: Vec<CameraName>,
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
    /// Where that settle time came from (journals from before learned
    /// settle times: the profile).
    #[serde(default, skip_serializing_if = "SettleFrom::is_profile")]
    pub settle_from: SettleFrom,
    /// Camera settings applied once at the start.
    pub camera: BTreeMap<String, String>,
    /// The shots, in capture order.
    pub shots: Vec<ShotPlan>,
    /// Which way the table turns to each shot (journals from before it:
    /// the shorter way round).
    #[serde(default, skip_serializing_if = "is_shortest")]
    pub table_way: TableWay,
    /// Where the photos go; set when the scan starts (`None` in journals
    /// written before scans named their place: the default destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Place>,
    /// The destinations every photo goes to, when there are several (the
    /// first is also `destination`); empty: `destination` alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Target>,
    /// The pose priors written beside the manifest at its end; set when
    /// the scan starts (`None`: none, or a journal from before priors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priors: Option<Priors>,
    /// Each shot a set of frames (an exposure bracket or a focus stack);
    /// `None`: one frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bracket: Option<Box<Bracket>>,
    /// Each light's brightness during the scan, percent (a light not
    /// named: 100 %).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lights: BTreeMap<String, u8>,
}

fn is_shortest(way: &TableWay) -> bool {
    *way == TableWay::Shortest
}

/// Where a scan's settle time came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettleFrom {
    /// The profile's `settle_ms`.
    #[default]
    Profile,
    /// What the rig learned (`settle_ms = "auto"`).
    Learned,
    /// `settle_ms = "auto"` with nothing learned yet: the safe settle.
    Safe,
}

impl SettleFrom {
    /// The profile's own.
    pub fn is_profile(&self) -> bool {
        *self == SettleFrom::Profile
    }

    /// In words: `profile`, `learned` or `safe`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SettleFrom::Profile => "profile",
            SettleFrom::Learned => "learned",
            SettleFrom::Safe => "safe",
        }
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BracketKind {
    /// Exposure (compensation or shutter speed): fused for range.
    Exposure,
    /// Focus: stacked for depth of field.
    Focus,
}

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
    pub cameras: Vec<CameraName>,
}

impl ScanPlan {
    /// Where each photo goes: the scan's one destination, or each of its
    /// several, in the order configured.
    pub fn sent_to(&self) -> Vec<Sent> {
        if self.destinations.is_empty() {
            return vec![Sent {
                name: None,
                place: self.destination.clone(),
            }];
        }
        self.destinations
            .iter()
            .map(|t| Sent {
                name: Some(t.name.clone()),
                place: Some(t.place.clone()),
            })
            .collect()
    }

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
            settle_from: SettleFrom::Profile,
            camera,
            shots,
            table_way: TableWay::Shortest,
            destination: None,
            destinations: Vec::new(),
            priors: None,
            bracket: None,
            lights: BTreeMap::new(),
        }
    }

    /// The settle time.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }

    /// The settle time of take `take` of a shot: a blurred photo is
    /// taken again after settling twice as long as the take before, and
    /// at least half a second longer.
    pub fn settle_for(&self, take: u32) -> Duration {
        (1..take).fold(self.settle(), |settle, _| {
            (settle * 2).max(settle + Duration::from_millis(500))
        })
    }

    /// The plan of one shot.
    pub fn shot(&self, id: ShotId) -> &ShotPlan {
        &self.shots[id.0 as usize - 1]
    }

    /// Each ring's number with its first and last shot, in shot order.
    pub fn rings(&self) -> Vec<(u32, ShotId, ShotId)> {
        let mut rings: Vec<(u32, ShotId, ShotId)> = Vec::new();
        for s in &self.shots {
            match rings.last_mut() {
                Some((ring, _, last)) if *ring == s.ring => *last = s.id,
                _ => rings.push((s.ring, s.id, s.id)),
            }
        }
        rings
    }

    /// Whether camera `camera` of a column (`None`: the rig's only
    /// camera, which shoots every shot) shoots shot `id`.
    pub fn shoots(&self, id: ShotId, camera: Option<&CameraName>) -> bool {
        let named = &self.shot(id).cameras;
        camera.is_none_or(|c| named.is_empty() || named.contains(c))
    }

    /// The camera names some shot of the plan asks for that `rig` (the
    /// column's cameras) does not have.
    pub fn cameras_missing(&self, rig: &[Option<CameraName>]) -> Vec<CameraName> {
        let mut missing: Vec<CameraName> = self
            .shots
            .iter()
            .flat_map(|s| &s.cameras)
            .filter(|n| !rig.iter().flatten().any(|c| c == *n))
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

    /// The parts of stop `id`: every frame of its set, of each camera of
    /// `cameras` (the column, in its order) that shoots it.
    pub fn parts(&self, id: ShotId, cameras: &[Option<CameraName>]) -> Vec<Part> {
        cameras
            .iter()
            .filter(|c| self.shoots(id, c.as_ref()))
            .flat_map(|c| {
                (0..self.frames()).map(move |frame| Part {
                    camera: c.clone(),
                    frame,
                })
            })
            .collect()
    }

    /// The name of part `part`'s photo of take `take` of shot `id`:
    /// `<shot's stem>[_<camera>][_b<frame + 1>][_take<take>]` (no `_b…`
    /// without a bracket, no `_take…` for the first take).
    pub fn photo(&self, id: ShotId, part: &Part, take: u32) -> PhotoName {
        let frame = match self.bracket {
            Some(_) => Frame::Bracket(part.frame as u32 + 1),
            None => Frame::Only,
        };
        PhotoName {
            shot: self.shot(id).stem.clone(),
            camera: part.camera.clone(),
            frame,
            take,
        }
    }

    /// What the camera of `part` takes at take `take` of shot `id`.
    pub fn capture_request(&self, id: ShotId, part: &Part, take: u32) -> CaptureRequest {
        let s = self.shot(id);
        CaptureRequest {
            stem: self.photo(id, part, take).to_string(),
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
    fn the_table_s_way_is_kept_with_the_plan_for_a_resume() {
        let mut plan = ScanPlan::new(
            ScanId::new(0, "x"),
            "x",
            "x",
            Duration::ZERO,
            BTreeMap::new(),
            &ring(4, 0.0),
        );
        // The default is not written: journals from before read the same.
        let shortest = serde_json::to_value(&plan).unwrap();
        assert!(shortest.get("table_way").is_none(), "{shortest}");
        let read: ScanPlan = serde_json::from_value(shortest).unwrap();
        assert_eq!(read.table_way, TableWay::Shortest);
        plan.table_way = TableWay::AsListed;
        let listed = serde_json::to_value(&plan).unwrap();
        assert_eq!(listed["table_way"], "as_listed");
        assert_eq!(serde_json::from_value::<ScanPlan>(listed).unwrap(), plan);
    }

    #[test]
    fn rings_run_from_their_first_shot_to_their_last() {
        let mut stations = ring(3, 0.0);
        stations.extend(ring(1, 30.0).into_iter().map(|s| Station { ring: 2, ..s }));
        stations.extend(ring(2, 60.0).into_iter().map(|s| Station { ring: 3, ..s }));
        let plan = ScanPlan::new(
            ScanId::new(0, "rings"),
            "rings",
            "rings",
            Duration::ZERO,
            BTreeMap::new(),
            &stations,
        );
        assert_eq!(
            plan.rings(),
            [
                (1, ShotId(1), ShotId(3)),
                (2, ShotId(4), ShotId(4)),
                (3, ShotId(5), ShotId(6))
            ]
        );
        assert!(ScanPlan::default().rings().is_empty());
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
