//! Google Drive as a destination, with google-drive3 and yup-oauth2.
//!
//! Layout: the configured parent folder (by id, or a path created as
//! needed), in it one folder per scan named by the scan id (start time and
//! profile), in that the photos under their spool names and `manifest.json`,
//! written last. Folder ids are cached for the life of the process.
//!
//! Exactly once: every photo carries its idempotency key (scan, shot,
//! sha256) in `appProperties`. Before a retry, and after a crash, Drive is
//! asked for the key; a copy whose md5 differs from the spool file is
//! deleted and sent again. Anything created in one request (folders, small
//! photos, the manifest) is looked for again before a create is repeated
//! after a failure that may have taken effect. Big photos go through a
//! resumable session ([`transfer`]), which cannot make two files.
//!
//! Calls block: the uploader's worker threads run them on a small tokio
//! runtime owned by the destination, never on an actix arbiter.

pub mod auth;
pub mod command;
mod retry;
mod transfer;

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

use google_drive3::api::{File as DriveFile, Scope};
use google_drive3::hyper_util::client::legacy::Client;
use google_drive3::hyper_util::rt::TokioExecutor;
use google_drive3::{hyper_rustls, DriveHub};
use md5::{Digest, Md5};
use scanrig_actors::destination::{Destination, DestinationError, Result, Upload};
use scanrig_actors::plan::ScanId;
use slog::{debug, warn, Logger};

use self::auth::{Auth, AuthConfig, SCOPE};
use self::retry::{token_failure, Failed, Recorder, RetryPolicy};
use self::transfer::{ChunkClient, Connector, Progress, SavedSession, FILE_FIELDS};
use crate::settings::Drive as DriveSettings;

const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// Keys of scanrig's `appProperties`.
const KEY_SCAN: &str = "scanrig_scan";
const KEY_SHOT: &str = "scanrig_shot";
const KEY_SHA256: &str = "scanrig_sha256";
const KEY_MANIFEST: &str = "scanrig_manifest";

/// Where the parent folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    /// An existing folder's id.
    Id(String),
    /// A path of folder names from My Drive, created as needed.
    Path(Vec<String>),
}

/// Everything the destination needs, resolved from the settings.
#[derive(Debug, Clone)]
pub struct DriveOptions {
    /// Signing in.
    pub auth: AuthConfig,
    /// The parent folder.
    pub parent: Parent,
    /// The Drive API's base URL (ends in `/`).
    pub api_url: String,
    /// The root URL uploads go under (ends in `/`).
    pub upload_url: String,
    /// Bytes per resumable request.
    pub chunk: u64,
    /// Photos up to this size go in one request.
    pub single_request_max: u64,
    /// Longest wait for one request.
    pub timeout: Duration,
    /// Retrying one request.
    pub retry: RetryPolicy,
}

impl DriveOptions {
    /// From `[destination.drive]`, with the token file resolved.
    pub fn new(d: &DriveSettings, token_file: std::path::PathBuf) -> DriveOptions {
        let slash = |u: &str| {
            if u.ends_with('/') {
                u.to_owned()
            } else {
                format!("{u}/")
            }
        };
        DriveOptions {
            auth: AuthConfig::new(d, token_file),
            parent: match d.folder_id.trim() {
                "" => Parent::Path(d.folder_path()),
                id => Parent::Id(id.to_owned()),
            },
            api_url: slash(&d.api_url),
            upload_url: slash(&d.upload_url),
            chunk: d.chunk_kb * 1024,
            single_request_max: d.single_request_max_kb * 1024,
            timeout: Duration::from_secs(d.timeout_s),
            retry: RetryPolicy {
                retries: d.retries,
                initial: Duration::from_millis(d.retry_initial_ms),
                max: Duration::from_millis(d.retry_max_ms),
            },
        }
    }
}

/// The folder ids found or made so far.
#[derive(Debug, Default)]
struct Folders {
    parent: Option<String>,
    scans: HashMap<String, String>,
}

/// Photos go to Google Drive.
pub struct DriveDestination {
    runtime: Option<tokio::runtime::Runtime>,
    hub: DriveHub<Connector>,
    auth: Auth,
    chunks: ChunkClient,
    opts: DriveOptions,
    folders: tokio::sync::Mutex<Folders>,
    log: Logger,
}

impl Drop for DriveDestination {
    fn drop(&mut self) {
        // The last owner may be an actix thread, inside another runtime,
        // where a blocking shutdown is not allowed.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The HTTPS (and, for a loopback test server, HTTP) connector.
pub fn connector() -> io::Result<Connector> {
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot load the system's CA certificates ({e}); install ca-certificates"),
            )
        })?
        .https_or_http()
        .enable_http1()
        .build())
}

