//! A folder on an SFTP server as a destination, through libssh2 (the `ssh2`
//! crate).
//!
//! Layout: the configured folder, in it one folder per scan named by the
//! scan id, in that the photos under their spool names and `manifest.json`,
//! written last.
//!
//! Trust: the server's host key must be in the configured known_hosts file;
//! an unknown or changed key is refused, naming its SHA256 fingerprint, and
//! nothing is sent. scanrig signs in with its private key only.
//!
//! Exactly once: a photo is written to a temporary name beside its own
//! ([`part_name`]), made durable on the server's disk (`fsync@openssh.com`)
//! and renamed into place with SFTP's plain rename, which refuses to
//! replace an existing file (not `posix-rename`). A half-written photo is
//! never under its name; a killed upload's temporary file is the one the
//! next try writes again, and the manifest's upload clears any other. When
//! the name is taken, what is there is read back: the same sha256 is the
//! photo (an earlier try got there), other bytes are never replaced but
//! refused, naming both checksums. The manifest and pose priors are
//! scanrig's own and replaced (the old one removed, the new one renamed in).
//!
//! Calls block; the uploader's worker threads make them, each on a
//! connection of its own while it sends (kept open between photos, opened
//! again after a failure).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use scanrig_actors::destination::{
    is_part_name, part_name, probe_name, relative, Destination, DestinationError, Result, Upload,
    MANIFEST,
};
use scanrig_actors::model::{Place, ScanId};
use sha2::{Digest, Sha256};
use ssh2::{
    CheckResult, ErrorCode, HashType, KnownHostFileKind, OpenFlags, OpenType, RenameFlags, Session,
    Sftp,
};

use crate::settings::Sftp as SftpSettings;

/// SFTP's status codes scanrig tells apart.
const NO_SUCH_FILE: i32 = 2;
const PERMISSION_DENIED: i32 = 3;
const NO_SPACE: i32 = 14;
const QUOTA_EXCEEDED: i32 = 15;

/// Bytes read or written at a time: libssh2 waits for the server to take
/// each write, so on a link with latency the rate follows this (see
/// BENCHMARKS.md); memory grows with it per worker.
const PIECE: usize = 1024 * 1024;

/// Photos go to a folder on an SFTP server.
pub struct SftpDestination {
    opts: SftpSettings,
    /// Connections signed in and not in use.
    idle: Mutex<Vec<Connection>>,
    /// Folders known to exist (made, or found).
    made: Mutex<BTreeSet<PathBuf>>,
}

/// A signed-in session and its SFTP channel.
struct Connection {
    sftp: Sftp,
    // Dropped after the channel.
    _session: Session,
}

impl SftpDestination {
    /// A destination for `[destination.sftp]`. Contacts nobody yet.
    pub fn new(opts: &SftpSettings) -> SftpDestination {
        SftpDestination {
            opts: opts.clone(),
            idle: Mutex::new(Vec::new()),
            made: Mutex::new(BTreeSet::new()),
        }
    }

    /// Runs `op` on an idle connection's SFTP channel, or a new one's; a
    /// failure that may have broken the connection closes it, else it is
    /// kept for the next call. Each upload worker has one at a time.
    fn with_sftp<T>(&self, op: impl FnOnce(&Sftp) -> Result<T>) -> Result<T> {
        let idle = self.lock_idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = op(&conn.sftp);
        if !result.as_ref().is_err_and(DestinationError::is_retryable) {
            self.lock_idle().push(conn);
        }
        result
    }

