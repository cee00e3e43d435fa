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
//! photos, the manifest, the pose priors) is created with an id reserved
//! beforehand (`files.generateIds`), so a repeated create cannot make a
//! second file, even when the first lands after the client gave up on it:
//! Drive answers 409 and the file is fetched by its id. The id of a photo,
//! the manifest, a pose prior or a scan's folder is kept durably in the spool
//! ([`reserved`]) before the create goes out, so this holds across a crash
//! or a kill too: a create that lands after the process died refuses (or is
//! refused by) the next run's. It is also looked for again before a create
//! is repeated after a failure that may have taken effect. Big photos go
//! through a resumable session ([`transfer`]), kept in the spool as well,
//! which cannot make two files.
//!
//! Calls block: the uploader's worker threads run them on a small tokio
//! runtime owned by the destination, never on an actix arbiter.

/// One google-drive3 call with a [`retry::Recorder`] as its delegate, and
/// its result with the failure described: `recorded!(|rec| builder
/// .delegate(rec).doit())` (the builder's last call, not awaited).
macro_rules! recorded {
    (|$rec:ident| $call:expr) => {{
        let mut recorder = $crate::drive::retry::Recorder::default();
        let result = {
            let $rec = &mut recorder;
            $call.await
        };
        recorder.finish(result)
    }};
}

pub mod auth;
pub mod command;
mod files;
mod folders;
mod probe;
mod refresh;
mod reserved;
pub(crate) mod retry;
pub(crate) mod transfer;

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use google_drive3::api::{File as DriveFile, Scope};
use google_drive3::hyper_util::client::legacy::Client;
use google_drive3::hyper_util::rt::TokioExecutor;
use google_drive3::DriveHub;
use scanrig_actors::destination::{Destination, DestinationError, Result, Upload};
use scanrig_actors::model::{Place, ScanId};
use scanrig_actors::restart::Backoff;
use slog::{debug, Logger};

pub use self::folders::Parent;

use self::auth::AuthConfig;
use self::files::local_md5;
use self::folders::Folders;
use self::refresh::Tokens;
use self::reserved::ReservedId;
use self::retry::{Failed, RetryPolicy};
use self::transfer::{ChunkClient, SavedSession, FILE_FIELDS};
use crate::http::{connector, Connector};
use crate::settings::Drive as DriveSettings;

/// Keys of scanrig's `appProperties`.
const KEY_SCAN: &str = "scanrig_scan";
const KEY_SHOT: &str = "scanrig_shot";
const KEY_SHA256: &str = "scanrig_sha256";
const KEY_MANIFEST: &str = "scanrig_manifest";
const KEY_FILE: &str = "scanrig_file";
/// Pose priors sent at once.
const PUT_FILES_AT_ONCE: usize = 4;

/// File ids reserved per `files.generateIds` request.
const ID_BATCH: i32 = 10;
/// Drive's reason for refusing a create's id that it does not take.
const ID_NOT_USABLE: &str = "fileIdNotUsable";

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
    /// The spool, whose scan folders keep the ids reserved for their
    /// manifest, pose priors and folders at Drive.
    pub spool: PathBuf,
}

impl DriveOptions {
    /// From `[destination.drive]`, with the token file and the spool
    /// resolved.
    pub fn new(d: &DriveSettings, token_file: PathBuf, spool: PathBuf) -> DriveOptions {
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
                backoff: Backoff {
                    initial: Duration::from_millis(d.retry_initial_ms),
                    max: Duration::from_millis(d.retry_max_ms),
                },
            },
            spool,
        }
    }
}

