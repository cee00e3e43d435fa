//! The setup check before a scan, as `scanrig check` and `POST
//! /api/v1/check` both ask for it: the check of a profile (its photos in
//! the spool's `check` folder, never a scan's), and its report as JSON.

use scanrig_actors::clock::unix_now;
use scanrig_actors::manual::check::{Check, CheckReport};
use scanrig_actors::model::ScanId;
use serde_json::{json, Value};

use crate::profile::Profile;
use crate::settings::{Settings, TiltBackend};

/// The spool's folder of the last check's photos.
pub const FOLDER: &str = "check";

/// The check of `profile` asked by `origin`.
pub fn request(settings: &Settings, profile: &Profile, origin: String) -> Check {
    Check {
        plan: profile.plan(ScanId::new(unix_now(), &profile.name)),
        dir: settings.spool_dir().join(FOLDER),
        limits: settings.quality.limits(),
        origin,
        manual_tilt: settings.tilt.backend == TiltBackend::None,
    }
}

/// The report as JSON: each pose with `good`, and `good` over all.
pub fn report_json(report: &CheckReport) -> Value {
    let poses: Vec<Value> = report
        .poses
        .iter()
        .map(|p| {
            let mut pose = json!(p);
            pose["good"] = json!(p.is_good());
            pose
        })
        .collect();
    json!({
        "profile": report.profile,
        "good": report.is_good(),
        "poses": poses,
        "returned_to": {"azimuth": report.returned_to.0, "tilt": report.returned_to.1},
        "homed": report.homed,
        "unchecked_tilts": report.unchecked_tilts,
    })
}
