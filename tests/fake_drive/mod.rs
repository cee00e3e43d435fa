//! A fake Google Drive and Google OAuth server for integration tests.
//!
//! [`FakeDrive::start`] serves HTTP/1.1 on `127.0.0.1` (a free port), a
//! thread per connection, with the endpoints scanrig's Drive destination
//! uses: the OAuth token and device-code endpoints, the files API (list with
//! a subset of Drive's query language, get, delete, metadata patch,
//! generateIds, metadata-only create), the multipart upload and resumable
//! upload sessions. A create may carry an id from generateIds, as Drive's:
//! one already in use gets 409 `fileIdInUse`, one never generated 400.
//! Tests steer it: injected [`Faults`], latency, revoked or expired tokens,
//! a full quota, corrupted uploads, uploads held mid-way
//! ([`FakeDrive::hold_uploads`]) and creates that take effect late, after
//! the client gave up on them ([`FakeDrive::complete_creates_late`]).
//!
//! HTTP is hand-rolled over `std::net` because a fault must be able to reset
//! a connection in the middle of a request body (SO_LINGER 0, then close),
//! which no server crate offers.
//!
//! # Layout
//! - this file: the public types and [`FakeDrive`], how tests steer it;
//! - `state`: what the threads share, the stored files, the faults drawn;
//! - `session`: resumable upload sessions and how chunks change them;
//! - `meta`: file metadata as clients send it;
//! - `connection`: accepting, serving a connection, injecting faults;
//! - `http`, `response`: requests read and responses written;
//! - `routes`: a request to its endpoint, authorisation;
//! - `oauth`: the token and device-code endpoints;
//! - `api`, `upload`: the files API and the upload endpoints;
//! - `replies`: Drive's JSON errors and file resources;
//! - `multipart`, `query`: multipart bodies and `q` parsing;
//! - `helpers`: md5, rounding, the fault generator, opaque ids.

// Shared test support: each test file (and the benchmark) uses only part of it.
#![allow(dead_code)]

mod api;
mod connection;
mod helpers;
mod http;
mod meta;
mod multipart;
mod oauth;
mod query;
mod replies;
mod response;
mod routes;
mod session;
mod state;
mod upload;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use connection::accept_loop;
use helpers::md5_hex;
use oauth::VALID_REFRESH;
use state::{Shared, State, Stored};

/// Drive's folder type.
const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// Faults injected into Drive requests (API and uploads; never the OAuth
/// endpoints).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Fraction of Drive requests that get a fault (0 = none, 1 = all).
    pub fail_ratio: f64,
    /// Seed of the deterministic generator that picks the faulted requests.
    pub seed: u64,
    /// The faults to draw from, uniformly; empty means all kinds.
    pub kinds: Vec<Fault>,
}

/// One kind of injected fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 500 or 503 (alternately), nothing stored.
    ServerError,
    /// 429 with `Retry-After: 1`, nothing stored.
    TooManyRequests,
    /// 403 `userRateLimitExceeded` or `rateLimitExceeded` (alternately).
    RateLimited,
    /// Reads about half the body (keeping, for an upload chunk, what was
    /// received rounded down to 256 KiB), then resets the connection.
    ResetMidBody,
    /// For an upload chunk: confirms less than was sent (308). Elsewhere a
    /// server error.
    ShortConfirm,
    /// Waits 2 s, then answers normally.
    Slow,
}

/// Every fault kind, for `Faults { kinds: vec![], .. }`.
static ALL_FAULTS: [Fault; 6] = [
    Fault::ServerError,
    Fault::TooManyRequests,
    Fault::RateLimited,
    Fault::ResetMidBody,
    Fault::ShortConfirm,
    Fault::Slow,
];

/// A file (or folder) stored in the fake Drive.
#[derive(Clone, Debug)]
pub struct FakeFile {
    /// Drive's file id.
    pub id: String,
    /// The file name.
    pub name: String,
    /// The MIME type (`application/vnd.google-apps.folder` for folders).
    pub mime_type: String,
    /// Parent folder ids.
    pub parents: Vec<String>,
    /// The file's `appProperties`.
    pub app_properties: BTreeMap<String, String>,
    /// When it was made.
    pub created_at: Instant,
    /// The stored content (possibly corrupted, see
    /// [`FakeDrive::corrupt_next_uploads`]).
    pub content: Vec<u8>,
    /// Hex md5 of `content`.
    pub md5: String,
}

/// Counters of what the fake has seen.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every request, OAuth included.
    pub requests: u64,
    /// Requests that got an injected fault.
    pub faults_injected: u64,
    /// Successful `refresh_token` grants.
    pub token_refreshes: u64,
    /// Resumable upload sessions started.
    pub sessions_started: u64,
    /// Upload-session requests carrying data (`Content-Range: bytes A-B/T`).
    pub chunk_requests: u64,
    /// Upload-session status queries (`Content-Range: bytes */T`).
    pub status_queries: u64,
    /// File list requests.
    pub list_queries: u64,
    /// Files deleted.
    pub deletes: u64,
    /// Drive requests refused with 401.
    pub unauthorized: u64,
    /// Creates refused with 409 `fileIdInUse`.
    pub id_conflicts: u64,
    /// Ids handed out by generateIds.
    pub ids_generated: u64,
    /// When the first resumable session started.
    pub first_session_at: Option<Instant>,
}

/// While alive, upload-session chunk requests block before answering.
/// Dropping it releases them.
pub struct Hold {
    shared: Arc<Shared>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.holds = st.holds.saturating_sub(1);
        self.shared.changed.notify_all();
    }
}

