//! The rig's commands — start a scan, pause, resume, stop, home — with the
//! rules the REST API applies and its refusals (status, code, words). The
//! API's handlers and MQTT's commands both come here, so a rig answers the
//! same whichever way it is asked.

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::web;
use scanrig_actors::manual::HomeAll;
use scanrig_actors::supervisor::{Control, GetStatus, Manual, StartScan, Supervisor};
use serde_json::json;

use super::error::ApiError;
use crate::profile::Profile;
use crate::scans::new_plan;
use crate::settings::Settings;

/// A profile by name (never a path: a remote client reads no file it
/// names).
pub(crate) async fn find_profile(settings: &Settings, name: String) -> Result<Profile, ApiError> {
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.ends_with(".toml") {
        return Err(ApiError::bad(format!(
            "{name:?} is not a profile name; see GET /api/v1/profiles"
        )));
    }
    let dirs = settings.profiles.dirs.clone();
    let limits = settings.limits();
    let found = web::block(move || Profile::find(&name, &dirs).and_then(|p| p.for_rig(&limits)))
        .await
        .map_err(ApiError::internal)?;
    found.map_err(|e| {
        if e.is_not_found() {
            ApiError::new(StatusCode::NOT_FOUND, e.to_string())
        } else {
            ApiError::bad(e.to_string())
        }
    })
}

/// Starts a scan of `profile` (the message the Start button leads to);
/// the new scan's id.
pub(crate) async fn start(
    settings: &Settings,
    sup: &Addr<Supervisor>,
    profile: String,
) -> Result<String, ApiError> {
    let profile = find_profile(settings, profile).await?;
    let spool = settings.spool_dir();
    let plan = web::block(move || new_plan(&profile, &spool))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let scan = plan.scan.to_string();
    sup.send(StartScan { plan, resume: None }).await??;
    Ok(scan)
}

/// The operator's request an action names (`pause`, `resume`, `stop`).
pub(crate) fn action(name: &str) -> Result<Control, ApiError> {
    match name {
        "pause" => Ok(Control::Pause),
        "resume" => Ok(Control::Resume),
        "stop" => Ok(Control::Stop),
        other => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{other:?} is not an action; use pause, resume or stop"),
        )),
    }
}

/// Pauses, resumes or stops the scan; the scan's sequence refuses what
/// its state does not allow, and the refusal says the rig's state.
pub(crate) async fn control(sup: &Addr<Supervisor>, control: Control) -> Result<(), ApiError> {
    let Err(refusal) = sup.send(control).await? else {
        return Ok(());
    };
    let state = sup.send(GetStatus).await?.state;
    Err(ApiError::conflict(format!(
        "{refusal} (the rig is {})",
        json!(state).as_str().unwrap_or("busy")
    )))
}

/// Homes every axis, once nothing else moves them; `origin` says who asked.
pub(crate) async fn home(sup: &Addr<Supervisor>, origin: String) -> Result<(), ApiError> {
    let manual = sup.send(Manual).await?;
    manual.send(HomeAll { origin }).await??;
    Ok(())
}
