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

// Shared test support: each test file (and the benchmark) uses only part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};
use url::form_urlencoded;

/// Upload sessions keep data in multiples of this (as Drive does).
const GRANULARITY: u64 = 256 * 1024;
/// The largest request body accepted.
const MAX_BODY: u64 = 512 * 1024 * 1024;
/// The longest request line or header line accepted.
const MAX_LINE: u64 = 16 * 1024;
/// The most header (or trailer) lines accepted in a request.
const MAX_HEADERS: usize = 128;
/// How long a [`Fault::Slow`] request waits.
const SLOW_FAULT: Duration = Duration::from_secs(2);
/// Drive's folder type.
const FOLDER_MIME: &str = "application/vnd.google-apps.folder";
/// The one refresh token the fake accepts.
const VALID_REFRESH: &str = "fake-refresh-1";
const DEVICE_GRANT_OLD: &str = "http://oauth.net/grant_type/device/1.0";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SCOPE: &str = "https://www.googleapis.com/auth/drive.file";

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// What the threads share.
struct Shared {
    root: String,
    state: Mutex<State>,
    /// Notified on every change of sessions, holds or late creates.
    changed: Condvar,
    stopping: AtomicBool,
    next_conn: AtomicU64,
    /// Clones of open connections, to shut them down when the fake stops.
    conns: Mutex<HashMap<u64, TcpStream>>,
}

impl Shared {
    fn new(root: String) -> Shared {
        Shared {
            root,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            next_conn: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// The state; a panicked connection thread leaves it usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    fn wait_timeout<'a>(&self, guard: MutexGuard<'a, State>, d: Duration) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(guard, d) {
            Ok((guard, _)) => guard,
            Err(e) => e.into_inner().0,
        }
    }

