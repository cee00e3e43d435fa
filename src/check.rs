//! The setup check before a scan, as `scanrig check` and `POST
//! /api/v1/check` both ask for it: the check of a profile (its photos in
//! the spool's `check` folder, emptied first, never a scan's), and its
//! report as JSON.

use std::path::Path;

use anyhow::Context as _;
use scanrig_actors::clock::unix_now;
use scanrig_actors::manual::check::{Check, CheckReport};
use scanrig_actors::model::ScanId;
use scanrig_hardware::judge::QualityLimits;
use serde_json::{json, Value};

use crate::profile::Profile;
use crate::settings::Settings;

/// The spool's folder of the last check's photos.
pub const FOLDER: &str = "check";

/// How a check photo's name begins.
pub const PHOTO_PREFIX: &str = "check_";

/// The check of `profile` asked by `origin`, its folder emptied of the
/// last check's photos (blocking).
pub fn request(settings: &Settings, profile: &Profile, origin: String) -> anyhow::Result<Check> {
    let dir = settings.spool_dir().join(FOLDER);
    empty(&dir).with_context(|| format!("cannot empty the check's folder {}", dir.display()))?;
    Ok(Check {
        plan: profile.plan(ScanId::new(unix_now(), &profile.name)),
        dir,
        limits: QualityLimits::default(),
        origin,
    })
}

/// Makes `dir`, without the check photos it held.
fn empty(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let ours = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(PHOTO_PREFIX));
        if ours && path.is_file() {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
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
    })
}
