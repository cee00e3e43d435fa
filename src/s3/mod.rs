//! An S3-compatible bucket (AWS, MinIO, Garage, Ceph, Backblaze B2, Wasabi) as a destination, with `object_store`.
//!
//! Layout: `<prefix>/<scan id>/<photo>` and `<prefix>/<scan id>/manifest.json`
//! (and the pose priors) in the bucket; every object scanrig writes carries
//! `x-amz-meta-sha256` (its contents' sha256) and `x-amz-meta-scanrig` (its
//! name in the scan).
//!
//! Exactly once: a photo is created with `If-None-Match: *`, so a second
//! create of the same key is refused (412) whoever sent the first, even one
//! that landed after the process that sent it died; the object there is
//! then checked (size and recorded sha256) and taken if it is this photo.
//! Where a store refuses conditional creates (501 NotImplemented) the key
//! is looked up before sending instead. An object there with other bytes is
//! never replaced: the error names both checksums. A photo is read
//! through once to check its sha256 before it is sent, then streamed from
//! the spool file, whole or, above `multipart_above_mb`, in parts
//! ([`presigned`]): neither a photo nor a part is held in memory. A
//! multipart upload's id is kept beside the spool file
//! ([`crate::kept`]) from its creation to its completion, so the next run aborts
//! an upload a crash interrupted and starts it again. The manifest and the
//! pose priors are scanrig's own and replaced when written again, but only
//! over an object that carries scanrig's metadata.
//!
//! Calls block: the upload workers run them on a small tokio runtime owned
//! by the destination, never on an actix arbiter.

mod orphans;
mod presigned;
mod probe;
mod words;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as Key;
use object_store::signer::{HeaderName, HeaderValue, Method, SignedUrlOptions};
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use scanrig_actors::destination::{Destination, DestinationError, Result, Upload};
use scanrig_actors::model::{Place, ScanId};
use scanrig_hardware::fsutil::hex;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use self::presigned::Stretch;
use self::words::{failure, Problem, Target};
use crate::kept::KeptId;
use crate::settings::{S3Credentials, S3 as S3Settings};

/// The metadata key of an object's sha256 (`x-amz-meta-sha256`).
const META_SHA256: &str = "sha256";
/// The metadata key naming the object in its scan (`x-amz-meta-scanrig`):
/// scanrig wrote it.
const META_SCANRIG: &str = "scanrig";

/// The first wait before a request is tried again; it doubles each time.
const INIT_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait before a request is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Everything the destination needs, resolved from the settings.
#[derive(Clone)]
pub struct S3Options {
    /// `[destination.s3]`.
    pub settings: S3Settings,
    /// The access key.
    pub credentials: S3Credentials,
}

/// Photos go to an S3 bucket.
pub struct S3Destination {
    runtime: Option<tokio::runtime::Runtime>,
    store: AmazonS3,
    /// For the requests `object_store` signs but does not send (a body
    /// streamed from a file, the listing of the uploads open under a key).
    http: reqwest::Client,
    settings: S3Settings,
    prefix: String,
    key_id: String,
    /// The store refused a conditional create (501): look before sending.
    no_conditional: AtomicBool,
}

