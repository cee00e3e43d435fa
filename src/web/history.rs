//! Scans the rig knows, for the page: where each shot stands, the photos
//! with their shot data, a photo at full size (the whole scan as one ZIP
//! is in [`super::archive`]).
//!
//! A scan's files are looked for in its spool folder first (photos not
//! uploaded yet, or kept), then in its folder at a local destination. A
//! scan whose photos went to Google Drive and left the spool has none here.

use std::io;
use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use scanrig_actors::coverage;
use scanrig_actors::manual::check::PHOTO_PREFIX;
use scanrig_actors::model::Quality;
use scanrig_actors::supervisor::GetShots;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use super::devices::{TEST_SHOTS, TEST_SHOT_PREFIX};
use super::error::{plain, ApiError, ApiResult};
use super::events::thumbnail_url;
use super::Shared;
use crate::check;
use crate::scans::{Found, SpoolState};

/// Pieces of a streamed file or archive.
pub(super) const CHUNK: usize = 64 * 1024;

/// A scan found by id, with its folders on this machine.
pub(super) struct Located {
    pub(super) found: Found,
    /// Its spool folder (which may be gone).
    pub(super) spool: PathBuf,
}

impl Located {
    /// The folders its files may be in, in the order they are looked in.
    fn folders(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.spool.as_path()).chain(self.found.folder.as_deref())
    }

    /// Whether `name` is one of the scan's photos.
    pub(super) fn has_photo(&self, name: &str) -> bool {
        self.found.photos.contains(name)
    }

    /// Where a photo of the scan is on this machine, if it is one of its
    /// photos and here (never its journal, backlog or another file of the
    /// rig's own).
    fn photo(&self, name: &str) -> Option<PathBuf> {
        if !self.has_photo(name) {
            return None;
        }
        self.folders().map(|d| d.join(name)).find(|p| p.is_file())
    }
}

/// Finds scan `id` (404 if the rig does not know it).
pub(super) async fn locate(shared: &Shared, id: &str) -> Result<Located, ApiError> {
    let id = plain(id)?.to_owned();
    let spool = shared.settings.spool_dir();
    let wanted = id.clone();
    let found = web::block(move || Found::find(&spool, &wanted))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no scan {id} on this rig")))?;
    Ok(Located {
        found,
        spool: shared.settings.spool_dir().join(&id),
    })
}

/// `GET /scans/{id}/shots`: every shot of the scan placed by azimuth and
/// tilt, with where it stands.
pub(super) async fn shots(shared: web::Data<Shared>, id: web::Path<String>) -> ApiResult {
    let id = id.into_inner();
    let live = shared.sup.send(GetShots(id.clone())).await?;
    let shots = match live {
        Some(shots) => serde_json::to_value(shots).map_err(ApiError::internal)?,
        None => {
            let spool = shared.settings.spool_dir();
            let wanted = id.clone();
            let journaled = web::block(move || -> anyhow::Result<Option<Value>> {
                let state = SpoolState::read(&spool)?;
                let Some(record) = state.scans.iter().find(|s| s.id().as_str() == wanted) else {
                    return Ok(None);
                };
                let shots = coverage::shots(&record.plan, &record.shot_states(), &record.flagged());
                Ok(Some(serde_json::to_value(shots)?))
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
            match journaled {
                Some(shots) => shots,
                None => retired_shots(&locate(&shared, &id).await?)?,
            }
        }
    };
    Ok(HttpResponse::Ok().json(json!({"scan": id, "shots": shots})))
}

/// The shots of a retired scan, from its manifest at a local destination:
/// each there, or lost.
fn retired_shots(located: &Located) -> Result<Value, ApiError> {
    let manifest = located.found.manifest.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this rig no longer has the scan's shot list: its photos are at its destination",
        )
    })?;
    let shots: Vec<Value> = manifest["shots"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let there = s["files"]
                .as_array()
                .is_some_and(|f| f.iter().all(|f| !f["destination_id"].is_null()));
            let mut shot = json!({"shot": s["shot"], "stem": stem(s), "ring": s["ring"],
                "azimuth": s["azimuth"], "tilt": s["tilt"],
                "state": if there { "uploaded" } else { "failed" }});
            let mine: Vec<String> = s["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| {
                    let quality = Quality::deserialize(&f["quality"]).ok()?;
                    quality.flag(f["name"].as_str()?)
                })
                .collect();
            if !mine.is_empty() {
                shot["flagged"] = json!(mine);
            }
            shot
        })
        .collect();
    Ok(Value::from(shots))
}