    fn conns(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close_connections(&self) {
        for stream in self.conns().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// A stored file and whether it was deleted.
struct Stored {
    file: FakeFile,
    deleted: bool,
}

/// A resumable upload session.
#[derive(Default)]
struct Session {
    meta: Meta,
    /// `X-Upload-Content-Type`: the MIME type if the metadata has none.
    content_type: Option<String>,
    /// `X-Upload-Content-Length`.
    declared_total: Option<u64>,
    /// The file whose content the session replaces, if any.
    target: Option<String>,
    content: Vec<u8>,
    /// The file made when the session completed.
    file_id: Option<String>,
}

/// File metadata sent by a client; `None` = not given.
#[derive(Clone, Debug, Default)]
struct Meta {
    /// The id to create the file with (from generateIds).
    id: Option<String>,
    name: Option<String>,
    mime_type: Option<String>,
    parents: Option<Vec<String>>,
    /// A `None` value removes the key.
    app_properties: Option<Vec<(String, Option<String>)>>,
}

#[derive(Default)]
struct State {
    files: Vec<Stored>,
    next_file: u64,
    /// Ids handed out by generateIds (used or not).
    generated: HashSet<String>,
    sessions: HashMap<String, Session>,
    next_session: u64,
    access_tokens: HashSet<String>,
    next_access: u64,
    revoked: bool,
    next_device: u64,
    device_polls: HashMap<String, u32>,
    faults: Faults,
    rng: u64,
    server_errors: u64,
    rate_limits: u64,
    latency: Duration,
    quota_exceeded: bool,
    corrupt_uploads: usize,
    holds: usize,
    /// Creates in one request are stored this long after their body
    /// arrived, whether or not the client still waits for the answer.
    late_creates: Duration,
    /// The names of files whose late create is on its way.
    creating: Vec<String>,
    /// Token requests still to fail, each with the fault given.
    token_faults: Vec<Fault>,
    stats: Stats,
}

impl State {
    /// Draws whether this Drive request gets a fault, and which.
    fn draw_fault(&mut self) -> Option<Fault> {
        let ratio = self.faults.fail_ratio;
        if ratio.is_nan() || ratio <= 0.0 {
            return None;
        }
        if unit_f64(splitmix(&mut self.rng)) >= ratio {
            return None;
        }
        let kinds: &[Fault] = if self.faults.kinds.is_empty() {
            &ALL_FAULTS
        } else {
            &self.faults.kinds
        };
        let pick = splitmix(&mut self.rng) % kinds.len() as u64;
        let fault = kinds[pick as usize].clone();
        self.stats.faults_injected += 1;
        Some(fault)
    }

    fn issue_access_token(&mut self) -> String {
        self.next_access += 1;
        let token = format!("fake-access-{}", self.next_access);
        self.access_tokens.insert(token.clone());
        token
    }

    fn next_file_id(&mut self) -> String {
        self.next_file += 1;
        opaque_id('1', self.next_file, 0x5ca9_f11e)
    }

    fn file(&self, id: &str) -> Option<&FakeFile> {
        self.files
            .iter()
            .find(|f| !f.deleted && f.file.id == id)
            .map(|f| &f.file)
    }

    fn file_mut(&mut self, id: &str) -> Option<&mut FakeFile> {
        self.files
            .iter_mut()
            .find(|f| !f.deleted && f.file.id == id)
            .map(|f| &mut f.file)
    }

    /// The content as stored: one byte flipped while corruption is pending.
    fn stored_content(&mut self, mut content: Vec<u8>) -> Vec<u8> {
        if self.corrupt_uploads > 0 && !content.is_empty() {
            self.corrupt_uploads -= 1;
            let middle = content.len() / 2;
            content[middle] ^= 0xff;
        }
        content
    }

    /// Whether a new file may take the id `id`: not if any file has (or
    /// had) it, nor if generateIds never gave it out.
    fn check_new_id(&mut self, id: &str) -> Result<(), Response> {
        if self.files.iter().any(|f| f.file.id == id) {
            self.stats.id_conflicts += 1;
            return Err(google_error(
                409,
                "fileIdInUse",
                "A file already exists with the provided ID.",
            ));
        }
        if !self.generated.contains(id) {
            return Err(google_error(
                400,
                "fileIdNotUsable",
                "The provided file ID is not usable.",
            ));
        }
        Ok(())
    }

    /// `count` new ids for creates.
    fn generate_ids(&mut self, count: usize) -> Vec<String> {
        let ids: Vec<String> = (0..count).map(|_| self.next_file_id()).collect();
        self.generated.extend(ids.iter().cloned());
        self.stats.ids_generated += ids.len() as u64;
        ids
    }

    /// A new file; with the id in `meta`, if any (409 if in use, 400 if
    /// not one generateIds gave out).
    fn create_file(
        &mut self,
        meta: &Meta,
        default_mime: Option<&str>,
        content: Vec<u8>,
    ) -> Result<FakeFile, Response> {
        let id = match &meta.id {
            Some(id) => {
                self.check_new_id(id)?;
                id.clone()
            }
            None => self.next_file_id(),
        };
        let content = self.stored_content(content);
        let mut file = FakeFile {
            id,
            name: meta.name.clone().unwrap_or_else(|| "Untitled".to_owned()),
            mime_type: meta
                .mime_type
                .clone()
                .or_else(|| default_mime.map(str::to_owned))
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            parents: meta
                .parents
                .clone()
                .unwrap_or_else(|| vec!["root".to_owned()]),
            app_properties: BTreeMap::new(),
            created_at: Instant::now(),
            md5: md5_hex(&content),
            content,
        };
        apply_app_properties(&mut file, meta);
        self.files.push(Stored {
            file: file.clone(),
            deleted: false,
        });
        Ok(file)
    }

    /// Applies metadata (and new content, if any) to a stored file.
    fn update_file(&mut self, id: &str, meta: &Meta, content: Option<Vec<u8>>) -> Option<FakeFile> {
        self.file(id)?;
        let content = content.map(|c| self.stored_content(c));
        let file = self.file_mut(id)?;
        if let Some(name) = &meta.name {
            file.name = name.clone();
        }
        if let Some(mime) = &meta.mime_type {
            file.mime_type = mime.clone();
        }
        apply_app_properties(file, meta);
        if let Some(content) = content {
            file.md5 = md5_hex(&content);
            file.content = content;
        }
        Some(file.clone())
    }

    /// Status query of a session.
    fn session_status(&mut self, sid: &str, total: Option<u64>) -> Response {
        let Some(session) = self.sessions.get(sid) else {
            return session_not_found();
        };
        if let Some(id) = session.file_id.clone() {
            return self.session_file_reply(&id);
        }
        let received = session.content.len() as u64;
        if total == Some(received) {
            // All bytes are there (an empty upload, or a completion that
            // failed on the quota): complete now.
            return self.finish_session(sid);
        }
        resume_incomplete(received)
    }

    /// A chunk of a session: `body` holds bytes `start..=end` of `total`.
    fn session_chunk(&mut self, sid: &str, chunk: Chunk, body: &[u8], short: bool) -> Response {
        let Some(session) = self.sessions.get_mut(sid) else {
            return session_not_found();
        };
        if let Some(id) = session.file_id.clone() {
            return self.session_file_reply(&id);
        }
        if let Err(message) = check_chunk(session, &chunk, body.len()) {
            return bad_request(&message);
        }
        let received = session.content.len() as u64;
        let skip = usize::try_from(received - chunk.start).unwrap_or(usize::MAX);
        let fresh = body.get(skip..).unwrap_or(&[]);
        if short {
            if fresh.is_empty() {
                return self.server_error();
            }
            let keep = round_down(fresh.len() as u64 / 2) as usize;
            session.content.extend_from_slice(&fresh[..keep]);
            return resume_incomplete(session.content.len() as u64);
        }
        session.content.extend_from_slice(fresh);
        let received = session.content.len() as u64;
        if chunk.total == Some(received) {
            return self.finish_session(sid);
        }
        resume_incomplete(received)
    }

    /// Keeps the part of a reset chunk's bytes that ends on a 256 KiB
    /// boundary.
    fn keep_partial_chunk(&mut self, sid: &str, start: u64, partial: &[u8]) {
        let Some(session) = self.sessions.get_mut(sid) else {
            return;
        };
        let received = session.content.len() as u64;
        if session.file_id.is_some() || start > received {
            return;
        }
        let end = round_down(start + partial.len() as u64);
        if end <= received {
            return;
        }
        let from = usize::try_from(received - start).unwrap_or(usize::MAX);
        let to = usize::try_from(end - start).unwrap_or(usize::MAX);
        if let Some(bytes) = partial.get(from..to) {
            session.content.extend_from_slice(bytes);
        }
    }

    /// Makes (or updates) the session's file from all its bytes.
    fn finish_session(&mut self, sid: &str) -> Response {
        if self.quota_exceeded {
            return quota_exceeded();
        }
        let Some(session) = self.sessions.get(sid) else {
            return session_not_found();
        };
        let (meta, mime, target) = (
            session.meta.clone(),
            session.content_type.clone(),
            session.target.clone(),
        );
        let content = session.content.clone();
        let file = match target {
            Some(id) => match self.update_file(&id, &meta, Some(content)) {
                Some(file) => file,
                None => return not_found(&id),
            },
            None => match self.create_file(&meta, mime.as_deref(), content) {
                Ok(file) => file,
                Err(refused) => return refused,
            },
        };
        if let Some(session) = self.sessions.get_mut(sid) {
            session.file_id = Some(file.id.clone());
        }
        Response::json(200, &file_json(&file))
    }

    /// The file a completed session made, even if deleted since.
    fn session_file_reply(&self, id: &str) -> Response {
        match self.files.iter().find(|f| f.file.id == id) {
            Some(stored) => Response::json(200, &file_json(&stored.file)),
            None => not_found(id),
        }
    }

    /// 500 and 503 alternately.
    fn server_error(&mut self) -> Response {
        self.server_errors += 1;
        if self.server_errors % 2 == 1 {
            google_error(500, "backendError", "Backend Error")
        } else {
            google_error(503, "backendError", "Service Unavailable")
        }
    }

    /// The answer to an injected fault that answers at all.
    fn fault_response(&mut self, fault: &Fault) -> Response {
        match fault {
            Fault::TooManyRequests => google_error(429, "rateLimitExceeded", "Rate Limit Exceeded")
                .with_header("Retry-After", "1"),
            Fault::RateLimited => {
                self.rate_limits += 1;
                if self.rate_limits % 2 == 1 {
                    google_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded")
                } else {
                    google_error(403, "rateLimitExceeded", "Rate Limit Exceeded")
                }
            }
            _ => self.server_error(),
        }
    }
}

/// A data-carrying `Content-Range`.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    start: u64,
    end: u64,
    total: Option<u64>,
}

/// Validates a chunk against its session and body length.
fn check_chunk(session: &Session, chunk: &Chunk, body_len: usize) -> Result<(), String> {
    let len = (chunk.end - chunk.start).checked_add(1);
    if len != Some(body_len as u64) {
        return Err("Content-Range does not match the body's length.".into());
    }
    if let (Some(total), Some(declared)) = (chunk.total, session.declared_total) {
        if total != declared {
            return Err(format!(
                "Content-Range total {total} differs from X-Upload-Content-Length {declared}."
            ));
        }
    }
    if chunk.total.is_some_and(|t| chunk.end >= t) {
        return Err("Content-Range ends past the total.".into());
    }
    let received = session.content.len() as u64;
    if chunk.start > received {
        return Err(format!(
            "Chunk starts at {}, but only {received} bytes were received.",
            chunk.start
        ));
    }
    Ok(())
}

fn apply_app_properties(file: &mut FakeFile, meta: &Meta) {
    for (key, value) in meta.app_properties.iter().flatten() {
        match value {
            Some(value) => file.app_properties.insert(key.clone(), value.clone()),
            None => file.app_properties.remove(key),
        };
    }
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        match conn {
            Ok(stream) => spawn_connection(&shared, stream),
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn spawn_connection(shared: &Arc<Shared>, stream: TcpStream) {
    let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    if let Ok(clone) = stream.try_clone() {
        shared.conns().insert(id, clone);
    }
    let for_thread = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name(format!("fake-drive-conn-{id}"))
        .spawn(move || {
            let end = serve_connection(&for_thread, &stream);
            // The registry's clone must be closed first: the reset happens
            // when the socket's last descriptor closes.
            for_thread.conns().remove(&id);
            if end == End::Reset {
                set_linger_zero(&stream);
            }
            drop(stream);
        });
    if spawned.is_err() {
        shared.conns().remove(&id);
    }
}

/// How a connection ended.
#[derive(Debug, PartialEq)]
enum End {
    Closed,
    Reset,
}

/// What handling a request led to.
enum Outcome {
    Reply(Response),
    Reset,
}

/// Serves requests on one connection until it closes.
fn serve_connection(shared: &Shared, stream: &TcpStream) -> End {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    loop {
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(HttpError::Closed) => return End::Closed,
            Err(HttpError::Bad) => {
                let _ = write_response(stream, &bad_request("Malformed HTTP request."), true);
                return End::Closed;
            }
        };
        let outcome = handle(shared, &head, &mut reader, stream);
        let latency = shared.lock().latency;
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        match outcome {
            Outcome::Reset => return End::Reset,
            Outcome::Reply(response) => {
                let close = head.wants_close() || response.close;
                if write_response(stream, &response, close).is_err() || close {
                    return End::Closed;
                }
            }
        }
    }
}

/// Reads the body of one request, applies any fault, and handles it.
fn handle(shared: &Shared, head: &Head, reader: &mut impl BufRead, stream: &TcpStream) -> Outcome {
    let route = route(&head.method, &head.segments);
    let oauth = matches!(route, Route::Token | Route::DeviceCode);
    let fault = {
        let mut st = shared.lock();
        st.stats.requests += 1;
        if oauth {
            st.token_faults.pop()
        } else {
            st.draw_fault()
        }
    };
    let Some(framing) = head.framing() else {
        return Outcome::Reply(bad_request("Bad Content-Length or Transfer-Encoding.").closing());
    };
    let chunk = match route {
        Route::Session(_) => head.content_range().and_then(|r| r.chunk()),
        _ => None,
    };
    if fault == Some(Fault::ResetMidBody) {
        reset_mid_body(shared, head, reader, stream, framing, route, chunk);
        return Outcome::Reset;
    }
    let body = match read_body(head, reader, stream, framing) {
        Ok(body) => body,
        Err(_) => return Outcome::Reply(bad_request("Malformed request body.").closing()),
    };
    let short = match fault {
        Some(Fault::Slow) => {
            thread::sleep(SLOW_FAULT);
            false
        }
        Some(Fault::ShortConfirm) if chunk.is_some() => true,
        Some(fault) => return Outcome::Reply(shared.lock().fault_response(&fault)),
        None => false,
    };
    let request = Request { head, body };
    Outcome::Reply(dispatch(shared, &request, route, short))
}

/// Reads half the body (storing a session chunk's part), before a reset.
fn reset_mid_body(
    shared: &Shared,
    head: &Head,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    framing: Framing,
    route: Route<'_>,
    chunk: Option<Chunk>,
) {
    if framing == Framing::Length(0) {
        return;
    }
    if send_continue(head, stream).is_err() {
        return;
    }
    let partial = match framing {
        Framing::Length(n) => read_exact_body(reader, n / 2),
        Framing::Chunked => read_chunked(reader).map(|mut body| {
            body.truncate(body.len() / 2);
            body
        }),
    };
    if let (Ok(partial), Route::Session(sid), Some(chunk)) = (partial, route, chunk) {
        let mut st = shared.lock();
        st.keep_partial_chunk(sid, chunk.start, &partial);
        shared.changed.notify_all();
    }
}

/// Makes closing the socket send a reset.
fn set_linger_zero(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open (owned by `stream`), and the option
    // value is a properly sized, initialised `linger`.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast::<libc::c_void>(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

enum HttpError {
    /// The peer went away (or the connection broke).
    Closed,
    /// Not HTTP we accept: answer 400.
    Bad,
}

/// A request line and its headers.
struct Head {
    method: String,
    /// Percent-decoded path segments, without the leading `/`.
    segments: Vec<String>,
    query: Vec<(String, String)>,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    http10: bool,
}

struct Request<'a> {
    head: &'a Head,
    body: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Length(u64),
    Chunked,
}

/// A `Content-Range` header.
#[derive(Clone, Copy, Debug)]
enum ContentRange {
    /// `bytes */T`.
    Query { total: Option<u64> },
    /// `bytes A-B/T`.
    Data(Chunk),
}

impl ContentRange {
    fn chunk(self) -> Option<Chunk> {
        match self {
            ContentRange::Data(chunk) => Some(chunk),
            ContentRange::Query { .. } => None,
        }
    }
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, header: &str, token: &str) -> bool {
        self.header(header)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    fn wants_close(&self) -> bool {
        self.has_token("connection", "close")
            || (self.http10 && !self.has_token("connection", "keep-alive"))
    }

    /// How the body is delimited; `None` if that is malformed.
    fn framing(&self) -> Option<Framing> {
        if let Some(te) = self.header("transfer-encoding") {
            return te
                .trim()
                .eq_ignore_ascii_case("chunked")
                .then_some(Framing::Chunked);
        }
        match self.header("content-length") {
            None => Some(Framing::Length(0)),
            Some(v) => parse_u64(v.trim())
                .filter(|n| *n <= MAX_BODY)
                .map(Framing::Length),
        }
    }

    fn content_range(&self) -> Option<ContentRange> {
        parse_content_range(self.header("content-range")?)
    }

    fn bearer(&self) -> Option<&str> {
        let (scheme, token) = self.header("authorization")?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

/// Reads one line (without its CRLF); `None` at a clean end of stream.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, HttpError> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut buf)
        .map_err(|_| HttpError::Closed)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n as u64 >= MAX_LINE {
            HttpError::Bad
        } else {
            HttpError::Closed
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf).map(Some).map_err(|_| HttpError::Bad)
}

/// Reads a request line and headers; `None` if the peer closed first.
fn read_head(reader: &mut impl BufRead) -> Result<Option<Head>, HttpError> {
    let mut blanks = 0;
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() && blanks < 2 => blanks += 1,
            Some(line) => break line,
        }
    };
    let headers = read_header_lines(reader)?;
    parse_request_line(&request_line, headers)
        .map(Some)
        .ok_or(HttpError::Bad)
}

/// Header (or trailer) lines up to the blank line, names lower-cased.
fn read_header_lines(reader: &mut impl BufRead) -> Result<Vec<(String, String)>, HttpError> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or(HttpError::Closed)?;
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() >= MAX_HEADERS || line.starts_with([' ', '\t']) {
            return Err(HttpError::Bad);
        }
        let (name, value) = line.split_once(':').ok_or(HttpError::Bad)?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(HttpError::Bad);
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn parse_request_line(line: &str, headers: Vec<(String, String)>) -> Option<Head> {
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || !method.bytes().all(is_tchar) {
        return None;
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return None,
    };
    let target = strip_authority(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments = path
        .strip_prefix('/')?
        .split('/')
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()?;
    let query = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    Some(Head {
        method: method.to_owned(),
        segments,
        query,
        headers,
        http10,
    })
}

/// `http://host:port/path` → `/path` (absolute-form targets).
fn strip_authority(target: &str) -> &str {
    match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `bytes */T`, `bytes A-B/T` (T may be `*`).
fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(parse_u64(t)?),
    };
    let range = range.trim();
    if range == "*" {
        return Some(ContentRange::Query { total });
    }
    let (a, b) = range.split_once('-')?;
    let (start, end) = (parse_u64(a.trim())?, parse_u64(b.trim())?);
    (start <= end).then_some(ContentRange::Data(Chunk { start, end, total }))
}

/// Answers `Expect: 100-continue`.
fn send_continue(head: &Head, mut stream: &TcpStream) -> io::Result<()> {
    if head.has_token("expect", "100-continue") {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    Ok(())
}

fn read_body(
    head: &Head,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    framing: Framing,
) -> Result<Vec<u8>, HttpError> {
    if framing == Framing::Length(0) {
        return Ok(Vec::new());
    }
    send_continue(head, stream).map_err(|_| HttpError::Closed)?;
    match framing {
        Framing::Length(n) => read_exact_body(reader, n),
        Framing::Chunked => read_chunked(reader),
    }
}

fn read_exact_body(reader: &mut impl BufRead, n: u64) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    reader
        .by_ref()
        .take(n)
        .read_to_end(&mut body)
        .map_err(|_| HttpError::Closed)?;
    if body.len() as u64 == n {
        Ok(body)
    } else {
        Err(HttpError::Closed)
    }
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or(HttpError::Closed)?;
        let size = line.split(';').next().unwrap_or("").trim();
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HttpError::Bad);
        }
        let size = u64::from_str_radix(size, 16).map_err(|_| HttpError::Bad)?;
        if size == 0 {
            read_header_lines(reader)?;
            return Ok(body);
        }
        if size > MAX_BODY - body.len() as u64 {
            return Err(HttpError::Bad);
        }
        body.extend(read_exact_body(reader, size)?);
        if read_line(reader)?.as_deref() != Some("") {
            return Err(HttpError::Bad);
        }
    }
}

