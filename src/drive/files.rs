//! The photos, the manifest and the pose priors: existence by idempotency key, uploads in
//! one request or through a resumable session, the md5 check.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use google_drive3::api::{File as DriveFile, Scope};
use md5::{Digest, Md5};
use scanrig_actors::destination::{relative, DestinationError, Result, Upload, MANIFEST};
use scanrig_actors::model::ScanId;
use scanrig_hardware::fsutil::hex;
use slog::{debug, warn};

use super::folders::{has, quote};
use super::reserved::ReservedId;
use super::retry::{self, Failed};
use super::transfer::{self, Progress, SavedSession};
use super::{
    id_of, DriveDestination, ReadSeekSend, KEY_FILE, KEY_MANIFEST, KEY_SCAN, KEY_SHA256, KEY_SHOT,
};

impl DriveDestination {
    /// Intact copies of the photo at Drive; damaged ones are deleted, and
    /// so are extra intact ones (only one copy may remain).
    pub(super) async fn existing(&self, upload: &Upload, md5: &str) -> Result<Option<DriveFile>> {
        let q = format!(
            "{} and {} and {}",
            has(KEY_SCAN, upload.scan.as_str()),
            has(KEY_SHOT, &upload.shot.0.to_string()),
            has(KEY_SHA256, &upload.sha256)
        );
        let mut keep = None;
        for file in self.list("look for the photo", &q).await? {
            if keep.is_none() && intact(&file, upload, md5) {
                keep = Some(file);
                continue;
            }
            let id = file.id.clone().unwrap_or_default();
            warn!(self.log, "removing a damaged or extra copy at Drive";
                "name" => &upload.name, "id" => &id, "md5" => file.md5_checksum.as_deref().unwrap_or("none"));
            self.delete(&id).await?;
        }
        Ok(keep)
    }

    async fn send(&self, upload: &Upload, md5: &str) -> Result<DriveFile> {
        let folder = self.scan_folder(&upload.scan).await?;
        let mime = mime_of(&upload.name);
        let meta = DriveFile {
            name: Some(upload.name.clone()),
            parents: Some(vec![folder]),
            mime_type: Some(mime.to_owned()),
            app_properties: Some(HashMap::from([
                (KEY_SCAN.to_owned(), upload.scan.to_string()),
                (KEY_SHOT.to_owned(), upload.shot.0.to_string()),
                (KEY_SHA256.to_owned(), upload.sha256.clone()),
            ])),
            ..Default::default()
        };
        let what = format!("upload {}", upload.name);
        if upload.size <= self.opts.single_request_max {
            let path = upload.local.clone();
            let body =
                move || std::fs::File::open(&path).map(|f| Box::new(f) as Box<dyn ReadSeekSend>);
            let find = || self.existing(upload, md5);
            let reserved = ReservedId::of_photo(upload);
            return self
                .create_once(&what, meta, body, mime, find, Some(&reserved))
                .await;
        }
        self.resumable(&what, upload, &meta, mime).await
    }

    /// Sends a photo through a resumable session (see [`transfer`]).
    async fn resumable(
        &self,
        what: &str,
        upload: &Upload,
        meta: &DriveFile,
        mime: &str,
    ) -> Result<DriveFile> {
        let mut tries = retry::Attempts::new(self.opts.retry);
        let mut session = SavedSession::load(upload).map(|s| s.url);
        // What the server holds; unknown after a failure or a restart.
        let mut held = None;
        loop {
            let step = async {
                let url = match &session {
                    Some(url) => url.clone(),
                    None => {
                        let token = self.token().await?;
                        let url = transfer::start(
                            &self.hub.client,
                            &token,
                            &self.opts.upload_url,
                            meta,
                            upload,
                            mime,
                        )
                        .await?;
                        let saved = SavedSession {
                            url: url.clone(),
                            sha256: upload.sha256.clone(),
                        };
                        saved.save(upload).map_err(|e| Failed {
                            kind: retry::FailKind::Local,
                            reason: None,
                            message: format!("cannot keep the upload session: {e}"),
                            retry_after: None,
                        })?;
                        return Ok((url, None, Progress::Received(0)));
                    }
                };
                let at = match held {
                    Some(at) => at,
                    None => match transfer::status(&self.hub.client, &url, upload.size).await? {
                        Progress::Received(at) => at,
                        done => return Ok((url, None, done)),
                    },
                };
                let to = (at + self.opts.chunk).min(upload.size);
                let progress =
                    transfer::send(&self.chunks, &url, &upload.local, (at, to), upload.size)
                        .await?;
                Ok((url, Some(at), progress))
            };
            let failed = match self.timed(step).await {
                Ok((_, _, Progress::Done(file))) => {
                    SavedSession::forget(upload);
                    return Ok(*file);
                }
                Ok((url, sent_from, Progress::Received(at))) => {
                    session = Some(url);
                    held = Some(at);
                    // A piece the server kept none of counts as a failure,
                    // so a server that never moves on cannot loop forever.
                    if sent_from.is_none_or(|from| at > from) {
                        continue;
                    }
                    Failed::network(format!("Drive kept no new bytes (still {at})"))
                }
                Err(failed) => failed,
            };
            held = None;
            if matches!(failed.kind, retry::FailKind::Status(404 | 410)) && session.is_some() {
                debug!(self.log, "upload session expired; starting a new one"; "name" => &upload.name);
                SavedSession::forget(upload);
                session = None;
            }
            self.after_failure(what, &mut tries, failed).await?;
        }
    }

