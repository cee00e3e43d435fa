//! A rig of its own for a test: a temp dir with the fast simulated
//! configuration, the spool, the destination and a profile folder; the
//! binary's commands on it, and a scan run on it in this process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use super::{entries, folders, Journal, Output, Running, BIN, DEADLINE};

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