/// A manifest shot's file name without extension.
fn stem(shot: &Value) -> String {
    let name = shot["files"][0]["name"].as_str().unwrap_or_default();
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_owned()
}

/// `GET /scans/{id}/photos`: the scan's photos with their shot data, and
/// addresses for those on this machine.
pub(super) async fn photos(shared: web::Data<Shared>, id: web::Path<String>) -> ApiResult {
    let located = locate(&shared, &id).await?;
    let scan = id.into_inner();
    let list = web::block(move || {
        let Some(manifest) = &located.found.manifest else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for shot in manifest["shots"].as_array().into_iter().flatten() {
            for f in shot["files"].as_array().into_iter().flatten() {
                let name = f["name"].as_str().unwrap_or_default();
                let here = located.photo(name).is_some();
                let url = |s: &str| here.then(|| s.to_owned());
                out.push(json!({
                    "shot": shot["shot"], "ring": shot["ring"], "azimuth": shot["azimuth"],
                    "tilt": shot["tilt"], "captured_at": shot["captured_at"],
                    "name": name, "size": f["size"], "sha256": f["sha256"],
                    "pixels": f.get("pixels").cloned().unwrap_or(Value::Null),
                    "uploaded": !f["destination_id"].is_null(),
                    "url": url(&format!("/api/v1/photos/{scan}/{name}")),
                    "thumbnail": url(&thumbnail_url(&scan, name)),
                }));
            }
        }
        out
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(list))
}

/// Where a photo (or test shot, or check photo) is on this machine: the
/// spool's folder of `scan`, else the scan's folder at a local
/// destination. Only a photo of the scan is served, nothing else of its
/// folders.
pub(super) async fn photo_file(
    shared: &Shared,
    scan: &str,
    name: &str,
) -> Result<PathBuf, ApiError> {
    let name = plain(name)?.to_owned();
    let asked = plain(scan)?;
    let kept = [
        (TEST_SHOTS, TEST_SHOT_PREFIX, "test shot"),
        (check::FOLDER, PHOTO_PREFIX, "check photo"),
    ];
    if let Some(&(folder, prefix, what)) = kept.iter().find(|k| k.0 == asked) {
        return kept_file(shared, folder, prefix, what, name).await;
    }
    let located = locate(shared, scan).await?;
    let looked = name.clone();
    let (photo, here) = web::block(move || (located.has_photo(&looked), located.photo(&looked)))
        .await
        .map_err(ApiError::internal)?;
    here.ok_or_else(|| {
        let why = match photo {
            true => format!("{name} is not on this rig: it went to the scan's destination"),
            false => format!("scan {scan} has no photo {name}"),
        };
        ApiError::new(StatusCode::NOT_FOUND, why)
    })
}

/// Where a test shot (or check photo: `what`) is, in the spool's folder
/// of them, its name beginning with `prefix`.
async fn kept_file(
    shared: &Shared,
    folder: &str,
    prefix: &str,
    what: &str,
    name: String,
) -> Result<PathBuf, ApiError> {
    let path = shared.settings.spool_dir().join(folder).join(&name);
    let ours = name.starts_with(prefix);
    let here = web::block({
        let path = path.clone();
        move || ours && path.is_file()
    })
    .await
    .map_err(ApiError::internal)?;
    match here {
        true => Ok(path),
        false => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no {what} {name} on this rig"),
        )),
    }
}

/// `GET /photos/{scan}/{name}`: a photo at full size, streamed.
pub(super) async fn photo(
    shared: web::Data<Shared>,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (scan, name) = path.into_inner();
    let file = photo_file(&shared, &scan, &name).await?;
    let opened = tokio::fs::File::open(&file)
        .await
        .map_err(ApiError::internal)?;
    let size = opened.metadata().await.map_err(ApiError::internal)?.len();
    let body = stream::unfold(opened, |mut file| async move {
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, io::Error>(web::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let kind = match name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if e == "jpg" || e == "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .content_type(kind)
        .no_chunking(size)
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .streaming(body))
}