/// A response; always sent with `Content-Length` (none for 204).
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close the connection after answering.
    close: bool,
}

impl Response {
    fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        }
    }

    fn json(status: u16, value: &Value) -> Response {
        Response {
            body: value.to_string().into_bytes(),
            ..Response::empty(status)
        }
        .with_header("Content-Type", "application/json; charset=UTF-8")
    }

    fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn closing(mut self) -> Response {
        self.close = true;
        self
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        308 => "Resume Incomplete",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_response(mut stream: &TcpStream, response: &Response, close: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if response.status != 204 {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    head.push_str(if close {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    let mut out = head.into_bytes();
    out.extend_from_slice(&response.body);
    stream.write_all(&out)?;
    stream.flush()
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Route<'a> {
    Token,
    DeviceCode,
    Session(&'a str),
    List,
    GenerateIds,
    /// A new file from metadata alone.
    Create,
    Get(&'a str),
    Delete(&'a str),
    PatchMeta(&'a str),
    About,
    /// A new file (`None`) or new content for one.
    Upload(Option<&'a str>),
    Unknown,
}

fn route<'a>(method: &str, segments: &'a [String]) -> Route<'a> {
    let segs: Vec<&'a str> = segments.iter().map(String::as_str).collect();
    match (method, segs.as_slice()) {
        ("POST", ["token"]) => Route::Token,
        ("POST", ["device", "code"]) => Route::DeviceCode,
        ("PUT" | "POST", ["upload-session", sid]) => Route::Session(sid),
        ("GET", ["drive", "v3", "files"]) => Route::List,
        ("POST", ["drive", "v3", "files"]) => Route::Create,
        ("GET", ["drive", "v3", "files", "generateIds"]) => Route::GenerateIds,
        ("GET", ["drive", "v3", "files", id]) => Route::Get(id),
        ("DELETE", ["drive", "v3", "files", id]) => Route::Delete(id),
        ("PATCH", ["drive", "v3", "files", id]) => Route::PatchMeta(id),
        ("GET", ["drive", "v3", "about"]) => Route::About,
        (
            "POST",
            ["upload", "drive", "v3", "files"] | ["resumable", "upload", "drive", "v3", "files"],
        ) => Route::Upload(None),
        (
            "PATCH",
            ["upload", "drive", "v3", "files", id]
            | ["resumable", "upload", "drive", "v3", "files", id],
        ) => Route::Upload(Some(id)),
        _ => Route::Unknown,
    }
}

fn dispatch(shared: &Shared, req: &Request<'_>, route: Route<'_>, short: bool) -> Response {
    match route {
        Route::Token => oauth_token(shared, &req.body),
        Route::DeviceCode => device_code(shared),
        Route::Session(sid) => session_put(shared, req, sid, short),
        Route::Unknown => google_error(404, "notFound", "Not Found"),
        api => match authorize(shared, req.head) {
            Ok(()) => drive_api(shared, req, api),
            Err(response) => response,
        },
    }
}

fn drive_api(shared: &Shared, req: &Request<'_>, route: Route<'_>) -> Response {
    match route {
        Route::List => list_files(shared, req.head),
        Route::GenerateIds => generate_ids(shared, req.head),
        Route::Create => create_metadata_only(shared, req),
        Route::Get(id) => get_file(shared, req.head, id),
        Route::Delete(id) => delete_file(shared, id),
        Route::PatchMeta(id) => patch_metadata(shared, req, id),
        Route::About => Response::json(
            200,
            &json!({
                "kind": "drive#about",
                "user": {"displayName": "Fake User", "emailAddress": "rig@example.com"},
            }),
        ),
        Route::Upload(target) => upload(shared, req, target),
        _ => google_error(404, "notFound", "Not Found"),
    }
}

fn authorize(shared: &Shared, head: &Head) -> Result<(), Response> {
    let mut st = shared.lock();
    if head.bearer().is_some_and(|t| st.access_tokens.contains(t)) {
        return Ok(());
    }
    st.stats.unauthorized += 1;
    Err(Response::json(
        401,
        &json!({"error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "errors": [{"reason": "authError", "message": "Invalid Credentials", "domain": "global"}],
        }}),
    )
    .with_header("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\""))
}

// ---------------------------------------------------------------------------
// OAuth
// ---------------------------------------------------------------------------

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn oauth_token(shared: &Shared, body: &[u8]) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    match field("grant_type") {
        Some("refresh_token") => refresh(shared, field("refresh_token")),
        Some(DEVICE_GRANT_OLD | DEVICE_GRANT) => match field("code").or(field("device_code")) {
            Some(code) => device_poll(shared, code),
            None => oauth_error(400, "invalid_request", "Missing required parameter: code"),
        },
        Some(JWT_GRANT) => service_account(shared, field("assertion")),
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {}", other.unwrap_or("")),
        ),
    }
}

fn refresh(shared: &Shared, token: Option<&str>) -> Response {
    let mut st = shared.lock();
    if st.revoked || token != Some(VALID_REFRESH) {
        return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
    }
    st.stats.token_refreshes += 1;
    let access = st.issue_access_token();
    Response::json(
        200,
        &json!({"access_token": access, "expires_in": 3600, "token_type": "Bearer"}),
    )
}

/// The first poll of a device code is pending, later ones authorise (and
/// lift a revocation, as a new consent would).
fn device_poll(shared: &Shared, code: &str) -> Response {
    let mut st = shared.lock();
    let polls = st.device_polls.entry(code.to_owned()).or_insert(0);
    *polls += 1;
    if *polls == 1 {
        return Response::json(428, &json!({"error": "authorization_pending"}));
    }
    st.revoked = false;
    let access = st.issue_access_token();
    Response::json(
        200,
        &json!({
            "access_token": access,
            "refresh_token": VALID_REFRESH,
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": SCOPE,
        }),
    )
}

fn service_account(shared: &Shared, assertion: Option<&str>) -> Response {
    let is_jwt =
        assertion.is_some_and(|a| a.split('.').count() == 3 && a.split('.').all(|p| !p.is_empty()));
    if !is_jwt {
        return oauth_error(400, "invalid_grant", "Invalid JWT.");
    }
    let access = shared.lock().issue_access_token();
    Response::json(
        200,
        &json!({"access_token": access, "expires_in": 3600, "token_type": "Bearer"}),
    )
}

fn device_code(shared: &Shared) -> Response {
    let mut st = shared.lock();
    st.next_device += 1;
    Response::json(
        200,
        &json!({
            "device_code": format!("dev-{}", st.next_device),
            "user_code": "ABCD-EFGH",
            "verification_url": "https://www.google.com/device",
            "expires_in": 300,
            "interval": 1,
        }),
    )
}

// ---------------------------------------------------------------------------
// Drive API
// ---------------------------------------------------------------------------

fn google_error(code: u16, reason: &str, message: &str) -> Response {
    Response::json(
        code,
        &json!({"error": {
            "code": code,
            "message": message,
            "errors": [{"reason": reason, "message": message, "domain": "global"}],
        }}),
    )
}

fn bad_request(message: &str) -> Response {
    google_error(400, "badRequest", message)
}

fn not_found(id: &str) -> Response {
    google_error(404, "notFound", &format!("File not found: {id}."))
}

fn session_not_found() -> Response {
    google_error(404, "notFound", "Upload session not found.")
}

fn quota_exceeded() -> Response {
    google_error(
        403,
        "storageQuotaExceeded",
        "The user's Drive storage quota has been exceeded.",
    )
}

/// 308 with the `Range` received so far.
fn resume_incomplete(received: u64) -> Response {
    let response = Response::empty(308);
    if received == 0 {
        response
    } else {
        response.with_header("Range", &format!("bytes=0-{}", received - 1))
    }
}

fn file_json(file: &FakeFile) -> Value {
    let mut obj = Map::new();
    obj.insert("kind".into(), json!("drive#file"));
    obj.insert("id".into(), json!(file.id));
    obj.insert("name".into(), json!(file.name));
    obj.insert("mimeType".into(), json!(file.mime_type));
    obj.insert("parents".into(), json!(file.parents));
    if !file.app_properties.is_empty() {
        obj.insert("appProperties".into(), json!(file.app_properties));
    }
    obj.insert("md5Checksum".into(), json!(file.md5));
    obj.insert("size".into(), json!(file.content.len().to_string()));
    Value::Object(obj)
}

fn list_files(shared: &Shared, head: &Head) -> Response {
    let clauses = match head.param("q").map(parse_query).transpose() {
        Ok(clauses) => clauses.unwrap_or_default(),
        Err(message) => {
            return google_error(400, "invalidQuery", &format!("Invalid Value: {message}"))
        }
    };
    let mut st = shared.lock();
    st.stats.list_queries += 1;
    let files: Vec<Value> = st
        .files
        .iter()
        .filter(|f| !f.deleted && clauses.iter().all(|c| c.matches(&f.file)))
        .map(|f| file_json(&f.file))
        .collect();
    Response::json(200, &json!({"kind": "drive#fileList", "files": files}))
}

/// `files.generateIds`: `count` (1 to 1000, default 10) ids for `space`
/// (`drive`, the default, or `appDataFolder`).
fn generate_ids(shared: &Shared, head: &Head) -> Response {
    let count = match head.param("count") {
        None => 10,
        Some(v) => match parse_u64(v.trim()).filter(|n| (1..=1000).contains(n)) {
            Some(n) => n as usize,
            None => {
                return google_error(
                    400,
                    "invalid",
                    &format!("Invalid value for count: {v}; it must be 1 to 1000."),
                )
            }
        },
    };
    let space = head.param("space").unwrap_or("drive");
    if !matches!(space, "drive" | "appDataFolder") {
        return google_error(
            400,
            "invalid",
            &format!("Invalid value for space: {space}."),
        );
    }
    let ids = shared.lock().generate_ids(count);
    Response::json(
        200,
        &json!({"kind": "drive#generatedIds", "space": space, "ids": ids}),
    )
}

/// `POST files` with metadata only (a folder, an empty file).
fn create_metadata_only(shared: &Shared, req: &Request<'_>) -> Response {
    let meta = match parse_meta(&req.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    store_upload(shared, None, &meta, None, Vec::new())
}

fn get_file(shared: &Shared, head: &Head, id: &str) -> Response {
    let st = shared.lock();
    let Some(file) = st.file(id) else {
        return not_found(id);
    };
    if head.param("alt") == Some("media") {
        let mut response = Response::empty(200).with_header("Content-Type", &file.mime_type);
        response.body = file.content.clone();
        return response;
    }
    Response::json(200, &file_json(file))
}

fn delete_file(shared: &Shared, id: &str) -> Response {
    let mut st = shared.lock();
    let Some(stored) = st.files.iter_mut().find(|f| !f.deleted && f.file.id == id) else {
        return not_found(id);
    };
    stored.deleted = true;
    st.stats.deletes += 1;
    Response::empty(204)
}

fn patch_metadata(shared: &Shared, req: &Request<'_>, id: &str) -> Response {
    let meta = match parse_meta(&req.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    match shared.lock().update_file(id, &meta, None) {
        Some(file) => Response::json(200, &file_json(&file)),
        None => not_found(id),
    }
}

/// `upload/drive/v3/files[/ID]`, by `uploadType`.
fn upload(shared: &Shared, req: &Request<'_>, target: Option<&str>) -> Response {
    match req.head.param("uploadType") {
        Some("multipart") => upload_multipart(shared, req, target),
        Some("resumable") => start_session(shared, req, target),
        Some("media") => {
            let mime = req.head.header("content-type");
            store_upload(shared, target, &Meta::default(), mime, req.body.clone())
        }
        _ => bad_request("Unsupported or missing uploadType."),
    }
}

fn upload_multipart(shared: &Shared, req: &Request<'_>, target: Option<&str>) -> Response {
    let Some(boundary) = req.head.header("content-type").and_then(multipart_boundary) else {
        return bad_request("Expected a multipart Content-Type with a boundary.");
    };
    let Some(parts) = multipart_parts(&req.body, &boundary) else {
        return bad_request("Malformed multipart body.");
    };
    let [meta_part, content_part, ..] = parts.as_slice() else {
        return bad_request("A multipart upload needs a metadata part and a content part.");
    };
    let meta = match parse_meta(meta_part.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    let mime = content_part.header("content-type");
    let late = shared.lock().late_creates;
    if target.is_some() || late.is_zero() {
        return store_upload(shared, target, &meta, mime, content_part.body.to_vec());
    }
    // Drive working on it: the client sees nothing yet.
    let name = meta.name.clone().unwrap_or_default();
    shared.lock().creating.push(name.clone());
    shared.changed.notify_all();
    thread::sleep(late);
    let response = store_upload(shared, None, &meta, mime, content_part.body.to_vec());
    let mut st = shared.lock();
    if let Some(at) = st.creating.iter().position(|n| *n == name) {
        st.creating.remove(at);
    }
    shared.changed.notify_all();
    response
}

/// Creates a file, or replaces a file's content.
fn store_upload(
    shared: &Shared,
    target: Option<&str>,
    meta: &Meta,
    mime: Option<&str>,
    content: Vec<u8>,
) -> Response {
    let mut st = shared.lock();
    if st.quota_exceeded {
        return quota_exceeded();
    }
    let file = match target {
        None => match st.create_file(meta, mime, content) {
            Ok(file) => file,
            Err(refused) => return refused,
        },
        Some(id) => match st.update_file(id, meta, Some(content)) {
            Some(file) => file,
            None => return not_found(id),
        },
    };
    Response::json(200, &file_json(&file))
}

fn start_session(shared: &Shared, req: &Request<'_>, target: Option<&str>) -> Response {
    let meta = match parse_meta(&req.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    let declared_total = match req.head.header("x-upload-content-length") {
        None => None,
        Some(v) => match parse_u64(v.trim()) {
            Some(n) => Some(n),
            None => return bad_request("Invalid X-Upload-Content-Length."),
        },
    };
    let mut st = shared.lock();
    if st.quota_exceeded {
        return quota_exceeded();
    }
    match (target, &meta.id) {
        (Some(id), _) if st.file(id).is_none() => return not_found(id),
        (None, Some(id)) => {
            if let Err(refused) = st.check_new_id(id) {
                return refused;
            }
        }
        _ => {}
    }
    st.next_session += 1;
    let sid = opaque_id('s', st.next_session, 0x5e55_1015);
    st.sessions.insert(
        sid.clone(),
        Session {
            meta,
            content_type: req.head.header("x-upload-content-type").map(str::to_owned),
            declared_total,
            target: target.map(str::to_owned),
            ..Session::default()
        },
    );
    st.stats.sessions_started += 1;
    st.stats.first_session_at.get_or_insert_with(Instant::now);
    Response::json(200, &json!({}))
        .with_header("Location", &format!("{}upload-session/{sid}", shared.root))
}

/// A chunk or status query on an upload session (no authorisation needed).
fn session_put(shared: &Shared, req: &Request<'_>, sid: &str, short: bool) -> Response {
    let range = match req.head.header("content-range") {
        Some(v) => match parse_content_range(v) {
            Some(range) => range,
            None => return bad_request("Invalid Content-Range header."),
        },
        None if req.body.is_empty() => ContentRange::Query { total: None },
        None => {
            let len = req.body.len() as u64;
            ContentRange::Data(Chunk {
                start: 0,
                end: len - 1,
                total: Some(len),
            })
        }
    };
    let mut st = shared.lock();
    if !st.sessions.contains_key(sid) {
        return session_not_found();
    }
    match range {
        ContentRange::Query { total } => {
            st.stats.status_queries += 1;
            if !req.body.is_empty() {
                return bad_request("A status query has no body.");
            }
            st.session_status(sid, total)
        }
        ContentRange::Data(chunk) => {
            st.stats.chunk_requests += 1;
            let response = st.session_chunk(sid, chunk, &req.body, short);
            shared.changed.notify_all();
            while st.holds > 0 {
                st = shared.wait(st);
            }
            response
        }
    }
}

/// Parses upload metadata (an empty body is no metadata).
fn parse_meta(bytes: &[u8]) -> Result<Meta, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Meta::default());
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("Invalid JSON metadata: {e}"))?;
    let obj = value
        .as_object()
        .ok_or("The metadata must be a JSON object.")?;
    Ok(Meta {
        id: opt_string(obj, "id")?,
        name: opt_string(obj, "name")?,
        mime_type: opt_string(obj, "mimeType")?,
        parents: match obj.get("parents") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("`parents` must hold strings.")?,
            ),
            Some(_) => return Err("`parents` must be an array.".into()),
        },
        app_properties: match obj.get("appProperties") {
            None | Some(Value::Null) => None,
            Some(Value::Object(props)) => Some(
                props
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), Some(s.clone()))),
                        Value::Null => Ok((k.clone(), None)),
                        _ => Err(format!("appProperties.{k} must be a string.")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err("`appProperties` must be an object.".into()),
        },
    })
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string.")),
    }
}

// ---------------------------------------------------------------------------
// Multipart (RFC 2046)
// ---------------------------------------------------------------------------

struct Part<'a> {
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

impl Part<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The boundary of a `multipart/...; boundary=...` Content-Type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim().to_ascii_lowercase();
    if !mime.starts_with("multipart/") {
        return None;
    }
    params
        .find_map(|p| {
            let (key, value) = p.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a multipart body; `None` if malformed.
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let separator = [b"\r\n".as_slice(), &delimiter].concat();
    let mut pos = if body.starts_with(&delimiter) {
        0
    } else {
        find(body, &separator)? + 2
    };
    let mut parts = Vec::new();
    loop {
        pos += delimiter.len();
        let rest = body.get(pos..)?;
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        let line_end = find(rest, b"\r\n")?;
        if !rest[..line_end].iter().all(|b| *b == b' ' || *b == b'\t') {
            return None;
        }
        let start = pos + line_end + 2;
        let len = find(body.get(start..)?, &separator)?;
        parts.push(parse_part(body.get(start..start + len)?)?);
        pos = start + len + 2;
    }
}

fn parse_part(raw: &[u8]) -> Option<Part<'_>> {
    let (head, body) = if let Some(body) = raw.strip_prefix(b"\r\n") {
        (&raw[..0], body)
    } else {
        let i = find(raw, b"\r\n\r\n")?;
        (&raw[..i], &raw[i + 4..])
    };
    let headers = std::str::from_utf8(head)
        .ok()?
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Part { headers, body })
}

