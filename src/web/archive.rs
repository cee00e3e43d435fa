//! A scan as one ZIP, streamed from the spool or the local destination's
//! folder (constant memory, no temporary file): in a folder named by the
//! scan, each file dated as on the rig, what the scan handed over and its
//! photos, never the rig's own files or paths.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use tokio::sync::mpsc;

use super::error::{ApiError, ApiResult};
use super::history::{locate, Located, CHUNK};
use super::redact::Redactor;
use super::Shared;

/// Pieces of an archive waiting for the client: its memory, at most this
/// many [`CHUNK`]s.
const ARCHIVE_QUEUE: usize = 4;

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