impl DriveDestination {
    /// A destination for `opts`. Contacts nobody yet; a missing
    /// authorisation shows up at the first upload, as a permanent error
    /// that says what to do.
    pub fn new(opts: DriveOptions, log: Logger) -> anyhow::Result<DriveDestination> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("drive-io")
            .enable_all()
            .build()?;
        let connector = connector()?;
        let auth = runtime.block_on(opts.auth.unattended())?;
        let client = Client::builder(TokioExecutor::new()).build(connector.clone());
        let mut hub = DriveHub::new(client, auth.clone());
        hub.base_url(opts.api_url.clone());
        hub.root_url(opts.upload_url.clone());
        Ok(DriveDestination {
            runtime: Some(runtime),
            hub,
            auth,
            chunks: transfer::chunk_client(connector),
            opts,
            folders: tokio::sync::Mutex::new(Folders::default()),
            log,
        })
    }

    fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the destination")
            .block_on(fut)
    }

    /// Who the authorisation is for, asking Drive itself: a line for
    /// `scanrig auth status`.
    pub fn whoami(&self) -> Result<String> {
        self.block_on(self.call("ask who is signed in", || async {
            let mut rec = Recorder::default();
            let r = self
                .hub
                .about()
                .get()
                .param("fields", "user(displayName,emailAddress)")
                .add_scope(Scope::File)
                .delegate(&mut rec)
                .doit()
                .await;
            rec.finish(r)
        }))
        .map(|about| {
            let user = about.user.unwrap_or_default();
            format!(
                "{} <{}>",
                user.display_name.unwrap_or_default(),
                user.email_address.unwrap_or_default()
            )
        })
    }

    /// Runs `attempt` until it succeeds or the retry policy gives up; each
    /// try is limited to the request timeout. A 401 gets one token refresh.
    async fn call<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failed>>,
    {
        let mut tries = retry::Attempts::new(self.opts.retry);
        loop {
            let failed = match self.timed(attempt()).await {
                Ok(v) => return Ok(v),
                Err(f) => f,
            };
            self.after_failure(what, &mut tries, failed).await?;
        }
    }

    /// Decides what follows a failure: wait, refresh the token, or give up.
    async fn after_failure(
        &self,
        what: &str,
        tries: &mut retry::Attempts,
        failed: Failed,
    ) -> Result<()> {
        match tries.after(&failed) {
            retry::Next::Wait(delay) => {
                debug!(self.log, "Drive request failed; retrying";
                    "what" => what, "error" => &failed.message, "wait_ms" => delay.as_millis() as u64);
                tokio::time::sleep(delay).await;
                Ok(())
            }
            retry::Next::Refresh => {
                debug!(self.log, "Drive refused the access token; refreshing it"; "what" => what);
                self.auth
                    .force_refreshed_token(&[SCOPE])
                    .await
                    .map(drop)
                    .map_err(|e| token_failure(&e).into_error(what))
            }
            retry::Next::GiveUp => Err(failed.into_error(what)),
        }
    }

    async fn timed<T>(&self, fut: impl Future<Output = Result<T, Failed>>) -> Result<T, Failed> {
        tokio::time::timeout(self.opts.timeout, fut)
            .await
            .unwrap_or_else(|_| {
                Err(Failed::network(format!(
                    "no answer within {} s",
                    self.opts.timeout.as_secs()
                )))
            })
    }

    async fn token(&self) -> Result<String, Failed> {
        self.auth
            .token(&[SCOPE])
            .await
            .map_err(|e| token_failure(&e))?
            .token()
            .map(str::to_owned)
            .ok_or_else(|| Failed::network("the token endpoint gave no access token"))
    }

    /// Files matching the query `q` (not in the trash).
    async fn list(&self, what: &str, q: &str) -> Result<Vec<DriveFile>> {
        let q = format!("{q} and trashed = false");
        self.call(what, || async {
            let mut rec = Recorder::default();
            let r = self
                .hub
                .files()
                .list()
                .q(&q)
                .corpora("allDrives")
                .supports_all_drives(true)
                .include_items_from_all_drives(true)
                .page_size(100)
                .param("fields", &format!("files({FILE_FIELDS})"))
                .add_scope(Scope::File)
                .delegate(&mut rec)
                .doit()
                .await;
            rec.finish(r)
        })
        .await
        .map(|list| list.files.unwrap_or_default())
    }

    async fn delete(&self, id: &str) -> Result<()> {
        self.call("delete a damaged copy", || async {
            let mut rec = Recorder::default();
            let r = self
                .hub
                .files()
                .delete(id)
                .supports_all_drives(true)
                .add_scope(Scope::File)
                .delegate(&mut rec)
                .doit()
                .await;
            match rec.finish(r.map(|res| (res, ()))) {
                Err(f) if f.kind == retry::FailKind::Status(404) => Ok(()),
                other => other,
            }
        })
        .await
    }

    /// Creates a file in one request (`body` is its whole content), unless
    /// `find` shows it is there already; asks `find` again before repeating
    /// a create whose outcome is unknown.
    async fn create_once<FindFut>(
        &self,
        what: &str,
        meta: DriveFile,
        body: impl Fn() -> io::Result<Box<dyn ReadSeekSend>>,
        mime: &str,
        find: impl Fn() -> FindFut,
    ) -> Result<DriveFile>
    where
        FindFut: Future<Output = Result<Option<DriveFile>>>,
    {
        let mime: mime::Mime = mime.parse().unwrap_or(mime::APPLICATION_OCTET_STREAM);
        let mut tries = retry::Attempts::new(self.opts.retry);
        let mut look = false;
        loop {
            if look {
                if let Some(found) = find().await? {
                    return Ok(found);
                }
            }
            let reader = body().map_err(|e| local_error(what, e))?;
            let attempt = async {
                let mut rec = Recorder::default();
                let r = self
                    .hub
                    .files()
                    .create(meta.clone())
                    .supports_all_drives(true)
                    .param("fields", FILE_FIELDS)
                    .add_scope(Scope::File)
                    .delegate(&mut rec)
                    .upload(reader, mime.clone())
                    .await;
                rec.finish(r)
            };
            match self.timed(attempt).await {
                Ok(file) => return Ok(file),
                Err(failed) => {
                    look = failed.outcome_unknown();
                    self.after_failure(what, &mut tries, failed).await?;
                }
            }
        }
    }

    /// The parent folder's id, found or made once.
    async fn parent(&self, folders: &mut Folders) -> Result<String> {
        if let Some(id) = &folders.parent {
            return Ok(id.clone());
        }
        let id = match &self.opts.parent {
            Parent::Id(id) => {
                self.call("open the folder destination.drive.folder_id", || async {
                    let mut rec = Recorder::default();
                    let r = self
                        .hub
                        .files()
                        .get(id)
                        .supports_all_drives(true)
                        .param("fields", "id,mimeType")
                        .add_scope(Scope::File)
                        .delegate(&mut rec)
                        .doit()
                        .await;
                    rec.finish(r)
                })
                .await
                .map_err(|e| match e {
                    DestinationError::Permanent(m) => DestinationError::Permanent(format!(
                        "{m}; check destination.drive.folder_id (scanrig sees only folders it made, or any folder with a service account it is shared with)"
                    )),
                    other => other,
                })?;
                id.clone()
            }
            Parent::Path(names) => {
                let mut parent = "root".to_owned();
                for name in names {
                    parent = self.folder(&parent, name, None).await?;
                }
                parent
            }
        };
        folders.parent = Some(id.clone());
        Ok(id)
    }

    /// The folder `name` in `parent` (tagged with the scan, if any), made
    /// if missing.
    async fn folder(&self, parent: &str, name: &str, scan: Option<&ScanId>) -> Result<String> {
        let what = format!("make the folder {name}");
        let q = match scan {
            Some(scan) => format!(
                "{} and mimeType = '{FOLDER_MIME}' and '{}' in parents",
                has(KEY_SCAN, scan.as_str()),
                quote(parent)
            ),
            None => format!(
                "name = '{}' and mimeType = '{FOLDER_MIME}' and '{}' in parents",
                quote(name),
                quote(parent)
            ),
        };
        let find = || async { Ok(self.list(&what, &q).await?.into_iter().next()) };
        if let Some(found) = find().await? {
            return id_of(found, &what);
        }
        let meta = DriveFile {
            name: Some(name.to_owned()),
            mime_type: Some(FOLDER_MIME.to_owned()),
            parents: Some(vec![parent.to_owned()]),
            app_properties: scan.map(|s| HashMap::from([(KEY_SCAN.to_owned(), s.to_string())])),
            ..Default::default()
        };
        let empty = || Ok(Box::new(io::Cursor::new(Vec::new())) as Box<dyn ReadSeekSend>);
        let made = self
            .create_once(&what, meta, empty, FOLDER_MIME, find)
            .await?;
        id_of(made, &what)
    }

    /// The scan's folder id, cached.
    async fn scan_folder(&self, scan: &ScanId) -> Result<String> {
        let mut folders = self.folders.lock().await;
        if let Some(id) = folders.scans.get(scan.as_str()) {
            return Ok(id.clone());
        }
        let parent = self.parent(&mut folders).await?;
        let id = self.folder(&parent, scan.as_str(), Some(scan)).await?;
        folders.scans.insert(scan.as_str().to_owned(), id.clone());
        Ok(id)
    }

    /// Intact copies of the photo at Drive; damaged ones are deleted, and
    /// so are extra intact ones (only one copy may remain).
    async fn existing(&self, upload: &Upload, md5: &str) -> Result<Option<DriveFile>> {
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
            return self.create_once(&what, meta, body, mime, find).await;
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
    async fn upload_checked(&self, upload: &Upload, md5: &str) -> Result<String> {
        let file = self.send(upload, md5).await?;
        if intact(&file, upload, md5) {
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

    async fn manifest(&self, scan: &ScanId, json: &[u8]) -> Result<String> {
        let folder = self.scan_folder(scan).await?;
        let q = format!(
            "{} and '{}' in parents",
            has(KEY_MANIFEST, scan.as_str()),
            quote(&folder)
        );
        let find = || async {
            Ok(self
                .list("look for manifest.json", &q)
                .await?
                .into_iter()
                .next())
        };
        let json_mime: mime::Mime = mime::APPLICATION_JSON;
        if let Some(existing) = find().await? {
            let id = id_of(existing, "replace manifest.json")?;
            self.call("replace manifest.json", || async {
                let mut rec = Recorder::default();
                let r = self
                    .hub
                    .files()
                    .update(DriveFile::default(), &id)
                    .supports_all_drives(true)
                    .param("fields", "id")
                    .add_scope(Scope::File)
                    .delegate(&mut rec)
                    .upload(io::Cursor::new(json.to_vec()), json_mime.clone())
                    .await;
                rec.finish(r)
            })
            .await?;
            return Ok(id);
        }
        let meta = DriveFile {
            name: Some("manifest.json".into()),
            parents: Some(vec![folder]),
            mime_type: Some("application/json".into()),
            app_properties: Some(HashMap::from([(KEY_MANIFEST.to_owned(), scan.to_string())])),
            ..Default::default()
        };
        let body = || Ok(Box::new(io::Cursor::new(json.to_vec())) as Box<dyn ReadSeekSend>);
        let made = self
            .create_once("write manifest.json", meta, body, "application/json", find)
            .await?;
        id_of(made, "write manifest.json")
    }
}

/// What google-drive3 reads an upload from.
trait ReadSeekSend: io::Read + io::Seek + Send {}
impl<T: io::Read + io::Seek + Send> ReadSeekSend for T {}

impl Destination for DriveDestination {
    fn describe(&self) -> String {
        match &self.opts.parent {
            Parent::Id(id) => format!("Google Drive folder id {id}"),
            Parent::Path(p) => format!("Google Drive folder {}", p.join("/")),
        }
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        let md5 = local_md5(&upload.local)?;
        let found = self.block_on(self.existing(upload, &md5))?;
        if found.is_some() {
            // Uploaded before a crash: a session kept for it is done.
            SavedSession::forget(upload);
        }
        found.map(|f| id_of(f, "look for the photo")).transpose()
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        let md5 = local_md5(&upload.local)?;
        self.block_on(self.upload_checked(upload, &md5))
    }

    fn put_manifest(&self, scan: &ScanId, json: &[u8]) -> Result<String> {
        self.block_on(self.manifest(scan, json))
    }
}

/// Whether Drive's copy has the spool file's size and md5.
fn intact(file: &DriveFile, upload: &Upload, md5: &str) -> bool {
    file.md5_checksum.as_deref() == Some(md5) && file.size == Some(upload.size as i64)
}

fn id_of(file: DriveFile, what: &str) -> Result<String> {
    file.id.ok_or_else(|| {
        DestinationError::Transient(format!("Google Drive: {what}: the answer has no file id"))
    })
}

fn local_error(what: &str, e: io::Error) -> DestinationError {
    DestinationError::Permanent(format!("cannot {what}: cannot read the spool file: {e}"))
}

/// md5 of the spool file, lower-case hex (what Drive reports).
fn local_md5(path: &Path) -> Result<String> {
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
        Ok(md5.finalize().iter().map(|b| format!("{b:02x}")).collect())
    };
    read().map_err(|e| {
        DestinationError::Permanent(format!("cannot read spool file {}: {e}", path.display()))
    })
}

/// A Drive query string literal's inside.
fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The query clause for an `appProperties` entry.
fn has(key: &str, value: &str) -> String {
    format!(
        "appProperties has {{ key='{}' and value='{}' }}",
        quote(key),
        quote(value)
    )
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