// ---------------------------------------------------------------------------
// Queries (`q`)
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Eq,
    Ne,
    Open,
    Close,
}

/// One supported clause of a `q`.
#[derive(Clone, Debug, PartialEq)]
enum Clause {
    Name(String),
    InParents(String),
    MimeEq(String),
    MimeNe(String),
    Trashed(bool),
    AppProperty(String, String),
}

impl Clause {
    fn matches(&self, file: &FakeFile) -> bool {
        match self {
            Clause::Name(name) => &file.name == name,
            Clause::InParents(id) => file.parents.contains(id),
            Clause::MimeEq(mime) => &file.mime_type == mime,
            Clause::MimeNe(mime) => &file.mime_type != mime,
            // Nothing is ever in the trash: deletes are permanent.
            Clause::Trashed(trashed) => !trashed,
            Clause::AppProperty(key, value) => file.app_properties.get(key) == Some(value),
        }
    }
}

/// Parses clauses joined by `and`; an error names what is unsupported.
fn parse_query(q: &str) -> Result<Vec<Clause>, String> {
    let tokens = lex(q)?;
    let mut clauses = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, tok) in tokens.iter().enumerate() {
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.checked_sub(1).ok_or("unbalanced `}`")?,
            Tok::Word(w) if depth == 0 && w.eq_ignore_ascii_case("and") => {
                clauses.push(parse_clause(&tokens[start..i])?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced `{`".into());
    }
    clauses.push(parse_clause(&tokens[start..])?);
    Ok(clauses)
}

fn lex(q: &str) -> Result<Vec<Tok>, String> {
    let mut tokens = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' => tokens.push(Tok::Str(lex_string(&mut chars)?)),
            '=' => tokens.push(Tok::Eq),
            '!' if chars.next_if_eq(&'=').is_some() => tokens.push(Tok::Ne),
            '{' => tokens.push(Tok::Open),
            '}' => tokens.push(Tok::Close),
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = c.to_string();
                while let Some(c) = chars.next_if(|c| c.is_alphanumeric() || *c == '_') {
                    word.push(c);
                }
                tokens.push(Tok::Word(word));
            }
            other => return Err(format!("unexpected character `{other}` in the query")),
        }
    }
    Ok(tokens)
}

