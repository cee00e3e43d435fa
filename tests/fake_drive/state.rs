//! The fake's state: what its threads share, the stored files, the faults drawn.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::helpers::{md5_hex, opaque_id, splitmix, unit_f64};
use super::meta::{apply_app_properties, Meta};
use super::replies::google_error;
use super::response::Response;
use super::session::Session;
use super::{FakeFile, Fault, Faults, Stats, ALL_FAULTS};

/// What the threads share.
pub(super) struct Shared {
    pub(super) root: String,
    state: Mutex<State>,
    /// Notified on every change of sessions, holds or late creates.
    pub(super) changed: Condvar,
    pub(super) stopping: AtomicBool,
    pub(super) next_conn: AtomicU64,
    /// Clones of open connections, to shut them down when the fake stops.
    conns: Mutex<HashMap<u64, TcpStream>>,
}

impl Shared {
    pub(super) fn new(root: String) -> Shared {
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
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn wait_timeout<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        d: Duration,
    ) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(guard, d) {
            Ok((guard, _)) => guard,
            Err(e) => e.into_inner().0,
        }
    }

    pub(super) fn conns(&self) -> MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn close_connections(&self) {
        for stream in self.conns().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// A stored file and whether it was deleted.
pub(super) struct Stored {
    pub(super) file: FakeFile,
    pub(super) deleted: bool,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) files: Vec<Stored>,
    next_file: u64,
    /// Ids handed out by generateIds (used or not).
    generated: HashSet<String>,
    pub(super) sessions: HashMap<String, Session>,
    pub(super) next_session: u64,
    pub(super) access_tokens: HashSet<String>,
    next_access: u64,
    pub(super) revoked: bool,
    pub(super) next_device: u64,
    pub(super) device_polls: HashMap<String, u32>,
    pub(super) faults: Faults,
    pub(super) rng: u64,
    server_errors: u64,
    rate_limits: u64,
    pub(super) latency: Duration,
    pub(super) quota_exceeded: bool,
    pub(super) corrupt_uploads: usize,
    pub(super) holds: usize,
    /// Creates in one request are stored this long after their body
    /// arrived, whether or not the client still waits for the answer.
    pub(super) late_creates: Duration,
    /// The names of files whose late create is on its way.
    pub(super) creating: Vec<String>,
    /// Token requests still to fail, each with the fault given.
    pub(super) token_faults: Vec<Fault>,
    pub(super) stats: Stats,
}

impl State {
    /// Draws whether this Drive request gets a fault, and which.
    pub(super) fn draw_fault(&mut self) -> Option<Fault> {
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

    pub(super) fn issue_access_token(&mut self) -> String {
        self.next_access += 1;
        let token = format!("fake-access-{}", self.next_access);
        self.access_tokens.insert(token.clone());
        token
    }

    pub(super) fn next_file_id(&mut self) -> String {
        self.next_file += 1;
        opaque_id('1', self.next_file, 0x5ca9_f11e)
    }

    pub(super) fn file(&self, id: &str) -> Option<&FakeFile> {
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
    pub(super) fn check_new_id(&mut self, id: &str) -> Result<(), Response> {
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
    pub(super) fn generate_ids(&mut self, count: usize) -> Vec<String> {
        let ids: Vec<String> = (0..count).map(|_| self.next_file_id()).collect();
        self.generated.extend(ids.iter().cloned());
        self.stats.ids_generated += ids.len() as u64;
        ids
    }

    /// A new file; with the id in `meta`, if any (409 if in use, 400 if
    /// not one generateIds gave out).
    pub(super) fn create_file(
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
    pub(super) fn update_file(
        &mut self,
        id: &str,
        meta: &Meta,
        content: Option<Vec<u8>>,
    ) -> Option<FakeFile> {
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

    /// 500 and 503 alternately.
    pub(super) fn server_error(&mut self) -> Response {
        self.server_errors += 1;
        if self.server_errors % 2 == 1 {
            google_error(500, "backendError", "Backend Error")
        } else {
            google_error(503, "backendError", "Service Unavailable")
        }
    }

    /// The answer to an injected fault that answers at all.
    pub(super) fn fault_response(&mut self, fault: &Fault) -> Response {
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
