//! The REST API, `/api/v1` (described by `openapi.json`, served beside it).
//! Every answer is JSON but the event stream, the preview stream and
//! thumbnails; every error is `{"error": "...", "code": "..."}` with the
//! HTTP status that fits. What the rig's state does not allow is refused
//! with 409, before anything moves.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use scanrig_actors::supervisor::GetStatus;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::policy::{no_body, Endpoint};
use super::{archive, check, checks, devices, history, streams, Shared};
use crate::profile::Profile;
use crate::remote::{self, find_profile, status_json};
use crate::scans::SpoolState;

/// The OpenAPI document of this API.
const OPENAPI: &str = include_str!("openapi.json");

/// The routes under `/api/v1`.
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    let photo = "/photos/{scan}/{name}";
    let endpoints = [
        Endpoint::new("/openapi.json").get(openapi),
        Endpoint::new("/status").get(status),
        Endpoint::new("/events").get(streams::events),
        Endpoint::new("/profiles").get(profiles),
        Endpoint::new("/profiles/{name}").get(profile),
        Endpoint::new("/profiles/{name}/shots").get(profile_shots),
        Endpoint::new("/scans").get(scans).post(start_scan),
        Endpoint::new("/scans/current/{action}").post(control),
        Endpoint::new("/scans/{id}/resume").post(resume_scan),
        Endpoint::new("/scans/{id}").get(scan),
        Endpoint::new("/scans/{id}/shots").get(history::shots),
        Endpoint::new("/scans/{id}/photos").get(history::photos),
        Endpoint::new("/scans/{id}/archive.zip").get(archive::archive),
        Endpoint::new("/scans/{id}/checks/{ring}/{picture}").get(checks::picture),
        Endpoint::new("/uploads").get(uploads),
        Endpoint::new("/uploads/retry").post(retry_uploads),
        Endpoint::new("/photos").get(devices::photos),
        Endpoint::new(&format!("{photo}/thumbnail")).get(devices::thumbnail),
        Endpoint::new(photo).get(history::photo),
        Endpoint::new("/camera/settings")
            .get(devices::camera_settings)
            .post(devices::change_setting),
        Endpoint::new("/camera/capture").post(devices::camera_capture),
        Endpoint::new("/preview").get(devices::preview),
        Endpoint::new("/motor/jog").post(devices::jog),
        Endpoint::new("/motor/home").post(devices::home),
        Endpoint::new("/motor/stop").post(devices::stop),
        Endpoint::new("/check").post(check::check),
        Endpoint::new("/lights").get(lights),
        Endpoint::new("/lights/{name}").post(set_light),
    ];
    for e in endpoints {
        cfg.service(e.done());
    }
    cfg.default_service(web::to(|| async {
        Err::<HttpResponse, _>(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such API endpoint; see /api/v1/openapi.json",
        ))
    }));
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

async fn status(shared: web::Data<Shared>) -> ApiResult {
    let s = shared.sup.send(GetStatus).await?;
    let store = shared.settings.settle_store();
    // A damaged file shows as nothing learned here; the scan that would
    // use it refuses to start and says what to do.
    let learned = web::block(move || store.load().ok().flatten())
        .await
        .map_err(ApiError::internal)?;
    let mut out = status_json(&s);
    out["settle"] = json!(learned);
    Ok(HttpResponse::Ok().json(out))
}

fn profile_summary(
    name: &str,
    source: &str,
    p: &Result<Profile, crate::config_error::ConfigErrors>,
) -> Value {
    match p {
        Ok(p) => {
            json!({"name": name, "description": p.description, "shots": p.shots().len(), "source": source})
        }
        Err(e) => json!({"name": name, "source": source, "error": e.to_string()}),
    }
}

