//! Shared helpers of the whole-scan tests: a rig in a temp dir with a fast simulated configuration, the real `scanrig` binary run against it, and checks of what arrived.
//!
//! Every test builds its own [`Rig`]: a temp dir holding the `--config` file,
//! the spool, the destination and a profile folder. The binary runs with no
//! `SCANRIG_*` variable of the test's environment, `HOME` set to the temp dir,
//! stdin closed and the temp dir as its working directory.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

pub mod broker;
pub mod fault_proxy;
pub mod http;
pub mod openapi;
pub mod proxy;
pub mod web;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_scanrig");

/// How long any one run of the binary may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Width and height of the simulated camera's photos in every test.
pub const PHOTO_SIZE: (u16, u16) = (160, 120);

/// The rig's settings, its devices built as a scan would (for a test to
/// swap some), and a logger that drops everything: for a scan run in
/// this process ([`scan_in_process`]).
pub fn in_process(
    rig: &Rig,
) -> (
    scanrig::settings::Settings,
    scanrig_actors::supervisor::Rig,
    slog::Logger,
) {
    let settings = scanrig::settings::Settings::load(&scanrig::settings::LoadOptions {
        config_file: Some(rig.config.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let built = scanrig::rig::build(&settings, None, &log).unwrap();
    (settings, built, log)
}

/// Runs a new scan of the profile `name` to its end on `built`, in this
/// process.
pub fn scan_in_process(
    settings: &scanrig::settings::Settings,
    built: scanrig_actors::supervisor::Rig,
    name: &str,
    log: slog::Logger,
) -> scanrig::runner::Report {
    let profile = scanrig::profile::Profile::find(name, &settings.profiles.dirs)
        .and_then(|p| p.for_rig(&settings.limits()))
        .unwrap_or_else(|e| panic!("{e}"));
    let plan = scanrig::scans::new_plan(
        &profile,
        &settings.spool_dir(),
        &settings.settle_store(),
        settings.quality.auto_settle_safe_ms,
    )
    .unwrap();
    let start = scanrig::runner::Start::New(Box::new(plan));
    scanrig::runner::run(built, start, false, None, log).unwrap()
}

/// Fast simulated hardware: 5 ms exposures, 20 ms downloads, a turntable
/// and tilt arm that turn 10 degrees in about 33 ms and do not make the
/// rig sway (the tests' profiles settle for 5 ms), quick retries.
const BASE_CONFIG: &str = r#"
[camera.sim]
width = 160
height = 120
expose_ms = 5
download_ms = 20

[turntable.sim]
max_speed_dps = 3600.0
accel_dps2 = 36000.0
home_ms = 0
shake_mm = 0.0

[tilt.sim]
max_speed_dps = 3600.0
accel_dps2 = 36000.0
home_ms = 0
shake_mm = 0.0

[supervision]
backoff_initial_ms = 10
backoff_max_ms = 200

[upload]
retry_initial_ms = 20
retry_max_ms = 200

[web]
listen = "127.0.0.1:0"
"#;

/// A rig of its own for one test: a temp dir with the config file, spool,
/// destination and profile folder in it.
pub struct Rig {
    root: TempDir,
    /// The `--config` file.
    pub config: PathBuf,
    /// `spool.dir`.
    pub spool: PathBuf,
    /// `destination.local.dir`.
    pub photos: PathBuf,
    /// The only folder in `profiles.dirs`.
    pub profiles: PathBuf,
}

impl Rig {
    /// A rig with the fast base configuration.
    pub fn new() -> Rig {
        Rig::with("")
    }

    /// A rig whose configuration is the fast base with `overrides` (TOML)
    /// merged on top.
    pub fn with(overrides: &str) -> Rig {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().to_path_buf();
        let rig = Rig {
            config: path.join("config.toml"),
            spool: path.join("spool"),
            photos: path.join("photos"),
            profiles: path.join("profiles"),
            root,
        };
        std::fs::create_dir(&rig.profiles).expect("profile folder");
        rig.configure(overrides);
        rig
    }

    /// The temp dir.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Rewrites the config file: the fast base, the rig's folders, then
    /// `overrides` (TOML) merged on top.
    pub fn configure(&self, overrides: &str) {
        let mut table: toml::Table = BASE_CONFIG.parse().expect("base config");
        let folders = format!(
            "[spool]\ndir = {}\n[destination.local]\ndir = {}\n[profiles]\ndirs = [{}]\n",
            quoted(&self.spool),
            quoted(&self.photos),
            quoted(&self.profiles)
        );
        merge(&mut table, &folders.parse().expect("folders"));
        let overrides: toml::Table = overrides.parse().expect("overrides are TOML");
        merge(&mut table, &overrides);
        std::fs::write(&self.config, toml::to_string(&table).expect("config"))
            .expect("write config");
    }

    /// Writes `<profiles>/<name>.toml`; returns its path.
    pub fn profile(&self, name: &str, text: &str) -> PathBuf {
        let path = self.profiles.join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("write profile");
        path
    }

    /// The command `scanrig --config <the rig's config> <args>`, hermetic.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        self.command_with(&self.config, args)
    }

    /// The command `scanrig --config <config> <args>`, hermetic.
    pub fn command_with<S: AsRef<std::ffi::OsStr>>(&self, config: &Path, args: &[S]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config").arg(config).args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SCANRIG_") {
                cmd.env_remove(key);
            }
        }
        cmd.env_remove("STATE_DIRECTORY")
            .env_remove("XDG_STATE_HOME")
            .env("HOME", self.root())
            .current_dir(self.root())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `scanrig <args>` to its end (at most [`DEADLINE`]).
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        Running::start(self.command(args)).wait(DEADLINE)
    }

    /// Runs `scanrig --config <config> <args>` to its end.
    pub fn run_with<S: AsRef<std::ffi::OsStr>>(&self, config: &Path, args: &[S]) -> Output {
        Running::start(self.command_with(config, args)).wait(DEADLINE)
    }

    /// Starts `scanrig <args>` in the background.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Running {
        Running::start(self.command(args))
    }

    /// The folder of a scan at the destination.
    pub fn delivered(&self, scan: &str) -> PathBuf {
        self.photos.join(scan)
    }

    /// The folder of a scan in the spool.
    pub fn spooled(&self, scan: &str) -> PathBuf {
        self.spool.join(scan)
    }

    /// The journal of a scan, record by record.
    pub fn journal(&self, scan: &str) -> Journal {
        Journal::read(&self.spooled(scan))
    }

    /// The scans in the spool, oldest first.
    pub fn spooled_scans(&self) -> Vec<String> {
        folders(&self.spool)
    }

    /// Waits until the scan `running` makes (the first in the spool) has
    /// journaled `n` captures; returns its id.
    pub fn wait_for_captures(&self, running: &mut Running, n: usize) -> String {
        let mut scan = String::new();
        running.wait_until(
            &format!("{n} shot_captured records"),
            DEADLINE,
            || match self.spooled_scans().first() {
                Some(id) => {
                    scan = id.clone();
                    self.journal(id).count("shot_captured") >= n
                }
                None => false,
            },
        );
        scan
    }

    /// Stands a regular file where the destination folder should be: every
    /// upload fails (and is retried) until [`Rig::unblock_destination`].
    pub fn block_destination(&self) {
        std::fs::write(&self.photos, b"not a folder").expect("blocker");
    }

    /// Removes what [`Rig::block_destination`] put in the way.
    pub fn unblock_destination(&self) {
        std::fs::remove_file(&self.photos).expect("unblock");
    }

    /// The scans index's summary of a retired scan, if it is retired.
    pub fn retired(&self, scan: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.spool.join("scans.jsonl")).unwrap_or_default();
        text.lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|v| v["id"] == scan)
    }

    /// Whether a scan's retirement is over: its summary is in the scans
    /// index and its journal is gone from the spool (the summary is
    /// written first, the journal removed last).
    pub fn is_retired(&self, scan: &str) -> bool {
        self.retired(scan).is_some() && !self.spooled(scan).join("journal.jsonl").exists()
    }

    /// Asserts that a scan is retired: its spool folder is gone (or holds
    /// only its photos, with `keep_uploaded`) and the scans index sums it
    /// up as ended with `outcome`, `uploaded` photos at the destination and
    /// its manifest sent. Returns the summary.
    pub fn assert_retired(&self, scan: &str, outcome: &str, uploaded: usize) -> Value {
        let summary = self
            .retired(scan)
            .unwrap_or_else(|| panic!("scan {scan} is not in the scans index"));
        assert_eq!(summary["outcome"], outcome, "{summary}");
        assert_eq!(summary["uploaded"], uploaded, "{summary}");
        // One photo per shot (the JPEG of a RAW + JPEG pair).
        let photos = summary["photos"].as_object().expect("photos");
        let jpegs = photos.keys().filter(|name| !name.ends_with(".ppm"));
        assert_eq!(jpegs.count(), uploaded, "{summary}");
        assert!(
            summary["manifest"].as_str().is_some_and(|m| !m.is_empty()),
            "{summary}"
        );
        let left = entries(&self.spooled(scan));
        assert!(
            left.iter()
                .all(|f| f.ends_with(".jpg") || f.ends_with(".ppm")),
            "a retired scan leaves no journal in the spool: {left:?}"
        );
        summary
    }

    /// A stopped scan's captures, from its retired summary: asserts it is
    /// retired with every one of them at the destination, and returns
    /// their file names.
    pub fn stopped_and_retired(&self, scan: &str) -> BTreeSet<String> {
        let summary = self
            .retired(scan)
            .unwrap_or_else(|| panic!("scan {scan} is not in the scans index"));
        let captured = summary["captured"].as_u64().expect("captured") as usize;
        let summary = self.assert_retired(scan, "stopped", captured);
        summary["photos"]
            .as_object()
            .expect("photos")
            .keys()
            .cloned()
            .collect()
    }

    /// Every scan the rig knows, sorted: those in the spool and the
    /// retired ones.
    pub fn known_scans(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.spool.join("scans.jsonl")).unwrap_or_default();
        let retired = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|v| v["id"].as_str().map(str::to_owned));
        let all: BTreeSet<String> = self.spooled_scans().into_iter().chain(retired).collect();
        all.into_iter().collect()
    }

    /// The only scan the rig knows.
    pub fn only_scan(&self) -> String {
        let scans = self.known_scans();
        assert_eq!(scans.len(), 1, "expected one scan in the spool: {scans:?}");
        scans.into_iter().next().expect("one scan")
    }
}