    /// Uploads and checks the md5 Drive computed.
    pub(super) async fn upload_checked(&self, upload: &Upload, md5: &str) -> Result<String> {
        let file = self.send(upload, md5).await?;
        if intact(&file, upload, md5) {
            ReservedId::of_photo(upload).forget();
            return id_of(file, "upload");
        }
        let got = file.md5_checksum.clone().unwrap_or_else(|| "none".into());
        if let Some(id) = &file.id {
            self.delete(id).await?;
        }
        SavedSession::forget(upload);
        Err(DestinationError::Mismatch {
            name: upload.name.clone(),
            got: format!("md5 {got}"),
            expected: format!("md5 {md5}"),
        })
    }

    /// Writes or replaces a file of the scan other than a photo (see
    /// `Destination::put_file`), found again by its app properties: the
    /// manifest by `scanrig_manifest`, others by scan and name.
    pub(super) async fn put_file_async(
        &self,
        scan: &ScanId,
        name: &str,
        bytes: &[u8],
    ) -> Result<String> {
        let path = relative(name)?;
        let mut parts: Vec<&str> = name.split('/').collect();
        let file_name = parts.pop().unwrap_or(name);
        let folder = self.scan_subfolder(scan, &parts).await?;
        let properties = if name == MANIFEST {
            HashMap::from([(KEY_MANIFEST.to_owned(), scan.to_string())])
        } else {
            HashMap::from([
                (KEY_SCAN.to_owned(), scan.to_string()),
                (KEY_FILE.to_owned(), name.to_owned()),
            ])
        };
        let mut clauses: Vec<String> = properties.iter().map(|(k, v)| has(k, v)).collect();
        clauses.sort();
        let q = format!(
            "{} and '{}' in parents",
            clauses.join(" and "),
            quote(&folder)
        );
        let what = format!("write {}", path.display());
        let find = || async { Ok(self.list(&what, &q).await?.into_iter().next()) };
        let mime = mime_of(name);
        let reserved = ReservedId::of_file(&self.opts.spool.join(scan.as_str()), name);
        let file = match find().await? {
            Some(existing) => existing,
            None => {
                let meta = DriveFile {
                    name: Some(file_name.to_owned()),
                    parents: Some(vec![folder]),
                    mime_type: Some(mime.to_owned()),
                    app_properties: Some(properties),
                    ..Default::default()
                };
                let body =
                    || Ok(Box::new(io::Cursor::new(bytes.to_vec())) as Box<dyn ReadSeekSend>);
                self.create_once(&what, meta, body, mime, find, Some(&reserved))
                    .await?
            }
        };
        reserved.forget();
        let same = file.md5_checksum.as_deref() == Some(hex(&Md5::digest(bytes)).as_str());
        let id = id_of(file, &what)?;
        if same {
            return Ok(id);
        }
        // Written before (by an earlier run, or a create that landed late)
        // with other contents: replaced.
        let mime: mime::Mime = mime.parse().unwrap_or(mime::APPLICATION_OCTET_STREAM);
        self.call(&what, || async {
            recorded!(|rec| self
                .hub
                .files()
                .update(DriveFile::default(), &id)
                .supports_all_drives(true)
                .param("fields", "id")
                .add_scope(Scope::File)
                .delegate(rec)
                .upload(io::Cursor::new(bytes.to_vec()), mime.clone()))
        })
        .await?;
        Ok(id)
    }
}

/// Whether Drive's copy has the spool file's size and md5.
pub(super) fn intact(file: &DriveFile, upload: &Upload, md5: &str) -> bool {
    file.md5_checksum.as_deref() == Some(md5) && file.size == Some(upload.size as i64)
}

/// md5 of the spool file, lower-case hex (what Drive reports).
pub(super) fn local_md5(path: &Path) -> Result<String> {
    let read = || -> io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let mut md5 = Md5::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
        }
        Ok(hex(&md5.finalize()))
    };
    read().map_err(|e| {
        DestinationError::Permanent(format!("cannot read spool file {}: {e}", path.display()))
    })
}

/// The MIME type of a photo by its name.
fn mime_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "tif" | "tiff" => "image/tiff",
        "heic" | "heif" => "image/heif",
        "json" => "application/json",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "xmp" => "application/rdf+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_literals_are_escaped() {
        assert_eq!(quote(r"it's a\b"), r"it\'s a\\b");
        assert_eq!(
            has("scanrig_scan", "x'y"),
            "appProperties has { key='scanrig_scan' and value='x\\'y' }"
        );
    }

    #[test]
    fn photos_get_their_mime_type() {
        assert_eq!(mime_of("0001.JPG"), "image/jpeg");
        assert_eq!(mime_of("0001.cr2"), "application/octet-stream");
        assert_eq!(mime_of("noext"), "application/octet-stream");
    }
}