impl Drop for S3Destination {
    fn drop(&mut self) {
        // The last owner may be an actix thread, inside another runtime,
        // where a blocking shutdown is not allowed.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// What the store holds under a key.
struct Held {
    size: u64,
    sha256: String,
    scanrig: bool,
}

impl S3Destination {
    /// A destination for `opts`; contacts nobody yet.
    pub fn new(opts: S3Options) -> anyhow::Result<S3Destination> {
        // rustls takes the process's provider: ring, as everywhere in scanrig.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let s = &opts.settings;
        let timeout = Duration::from_secs(s.timeout_s);
        let client = ClientOptions::new()
            .with_timeout(timeout)
            .with_connect_timeout(Duration::from_secs(10).min(timeout))
            .with_allow_http(s.endpoint.starts_with("http://"));
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: INIT_BACKOFF,
                max_backoff: MAX_BACKOFF,
                base: 2.0,
            },
            max_retries: s.retries as usize,
            retry_timeout: timeout * (s.retries + 1),
        };
        let mut builder = AmazonS3Builder::new()
            .with_region(&s.region)
            .with_bucket_name(&s.bucket)
            .with_access_key_id(&opts.credentials.access_key_id)
            .with_secret_access_key(&opts.credentials.secret_access_key)
            .with_virtual_hosted_style_request(!s.path_style)
            .with_client_options(client)
            .with_retry(retry);
        if !s.endpoint.is_empty() {
            builder = builder.with_endpoint(s.endpoint.trim_end_matches('/'));
        }
        let store = builder.build()?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-io")
            .enable_all()
            .build()?;
        Ok(S3Destination {
            runtime: Some(runtime),
            store,
            http,
            prefix: s.prefix(),
            key_id: opts.credentials.access_key_id.clone(),
            settings: opts.settings,
            no_conditional: AtomicBool::new(false),
        })
    }

    fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the destination")
            .block_on(fut)
    }

    fn target(&self) -> Target<'_> {
        Target {
            bucket: &self.settings.bucket,
            endpoint: &self.settings.endpoint,
            key_id: &self.key_id,
        }
    }

    fn fail(&self, what: &str, e: &object_store::Error) -> DestinationError {
        failure(what, &self.target(), e)
    }

    /// The key of `name` under the prefix.
    fn key(&self, name: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(name)
        } else {
            Key::from(format!("{}/{name}", self.prefix))
        }
    }

    /// The key of a scan's file.
    fn key_in(&self, scan: &ScanId, name: &str) -> Key {
        self.key(&format!("{}/{name}", scan.as_str()))
    }

    /// `s3://bucket/key`, for messages.
    fn url(&self, key: &Key) -> String {
        format!("s3://{}/{key}", self.settings.bucket)
    }

    /// What is under `key`, if anything: its size, its sha256 (recorded in
    /// its metadata, or else read whole), whether scanrig wrote it.
    async fn held(&self, key: &Key) -> Result<Option<Held>> {
        let what = format!("look at {}", self.url(key));
        let head = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(key, head).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => {
                // An answer to HEAD has no body, hence no error code: a
                // GET of its first byte tells what is wrong.
                let first = GetOptions {
                    range: Some((0..1).into()),
                    ..GetOptions::default()
                };
                let why = self.store.get_opts(key, first).await.err().unwrap_or(e);
                return Err(self.fail(&what, &why));
            }
        };
        let meta = |k: &'static str| {
            got.attributes
                .get(&Attribute::Metadata(k.into()))
                .map(|v| v.as_ref().to_owned())
        };
        let scanrig = meta(META_SCANRIG).is_some();
        let sha256 = match meta(META_SHA256) {
            Some(sha) => sha,
            None => self.read_sha256(key).await?,
        };
        Ok(Some(Held {
            size: got.meta.size,
            sha256,
            scanrig,
        }))
    }

    /// The object under `key`, to read; `what` names the reading.
    async fn get(&self, key: &Key, what: &str) -> Result<object_store::GetResult> {
        self.store.get(key).await.map_err(|e| self.fail(what, &e))
    }

    /// The sha256 of the object under `key`, read as a stream.
    async fn read_sha256(&self, key: &Key) -> Result<String> {
        let what = format!("read {} to check it", self.url(key));
        let got = self.get(key, &what).await?;
        let mut stream = got.into_stream();
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(chunk.map_err(|e| self.fail(&what, &e))?);
        }
        Ok(hex(&hasher.finalize()))
    }

    /// Whether the object under `key` is this photo: `Some(id)` if so,
    /// `None` if there is none, and a permanent error naming both
    /// checksums if it holds other bytes.
    async fn same(&self, upload: &Upload, key: &Key) -> Result<Option<String>> {
        let Some(held) = self.held(key).await? else {
            return Ok(None);
        };
        if held.size == upload.size && held.sha256 == upload.sha256 {
            return Ok(Some(key.to_string()));
        }
        Err(DestinationError::Permanent(format!(
            "{} already holds other bytes ({} bytes, sha256 {}) than {} ({} bytes, sha256 {}); it is left as it is: move or delete it, or choose another destination.s3.prefix",
            self.url(key),
            held.size,
            held.sha256,
            upload.name,
            upload.size,
            upload.sha256
        )))
    }

    /// Metadata of an object scanrig writes.
    fn attributes(name: &str, sha256: &str) -> Attributes {
        let mut a = Attributes::new();
        a.insert(
            Attribute::Metadata(META_SHA256.into()),
            sha256.to_owned().into(),
        );
        a.insert(
            Attribute::Metadata(META_SCANRIG.into()),
            name.to_owned().into(),
        );
        let mime = match name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
        {
            Some(e) if e == "jpg" || e == "jpeg" => "image/jpeg",
            Some(e) if e == "json" => "application/json",
            Some(e) if e == "txt" => "text/plain",
            _ => "application/octet-stream",
        };
        a.insert(Attribute::ContentType, mime.into());
        a
    }

    /// The headers of an object scanrig writes, as a presigned request
    /// sends them (and binds them to its signature).
    fn signed_headers(attributes: &Attributes) -> Result<SignedUrlOptions> {
        let mut opts = SignedUrlOptions::new();
        for (attribute, value) in attributes {
            let name = match attribute {
                Attribute::Metadata(k) => format!("x-amz-meta-{k}"),
                Attribute::ContentType => CONTENT_TYPE.to_string(),
                _ => continue,
            };
            let header = HeaderName::from_bytes(name.as_bytes()).ok();
            let sent = HeaderValue::from_str(value.as_ref()).ok();
            let (Some(header), Some(sent)) = (header, sent) else {
                return Err(DestinationError::Permanent(format!(
                    "S3: {name}: {} cannot be sent in a header; rename it with ASCII letters only",
                    value.as_ref()
                )));
            };
            opts = opts.with_signed_header(header, sent);
        }
        Ok(opts)
    }

    /// Sends a photo in one request streamed from the spool file, created
    /// only if the key is free.
    async fn put_once(&self, upload: &Upload, key: &Key) -> Result<String> {
        check_file(upload).await?;
        let name = format!("{}/{}", upload.scan.as_str(), upload.name);
        let conditional = !self.no_conditional.load(Ordering::Relaxed);
        if !conditional {
            if let Some(id) = self.same(upload, key).await? {
                return Ok(id);
            }
        }
        let mut opts = Self::signed_headers(&Self::attributes(&name, &upload.sha256))?;
        if conditional {
            opts = opts.with_signed_header(IF_NONE_MATCH, HeaderValue::from_static("*"));
        }
        let whole = Stretch {
            file: &upload.local,
            offset: 0,
            len: upload.size,
        };
        let what = format!("send {} to {}", upload.name, self.url(key));
        let sent = self.presigned(Method::PUT, key, &opts, Some(&whole)).await;
        match sent.and_then(|answer| answer.success(key)) {
            Ok(_) => Ok(key.to_string()),
            // Created already: by an earlier try (whose answer was lost),
            // an earlier run, or someone else.
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => self.same(upload, key).await?.ok_or_else(|| {
                DestinationError::Transient(format!(
                    "S3: {} was refused as existing but is not there",
                    self.url(key)
                ))
            }),
            Err(e) if conditional && refuses_conditional(&e) => {
                self.no_conditional.store(true, Ordering::Relaxed);
                Err(DestinationError::Transient(format!(
                    "S3: the store does not take conditional creates (If-None-Match); from now on {} looks before it sends",
                    self.settings.bucket
                )))
            }
            Err(e) => Err(self.fail(&what, &e)),
        }
    }

    /// Sends a photo in parts, each streamed from the spool file.
    async fn put_parts(&self, upload: &Upload, key: &Key) -> Result<String> {
        let kept = KeptId::beside(upload, "s3-upload");
        let what = format!("send {} to {} in parts", upload.name, self.url(key));
        if let Some(id) = kept.load() {
            // A run or a try before this one was sending it: its upload is
            // aborted (unless it was completed), then the object looked for.
            self.abort(key, &id).await?;
            kept.forget();
        }
        if let Some(found) = self.same(upload, key).await? {
            self.abort_open(key).await?;
            return Ok(found);
        }
        // Uploads open under the key: one a run was killed before keeping
        // its id, one whose creation's answer was lost.
        self.abort_open(key).await?;
        check_file(upload).await?;
        let name = format!("{}/{}", upload.scan.as_str(), upload.name);
        let opts = PutMultipartOptions {
            attributes: Self::attributes(&name, &upload.sha256),
            ..PutMultipartOptions::default()
        };
        let id = self
            .store
            .create_multipart_opts(key, opts)
            .await
            .map_err(|e| self.fail(&what, &e))?;
        if let Err(e) = kept.save(&id) {
            // Aborted now, or found open by the next try.
            let _ = self.abort(key, &id).await;
            return Err(DestinationError::Transient(format!(
                "cannot keep the id of {}'s upload in {}: {e}",
                upload.name,
                kept.path().display()
            )));
        }
        let parts = match self.send_parts(upload, key, &id).await {
            Ok(parts) => parts,
            Err(e) => {
                // Aborted now, or by the next try, which finds its id kept.
                if self.abort(key, &id).await.is_ok() {
                    kept.forget();
                }
                return Err(e);
            }
        };
        let found = match self.store.complete_multipart(key, &id, parts).await {
            Ok(_) => Some(key.to_string()),
            // An earlier completion whose answer was lost (the upload is
            // gone: 404), or a conditional one refused (412): look.
            Err(
                object_store::Error::NotFound { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {
                let found = self.same(upload, key).await?;
                self.abort(key, &id).await?;
                found
            }
            // Left for the next try, which aborts it first.
            Err(e) => return Err(self.fail(&what, &e)),
        };
        // One made meanwhile by a creation whose answer was lost.
        self.abort_open(key).await?;
        kept.forget();
        found.ok_or_else(|| {
            DestinationError::Transient(format!(
                "S3: the upload of {} was lost before it was completed; it will be sent again",
                upload.name
            ))
        })
    }

    /// Whether `upload` goes up in parts.
    fn in_parts(&self, upload: &Upload) -> bool {
        upload.size > self.settings.multipart_above_mb * 1024 * 1024
    }

    /// Sends the parts of `upload`, one at a time, each streamed from the
    /// spool file.
    async fn send_parts(&self, upload: &Upload, key: &Key, id: &str) -> Result<Vec<PartId>> {
        let what = format!("send {} to {} in parts", upload.name, self.url(key));
        let part = self.settings.part_mb * 1024 * 1024;
        let count = upload.size.div_ceil(part).max(1);
        let mut parts = Vec::new();
        for n in 0..count {
            let offset = n * part;
            let stretch = Stretch {
                file: &upload.local,
                offset,
                len: part.min(upload.size - offset),
            };
            let opts = SignedUrlOptions::new().with_query([
                ("partNumber", (n + 1).to_string()),
                ("uploadId", id.to_owned()),
            ]);
            let answer = self
                .presigned(Method::PUT, key, &opts, Some(&stretch))
                .await
                .and_then(|answer| answer.success(key))
                .map_err(|e| self.fail(&what, &e))?;
            let etag = answer.headers.get(ETAG).and_then(|v| v.to_str().ok());
            let Some(etag) = etag else {
                return Err(DestinationError::Transient(format!(
                    "S3: cannot {what}: the store answered part {} without an ETag",
                    n + 1
                )));
            };
            parts.push(PartId {
                content_id: etag.to_owned(),
            });
        }
        Ok(parts)
    }

    /// Aborts the multipart upload `id`; one already gone (completed or
    /// aborted) is fine.
    async fn abort(&self, key: &Key, id: &str) -> Result<()> {
        match self.store.abort_multipart(key, &id.to_owned()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) if Problem::of(&e.to_string()) == Problem::NotFound => Ok(()),
            Err(e) => Err(self.fail(&format!("abort an upload of {}", self.url(key)), &e)),
        }
    }

    async fn put_file_async(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        scanrig_actors::destination::relative(name)?;
        let key = self.key_in(scan, name);
        let file = format!("{}/{name}", scan.as_str());
        if let Some(held) = self.held(&key).await? {
            if !held.scanrig {
                return Err(DestinationError::Permanent(format!(
                    "{} holds an object scanrig did not write (sha256 {}); it is left as it is: move or delete it, or choose another destination.s3.prefix",
                    self.url(&key),
                    held.sha256
                )));
            }
        }
        let opts = PutOptions {
            mode: PutMode::Overwrite,
            attributes: Self::attributes(&file, &hex(&Sha256::digest(bytes))),
            ..PutOptions::default()
        };
        self.store
            .put_opts(&key, PutPayload::from(bytes.to_vec()), opts)
            .await
            .map_err(|e| self.fail(&format!("write {}", self.url(&key)), &e))?;
        Ok(key.to_string())
    }
}