/// A path as a TOML string.
fn quoted(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// Deep-merges `over` into `base`.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The sub-folders of `dir` (none if it does not exist), sorted.
pub fn folders(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.expect("dir entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every entry name in `dir` (none if it does not exist), sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Output {
    /// The exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl Output {
    /// Panics, showing the output, unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The `--json` summary: the one JSON object on stdout.
    pub fn summary(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON summary ({e}):\n{}\n--- stderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Collects what a child writes on one pipe.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, JoinHandle<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = buf.clone();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("output buffer")
                .extend_from_slice(&chunk[..n]);
        }
    });
    (buf, reader)
}

/// The binary running in the background. Dropped while running (a failed
/// test), it is killed.
pub struct Running {
    child: Option<Child>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Running {
    /// Starts `cmd` (made by [`Rig::command`]) with stdout and stderr piped.
    pub fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start scanrig");
        let (stdout, out_reader) = collect(child.stdout.take().expect("stdout"));
        let (stderr, err_reader) = collect(child.stderr.take().expect("stderr"));
        Running {
            child: Some(child),
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// Sends `signal` (libc::SIGINT, ...).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill() has no memory effects; the pid is our own child,
        // not yet reaped, so it cannot name another process.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({}, {signal})", self.pid());
    }

    /// What it has printed on stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("stdout buffer")).into_owned()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr buffer")).into_owned()
    }

