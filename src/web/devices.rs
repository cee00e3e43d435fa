//! The devices by hand, while no scan runs: thumbnails of the latest
//! photos, the camera's settings, a test shot, the live preview, jogging
//! and homing the motors.

use std::time::Duration;

use super::thumbnail::thumbnail_file;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream;
use scanrig_actors::clock::unix_now;
use scanrig_actors::manual::{CameraSettings, JogBy, PreviewFrame, SetCameraSetting, TestShot};
use scanrig_actors::supervisor::StopMotors;
use scanrig_actors::turntable::JogAxis;
use scanrig_hardware::axis::StopKind;
use scanrig_hardware::camera::Setting;
use scanrig_hardware::Degrees;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::error::{ApiError, ApiResult};
use super::events::{thumbnail_url, THUMBNAIL_SIDE};
use super::history::photo_file;
use super::policy::no_body;
use super::streams::{client, Slots};
use super::Shared;
use crate::remote::{self, find_profile};

pub(super) async fn photos(shared: web::Data<Shared>) -> ApiResult {
    let thumbs = shared.thumbs.lock().unwrap_or_else(|e| e.into_inner());
    let list: Vec<Value> = thumbs
        .iter()
        .rev()
        .map(|(scan, name, _)| json!({"scan": scan, "name": name, "thumbnail": thumbnail_url(scan, name)}))
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

pub(super) async fn thumbnail(
    shared: web::Data<Shared>,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (scan, name) = path.into_inner();
    let jpeg = match shared.thumbnail(&scan, &name) {
        Some(j) => j.to_vec(),
        None => {
            let mut made = made_thumbnail(&shared, &scan, &name).await?;
            if made
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            {
                // It left the spool for its destination meanwhile: it is
                // looked for again, there.
                made = made_thumbnail(&shared, &scan, &name).await?;
            }
            made.map_err(|_| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no thumbnail of {name}: it is not a JPEG this rig reads"),
                )
            })?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(jpeg))
}

/// A thumbnail made from the photo `name` of `scan` where it is now; the
/// inner error: it could not be read (gone meanwhile) or decoded.
async fn made_thumbnail(
    shared: &Shared,
    scan: &str,
    name: &str,
) -> Result<std::io::Result<Vec<u8>>, ApiError> {
    let file = photo_file(shared, scan, name).await?;
    web::block(move || thumbnail_file(&file, THUMBNAIL_SIDE))
        .await
        .map_err(ApiError::internal)
}

/// `?profile=`: whose settings are marked as set by the profile.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsQuery {
    profile: Option<String>,
    /// The access token, read by the guard.
    #[serde(rename = "token")]
    _token: Option<String>,
}

/// The profile's camera settings, when one is named.
async fn profile_settings(
    shared: &Shared,
    profile: Option<String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    match profile.filter(|p| !p.is_empty()) {
        Some(name) => Ok(find_profile(&shared.settings, name).await?.camera),
        None => Ok(BTreeMap::new()),
    }
}

fn setting_json(s: &Setting, profile: &BTreeMap<String, String>) -> Value {
    json!({"name": s.name, "label": s.label, "kind": s.kind, "value": s.value,
        "choices": s.choices, "read_only": s.read_only,
        "set_by_profile": profile.get(&s.name)})
}