/// The rest of a quoted string (after its opening quote).
fn lex_string(chars: &mut impl Iterator<Item = char>) -> Result<String, String> {
    let mut s = String::new();
    loop {
        match chars.next() {
            None => return Err("unterminated string in the query".into()),
            Some('\'') => return Ok(s),
            Some('\\') => match chars.next() {
                Some(c @ ('\'' | '\\')) => s.push(c),
                _ => return Err("bad escape in a query string".into()),
            },
            Some(c) => s.push(c),
        }
    }
}

fn is_word(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(word))
}

fn parse_clause(toks: &[Tok]) -> Result<Clause, String> {
    use Tok::{Close, Eq, Ne, Open, Str, Word};
    let clause = match toks {
        [Word(f), Eq, Str(v)] if f == "name" => Clause::Name(v.clone()),
        [Word(f), Eq, Str(v)] if f == "mimeType" => Clause::MimeEq(v.clone()),
        [Word(f), Ne, Str(v)] if f == "mimeType" => Clause::MimeNe(v.clone()),
        [Str(id), i, Word(p)] if is_word(i, "in") && p == "parents" => {
            Clause::InParents(id.clone())
        }
        [Word(f), Eq, b] if f == "trashed" && (is_word(b, "true") || is_word(b, "false")) => {
            Clause::Trashed(is_word(b, "true"))
        }
        [Word(f), has, Open, Word(k), Eq, Str(key), and, Word(v), Eq, Str(value), Close]
            if f == "appProperties"
                && is_word(has, "has")
                && k == "key"
                && is_word(and, "and")
                && v == "value" =>
        {
            Clause::AppProperty(key.clone(), value.clone())
        }
        _ => return Err(format!("unsupported query clause `{}`", render(toks))),
    };
    Ok(clause)
}

fn render(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Word(w) => w.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Eq => "=".into(),
            Tok::Ne => "!=".into(),
            Tok::Open => "{".into(),
            Tok::Close => "}".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn round_down(n: u64) -> u64 {
    n - n % GRANULARITY
}

/// splitmix64: the fault generator's step.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    mix(*state)
}

/// splitmix64's finaliser (a bijection on u64).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform value in [0, 1).
fn unit_f64(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A unique, random-looking id: `prefix` and 13 base-36 digits.
fn opaque_id(prefix: char, n: u64, salt: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut x = mix(n ^ salt);
    let mut digits = [b'0'; 13];
    for d in digits.iter_mut().rev() {
        *d = DIGITS[(x % 36) as usize];
        x /= 36;
    }
    let mut id = prefix.to_string();
    id.extend(digits.iter().map(|d| char::from(*d)));
    id
}