/// Photos go to Google Drive.
pub struct DriveDestination {
    runtime: Option<tokio::runtime::Runtime>,
    hub: DriveHub<Connector>,
    tokens: Tokens,
    chunks: ChunkClient,
    opts: DriveOptions,
    folders: tokio::sync::Mutex<Folders>,
    /// File ids reserved for creates, each used at most once.
    ids: tokio::sync::Mutex<Vec<String>>,
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
        let client = Client::builder(TokioExecutor::new()).build(connector.clone());
        let tokens = runtime.block_on(Tokens::unattended(&opts.auth, client.clone()))?;
        let mut hub = DriveHub::new(client, tokens.clone());
        hub.base_url(opts.api_url.clone());
        hub.root_url(opts.upload_url.clone());
        Ok(DriveDestination {
            runtime: Some(runtime),
            hub,
            tokens,
            chunks: transfer::chunk_client(connector),
            opts,
            folders: tokio::sync::Mutex::new(Folders::default()),
            ids: tokio::sync::Mutex::new(Vec::new()),
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
        self.block_on(self.whoami_async())
    }

    async fn whoami_async(&self) -> Result<String> {
        self.call("ask who is signed in", || async {
            recorded!(|rec| self
                .hub
                .about()
                .get()
                .param("fields", "user(displayName,emailAddress)")
                .add_scope(Scope::File)
                .delegate(rec)
                .doit())
        })
        .await
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
                self.tokens.refresh().await.map_err(|f| f.into_error(what))
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
        self.tokens.token().await
    }

    /// Files matching the query `q` (not in the trash).
    async fn list(&self, what: &str, q: &str) -> Result<Vec<DriveFile>> {
        let q = format!("{q} and trashed = false");
        self.call(what, || async {
            recorded!(|rec| self
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
                .delegate(rec)
                .doit())
        })
        .await
        .map(|list| list.files.unwrap_or_default())
    }

    async fn delete(&self, id: &str) -> Result<()> {
        self.call("delete a damaged copy", || async {
            let deleted = recorded!(|rec| async {
                let response = self
                    .hub
                    .files()
                    .delete(id)
                    .supports_all_drives(true)
                    .add_scope(Scope::File)
                    .delegate(rec)
                    .doit()
                    .await;
                response.map(|r| (r, ()))
            });
            match deleted {
                Err(f) if f.kind == retry::FailKind::Status(404) => Ok(()),
                other => other,
            }
        })
        .await
    }

    /// The file `id` with [`FILE_FIELDS`]; `None` if there is none.
    async fn get_by_id(&self, what: &str, id: &str) -> Result<Option<DriveFile>> {
        self.call(what, || async {
            let got = recorded!(|rec| self
                .hub
                .files()
                .get(id)
                .supports_all_drives(true)
                .param("fields", FILE_FIELDS)
                .add_scope(Scope::File)
                .delegate(rec)
                .doit());
            match got {
                Err(f) if f.kind == retry::FailKind::Status(404) => Ok(None),
                other => other.map(Some),
            }
        })
        .await
    }

    /// A file id no file has yet, for a create to `what`: one of a batch
    /// reserved with `files.generateIds`, never handed out twice.
    async fn fresh_id(&self, what: &str) -> Result<String> {
        let mut ids = self.ids.lock().await;
        if ids.is_empty() {
            let what = format!("reserve a file id to {what}");
            let generated = self
                .call(&what, || async {
                    recorded!(|rec| self
                        .hub
                        .files()
                        .generate_ids()
                        .count(ID_BATCH)
                        .space("drive")
                        .add_scope(Scope::File)
                        .delegate(rec)
                        .doit())
                })
                .await?;
            *ids = generated.ids.unwrap_or_default();
            // Handed out in the order Drive gave them.
            ids.reverse();
        }
        ids.pop().ok_or_else(|| {
            DestinationError::Transient(format!(
                "Google Drive: cannot {what}: Drive reserved no file ids"
            ))
        })
    }

    /// A fresh id for a create to `what`, kept in `reserved` (if given)
    /// before any create with it is sent.
    async fn reserve(&self, what: &str, reserved: Option<&ReservedId>) -> Result<String> {
        let id = self.fresh_id(what).await?;
        if let Some(reserved) = reserved {
            reserved.save(&id).map_err(|e| {
                DestinationError::Transient(format!(
                    "Google Drive: cannot {what}: cannot keep the file id reserved for it in {}: {e}",
                    reserved.path().display()
                ))
            })?;
        }
        Ok(id)
    }

    /// Creates a file in one request (`body` is its whole content), unless
    /// `find` shows it is there already. The file gets a reserved id, kept
    /// through retries, and in `reserved` (if given) through restarts, so
    /// a create that lands late, even after the process that sent it died,
    /// cannot make a second file: the next try gets 409 and the file is
    /// fetched by its id (the caller checks its content). `find` is asked
    /// again before repeating a create whose outcome is unknown.
    async fn create_once<FindFut>(
        &self,
        what: &str,
        meta: DriveFile,
        body: impl Fn() -> io::Result<Box<dyn ReadSeekSend>>,
        mime: &str,
        find: impl Fn() -> FindFut,
        reserved: Option<&ReservedId>,
    ) -> Result<DriveFile>
    where
        FindFut: Future<Output = Result<Option<DriveFile>>>,
    {
        let mime: mime::Mime = mime.parse().unwrap_or(mime::APPLICATION_OCTET_STREAM);
        let mut tries = retry::Attempts::new(self.opts.retry);
        let mut meta = meta;
        let mut look = false;
        // Whether a create with the current id may have taken effect: an
        // id kept from before a restart may have been sent already.
        let kept = reserved.and_then(ReservedId::load);
        let mut maybe_made = kept.is_some();
        let mut from_before = kept.is_some();
        meta.id = Some(match kept {
            Some(id) => id,
            None => self.reserve(what, reserved).await?,
        });
        loop {
            if look {
                if let Some(found) = find().await? {
                    return Ok(found);
                }
            }
            let reader = body().map_err(|e| local_error(what, e))?;
            let attempt = async {
                recorded!(|rec| self
                    .hub
                    .files()
                    .create(meta.clone())
                    .supports_all_drives(true)
                    .param("fields", FILE_FIELDS)
                    .add_scope(Scope::File)
                    .delegate(rec)
                    .upload(reader, mime.clone()))
            };
            match self.timed(attempt).await {
                Ok(file) => return Ok(file),
                Err(failed) if failed.kind == retry::FailKind::Status(409) && maybe_made => {
                    // An earlier try (of this process or one before it)
                    // made the file after all.
                    let id = meta.id.clone().unwrap_or_default();
                    if let Some(made) = self.get_by_id(what, &id).await? {
                        return Ok(made);
                    }
                    // Made and deleted since (a damaged copy `find`
                    // removed): the id is spent, a new one may be used.
                    debug!(self.log, "the file made by an earlier try is gone; creating it again";
                        "what" => what, "id" => &id);
                    meta.id = Some(self.reserve(what, reserved).await?);
                    maybe_made = false;
                    look = false;
                }
                Err(failed) if failed.reason.as_deref() == Some(ID_NOT_USABLE) && from_before => {
                    // Kept from an earlier run, and no longer taken: no
                    // file was made with it, so a new one may be used.
                    debug!(self.log, "the file id kept for a create is no longer usable; reserving another";
                        "what" => what, "id" => meta.id.as_deref().unwrap_or_default());
                    meta.id = Some(self.reserve(what, reserved).await?);
                    from_before = false;
                    maybe_made = false;
                    look = false;
                }
                Err(failed) => {
                    look = failed.outcome_unknown();
                    maybe_made |= look;
                    self.after_failure(what, &mut tries, failed).await?;
                }
            }
        }
    }
}

/// What google-drive3 reads an upload from.
trait ReadSeekSend: io::Read + io::Seek + Send {}
impl<T: io::Read + io::Seek + Send> ReadSeekSend for T {}

impl Destination for DriveDestination {
    fn describe(&self) -> String {
        self.place().to_string()
    }