/// The fake server; dropping it stops accepting and closes open connections.
pub struct FakeDrive {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeDrive {
    /// Starts a fake on `127.0.0.1` with a free port.
    pub fn start() -> FakeDrive {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake Drive");
        let addr = listener.local_addr().expect("the fake Drive's address");
        let shared = Arc::new(Shared::new(format!("http://{addr}/")));
        let for_acceptor = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("fake-drive-accept".into())
            .spawn(move || accept_loop(listener, for_acceptor))
            .expect("spawn the fake Drive's acceptor");
        FakeDrive {
            shared,
            addr,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT/`: the API and upload base URL.
    pub fn root_url(&self) -> String {
        self.shared.root.clone()
    }

    /// The OAuth token endpoint.
    pub fn token_uri(&self) -> String {
        format!("{}token", self.shared.root)
    }

    /// The OAuth device-code endpoint.
    pub fn device_code_url(&self) -> String {
        format!("{}device/code", self.shared.root)
    }

    /// Replaces the injected faults (and reseeds the generator).
    pub fn set_faults(&self, faults: Faults) {
        let mut st = self.shared.lock();
        st.rng = faults.seed;
        st.faults = faults;
    }

    /// Delay added before answering every request.
    pub fn set_latency(&self, d: Duration) {
        self.shared.lock().latency = d;
    }

    /// All non-deleted files, in creation order.
    pub fn files(&self) -> Vec<FakeFile> {
        let st = self.shared.lock();
        st.files
            .iter()
            .filter(|f| !f.deleted)
            .map(|f| f.file.clone())
            .collect()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Revokes the grant: refreshes fail with `invalid_grant` and every
    /// access token gets 401 (until a device flow authorises again).
    pub fn revoke(&self) {
        let mut st = self.shared.lock();
        st.revoked = true;
        st.access_tokens.clear();
    }

    /// The next token requests fail, one `fault` each, in order (only
    /// `ResetMidBody` and `ServerError` are meaningful there).
    pub fn fail_token_requests(&self, faults: &[Fault]) {
        self.shared.lock().token_faults = faults.iter().rev().cloned().collect();
    }

    /// Expires every access token issued so far; refreshing still works.
    pub fn expire_access_tokens(&self) {
        self.shared.lock().access_tokens.clear();
    }

    /// A refresh token the fake accepts (unless revoked).
    pub fn valid_refresh_token(&self) -> String {
        VALID_REFRESH.to_owned()
    }

    /// Issues an access token directly, without an OAuth request.
    pub fn access_token(&self) -> String {
        self.shared.lock().issue_access_token()
    }

    /// While on, creates, session starts and session completions answer 403
    /// `storageQuotaExceeded`.
    pub fn set_quota_exceeded(&self, on: bool) {
        self.shared.lock().quota_exceeded = on;
    }

    /// The next `n` stored uploads with content get one byte flipped.
    pub fn corrupt_next_uploads(&self, n: usize) {
        self.shared.lock().corrupt_uploads = n;
    }

    /// Blocks upload-session chunk requests (after storing their bytes)
    /// until the returned [`Hold`] is dropped.
    pub fn hold_uploads(&self) -> Hold {
        self.shared.lock().holds += 1;
        Hold {
            shared: Arc::clone(&self.shared),
        }
    }

    /// From now on a create in one request (a small photo, the manifest)
    /// takes effect `after` its body arrived, and only then is answered:
    /// a client that gives up (or dies) meanwhile does not stop it, as
    /// with Drive, where a request cut off may still complete.
    pub fn complete_creates_late(&self, after: Duration) {
        self.shared.lock().late_creates = after;
    }

    /// Waits until a late create (see [`FakeDrive::complete_creates_late`])
    /// of a file named `name` has arrived and not yet taken effect; false
    /// on timeout.
    pub fn wait_for_late_create(&self, name: &str, timeout: Duration) -> bool {
        self.wait_for(timeout, |st| st.creating.iter().any(|n| n == name))
    }

    /// Waits until every late create has taken effect (or been refused);
    /// false on timeout.
    pub fn wait_for_late_creates_to_land(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |st| st.creating.is_empty())
    }

    /// Waits until some upload session has received at least `min` bytes;
    /// false on timeout.
    pub fn wait_for_session_bytes(&self, min: u64, timeout: Duration) -> bool {
        self.wait_for(timeout, |st| {
            st.sessions.values().any(|s| s.content.len() as u64 >= min)
        })
    }

    /// Waits until `done` holds of the state, woken by every change of
    /// sessions, holds and late creates; false on timeout.
    fn wait_for(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if done(&st) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self.shared.wait_timeout(st, deadline - now);
        }
    }

    /// Stores a folder directly (no request); returns its id.
    pub fn add_folder(&self, name: &str, parent: &str) -> String {
        self.add_file(name, FOLDER_MIME, &[parent], &[], &[])
    }

    /// Stores a file directly (no request, no faults, no corruption);
    /// returns its id.
    pub fn add_file(
        &self,
        name: &str,
        mime_type: &str,
        parents: &[&str],
        app_properties: &[(&str, &str)],
        content: &[u8],
    ) -> String {
        let mut st = self.shared.lock();
        let file = FakeFile {
            id: st.next_file_id(),
            name: name.to_owned(),
            mime_type: mime_type.to_owned(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            app_properties: app_properties
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            md5: md5_hex(content),
            content: content.to_vec(),
            created_at: Instant::now(),
        };
        let id = file.id.clone();
        st.files.push(Stored {
            file,
            deleted: false,
        });
        id
    }
}

impl Drop for FakeDrive {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor; if even that fails, leave it detached.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woke {
                let _ = acceptor.join();
            }
        }
        self.shared.close_connections();
    }
}