    /// Polls `condition` until it holds; panics if the process ends first or
    /// `within` passes.
    pub fn wait_until(
        &mut self,
        what: &str,
        within: Duration,
        mut condition: impl FnMut() -> bool,
    ) {
        let deadline = Instant::now() + within;
        loop {
            if condition() {
                return;
            }
            let child = self.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!(
                    "scanrig ended ({status}) before {what}\n--- stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n--- stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Polls until stderr contains `needle`.
    pub fn wait_for_stderr(&mut self, needle: &str, within: Duration) {
        self.wait_for_stderr_times(needle, 1, within);
    }

    /// Polls until stderr contains `needle` `times` times.
    pub fn wait_for_stderr_times(&mut self, needle: &str, times: usize, within: Duration) {
        let stderr = self.stderr.clone();
        self.wait_until(
            &format!("`{needle}` {times} times on stderr"),
            within,
            || {
                let text = stderr.lock().expect("stderr buffer");
                String::from_utf8_lossy(&text).matches(needle).count() >= times
            },
        );
    }

    /// Waits for the process to end (killing it and failing after `within`).
    pub fn wait(mut self, within: Duration) -> Output {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "scanrig did not end within {within:?}\n--- stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        for reader in self.readers.drain(..) {
            reader.join().expect("pipe reader");
        }
        let text = |buf: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&buf.lock().expect("output buffer")).into_owned()
        };
        Output {
            code: status.code(),
            stdout: text(&self.stdout),
            stderr: text(&self.stderr),
        }
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `condition` until it holds, failing after `within`.
pub fn wait_for(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A scan's journal as it stands on disk.
#[derive(Debug)]
pub struct Journal {
    /// The records, in order (a torn last line left out).
    pub records: Vec<Value>,
}

impl Journal {
    /// Reads `<scan_dir>/journal.jsonl`; a missing journal has no records.
    pub fn read(scan_dir: &Path) -> Journal {
        let text = std::fs::read_to_string(scan_dir.join("journal.jsonl")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut records = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str(line) {
                Ok(v) => records.push(v),
                // The writer may be half-way through the last line.
                Err(_) if i + 1 == lines.len() => {}
                Err(e) => panic!("journal line {} is not JSON ({e}): {line}", i + 1),
            }
        }
        Journal { records }
    }

    /// Records of one kind (`shot_captured`, ...).
    pub fn of(&self, kind: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["record"] == kind)
            .collect()
    }

    /// How many records of one kind.
    pub fn count(&self, kind: &str) -> usize {
        self.of(kind).len()
    }

    /// When each capture was journaled (Unix ms), in journal order.
    pub fn capture_times(&self) -> Vec<u64> {
        self.of("shot_captured")
            .iter()
            .map(|r| r["at"].as_u64().expect("at"))
            .collect()
    }

    /// The latest capture of every shot: file name → sha256.
    pub fn captured(&self) -> BTreeMap<String, String> {
        let mut by_shot = BTreeMap::new();
        for r in self.of("shot_captured") {
            let shot = r["shot"].as_u64().expect("shot number");
            let files = r["files"].as_array().expect("files");
            by_shot.insert(shot, files.clone());
        }
        by_shot
            .into_values()
            .flatten()
            .map(|f| {
                (
                    f["name"].as_str().expect("name").to_owned(),
                    f["sha256"].as_str().expect("sha256").to_owned(),
                )
            })
            .collect()
    }

    /// Shot numbers recorded as uploaded.
    pub fn uploaded(&self) -> BTreeSet<u64> {
        self.of("shot_uploaded")
            .iter()
            .map(|r| r["shot"].as_u64().expect("shot number"))
            .collect()
    }

    /// The `scan_finished` outcome, if any.
    pub fn outcome(&self) -> Option<String> {
        self.of("scan_finished")
            .last()
            .map(|r| r["outcome"].as_str().expect("outcome").to_owned())
    }
}

/// Every file under `dir`, by its path from `dir`, with its contents'
/// sha256.
pub fn contents(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for name in entries(dir) {
        let path = dir.join(&name);
        if path.is_dir() {
            for (inner, sha) in contents(&path) {
                found.insert(format!("{name}/{inner}"), sha);
            }
        } else {
            found.insert(name, sha256(&std::fs::read(&path).unwrap()));
        }
    }
    found
}

/// The names of the files a manifest's shot entry lists, in its order.
pub fn names_in(entry: &Value) -> Vec<&str> {
    let files = entry["files"].as_array().expect("files");
    files
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect()
}

/// The photos a delivered scan's `manifest.json` lists: file name →
/// sha256.
pub fn manifest_shas(manifest: &Value) -> BTreeMap<String, String> {
    manifest["shots"]
        .as_array()
        .expect("manifest shots")
        .iter()
        .flat_map(|shot| shot["files"].as_array().expect("files").clone())
        .map(|f| {
            (
                f["name"].as_str().expect("name").to_owned(),
                f["sha256"].as_str().expect("sha256").to_owned(),
            )
        })
        .collect()
}

/// Reads the `manifest.json` in a delivered scan's folder.
pub fn read_manifest(scan_dir: &Path) -> Value {
    let text = std::fs::read_to_string(scan_dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// When each shot of a manifest was captured (Unix ms), in shot order,
/// from its `captured_at` (`2026-12-01T02:30:20.123Z`).
pub fn capture_times(manifest: &Value) -> Vec<u64> {
    manifest["shots"]
        .as_array()
        .expect("manifest shots")
        .iter()
        .map(|shot| unix_ms_of(shot["captured_at"].as_str().expect("captured_at")))
        .collect()
}

/// Unix milliseconds of an RFC 3339 UTC time with milliseconds.
fn unix_ms_of(text: &str) -> u64 {
    let num = |range: std::ops::Range<usize>| -> i64 {
        text[range]
            .parse()
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (h, min, sec, ms) = (num(11..13), num(14..16), num(17..19), num(20..23));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (((days * 24 + h) * 60 + min) * 60 + sec) as u64 * 1000 + ms as u64
}

/// One `[[rings]]` entry of a profile.
#[derive(Debug, Clone, Copy)]
pub struct Ring {
    /// Degrees.
    pub tilt: f64,
    /// Shots around the ring.
    pub shots: u32,
    /// Azimuth of the first shot, degrees.
    pub start: f64,
}

/// The rings of a profile's TOML text.
pub fn rings_of(profile: &str) -> Vec<Ring> {
    let table: toml::Table = profile.parse().expect("profile TOML");
    table["rings"]
        .as_array()
        .expect("rings")
        .iter()
        .map(|r| Ring {
            tilt: r["tilt"].as_float().expect("tilt"),
            shots: r["shots"].as_integer().expect("shots") as u32,
            start: r
                .get("start")
                .and_then(toml::Value::as_float)
                .unwrap_or(0.0),
        })
        .collect()
}

/// A one-ring profile of `shots` level shots and `settle_ms`.
pub fn ring_profile(shots: u32, settle_ms: u64) -> String {
    format!("settle_ms = {settle_ms}\n\n[[rings]]\ntilt = 0.0\nshots = {shots}\n")
}

/// A shot as the profile plans it and the file it must arrive as.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Number in the scan, from 1.
    pub shot: u32,
    /// Ring, from 1.
    pub ring: u32,
    /// Number within the ring, from 1.
    pub index: u32,
    /// Degrees, in [0, 360).
    pub azimuth: f64,
    /// Degrees.
    pub tilt: f64,
    /// `<prefix>_<shot>_r<ring>_az<azimuth>_t<tilt>.jpg`.
    pub name: String,
}

/// Every shot of a profile with `rings`, named with `prefix`, computed here
/// from the documented rules (evenly spaced from `start`; file names
/// `<prefix>_0003_r1_az090.0_t+15.0.jpg`).
pub fn plan(prefix: &str, rings: &[Ring]) -> Vec<Planned> {
    let mut out = Vec::new();
    for (r, ring) in rings.iter().enumerate() {
        for i in 0..ring.shots {
            let shot = out.len() as u32 + 1;
            let azimuth =
                (ring.start + f64::from(i) * 360.0 / f64::from(ring.shots)).rem_euclid(360.0);
            out.push(Planned {
                shot,
                ring: r as u32 + 1,
                index: i + 1,
                azimuth,
                tilt: ring.tilt,
                name: format!(
                    "{prefix}_{shot:04}_r{}_az{azimuth:05.1}_t{:+05.1}.jpg",
                    r + 1,
                    ring.tilt
                ),
            });
        }
    }
    out
}

/// The pose priors a scan of photos `names` writes in its folder (the
/// default `[export]`): the COLMAP folder, Metashape's CSV, and an XMP and
/// a JSON sidecar per photo.
pub fn prior_files(names: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["colmap", "metashape_reference.csv"]
        .map(String::from)
        .into();
    for name in names {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        out.insert(format!("{stem}.xmp"));
        out.insert(format!("{stem}.pose.json"));
    }
    out
}

/// sha256 of `bytes`, lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether Debian's `programs` are installed (each answers `arg`); without
/// them a test says so and skips, unless `required` is set in the
/// environment (as in CI), where it fails. `package` names what installs
/// them.
pub fn tools_present(programs: &[&str], arg: &str, required: &str, package: &str) -> bool {
    let found = programs
        .iter()
        .all(|p| Command::new(p).arg(arg).output().is_ok());
    if !found {
        let names = programs.join(" and ");
        assert!(
            std::env::var_os(required).is_none(),
            "{required} is set but {names} is not installed: run .ci/deps"
        );
        eprintln!("skipped: {names} is not installed (Debian: apt install {package})");
    }
    found
}

/// The simulator's RAW file beside the JPEG `name`.
pub fn raw_of(name: &str) -> String {
    format!("{}.ppm", name.strip_suffix(".jpg").unwrap_or(name))
}

/// Checks that `scan_dir` holds exactly the photos `names` (plus, if
/// `manifest`, `manifest.json` and every pose prior; without it, priors
/// written before a crash may be there) and nothing else: no second copy,
/// no temp file; that each decodes as a JPEG of [`PHOTO_SIZE`] (a `.ppm`,
/// the simulator's RAW file: a whole PPM of that size). Returns each
/// photo's sha256.
pub fn assert_photos(
    scan_dir: &Path,
    names: &BTreeSet<String>,
    manifest: bool,
) -> BTreeMap<String, String> {
    let mut want: BTreeSet<String> = names.clone();
    let priors = prior_files(names);
    let mut found: BTreeSet<String> = entries(scan_dir).into_iter().collect();
    if manifest {
        want.insert("manifest.json".to_owned());
        want.extend(priors);
        let colmap: BTreeSet<String> = entries(&scan_dir.join("colmap")).into_iter().collect();
        assert_eq!(
            colmap,
            ["cameras.txt", "images.txt", "points3D.txt", "reference.txt"]
                .map(String::from)
                .into(),
            "the COLMAP model beside the manifest"
        );
    } else {
        found.retain(|f| !priors.contains(f));
    }
    assert_eq!(
        found,
        want,
        "{} must hold exactly the photos (missing: {:?}; unexpected: {:?})",
        scan_dir.display(),
        want.difference(&found).collect::<Vec<_>>(),
        found.difference(&want).collect::<Vec<_>>()
    );
    names
        .iter()
        .map(|name| {
            let bytes = std::fs::read(scan_dir.join(name)).expect("read photo");
            if name.ends_with(".ppm") {
                let (w, h) = PHOTO_SIZE;
                let header = format!("P6\n{w} {h}\n255\n");
                assert!(bytes.starts_with(header.as_bytes()), "{name}: PPM header");
                let pixels = 3 * usize::from(w) * usize::from(h);
                assert_eq!(bytes.len(), header.len() + pixels, "{name}: size");
                return (name.clone(), sha256(&bytes));
            }
            let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
            decoder
                .decode()
                .unwrap_or_else(|e| panic!("{name} does not decode as a JPEG: {e}"));
            let info = decoder.info().expect("JPEG info");
            assert_eq!((info.width, info.height), PHOTO_SIZE, "{name}: size");
            (name.clone(), sha256(&bytes))
        })
        .collect()
}

/// Angles and numbers read back from a photo's file name.
fn parse_name(name: &str) -> (u32, u32, f64, f64) {
    let stem = name.strip_suffix(".jpg").expect(".jpg");
    let parts: Vec<&str> = stem.rsplitn(5, '_').collect();
    let [tilt, az, ring, shot, _prefix] = parts[..] else {
        panic!("{name} is not <prefix>_<shot>_r<ring>_az<azimuth>_t<tilt>.jpg")
    };
    let number = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("{name}: {s}"));
    (
        shot.parse().unwrap_or_else(|_| panic!("{name}: shot")),
        ring.strip_prefix('r')
            .expect("r<ring>")
            .parse()
            .expect("ring"),
        number(az.strip_prefix("az").expect("az<azimuth>")),
        number(tilt.strip_prefix('t').expect("t<tilt>")),
    )
}

/// Reads `<scan_dir>/manifest.json` and checks it lists exactly `expected`,
/// in shot order, each with the sha256 found on disk (`shas`) and ring,
/// index, azimuth and tilt that match both the plan and the file name.
pub fn assert_manifest(
    scan_dir: &Path,
    expected: &[Planned],
    shas: &BTreeMap<String, String>,
) -> Value {
    let manifest = read_manifest(scan_dir);
    let shots = manifest["shots"].as_array().expect("manifest shots");
    assert_eq!(
        shots.len(),
        expected.len(),
        "manifest lists every shot once"
    );
    for (entry, want) in shots.iter().zip(expected) {
        let files = entry["files"].as_array().expect("files");
        let raw = raw_of(&want.name);
        let pair = shas.contains_key(&raw);
        let listed: Vec<&str> = files
            .iter()
            .map(|f| f["name"].as_str().expect("name"))
            .collect();
        match pair {
            false => assert_eq!(listed, [want.name.as_str()], "one file per shot: {entry}"),
            true => assert_eq!(
                listed,
                [want.name.as_str(), &raw],
                "a RAW + JPEG pair: {entry}"
            ),
        }
        if pair {
            assert_eq!(
                files[1]["sha256"].as_str(),
                Some(shas[&raw].as_str()),
                "{raw}"
            );
        }
        let name = listed[0];
        assert_eq!(name, want.name, "manifest entry for shot {}", want.shot);
        assert_eq!(entry["shot"], want.shot, "{name}");
        assert_eq!(entry["ring"], want.ring, "{name}");
        assert_eq!(entry["index"], want.index, "{name}");
        let azimuth = entry["azimuth"].as_f64().expect("azimuth");
        let tilt = entry["tilt"].as_f64().expect("tilt");
        assert!(
            (azimuth - want.azimuth).abs() < 1e-9,
            "{name}: azimuth {azimuth}"
        );
        assert!((tilt - want.tilt).abs() < 1e-9, "{name}: tilt {tilt}");
        let (shot, ring, az, t) = parse_name(name);
        assert_eq!((shot, ring), (want.shot, want.ring), "{name}");
        assert!(
            (az - azimuth).abs() <= 0.05 && (t - tilt).abs() <= 0.05,
            "{name}"
        );
        assert_eq!(
            files[0]["sha256"].as_str(),
            Some(shas[name].as_str()),
            "{name}: the file at the destination differs from the manifest"
        );
        let size = std::fs::metadata(scan_dir.join(name)).expect("photo").len();
        assert_eq!(files[0]["size"], size, "{name}: size");
        assert!(
            files[0]["destination_id"].is_string(),
            "{name}: no destination id"
        );
    }
    manifest
}

/// The whole check of a completed scan at the destination: every planned
/// shot exactly once, intact, names in shot order, the manifest complete.
pub fn assert_complete(scan_dir: &Path, expected: &[Planned]) -> Value {
    assert_complete_pairs(scan_dir, expected, false)
}

/// [`assert_complete`], each shot a RAW + JPEG pair when `raw` (the
/// simulator's RAW file: `<shot>.ppm`).
pub fn assert_complete_pairs(scan_dir: &Path, expected: &[Planned], raw: bool) -> Value {
    let mut names: BTreeSet<String> = expected.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names.len(), expected.len(), "planned names are unique");
    let in_shot_order: Vec<&str> = expected.iter().map(|p| p.name.as_str()).collect();
    let sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(in_shot_order, sorted, "file names sort in shot order");
    if raw {
        names.extend(expected.iter().map(|p| raw_of(&p.name)));
    }
    let shas = assert_photos(scan_dir, &names, true);
    let manifest = assert_manifest(scan_dir, expected, &shas);
    assert_eq!(manifest["planned"], expected.len());
    assert_eq!(manifest["outcome"], "completed");
    manifest
}

/// Asserts the `--json` summary says every planned shot was captured and
/// uploaded; returns the scan id.
pub fn assert_summary_complete(summary: &Value, planned: usize) -> String {
    assert_eq!(summary["outcome"], "completed", "{summary}");
    assert_eq!(summary["planned"], planned, "{summary}");
    assert_eq!(summary["captured"], planned, "{summary}");
    assert_eq!(summary["uploaded"], planned, "{summary}");
    assert_eq!(summary["upload_failed"], 0, "{summary}");
    summary["scan"].as_str().expect("scan id").to_owned()
}

/// Now, Unix milliseconds (as the journal counts time).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// Temp files of durable writes (`.<name>.part-<pid>`) in `dir`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.starts_with('.') && n.contains(".part-"))
        .collect()
}

/// Pseudo-random instants for killing a process at: a xorshift generator
/// seeded from the clock, its seed printed so that a failing run can be
/// told apart (the instants depend on timing anyway).
pub struct Instants(u64);

impl Instants {
    /// A generator seeded from the clock.
    pub fn new() -> Instants {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos();
        let seed = u64::from(nanos) | 1;
        eprintln!("kill instants seeded with {seed}");
        Instants(seed)
    }

    /// A duration from zero up to `max`.
    pub fn up_to(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        max.mul_f64((self.0 % 1_000_001) as f64 / 1e6)
    }
}

/// The files of a scan's ZIP archive, every one in the folder `scan`:
/// name inside it → sha256 of its bytes.
pub fn zip_sha256s(archive: &[u8], scan: &str) -> BTreeMap<String, String> {
    zip_files(archive, scan)
        .into_iter()
        .map(|(name, (bytes, _))| (name, sha256(&bytes)))
        .collect()
}

/// The files of a scan's ZIP archive, every one in the folder `scan`:
/// name inside it → its bytes and its date.
pub fn zip_files(archive: &[u8], scan: &str) -> BTreeMap<String, (Vec<u8>, zip::DateTime)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP");
    let folder = format!("{scan}/");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("a ZIP entry");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).expect("read a ZIP entry");
            let name = f
                .name()
                .strip_prefix(&folder)
                .unwrap_or_else(|| panic!("{} is not in the folder {folder}", f.name()))
                .to_owned();
            (name, (bytes, f.last_modified().unwrap_or_default()))
        })
        .collect()
}