    fn place(&self) -> Place {
        match &self.opts.parent {
            Parent::Id(id) => Place::Drive {
                folder_id: Some(id.clone()),
                folder: None,
            },
            Parent::Path(p) => Place::Drive {
                folder_id: None,
                folder: Some(p.join("/")),
            },
        }
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        let md5 = local_md5(&upload.local)?;
        let found = self.block_on(self.existing(upload, &md5))?;
        if found.is_some() {
            // Uploaded before a crash: a session or an id kept for it is done.
            SavedSession::forget(upload);
            ReservedId::of_photo(upload).forget();
        }
        found.map(|f| id_of(f, "look for the photo")).transpose()
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        let md5 = local_md5(&upload.local)?;
        self.block_on(self.upload_checked(upload, &md5))
    }

    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        self.block_on(self.put_file_async(scan, name, bytes))
    }

    fn probe(&self, write: bool) -> Result<()> {
        self.block_on(self.probe_async(write))
    }

    /// Several at a time (each a request or two of its own).
    fn put_files(&self, scan: &ScanId, files: &[(String, Vec<u8>)]) -> Vec<Result<String>> {
        use futures_util::stream::{self, StreamExt};
        self.block_on(
            stream::iter(files)
                .map(|(name, bytes)| self.put_file_async(scan, name, bytes))
                .buffered(PUT_FILES_AT_ONCE)
                .collect(),
        )
    }
}

/// A file kept beside a photo's spool file: `.<name>.<kind>`.
fn id_of(file: DriveFile, what: &str) -> Result<String> {
    file.id.ok_or_else(|| {
        DestinationError::Transient(format!("Google Drive: {what}: the answer has no file id"))
    })
}

fn local_error(what: &str, e: io::Error) -> DestinationError {
    DestinationError::Permanent(format!("cannot {what}: cannot read the spool file: {e}"))
}
