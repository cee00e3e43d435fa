//! The scan-done hand-off (`[hooks]`): a command run with the scan in its
//! environment, and a webhook POSTed a JSON summary signed with
//! HMAC-SHA256. Deliveries come from the queue in the spool
//! (`scanrig_actors::hooks`): each outcome is journaled there, so a crash
//! or an offline network delays a hook but never loses it; a delivery is
//! made at least once (one whose success was not yet journaled when the
//! process died is made again), with the same delivery id each time. The
//! command never outlives the process that started it, and what it left
//! running is ended before it runs again ([`leftovers`]), so it never runs
//! beside itself. Failures are retried with a doubling wait; a hook never
//! touches the photos.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use google_drive3::common;
use google_drive3::hyper::{header, Method, Request};
use google_drive3::hyper_util::client::legacy::Client;
use google_drive3::hyper_util::rt::TokioExecutor;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::hooks::{self, HookKind, HookLine, Pending, ScanDone};
use sha2::Sha256;
use slog::{info, warn, Logger};

use crate::http::{self, error_chain};
use crate::settings::Hooks;

mod leftovers;

/// Longest wait for the processes an earlier try left to end once killed.
const LEFTOVERS_WAIT: Duration = Duration::from_secs(10);

/// The header carrying the webhook's signature: `sha256=<hex>` of the
/// HMAC-SHA256 of the body with the shared secret.
pub const SIGNATURE_HEADER: &str = "x-scanrig-signature-256";
/// The header naming the delivery ([`ScanDone::delivery`]): the same on
/// every retry, so a receiver can tell a repeat.
pub const DELIVERY_HEADER: &str = "x-scanrig-delivery";
/// The command's environment variable naming the delivery, as
/// [`DELIVERY_HEADER`] does for the webhook.
pub const DELIVERY_VAR: &str = "SCANRIG_DELIVERY";
/// The command's environment variable naming the rig's spool folder: with
/// the delivery, what tells this rig's tries from another rig's on the
/// same machine delivering a scan of the same id.
pub const SPOOL_VAR: &str = "SCANRIG_SPOOL";

/// Why a delivery failed.
#[derive(Debug)]
enum Failure {
    /// Worth another try later.
    Retry(String),
    /// Trying again cannot help.
    Final(String),
}

/// Delivers the hooks due in one spool.
pub struct HookRunner {
    spool: PathBuf,
    settings: Hooks,
    runtime: tokio::runtime::Runtime,
    client: common::Client<http::Connector>,
    log: Logger,
}

