//! Where each shot of a scan stands, placed by azimuth and tilt: what the
//! web page draws as the scan's coverage picture, for a scan running now
//! (from its sequence) or one read back from its journal.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{ScanPlan, ShotId};
use crate::sequence::ShotState;

/// A shot's place in the picture's colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Not taken yet.
    Pending,
    /// Being taken: exposed, downloading or being journaled.
    Active,
    /// In the spool, not at the destination yet.
    Captured,
    /// At the destination.
    Uploaded,
    /// Its upload gave up, or its photo is lost.
    Failed,
}

impl From<ShotState> for Coverage {
    fn from(state: ShotState) -> Coverage {
        match state {
            ShotState::Pending => Coverage::Pending,
            ShotState::Exposing
            | ShotState::Exposed
            | ShotState::Downloading
            | ShotState::Persisting => Coverage::Active,
            ShotState::Captured | ShotState::Uploading | ShotState::Triggered => Coverage::Captured,
            ShotState::Uploaded => Coverage::Uploaded,
            ShotState::UploadAbandoned => Coverage::Failed,
        }
    }
}

/// One shot of the picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShotView {
    /// Its number in the scan, from 1.
    pub shot: u32,
    /// Its file name without extension.
    pub stem: String,
    /// Its ring, from 1.
    pub ring: u32,
    /// Turntable angle, degrees.
    pub azimuth: f64,
    /// Tilt angle, degrees.
    pub tilt: f64,
    /// Where it stands.
    pub state: Coverage,
    /// Its photos the judges flagged, each with its problems in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flagged: Vec<String>,
}

/// Every shot of `plan`, with `states` (one per shot, in plan order; shots
/// past its end count as pending) and its photos `flagged`.
pub fn shots(
    plan: &ScanPlan,
    states: &[ShotState],
    flagged: &BTreeMap<ShotId, Vec<String>>,
) -> Vec<ShotView> {
    plan.shots
        .iter()
        .enumerate()
        .map(|(i, s)| ShotView {
            shot: s.id.0,
            stem: s.stem.clone(),
            ring: s.ring,
            azimuth: s.azimuth.get(),
            tilt: s.tilt.get(),
            state: states
                .get(i)
                .copied()
                .map_or(Coverage::Pending, Coverage::from),
            flagged: flagged.get(&s.id).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The shot the rig is at or turning to: the first one not taken yet or
/// being taken, if any.
pub fn current(states: &[ShotState]) -> Option<u32> {
    states
        .iter()
        .position(|s| matches!(s, ShotState::Pending | ShotState::Exposing))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ScanId, ShotId, ShotPlan};
    use scanrig_hardware::Degrees;

    fn plan(n: u32) -> ScanPlan {
        ScanPlan {
            scan: ScanId::from_existing("s"),
            shots: (1..=n)
                .map(|i| ShotPlan {
                    id: ShotId(i),
                    ring: 1 + (i - 1) / 2,
                    index: 1 + (i - 1) % 2,
                    azimuth: Degrees(f64::from((i - 1) % 2) * 180.0),
                    tilt: Degrees(f64::from((i - 1) / 2) * 30.0),
                    stem: format!("s_{i:04}"),
                    cameras: Vec::new(),
                })
                .collect(),
            ..ScanPlan::default()
        }
    }

    #[test]
    fn each_shot_is_placed_and_coloured_by_its_state() {
        use ShotState::*;
        let states = [Uploaded, UploadAbandoned, Captured, Downloading, Pending];
        let flagged = BTreeMap::from([(ShotId(3), vec!["s_0003.jpg: blurred".to_owned()])]);
        let views = shots(&plan(6), &states, &flagged);
        let got: Vec<_> = views.iter().map(|v| (v.shot, v.state)).collect();
        assert_eq!(
            got,
            [
                (1, Coverage::Uploaded),
                (2, Coverage::Failed),
                (3, Coverage::Captured),
                (4, Coverage::Active),
                (5, Coverage::Pending),
                (6, Coverage::Pending),
            ]
        );
        assert_eq!(
            (views[3].azimuth, views[3].tilt, views[3].ring),
            (180.0, 30.0, 2)
        );
        assert_eq!(views[4].stem, "s_0005");
        assert_eq!(views[2].flagged, ["s_0003.jpg: blurred"]);
        assert!(views[1].flagged.is_empty());
    }

    #[test]
    fn the_current_shot_is_the_first_not_yet_taken() {
        use ShotState::*;
        assert_eq!(current(&[Uploaded, Captured, Exposing, Pending]), Some(3));
        assert_eq!(current(&[Captured, Downloading, Pending]), Some(3));
        assert_eq!(current(&[Uploaded, Uploaded]), None);
    }
}
