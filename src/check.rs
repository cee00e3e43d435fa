//! The setup check before a scan, as `scanrig check` and `POST
//! /api/v1/check` both ask for it: the check of a profile (its photos in
//! the spool's `check` folder, never a scan's), the settle time it
//! learned kept, and its report as JSON.

use scanrig_actors::clock::unix_now;
use scanrig_actors::manual::check::{Check, CheckReport};
use scanrig_actors::model::ScanId;
use scanrig_actors::settle::Learned;
use serde_json::{json, Value};

use crate::profile::{Profile, Settle};
use crate::settings::{Settings, TiltBackend};

/// The spool's folder of the last check's photos.
pub const FOLDER: &str = "check";

/// Why the rig cannot be checked, if it cannot: a camera fired by a wire
/// sends no photo back to judge.
pub fn refused(settings: &Settings) -> Option<String> {
    let wired = crate::settings::wired_cameras(settings);
    let names: Vec<&str> = wired.iter().filter_map(|(_, name, _)| *name).collect();
    let which = match names[..] {
        [] if wired.is_empty() => return None,
        [] => "a camera fired by a wire (camera.backend = \"trigger\")".to_owned(),
        _ => format!(
            "the column's camera {} is fired by a wire (backend = \"trigger\") and",
            names.join(", ")
        ),
    };
    Some(format!(
        "the setup check judges the camera's photos, and {which} sends none back; `scanrig camera capture` fires it once, to look at the photo on the camera"
    ))
}

/// The check of `profile` asked by `origin`.
/// With `settle_ms = "auto"` the check learns the settle time first.
pub fn request(settings: &Settings, profile: &Profile, origin: String) -> Check {
    let auto = settings.quality.auto_settle();
    let scan = ScanId::new(unix_now(), &profile.name);
    Check {
        plan: profile.plan(scan, None, auto.safe_ms),
        dir: settings.spool_dir().join(FOLDER),
        limits: settings.quality.limits(),
        learn: (profile.settle == Settle::Auto).then_some(auto),
        origin,
        manual_tilt: settings.tilt.backend == TiltBackend::None,
    }
}

/// Keeps the settle time the check learned, if it learned one, for the
/// scans of auto profiles (blocking).
pub fn keep(settings: &Settings, report: &CheckReport) -> std::io::Result<()> {
    match &report.settle {
        Some(learned) => settings.settle_store().keep(learned),
        None => Ok(()),
    }
}

/// What was learned, in words.
pub fn learned_text(l: &Learned) -> String {
    format!(
        "settle time learned: {} ms (reference sharpness {:.0} after {} ms, as sharp from {} ms)",
        l.settle_ms, l.reference, l.safe_ms, l.as_sharp_from_ms
    )
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
        "settle": report.settle,
    })
}