    fn lock_idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn connect(&self) -> Result<Connection> {
        let o = &self.opts;
        let server = format!("{}:{}", o.host, o.port);
        let timeout = Duration::from_secs(o.timeout_s);
        let addr = (o.host.as_str(), o.port)
            .to_socket_addrs()
            .map_err(|e| {
                DestinationError::Transient(format!(
                    "cannot find the SFTP server {} (DNS: {e}); check destination.sftp.host and the rig's network",
                    o.host
                ))
            })?
            .next()
            .ok_or_else(|| {
                DestinationError::Transient(format!("{} has no address (DNS)", o.host))
            })?;
        let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| {
            DestinationError::Transient(format!("cannot reach the SFTP server {server}: {e}"))
        })?;
        let mut session = Session::new().map_err(|e| self.broken(&e))?;
        session.set_tcp_stream(tcp);
        session.set_timeout(u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX));
        session.handshake().map_err(|e| self.broken(&e))?;
        self.check_host_key(&session)?;
        session
            .userauth_pubkey_file(&o.user, None, &o.private_key, None)
            .map_err(|e| self.key_refused(&e.to_string()))?;
        if !session.authenticated() {
            return Err(self.key_refused("not signed in"));
        }
        let sftp = session.sftp().map_err(|e| self.broken(&e))?;
        Ok(Connection {
            sftp,
            _session: session,
        })
    }

    /// Refuses a host key that the known_hosts file does not hold as it is.
    fn check_host_key(&self, session: &Session) -> Result<()> {
        let o = &self.opts;
        let file = o.known_hosts.display();
        let (key, _) = session.host_key().ok_or_else(|| {
            DestinationError::Transient(format!("{}:{} showed no host key", o.host, o.port))
        })?;
        let fingerprint = session.host_key_hash(HashType::Sha256).map_or_else(
            || "(no fingerprint)".to_owned(),
            |h| {
                format!(
                    "SHA256:{}",
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
                )
            },
        );
        let mut known = session.known_hosts().map_err(|e| self.broken(&e))?;
        known
            .read_file(&o.known_hosts, KnownHostFileKind::OpenSSH)
            .map_err(|e| {
                DestinationError::Permanent(format!(
                    "cannot read destination.sftp.known_hosts {file}: {e}"
                ))
            })?;
        let server = if o.port == 22 {
            o.host.clone()
        } else {
            format!("[{}]:{}", o.host, o.port)
        };
        let add = format!(
            "if that is the server's key (ask its administrator: `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` there), add it: `ssh-keyscan -p {} {} >> {file}`",
            o.port, o.host
        );
        match known.check_port(&o.host, o.port, key) {
            CheckResult::Match => Ok(()),
            CheckResult::NotFound => Err(DestinationError::Permanent(format!(
                "the SFTP server {server} shows a host key that {file} does not know ({fingerprint}); nothing was sent: {add}"
            ))),
            CheckResult::Mismatch => Err(DestinationError::Permanent(format!(
                "the host key of the SFTP server {server} has CHANGED: it shows {fingerprint}, not the key {file} holds for it; nothing was sent. Someone may be in between: if the server's key was changed on purpose, remove the old one (`ssh-keygen -R '{server}' -f {file}`) and {add}"
            ))),
            CheckResult::Failure => Err(DestinationError::Permanent(format!(
                "cannot check the host key of {server} ({fingerprint}) against {file}"
            ))),
        }
    }

    fn key_refused(&self, detail: &str) -> DestinationError {
        let o = &self.opts;
        DestinationError::Permanent(format!(
            "the SFTP server {}:{} refused user `{}` with the key {} ({detail}): add the key's public half (`ssh-keygen -y -f {}`) to that user's ~/.ssh/authorized_keys on the server, or correct destination.sftp.user and private_key",
            o.host,
            o.port,
            o.user,
            o.private_key.display(),
            o.private_key.display()
        ))
    }

    /// A failure of the session itself: the connection is gone.
    fn broken(&self, e: &ssh2::Error) -> DestinationError {
        DestinationError::Transient(format!(
            "the connection to the SFTP server {}:{} failed: {e}",
            self.opts.host, self.opts.port
        ))
    }

    fn missing_folder(&self) -> DestinationError {
        DestinationError::Permanent(format!(
            "the folder {} does not exist on the SFTP server {} for user `{}`; create it there, or correct destination.sftp.dir",
            self.opts.dir, self.opts.host, self.opts.user
        ))
    }

    /// What a failure to `what` `path` means, in words.
    fn failed(&self, what: &str, path: &Path, e: &ssh2::Error) -> DestinationError {
        let (user, path) = (&self.opts.user, path.display());
        match e.code() {
            ErrorCode::SFTP(PERMISSION_DENIED) => DestinationError::Permanent(format!(
                "no write permission: the SFTP server does not let user `{user}` {what} {path}; give the user write access to the folder, or choose another destination.sftp.dir"
            )),
            ErrorCode::SFTP(NO_SPACE | QUOTA_EXCEEDED) => DestinationError::Permanent(format!(
                "the SFTP server is full (cannot {what} {path}: {e}); make room there"
            )),
            ErrorCode::SFTP(_) => {
                DestinationError::Transient(format!("cannot {what} {path} on the SFTP server: {e}"))
            }
            ErrorCode::Session(_) => self.broken(e),
        }
    }

    /// Makes the folder `dir` unless known to exist.
    fn folder(&self, sftp: &Sftp, dir: &Path) -> Result<()> {
        if self.lock_made().contains(dir) {
            return Ok(());
        }
        if let Err(e) = sftp.mkdir(dir, 0o755) {
            // Made before, or its parent is missing.
            match sftp.stat(dir) {
                Ok(stat) if stat.is_dir() => {}
                Err(s) if s.code() == ErrorCode::SFTP(NO_SUCH_FILE) => {
                    return Err(match e.code() {
                        ErrorCode::SFTP(PERMISSION_DENIED) => self.failed("make", dir, &e),
                        _ => self.missing_folder(),
                    })
                }
                _ => return Err(self.failed("make", dir, &e)),
            }
        }
        self.lock_made().insert(dir.to_path_buf());
        Ok(())
    }

    fn lock_made(&self) -> MutexGuard<'_, BTreeSet<PathBuf>> {
        self.made.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The path of `name` (which may hold folders) in the scan's folder,
    /// every folder on the way made.
    fn file_path(&self, sftp: &Sftp, scan: &ScanId, name: &str) -> Result<PathBuf> {
        let path = Path::new(&self.opts.dir)
            .join(scan.as_str())
            .join(relative(name)?);
        let scan_dir = Path::new(&self.opts.dir).join(scan.as_str());
        let mut dirs: Vec<&Path> = path
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(&scan_dir))
            .collect();
        dirs.reverse();
        for dir in dirs {
            self.folder(sftp, dir)?;
        }
        Ok(path)
    }

    /// Writes `source` to `path` (replacing what is there) and makes it
    /// durable on the server's disk.
    fn write_durably(&self, sftp: &Sftp, path: &Path, source: &mut dyn Read) -> Result<()> {
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let mut file = sftp
            .open_mode(path, flags, 0o644, OpenType::File)
            .map_err(|e| self.failed("write", path, &e))?;
        let mut buf = vec![0u8; PIECE];
        loop {
            let n = source.read(&mut buf).map_err(|e| {
                DestinationError::Transient(format!("cannot read the spool file: {e}"))
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).map_err(|e| {
                DestinationError::Transient(format!(
                    "writing {} on the SFTP server failed: {e}",
                    path.display()
                ))
            })?;
        }
        file.fsync()
            .map_err(|e| self.failed("make durable (fsync)", path, &e))?;
        file.close().map_err(|e| self.failed("close", path, &e))
    }

    fn upload_with(&self, sftp: &Sftp, upload: &Upload) -> Result<String> {
        let target = self.file_path(sftp, &upload.scan, &upload.name)?;
        let temp = target.with_file_name(part_name(&base_name(&target), &upload.sha256));
        let mut source = std::fs::File::open(&upload.local).map_err(|e| {
            DestinationError::Transient(format!(
                "cannot read spool file {}: {e}",
                upload.local.display()
            ))
        })?;
        self.write_durably(sftp, &temp, &mut source)?;
        // Plain SSH_FXP_RENAME: refused when the target exists.
        let Err(refused) = sftp.rename(&temp, &target, Some(RenameFlags::empty())) else {
            return Ok(target.display().to_string());
        };
        let Some(there) = self.digest(sftp, &target)? else {
            return Err(self.failed("rename into", &target, &refused));
        };
        let _ = sftp.unlink(&temp);
        if there.0 == upload.sha256 {
            return Ok(target.display().to_string());
        }
        Err(DestinationError::Permanent(format!(
            "{} is there already with other bytes ({} bytes, sha256 {}) than {} ({} bytes, sha256 {}); scanrig never replaces a file it did not write: move or delete the one on the server, then run `scanrig uploads retry`",
            target.display(),
            there.1,
            there.0,
            upload.name,
            upload.size,
            upload.sha256
        )))
    }

    fn put_file_with(
        &self,
        sftp: &Sftp,
        scan: &ScanId,
        name: &str,
        bytes: &[u8],
    ) -> Result<String> {
        let target = self.file_path(sftp, scan, name)?;
        if name == MANIFEST {
            // The manifest comes last: clear what killed uploads left.
            self.clear_parts(sftp, target.parent().unwrap_or(&target));
        }
        // Its temporary name is fixed by its name: a next version written
        // after a kill replaces a half-written one.
        let key = scanrig_hardware::fsutil::hex(&Sha256::digest(name.as_bytes()));
        let temp = target.with_file_name(part_name(&base_name(&target), &key));
        self.write_durably(sftp, &temp, &mut &bytes[..])?;
        match sftp.unlink(&target) {
            Err(e) if e.code() != ErrorCode::SFTP(NO_SUCH_FILE) => {
                return Err(self.failed("replace", &target, &e))
            }
            _ => {}
        }
        sftp.rename(&temp, &target, Some(RenameFlags::empty()))
            .map_err(|e| self.failed("rename into", &target, &e))?;
        Ok(target.display().to_string())
    }

    /// The sha256 and size of `path` on the server, read back; `None` when
    /// it is not there.
    fn digest(&self, sftp: &Sftp, path: &Path) -> Result<Option<(String, u64)>> {
        let mut file = match sftp.open(path) {
            Ok(file) => file,
            Err(e) if e.code() == ErrorCode::SFTP(NO_SUCH_FILE) => return Ok(None),
            Err(e) => return Err(self.failed("read back", path, &e)),
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; PIECE];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(|e| {
                DestinationError::Transient(format!(
                    "reading {} back from the SFTP server failed: {e}",
                    path.display()
                ))
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok(Some((
            scanrig_hardware::fsutil::hex(&hasher.finalize()),
            size,
        )))
    }

    /// Removes the temporary files of killed uploads in `dir` (best
    /// effort: one left harms no photo).
    fn clear_parts(&self, sftp: &Sftp, dir: &Path) {
        let Ok(entries) = sftp.readdir(dir) else {
            return;
        };
        for (path, _) in entries {
            if path
                .file_name()
                .is_some_and(|n| is_part_name(&n.to_string_lossy()))
            {
                let _ = sftp.unlink(&path);
            }
        }
    }
}

/// The last part of `path`.
fn base_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

impl Destination for SftpDestination {
    /// Checks the destination can be reached and, with `write`, written:
    /// writes, reads back and deletes a small object. The error says in
    /// words what is wrong (DNS, refused connection, unknown or changed
    /// host key, refused key, missing folder, no write permission).
    fn probe(&self, write: bool) -> Result<()> {
        let dir = PathBuf::from(&self.opts.dir);
        self.with_sftp(|sftp| {
            match sftp.stat(&dir) {
                Ok(stat) if stat.is_dir() => {}
                Err(e) if e.code() != ErrorCode::SFTP(NO_SUCH_FILE) => {
                    return Err(self.failed("look at", &dir, &e))
                }
                _ => return Err(self.missing_folder()),
            }
            if !write {
                return Ok(());
            }
            let path = dir.join(probe_name());
            let bytes = format!("scanrig probe {}\n", path.display()).into_bytes();
            let want = scanrig_hardware::fsutil::hex(&Sha256::digest(&bytes));
            self.write_durably(sftp, &path, &mut bytes.as_slice())?;
            let read = self.digest(sftp, &path);
            let removed = sftp
                .unlink(&path)
                .map_err(|e| self.failed("delete", &path, &e));
            let (got, _) = read?.unwrap_or_default();
            if got != want {
                return Err(DestinationError::Permanent(format!(
                    "{} read back other bytes than were written (sha256 {got}, written {want}); the server does not keep what it is sent",
                    path.display()
                )));
            }
            removed
        })
    }

    fn describe(&self) -> String {
        self.place().to_string()
    }

    fn place(&self) -> Place {
        let o = &self.opts;
        Place::Sftp {
            host: o.host.clone(),
            port: o.port,
            user: o.user.clone(),
            dir: o.dir.clone(),
        }
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        let target = Path::new(&self.opts.dir)
            .join(upload.scan.as_str())
            .join(relative(&upload.name)?);
        self.with_sftp(|sftp| {
            Ok(match self.digest(sftp, &target)? {
                Some((sha256, _)) if sha256 == upload.sha256 => Some(target.display().to_string()),
                _ => None,
            })
        })
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        self.with_sftp(|sftp| self.upload_with(sftp, upload))
    }

    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        self.with_sftp(|sftp| self.put_file_with(sftp, scan, name, bytes))
    }
}
