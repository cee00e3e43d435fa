//! A WebDAV server (Nextcloud, a NAS) as a destination, on the HTTP stack
//! Google Drive uses (hyper, rustls).
//!
//! Layout: the configured collection, in it one collection per scan named
//! by the scan id, in that the photos under their spool names and
//! `manifest.json`, written last.
//!
//! Exactly once: a photo is sent (`PUT`) to a temporary name beside its own
//! ([`part_name`]: `.<name>.part-<its sha256's first 16 hex digits>`), then moved to its
//! name with `MOVE` and `Overwrite: F`, which the server refuses (412) when
//! something is there already. A half-sent photo is never under its name;
//! a killed upload's temporary file is the one the next try writes again
//! (same name), and the manifest's upload clears any other. When the name is taken, what is
//! there is read back: the same sha256 is the photo (an earlier try got
//! there), other bytes are never replaced but refused, naming both
//! checksums. The manifest and pose priors are scanrig's own and replaced
//! (`Overwrite: T`), through a temporary name too, fixed by their name.
//!
//! Calls block: the uploader's worker threads run them on a small tokio
//! runtime owned by the destination, never on an actix arbiter.

mod request;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use google_drive3::hyper::{Method, StatusCode};
use scanrig_actors::destination::{
    is_part_name, part_name, probe_name, relative, Destination, DestinationError, Result, Upload,
    MANIFEST,
};
use scanrig_actors::model::{Place, ScanId};

use self::request::Client;
use crate::settings::Webdav as WebdavSettings;

/// Everything the destination needs, resolved from the settings.
#[derive(Clone)]
pub struct WebdavOptions {
    /// The collection the scans go in, ending in `/`.
    pub collection: String,
    /// The user.
    pub user: String,
    /// The password (a secret: never in a log or a message).
    pub password: String,
    /// Longest wait for one request.
    pub timeout: Duration,
}

impl std::fmt::Debug for WebdavOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebdavOptions")
            .field("collection", &self.collection)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl WebdavOptions {
    /// From `[destination.webdav]`, the password read from its file.
    pub fn new(w: &WebdavSettings) -> anyhow::Result<WebdavOptions> {
        let bad = |e: String| anyhow::anyhow!("{e}");
        Ok(WebdavOptions {
            collection: w
                .collection()
                .map_err(|e| bad(format!("destination.webdav.url: {e}")))?,
            user: w.user.clone(),
            password: w
                .password()
                .map_err(|e| bad(format!("destination.webdav.password_file: {e}")))?,
            timeout: Duration::from_secs(w.timeout_s),
        })
    }
}

/// Photos go to a WebDAV server.
pub struct WebdavDestination {
    runtime: Option<tokio::runtime::Runtime>,
    client: Client,
    collection: String,
    /// Collections known to exist (made, or found).
    made: Mutex<BTreeSet<String>>,
}

impl Drop for WebdavDestination {
    fn drop(&mut self) {
        // The last owner may be an actix thread, inside another runtime,
        // where a blocking shutdown is not allowed.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl WebdavDestination {
    /// A destination for `opts`. Contacts nobody yet.
    pub fn new(opts: WebdavOptions) -> anyhow::Result<WebdavDestination> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("webdav-io")
            .enable_all()
            .build()?;
        Ok(WebdavDestination {
            runtime: Some(runtime),
            client: Client::new(&opts)?,
            collection: opts.collection,
            made: Mutex::new(BTreeSet::new()),
        })
    }

    fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the destination")
            .block_on(fut)
    }

    fn scan_url(&self, scan: &ScanId) -> String {
        format!("{}{}/", self.collection, request::encode(scan.as_str()))
    }

    /// Makes the collection `url` (ending in `/`) unless known to exist.
    async fn collection(&self, url: &str) -> Result<()> {
        if self.lock_made().contains(url) {
            return Ok(());
        }
        let mkcol = Method::from_bytes(b"MKCOL").expect("a method");
        let answer = self
            .client
            .request(mkcol, url, &[], request::empty(), Duration::ZERO)
            .await?;
        match answer.status() {
            // Made, or there already (405: MKCOL on an existing resource).
            s if s.is_success() || s == StatusCode::METHOD_NOT_ALLOWED => {
                request::drain(answer).await;
                self.lock_made().insert(url.to_owned());
                Ok(())
            }
            // The folder above is missing.
            StatusCode::CONFLICT | StatusCode::NOT_FOUND => Err(missing_folder(&self.collection)),
            _ => Err(self.client.refused("MKCOL", url, answer).await),
        }
    }

    fn lock_made(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.made.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where `name` (which may hold folders) goes in the scan's folder,
    /// its temporary name made with `key`.
    fn spot(&self, scan: &ScanId, name: &str, key: &str) -> Result<Spot> {
        let parts: Vec<String> = relative(name)?
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let (base, dirs) = parts.split_last().expect("a relative name has a part");
        let mut folders = vec![self.scan_url(scan)];
        for dir in dirs {
            let inner = format!("{}{}/", folders[folders.len() - 1], request::encode(dir));
            folders.push(inner);
        }
        let folder = &folders[folders.len() - 1];
        Ok(Spot {
            target: format!("{folder}{}", request::encode(base)),
            temp: format!("{folder}{}", request::encode(&part_name(base, key))),
            folders,
        })
    }

    /// Makes the folders of `spot`, outermost first.
    async fn make(&self, spot: &Spot) -> Result<()> {
        for folder in &spot.folders {
            self.collection(folder).await?;
        }
        Ok(())
    }

    async fn upload_async(&self, upload: &Upload) -> Result<String> {
        let spot = self.spot(&upload.scan, &upload.name, &upload.sha256)?;
        self.make(&spot).await?;
        let Spot { target, temp, .. } = spot;
        self.client.put_file(&temp, upload).await?;
        match self.client.move_to(&temp, &target, false).await? {
            None => Ok(target),
            Some(taken) => {
                // Something is there: ours from an earlier try, or not ours.
                let _ = self.client.delete(&temp).await;
                request::drain(taken).await;
                let (there, size) = self.client.digest(&target).await?.unwrap_or_default();
                if there == upload.sha256 {
                    return Ok(target);
                }
                Err(DestinationError::Permanent(format!(
                    "{target} is there already with other bytes ({size} bytes, sha256 {there}) than {} ({} bytes, sha256 {}); scanrig never replaces a file it did not write: move or delete the one at the server, then run `scanrig uploads retry`",
                    upload.name, upload.size, upload.sha256
                )))
            }
        }
    }

    async fn put_file_async(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        // Its temporary name is fixed by its name: a next version written
        // after a kill replaces a half-sent one.
        let spot = self.spot(scan, name, &request::sha256_hex(name.as_bytes()))?;
        self.make(&spot).await?;
        if name == MANIFEST {
            // The manifest comes last: clear what killed or cut uploads
            // left, before the scan counts as delivered.
            self.clear_parts(&spot.folders[0]).await?;
        }
        self.client.put_bytes(&spot.temp, bytes.to_vec()).await?;
        match self.client.move_to(&spot.temp, &spot.target, true).await? {
            None => Ok(spot.target),
            Some(answer) => Err(self.client.refused("MOVE", &spot.target, answer).await),
        }
    }
}

impl WebdavDestination {
    /// Deletes the temporary files ([`is_part_name`]) in the folder `url`.
    async fn clear_parts(&self, url: &str) -> Result<()> {
        let propfind = Method::from_bytes(b"PROPFIND").expect("a method");
        let answer = self
            .client
            .request(
                propfind,
                url,
                &[("Depth", "1")],
                request::empty(),
                Duration::ZERO,
            )
            .await?;
        if !answer.status().is_success() {
            return Err(self.client.refused("PROPFIND", url, answer).await);
        }
        let listing = request::text(answer).await?;
        for href in request::hrefs(&listing) {
            let name = href.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            if is_part_name(&request::decode(name)) {
                self.client.delete(&request::resolve(url, &href)).await?;
            }
        }
        Ok(())
    }
}

/// Where a file goes.
struct Spot {
    /// The folders on the way, the scan's first.
    folders: Vec<String>,
    /// Its URL.
    target: String,
    /// The URL of its temporary name.
    temp: String,
}

impl Destination for WebdavDestination {
    /// Checks the destination can be reached and, with `write`, written:
    /// writes, reads back and deletes a small object. The error says in
    /// words what is wrong (DNS, TLS, refused credentials, missing folder,
    /// no write permission).
    fn probe(&self, write: bool) -> Result<()> {
        self.block_on(async {
            let url = &self.collection;
            let propfind = Method::from_bytes(b"PROPFIND").expect("a method");
            let answer = self
                .client
                .request(propfind, url, &[("Depth", "0")], request::empty(), Duration::ZERO)
                .await?;
            match answer.status() {
                s if s.is_success() => request::drain(answer).await,
                StatusCode::NOT_FOUND => return Err(missing_folder(url)),
                _ => return Err(self.client.refused("PROPFIND", url, answer).await),
            }
            if !write {
                return Ok(());
            }
            let name = probe_name();
            let target = format!("{url}{}", request::encode(&name));
            let bytes = format!("scanrig probe {name}\n").into_bytes();
            self.client.put_bytes(&target, bytes.clone()).await?;
            let (got, _) = self.client.digest(&target).await?.unwrap_or_default();
            let deleted = self.client.delete(&target).await;
            let want = request::sha256_hex(&bytes);
            if got != want {
                return Err(DestinationError::Permanent(format!(
                    "{target} read back other bytes than were written (sha256 {got}, written {want}); the server does not keep what it is sent"
                )));
            }
            deleted
        })
    }

    fn describe(&self) -> String {
        self.place().to_string()
    }

    fn place(&self) -> Place {
        Place::Webdav {
            url: self.collection.clone(),
        }
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        let target = self
            .spot(&upload.scan, &upload.name, &upload.sha256)?
            .target;
        self.block_on(async {
            Ok(match self.client.digest(&target).await? {
                Some((sha256, _)) if sha256 == upload.sha256 => Some(target),
                _ => None,
            })
        })
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        self.block_on(self.upload_async(upload))
    }

    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        self.block_on(self.put_file_async(scan, name, bytes))
    }
}

fn missing_folder(url: &str) -> DestinationError {
    DestinationError::Permanent(format!(
        "the folder {url} does not exist at the WebDAV server; create it there, or correct destination.webdav.url"
    ))
}
