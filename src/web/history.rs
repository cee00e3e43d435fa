//! Scans the rig knows, for the page: where each shot stands, the photos
//! with their shot data, a photo at full size, and the whole scan as one
//! ZIP streamed from the spool or the local destination's folder (constant
//! memory, no temporary file).
//!
//! A scan's files are looked for in its spool folder first (photos not
//! uploaded yet, or kept), then in its folder at a local destination. A
//! scan whose photos went to Google Drive and left the spool has none here.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use scanrig_actors::coverage;
use scanrig_actors::supervisor::GetShots;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::devices::{TEST_SHOTS, TEST_SHOT_PREFIX};
use super::error::{plain, ApiError, ApiResult};
use super::events::thumbnail_url;
use super::redact::Redactor;
use super::Shared;
use crate::scans::{Found, SpoolState};

/// Pieces of a streamed file or archive.
const CHUNK: usize = 64 * 1024;

/// Pieces of an archive waiting for the client: its memory, at most this
/// many [`CHUNK`]s.
const ARCHIVE_QUEUE: usize = 4;

/// A scan found by id, with its folders on this machine.
struct Located {
    found: Found,
    /// Its spool folder (which may be gone).
    spool: PathBuf,
}

impl Located {
    /// The folders its files may be in, in the order they are looked in.
    fn folders(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.spool.as_path()).chain(self.found.folder.as_deref())
    }

    /// Whether `name` is one of the scan's photos.
    fn has_photo(&self, name: &str) -> bool {
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
async fn locate(shared: &Shared, id: &str) -> Result<Located, ApiError> {
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
                let shots = coverage::shots(&record.plan, &record.shot_states());
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
            json!({"shot": s["shot"], "stem": stem(s), "ring": s["ring"],
                "azimuth": s["azimuth"], "tilt": s["tilt"],
                "state": if there { "uploaded" } else { "failed" }})
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

/// Where a photo (or test shot) is on this machine: the spool's folder of
/// `scan`, else the scan's folder at a local destination. Only a photo of
/// the scan is served, nothing else of its folders.
pub(super) async fn photo_file(
    shared: &Shared,
    scan: &str,
    name: &str,
) -> Result<PathBuf, ApiError> {
    let name = plain(name)?.to_owned();
    if plain(scan)? == TEST_SHOTS {
        let path = shared.settings.spool_dir().join(TEST_SHOTS).join(&name);
        let test_shot = name.starts_with(TEST_SHOT_PREFIX);
        let here = web::block({
            let path = path.clone();
            move || test_shot && path.is_file()
        })
        .await
        .map_err(ApiError::internal)?;
        return match here {
            true => Ok(path),
            false => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no test shot {name} on this rig"),
            )),
        };
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

/// A file of a scan's archive.
struct Entry {
    /// Its name inside the scan (`colmap/cameras.txt`).
    name: String,
    path: PathBuf,
    size: u64,
    modified: Option<SystemTime>,
    /// A photo, copied as it is; the other files (manifest, pose priors)
    /// with the rig's paths shortened.
    photo: bool,
}

/// What of a scan goes in its archive: what it handed over to a local
/// destination (photos, manifest, pose priors), and its photos still in
/// the spool; never the journal, the backlog or a file being written.
fn archive_files(located: &Located) -> io::Result<Vec<Entry>> {
    let mut files = BTreeMap::new();
    // The destination's copy wins over the spool's: it is what was sent.
    if let Some(folder) = &located.found.folder {
        walk(folder, "", &mut files)?;
    }
    for name in &located.found.photos {
        let path = located.spool.join(name);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                files.entry(name.clone()).or_insert((path, meta));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(files
        .into_iter()
        .map(|(name, (path, meta))| Entry {
            photo: located.has_photo(&name),
            name,
            path,
            size: meta.len(),
            modified: meta.modified().ok(),
        })
        .collect())
}

fn walk(
    dir: &Path,
    prefix: &str,
    out: &mut BTreeMap<String, (PathBuf, std::fs::Metadata)>,
) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let inner = format!("{prefix}{name}");
        if kind.is_dir() {
            walk(&entry.path(), &format!("{inner}/"), out)?;
        } else if kind.is_file() {
            out.entry(inner)
                .or_insert((entry.path(), entry.metadata()?));
        }
    }
    Ok(())
}

/// Hands what the archive's writer thread writes to the response, a
/// [`CHUNK`] at a time; fails once the client has gone.
struct ToClient {
    tx: mpsc::Sender<io::Result<web::Bytes>>,
    buf: Vec<u8>,
}

impl ToClient {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ToClient {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A file's modification time as a ZIP entry's date, in UTC (a ZIP's
/// dates have no time zone); the format's first day when it has none.
fn zip_time(modified: Option<SystemTime>) -> zip::DateTime {
    modified
        .map(time::OffsetDateTime::from)
        .and_then(|t| {
            let year = u16::try_from(t.year()).ok()?;
            zip::DateTime::from_date_and_time(
                year,
                t.month().into(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}

/// Writes the archive of `files` to `out`, all in the folder `scan`: each
/// file stored as it is, dated as it is on the rig.
fn write_archive(
    scan: &str,
    files: &[Entry],
    redact: &Redactor,
    out: ToClient,
) -> zip::result::ZipResult<()> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new_stream(out);
    for f in files {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(f.size > u64::from(u32::MAX))
            .last_modified_time(zip_time(f.modified));
        zip.start_file(format!("{scan}/{}", f.name), options)?;
        let mut file = std::fs::File::open(&f.path)?;
        if f.photo {
            io::copy(&mut file, &mut zip)?;
        } else {
            let mut text = Vec::new();
            io::Read::read_to_end(&mut file, &mut text)?;
            match String::from_utf8(text) {
                Ok(text) => zip.write_all(redact.text(&text).as_bytes())?,
                Err(bytes) => zip.write_all(bytes.as_bytes())?,
            }
        }
    }
    zip.finish()?.into_inner().flush()?;
    Ok(())
}

/// `GET /scans/{id}/archive.zip`: the scan's files as one ZIP, written by
/// a thread of its own as the client reads it.
pub(super) async fn archive(shared: web::Data<Shared>, id: web::Path<String>) -> ApiResult {
    let located = locate(&shared, &id).await?;
    let files = web::block(move || archive_files(&located))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    if files.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no file of scan {id} is on this rig: they went to its destination"),
        ));
    }
    let (tx, mut rx) = mpsc::channel(ARCHIVE_QUEUE);
    let (log, redact) = (shared.log.clone(), shared.redact.clone());
    let scan = id.clone();
    std::thread::spawn(move || {
        let out = ToClient {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_archive(&scan, &files, &redact, out) {
            slog::info!(log, "archive not finished"; "scan" => &scan, "error" => %e);
            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    let body = stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{id}.zip\""),
        ))
        .streaming(body))
}