/// `GET /camera/settings[?profile=P]`: every setting, those the profile
/// sets (it applies them when its scan starts) marked.
pub(super) async fn camera_settings(
    shared: web::Data<Shared>,
    query: web::Query<SettingsQuery>,
) -> ApiResult {
    let profile = profile_settings(&shared, query.into_inner().profile).await?;
    let settings = shared.manual.send(CameraSettings).await??;
    let out: Vec<Value> = settings.iter().map(|s| setting_json(s, &profile)).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /camera/settings`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeBody {
    name: String,
    value: String,
    /// The profile the page will scan with: a setting it sets is refused
    /// (the scan would set it back).
    profile: Option<String>,
}

/// `POST /camera/settings`: changes one setting the profile does not set.
pub(super) async fn change_setting(
    shared: web::Data<Shared>,
    body: web::Json<ChangeBody>,
) -> ApiResult {
    let ChangeBody {
        name,
        value,
        profile,
    } = body.into_inner();
    let from = profile.clone().unwrap_or_default();
    let profile = profile_settings(&shared, profile).await?;
    if let Some(set) = profile.get(&name) {
        return Err(ApiError::conflict(format!(
            "profile {from} sets {name} to {set} when its scan starts; change it in the profile"
        ))
        .with_code("set_by_profile"));
    }
    let changed = shared
        .manual
        .send(SetCameraSetting { name, value })
        .await??;
    Ok(HttpResponse::Ok().json(setting_json(&changed, &profile)))
}

/// The spool's folder of test shots.
pub(super) const TEST_SHOTS: &str = "test-shots";

/// How a test shot's name begins (`test-<unix seconds>.<ext>`).
pub(super) const TEST_SHOT_PREFIX: &str = "test-";

/// One test shot into `<spool>/test-shots/` (which keeps the last
/// [`TEST_SHOTS_KEPT`]), shown as a thumbnail.
pub(super) async fn camera_capture(shared: web::Data<Shared>, req: HttpRequest) -> ApiResult {
    no_body(&req)?;
    let dir = shared.settings.spool_dir().join(TEST_SHOTS);
    let tidy = dir.clone();
    web::block(move || prepare_test_shots(&tidy))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let stem = format!("{TEST_SHOT_PREFIX}{}", unix_now());
    let began = std::time::Instant::now();
    let files = shared
        .manual
        .send(TestShot {
            dir: dir.clone(),
            stem,
        })
        .await??;
    let took_ms = began.elapsed().as_millis() as u64;
    let mut out = Vec::new();
    for f in &files {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(&name);
        let thumb = web::block(move || thumbnail_file(&path, THUMBNAIL_SIDE))
            .await
            .map_err(ApiError::internal)?;
        if let Ok(jpeg) = thumb {
            shared.keep_thumbnail(TEST_SHOTS, &name, jpeg);
        }
        out.push(json!({"name": &name, "size": f.size, "sha256": f.sha256,
            "thumbnail": thumbnail_url(TEST_SHOTS, &name)}));
    }
    Ok(HttpResponse::Ok().json(json!({"files": out, "took_ms": took_ms})))
}

/// Test shots kept in the spool's test-shots folder.
const TEST_SHOTS_KEPT: usize = 5;

/// Makes the test-shots folder, removing all but the newest test shots
/// (`test-<unix seconds>.<ext>`) so that one more can come.
fn prepare_test_shots(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut shots: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(TEST_SHOT_PREFIX))
        })
        .collect();
    shots.sort();
    let extra = shots.len().saturating_sub(TEST_SHOTS_KEPT - 1);
    for old in &shots[..extra] {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

/// The live preview: an MJPEG stream at `web.preview_fps`, ending when a
/// scan starts (the scan owns the camera).
pub(super) async fn preview(shared: web::Data<Shared>, req: HttpRequest) -> ApiResult {
    let shared = shared.into_inner();
    let slot = Slots::take(&shared, client(&req))?;
    let first = shared.manual.send(PreviewFrame).await??;
    let period = Duration::from_secs(1) / shared.settings.web.preview_fps.max(1);
    let manual = shared.manual.clone();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let body = stream::unfold(
        (Some(first), ticks, slot),
        move |(first, mut ticks, slot)| {
            let manual = manual.clone();
            async move {
                let frame = match first {
                    Some(frame) => frame,
                    None => {
                        ticks.tick().await;
                        manual.send(PreviewFrame).await.ok()?.ok()?
                    }
                };
                let mut part = format!(
                    "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                    frame.len()
                )
                .into_bytes();
                part.extend_from_slice(&frame);
                part.extend_from_slice(b"\r\n");
                Some((
                    Ok::<_, actix_web::Error>(web::Bytes::from(part)),
                    (None, ticks, slot),
                ))
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("multipart/x-mixed-replace; boundary=frame")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body))
}

/// `POST /motor/jog`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JogBody {
    axis: JogAxis,
    degrees: f64,
}

/// Who asked, for the log and the status: the page's address.
pub(super) fn origin(req: &HttpRequest) -> String {
    match req.peer_addr() {
        Some(peer) => format!("web {}", peer.ip()),
        None => "web".to_owned(),
    }
}

/// How a move ended, as the API says it.
fn stopped_json(stopped: Option<StopKind>) -> Value {
    match stopped {
        None => Value::Null,
        Some(StopKind::Controlled) => json!("controlled"),
        Some(StopKind::Emergency) => json!("emergency"),
    }
}

pub(super) async fn jog(
    shared: web::Data<Shared>,
    req: HttpRequest,
    body: web::Json<JogBody>,
) -> ApiResult {
    let JogBody { axis, degrees } = body.into_inner();
    if !degrees.is_finite() || degrees.abs() > 3600.0 {
        return Err(ApiError::bad(format!(
            "degrees must be a number from -3600 to 3600, found {degrees}"
        )));
    }
    let jogged = shared
        .manual
        .send(JogBy {
            axis,
            by: Degrees(degrees),
            origin: origin(&req),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "position": jogged.at.map(Degrees::get),
        "stopped": stopped_json(jogged.stopped),
    })))
}

pub(super) async fn home(shared: web::Data<Shared>, req: HttpRequest) -> ApiResult {
    no_body(&req)?;
    remote::home(&shared.sup, origin(&req)).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /motor/stop`'s body (optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct StopBody {
    #[serde(default)]
    emergency: bool,
}

/// Stops a jog or homing (or the move of a scan: the scan goes on unless
/// it is paused or stopped too); `{"emergency": true}` stops stepping at
/// once and releases the motors.
pub(super) async fn stop(
    shared: web::Data<Shared>,
    body: Option<web::Json<StopBody>>,
) -> ApiResult {
    let emergency = body.map(|b| b.into_inner().emergency).unwrap_or_default();
    shared.sup.send(StopMotors { emergency }).await?;
    Ok(HttpResponse::Accepted().json(json!({"emergency": emergency})))
}