async fn profiles(shared: web::Data<Shared>) -> ApiResult {
    let dirs = shared.settings.profiles.dirs.clone();
    let limits = shared.settings.limits();
    let list = web::block(move || {
        Profile::list(&dirs)
            .into_iter()
            .map(|(name, source, p)| (name, source, p.and_then(|p| p.for_rig(&limits))))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(ApiError::internal)?;
    let out: Vec<Value> = list
        .iter()
        .map(|(name, source, p)| profile_summary(name, source, p))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn profile(shared: web::Data<Shared>, name: web::Path<String>) -> ApiResult {
    let p = find_profile(&shared.settings, name.into_inner()).await?;
    let rings: Vec<Value> = p
        .rings
        .iter()
        .map(|r| json!({"tilt": r.tilt, "shots": r.shots, "start": r.start, "cameras": r.cameras}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "name": p.name, "description": p.description, "source": p.source,
        "shots": p.shots().len(), "settle_ms": p.settle.json(), "prefix": p.prefix(),
        "camera": p.camera, "rings": rings,
        "sphere": p.sphere.map(|s| json!({"points": s.points, "tilt_min": s.tilt_min, "tilt_max": s.tilt_max})),
        "bracket": p.bracket,
    })))
}

/// `GET /profiles/{name}/shots`: what a profile would shoot, placed by
/// azimuth and tilt (the picture before a scan starts).
async fn profile_shots(shared: web::Data<Shared>, name: web::Path<String>) -> ApiResult {
    let p = find_profile(&shared.settings, name.into_inner()).await?;
    let safe_ms = shared.settings.quality.auto_settle_safe_ms;
    let plan = p.plan(
        scanrig_actors::model::ScanId::from_existing(&p.name),
        None,
        safe_ms,
    );
    let shots = scanrig_actors::coverage::shots(&plan, &[], &Default::default());
    Ok(HttpResponse::Ok().json(json!({"profile": p.name, "shots": shots})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    profile: String,
}

/// Starts a scan: the same message the Start button leads to.
async fn start_scan(shared: web::Data<Shared>, body: web::Json<StartBody>) -> ApiResult {
    let scan = remote::start(&shared.settings, &shared.sup, body.into_inner().profile).await?;
    Ok(HttpResponse::Accepted().json(json!({"scan": scan})))
}

/// Pause, resume or stop the scan, when its state allows.
async fn control(
    shared: web::Data<Shared>,
    req: HttpRequest,
    action: web::Path<String>,
) -> ApiResult {
    no_body(&req)?;
    remote::control(&shared.sup, remote::action(&action)?).await?;
    Ok(HttpResponse::Accepted().json(json!({})))
}

/// Continues an interrupted scan: what Start on the rig does for the
/// latest one.
async fn resume_scan(
    shared: web::Data<Shared>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult {
    no_body(&req)?;
    let id = id.into_inner();
    remote::resume(&shared.sup, shared.settings.spool_dir(), id.clone()).await?;
    Ok(HttpResponse::Accepted().json(json!({"scan": id})))
}

async fn spool_state(shared: &Shared) -> Result<SpoolState, ApiError> {
    let spool = shared.settings.spool_dir();
    web::block(move || SpoolState::read(&spool))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

async fn scans(shared: web::Data<Shared>) -> ApiResult {
    let (spool, retention) = (shared.settings.spool_dir(), shared.settings.retention());
    let rows = web::block(move || -> anyhow::Result<Vec<Value>> {
        let state = SpoolState::read(&spool)?;
        Ok(state.rows(&SpoolState::history(&spool)?, &retention))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(rows))
}

async fn scan(shared: web::Data<Shared>, id: web::Path<String>) -> ApiResult {
    let spool = shared.settings.spool_dir();
    let wanted = id.clone();
    let detail = web::block(move || SpoolState::detail(&spool, &wanted))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let row = detail.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("no scan {id} in the spool"))
    })?;
    Ok(HttpResponse::Ok().json(row))
}

async fn uploads(shared: web::Data<Shared>) -> ApiResult {
    let state = spool_state(&shared).await?;
    let rows: Vec<Value> = state
        .scans
        .iter()
        .filter(|s| !s.pending_uploads().is_empty())
        .map(|s| {
            json!({"id": s.id().as_str(), "waiting": s.pending_uploads().len(),
                "failed": s.failed.len(), "last_error": s.failed.values().next_back(),
                "destinations": crate::scans::each_destination(s)})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"scans": rows})))
}

/// Sends the photos still waiting again (scans being worked on are left to
/// their run).
async fn retry_uploads(shared: web::Data<Shared>, req: HttpRequest) -> ApiResult {
    no_body(&req)?;
    let state = spool_state(&shared).await?;
    let mut ids = Vec::new();
    // Asked for by a person: every waiting photo, due or not.
    for drain in state.everything() {
        ids.push(drain.record.id().to_string());
        shared.sup.do_send(drain);
    }
    Ok(HttpResponse::Accepted().json(json!({"scans": ids})))
}

/// `GET /lights`: every light and its brightness.
async fn lights(shared: web::Data<Shared>) -> ApiResult {
    let lights = remote::lights(&shared.sup).await?;
    Ok(HttpResponse::Ok().json(json!({ "lights": lights })))
}

/// `POST /lights/{name}`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LightBody {
    /// Percent, 0 (off) to 100.
    brightness: i64,
}

/// `POST /lights/{name}`: one light set by hand.
async fn set_light(
    shared: web::Data<Shared>,
    name: web::Path<String>,
    body: web::Json<LightBody>,
) -> ApiResult {
    let level = remote::brightness(body.brightness).map_err(ApiError::bad)?;
    let lights = remote::set_light(&shared.sup, name.into_inner(), level).await?;
    Ok(HttpResponse::Ok().json(json!({ "lights": lights })))
}
