//! Unit tests of the journal: appends, replay, torn and damaged lines.

mod columns;
mod damage;
mod destinations;
mod judging;
mod replay;
mod triggered;

use std::time::Duration;

use scanrig_hardware::Degrees;

use super::*;
use crate::model::{
    CameraName, Frame, Outcome, Part, Place, Quality, ScanId, ShotId, SpoolFile, Station,
};
use crate::sequence::ShotState;

pub(crate) fn plan(n: u32) -> ScanPlan {
    let stations: Vec<Station> = (0..n)
        .map(|i| Station {
            ring: 1,
            index: i + 1,
            azimuth: Degrees(f64::from(i) * 90.0),
            tilt: Degrees(0.0),
            cameras: Vec::new(),
        })
        .collect();
    ScanPlan::new(
        ScanId::new(1_800_000_000, "t"),
        "t",
        "t",
        Duration::ZERO,
        BTreeMap::new(),
        &stations,
    )
}

/// The journal in `dir` of a scan of `n` shots just started.
fn started(dir: &Path, n: u32) -> JournalWriter {
    let mut j = JournalWriter::open(dir).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(n),
    })
    .unwrap();
    j
}

pub(crate) fn file(n: u32) -> Vec<SpoolFile> {
    vec![SpoolFile {
        name: format!("t_{n}.jpg"),
        sha256: "ab".repeat(32),
        size: 10,
        pixels: Some([640, 480]),
        camera: None,
        frame: Frame::Only,
    }]
}

/// A plan of `n` shots sent to two destinations, `nas` and `offsite`.
pub(crate) fn plan_to_two(n: u32) -> ScanPlan {
    let mut p = plan(n);
    let target = |name: &str| crate::model::Target {
        name: name.into(),
        place: Place::Local {
            dir: format!("/{name}").into(),
        },
    };
    p.destinations = vec![target("nas"), target("offsite")];
    p.destination = Some(p.destinations[0].place.clone());
    p
}
