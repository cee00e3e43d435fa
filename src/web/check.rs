//! `POST /check`: the setup check of a profile before a scan, refused
//! while a scan runs or the motors are busy, and on a rig with a camera
//! fired by a wire (no photo to judge); each pose's photo is served
//! from the spool's check folder (`/photos/check/<name>`).

use actix_web::{web, HttpRequest, HttpResponse};
use scanrig_actors::manual::check::CheckReport;
use serde::Deserialize;
use serde_json::json;

use super::devices::origin;
use super::error::{ApiError, ApiResult};
use super::Shared;
use crate::check;
use crate::remote::{find_profile, CommandError};

/// `POST /check`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckBody {
    /// The profile whose poses are checked.
    profile: String,
}

/// Checks the set-up for a profile: the report of `scanrig check --json`,
/// each pose with its photo's address.
pub(super) async fn check(
    shared: web::Data<Shared>,
    req: HttpRequest,
    body: web::Json<CheckBody>,
) -> ApiResult {
    if let Some(why) = check::refused(&shared.settings) {
        return Err(ApiError::conflict(why).with_code("wired_camera"));
    }
    let profile = find_profile(&shared.settings, body.into_inner().profile).await?;
    let request = check::request(&shared.settings, &profile, origin(&req));
    let report: CheckReport = shared.manual.send(request).await??;
    let (settings, kept) = (shared.settings.clone(), report.clone());
    web::block(move || check::keep(&settings, &kept))
        .await
        .map_err(|e| CommandError::Internal(e.to_string()))?
        .map_err(|e| CommandError::Internal(format!("cannot keep the settle time learned: {e}")))?;
    let mut out = check::report_json(&report);
    if let Some(poses) = out["poses"].as_array_mut() {
        for pose in poses {
            let name = pose["photo"].as_str().unwrap_or_default().to_owned();
            pose["photo_url"] = json!(format!("/api/v1/photos/{}/{name}", check::FOLDER));
        }
    }
    Ok(HttpResponse::Ok().json(out))
}