impl HookRunner {
    /// A runner for `spool`'s queue, or `None` without hooks configured;
    /// refused when the webhook's secret file cannot be used.
    pub fn new(spool: &Path, settings: &Hooks, log: &Logger) -> anyhow::Result<Option<HookRunner>> {
        if settings.kinds().is_empty() {
            return Ok(None);
        }
        if let Some(Err(e)) = settings.webhook_secret() {
            anyhow::bail!("hooks.webhook_secret_file: {e}");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = Client::builder(TokioExecutor::new()).build(http::connector()?);
        Ok(Some(HookRunner {
            spool: spool.to_path_buf(),
            settings: settings.clone(),
            runtime,
            client,
            log: log.new(slog::o!("part" => "hooks")),
        }))
    }

    /// Delivers every hook due now; returns how long until the next one
    /// waiting for a retry is due, if any.
    pub fn deliver_due(&self) -> Option<Duration> {
        let lines = match hooks::read(&self.spool) {
            Ok(lines) => lines,
            Err(e) => {
                warn!(self.log, "cannot read the hooks' queue; they wait"; "error" => %e);
                return Some(Duration::from_millis(self.settings.retry_max_ms));
            }
        };
        let configured = self.settings.kinds();
        let mut next: Option<Duration> = None;
        for pending in hooks::pending(&lines, &configured) {
            if !configured.contains(&pending.kind) {
                self.journal(&self.unconfigured(&pending));
                continue;
            }
            let now = unix_millis_now();
            let due = self.due_at(&pending);
            if due > now {
                let wait = Duration::from_millis(due - now);
                next = Some(next.map_or(wait, |n| n.min(wait)));
                continue;
            }
            let line = self.deliver(&pending);
            if let HookLine::Failed { .. } = line {
                let wait = self.wait_after(pending.failures + 1);
                next = Some(next.map_or(wait, |n| n.min(wait)));
            }
            self.journal(&line);
        }
        if let Err(e) = hooks::prune(&self.spool, &configured, hooks::KEEP_SETTLED) {
            warn!(self.log, "cannot prune the hooks' queue; it is tried again after the next delivery"; "error" => %e);
        }
        next
    }

    /// Journals a delivery's outcome.
    fn journal(&self, line: &HookLine) {
        if let Err(e) = hooks::append(&self.spool, line) {
            warn!(self.log, "cannot journal a hook's outcome; it may run again"; "error" => %e);
        }
    }

    /// Gives up a delivery owed by a hook since removed from `[hooks]`.
    fn unconfigured(&self, p: &Pending) -> HookLine {
        let key = match p.kind {
            HookKind::Command => "hooks.command",
            HookKind::Webhook => "hooks.webhook_url",
        };
        let error = format!("{key} is no longer set");
        warn!(self.log, "scan-done hook given up"; "scan" => %p.scan.scan, "hook" => ?p.kind,
            "error" => &error);
        HookLine::GaveUp {
            at: unix_millis_now(),
            scan: p.scan.scan.clone(),
            kind: p.kind,
            error,
        }
    }

    /// When a pending hook is due: now for a first try, else its last
    /// failure plus the doubling wait.
    fn due_at(&self, p: &Pending) -> u64 {
        match p.last_failure {
            None => 0,
            Some(at) => at + self.wait_after(p.failures).as_millis() as u64,
        }
    }

    /// The wait after `failures` failed tries.
    fn wait_after(&self, failures: u32) -> Duration {
        let doubling = 1u64 << failures.saturating_sub(1).min(30);
        let ms = self.settings.retry_initial_ms.saturating_mul(doubling);
        Duration::from_millis(ms.min(self.settings.retry_max_ms))
    }

    /// One try of one hook, and the line that journals it.
    fn deliver(&self, p: &Pending) -> HookLine {
        let (scan, kind) = (p.scan.scan.clone(), p.kind);
        let outcome = match kind {
            HookKind::Command if p.failures >= self.settings.command_attempts => {
                Err(Failure::Final(format!("it failed {} times", p.failures)))
            }
            HookKind::Command => self.run_command(&p.scan),
            HookKind::Webhook => self.post(&p.scan),
        };
        let at = unix_millis_now();
        match outcome {
            Ok(()) => {
                info!(self.log, "scan-done hook delivered"; "scan" => %scan, "hook" => ?kind);
                HookLine::Delivered { at, scan, kind }
            }
            Err(Failure::Retry(error)) => {
                warn!(self.log, "scan-done hook failed; it will be tried again"; "scan" => %scan,
                    "hook" => ?kind, "error" => &error);
                HookLine::Failed {
                    at,
                    scan,
                    kind,
                    error,
                }
            }
            Err(Failure::Final(error)) => {
                warn!(self.log, "scan-done hook given up"; "scan" => %scan, "hook" => ?kind,
                    "error" => &error, "to do" => "fix [hooks] and run it by hand; the photos are not affected");
                HookLine::GaveUp {
                    at,
                    scan,
                    kind,
                    error,
                }
            }
        }
    }

    /// Runs the command (no shell), the scan in its environment, its
    /// output to the log, killed past its time limit, and killed if this
    /// process dies first; what an earlier try left running is ended
    /// before (so a delivery tried again after a restart never runs beside
    /// the one before).
    ///
    /// The kernel sends that signal when the *thread* that started the
    /// command ends: this runs on the main thread (a foreground scan) or on
    /// the hooks' thread (the daemon), each of which lives until the
    /// command has ended or the process does.
    fn run_command(&self, done: &ScanDone) -> Result<(), Failure> {
        let argv = &self.settings.command;
        let spool = self.spool.to_string_lossy();
        let ours = [(DELIVERY_VAR, done.delivery()), (SPOOL_VAR, &*spool)];
        match leftovers::end(&ours, LEFTOVERS_WAIT) {
            Ok(0) => {}
            Ok(n) => {
                warn!(self.log, "killed what an earlier try of the hook command left running"; "scan" => %done.scan, "processes" => n)
            }
            Err(e) => {
                return Err(Failure::Retry(format!(
                    "cannot end what an earlier try of {} left running: {e}",
                    argv[0]
                )))
            }
        }
        let outcome = serde_json::to_value(done.outcome).unwrap_or_default();
        let mut command = Command::new(&argv[0]);
        let parent = std::process::id();
        // SAFETY: the closure runs in the child between fork and exec and
        // makes only async-signal-safe system calls (prctl, getppid).
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // This process died before the signal was asked for.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::other("scanrig ended"));
                }
                Ok(())
            });
        }
        let mut child = command
            .args(&argv[1..])
            .env(DELIVERY_VAR, done.delivery())
            .env(SPOOL_VAR, &self.spool)
            .env("SCANRIG_SCAN", done.scan.as_str())
            .env("SCANRIG_PROFILE", &done.profile)
            .env("SCANRIG_OUTCOME", outcome.as_str().unwrap_or(""))
            .env("SCANRIG_FOLDER", done.folder.as_deref().unwrap_or(""))
            .env("SCANRIG_MANIFEST", &done.manifest)
            .env("SCANRIG_DESTINATION", &done.destination)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                let why = format!("cannot run {}: {e}", argv[0]);
                match e.kind() {
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                        Failure::Final(why)
                    }
                    _ => Failure::Retry(why),
                }
            })?;
        let pid = child.id() as libc::pid_t;
        let readers = self.log_output(&mut child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let limit = Duration::from_secs(self.settings.command_timeout_s);
        let status = match rx.recv_timeout(limit) {
            Ok(status) => status,
            Err(_) => {
                // SAFETY: signals the command's own process group.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                let _ = rx.recv();
                return Err(Failure::Retry(format!(
                    "{} did not finish within {} s and was killed",
                    argv[0], self.settings.command_timeout_s
                )));
            }
        };
        for reader in readers {
            let _ = reader.join();
        }
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(Failure::Retry(format!("{} ended with {s}", argv[0]))),
            Err(e) => Err(Failure::Retry(format!("cannot wait for {}: {e}", argv[0]))),
        }
    }

    /// Threads that copy the command's output, line by line, to the log.
    fn log_output(&self, child: &mut std::process::Child) -> Vec<std::thread::JoinHandle<()>> {
        [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|out| {
            let log = self.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    info!(log, "hook command: {}", line);
                }
            })
        })
        .collect()
    }

    /// POSTs the summary, signed, to the webhook.
    fn post(&self, done: &ScanDone) -> Result<(), Failure> {
        let secret = match self.settings.webhook_secret() {
            Some(Ok(secret)) => secret,
            Some(Err(e)) => return Err(Failure::Retry(format!("hooks.webhook_secret_file: {e}"))),
            None => return Err(Failure::Final("no hooks.webhook_secret_file".into())),
        };
        let body = serde_json::to_vec(done).unwrap_or_default();
        let signature = sign(&secret, &body);
        let request = Request::builder()
            .method(Method::POST)
            .uri(&self.settings.webhook_url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("scanrig/", env!("CARGO_PKG_VERSION")),
            )
            .header("x-scanrig-event", "scan.finished")
            .header(DELIVERY_HEADER, done.delivery())
            .header(SIGNATURE_HEADER, format!("sha256={signature}"))
            .body(common::to_body(Some(Bytes::from(body))))
            .map_err(|e| Failure::Final(format!("cannot make the request: {e}")))?;
        let timeout = Duration::from_secs(self.settings.webhook_timeout_s);
        let answer = self.runtime.block_on(async {
            let response = tokio::time::timeout(timeout, self.client.request(request)).await;
            let response = match response {
                Err(_) => {
                    return Err(Failure::Retry(format!(
                        "no answer within {} s",
                        timeout.as_secs()
                    )))
                }
                Ok(Err(e)) => return Err(Failure::Retry(error_chain(&e))),
                Ok(Ok(r)) => r,
            };
            let status = response.status();
            // The answer's body is read (and dropped) so the connection is reused.
            let _ = tokio::time::timeout(timeout, response.into_body().collect()).await;
            Ok(status)
        })?;
        match answer.as_u16() {
            200..=299 => Ok(()),
            408 | 425 | 429 | 500..=599 => Err(Failure::Retry(format!(
                "the webhook answered HTTP {answer}"
            ))),
            _ => Err(Failure::Final(format!(
                "the webhook answered HTTP {answer}: check hooks.webhook_url and the receiver"
            ))),
        }
    }
}

/// HMAC-SHA256 of `body` with `secret`, lower-case hex.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    scanrig_hardware::fsutil::hex(&mac.finalize().into_bytes())
}

/// The hooks' thread in a long-running process: delivers what is due,
/// then waits for a wake-up or the next retry.
pub struct HookThread {
    wake: mpsc::Sender<()>,
}

impl HookThread {
    /// Starts the thread, which delivers what is due at once.
    pub fn start(runner: HookRunner) -> HookThread {
        let (wake, woken) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("hooks".into())
            .spawn(move || loop {
                let next = runner.deliver_due();
                let woke = match next {
                    Some(wait) => !matches!(
                        woken.recv_timeout(wait),
                        Err(mpsc::RecvTimeoutError::Disconnected)
                    ),
                    None => woken.recv().is_ok(),
                };
                if !woke {
                    break;
                }
            })
            .expect("a thread can be started");
        HookThread { wake }
    }

    /// Asks for a pass: a scan may have been retired.
    pub fn wake(&self) {
        let _ = self.wake.send(());
    }
}