/// Whether `e` is a store's refusal of `If-None-Match` (501).
fn refuses_conditional(e: &object_store::Error) -> bool {
    let text = crate::http::error_chain(e);
    text.contains("NotImplemented") || text.contains("501")
}

/// Reads the spool file of `upload` through and refuses it if it is not
/// what was captured.
async fn check_file(upload: &Upload) -> Result<()> {
    let unreadable = |e: std::io::Error| {
        DestinationError::Transient(format!("cannot read {}: {e}", upload.local.display()))
    };
    let mut file = tokio::fs::File::open(&upload.local)
        .await
        .map_err(unreadable)?;
    let (mut hasher, mut size, mut chunk) = (Sha256::new(), 0u64, vec![0u8; presigned::CHUNK]);
    loop {
        let n = file.read(&mut chunk).await.map_err(unreadable)?;
        if n == 0 {
            return check_spool(upload, size, &hex(&hasher.finalize()));
        }
        hasher.update(&chunk[..n]);
        size += n as u64;
    }
}

/// Refuses a spool file that is not what was captured.
fn check_spool(upload: &Upload, size: u64, sha256: &str) -> Result<()> {
    if sha256 == upload.sha256 {
        return Ok(());
    }
    Err(DestinationError::SpoolDamaged {
        name: upload.name.clone(),
        reason: format!(
            "{} now has {size} bytes and sha256 {sha256}; it had {} bytes and sha256 {} when captured",
            upload.local.display(),
            upload.size,
            upload.sha256
        ),
    })
}

impl Destination for S3Destination {
    fn describe(&self) -> String {
        self.place().to_string()
    }

    fn place(&self) -> Place {
        Place::S3 {
            endpoint: self.settings.endpoint.clone(),
            bucket: self.settings.bucket.clone(),
            prefix: self.prefix.clone(),
        }
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        let key = self.key_in(&upload.scan, &upload.name);
        self.block_on(async {
            let found = self.same(upload, &key).await?;
            if found.is_some() && self.in_parts(upload) {
                // Completed before a crash: no upload of it stays open.
                let kept = KeptId::beside(upload, "s3-upload");
                if let Some(id) = kept.load() {
                    self.abort(&key, &id).await?;
                    kept.forget();
                }
                self.abort_open(&key).await?;
            }
            Ok(found)
        })
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        let key = self.key_in(&upload.scan, &upload.name);
        self.block_on(async {
            if self.in_parts(upload) {
                self.put_parts(upload, &key).await
            } else {
                self.put_once(upload, &key).await
            }
        })
    }

    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        self.block_on(self.put_file_async(scan, name, bytes))
    }

    fn probe(&self, write: bool) -> Result<()> {
        self.block_on(self.probe_async(write))
    }
}
