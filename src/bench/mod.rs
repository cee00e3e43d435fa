//! `scanrig bench`: the pipeline benchmark on the simulated rig. Stage
//! latencies are modelled on a compact-camera rig, scaled down. Reports wall
//! time against the theoretical bound, the speed-up over a strictly
//! sequential run, the controller's overhead per shot, peak memory while
//! scanning large photos, the simulated camera's rendering cost, the CPU
//! an idle daemon uses, what the check after each ring costs, a scan sent
//! to two destinations, and a daemon's memory over many scans.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use scanrig_actors::clock::unix_now;
use scanrig_actors::destination::{Destinations, LocalDir, SimRemote};
use scanrig_actors::model::{ScanId, ScanPlan, Station};
use scanrig_actors::supervisor::{Rig, ScanSummary};
use scanrig_hardware::axis::MotionLimits;
use scanrig_hardware::camera::{CaptureRequest, SimCamera, SimCameraConfig};
use scanrig_hardware::Degrees;
use serde::Serialize;
use slog::Logger;

mod bracket;
mod daemon;
mod moved;
mod several;
mod sphere;

use crate::logging::logger;
use crate::rig;
use crate::runner::{self, Start};
use crate::settings::{self, LogLevel, Settings, TiltBackend};

/// Options of `scanrig bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Print the results as one JSON object.
    #[arg(long)]
    json: bool,
    /// Shots in the pipeline runs.
    #[arg(long, default_value_t = 36)]
    shots: u32,
    /// Photo size for the memory run, in MB.
    #[arg(long, default_value_t = 25)]
    photo_mb: u64,
    /// Shots in the memory run.
    #[arg(long, default_value_t = 6)]
    memory_shots: u32,
    /// How long to watch the idle daemon, in seconds (0 skips it).
    #[arg(long, default_value_t = 30)]
    idle_seconds: u64,
    /// Scans taken against a destination that refuses everything, in the
    /// backlog run (0 skips it).
    #[arg(long, default_value_t = 50)]
    backlog_scans: u32,
    /// Shots in each scan of the backlog run.
    #[arg(long, default_value_t = 100)]
    backlog_shots: u32,
    /// Retired scans in the scans index when `scanrig uploads` starts.
    #[arg(long, default_value_t = 200)]
    retired_scans: u32,
    /// Cameras in the column run (0 skips it).
    #[arg(long, default_value_t = 3)]
    column_cameras: u32,
    /// Frames of each stop's exposure set in the bracket run (0 skips it).
    #[arg(long, default_value_t = 3)]
    bracket_frames: u32,
    /// Rings in the ring check run, of 12 shots each (0 skips it).
    #[arg(long, default_value_t = 3)]
    moved_rings: u32,
    /// Scans started one after another through a daemon's web API, its
    /// memory read every 50 (0 skips it; 300 take about a quarter of an
    /// hour).
    #[arg(long, default_value_t = 0)]
    daemon_scans: u32,
    /// Points of the sphere run: the shipped sphere-130 profile's, on the
    /// shipped table and tilt arm with a fast and a DSLR-like camera (0
    /// skips it).
    #[arg(long, default_value_t = 130)]
    sphere_points: u32,
}

/// Stage latencies of the model rig.
const EXPOSE: Duration = Duration::from_millis(50);
const DOWNLOAD: Duration = Duration::from_millis(200);
const UPLOAD: Duration = Duration::from_millis(300);
const SETTLE: Duration = Duration::from_millis(50);
const WORKERS: u32 = 4;
/// Fast enough that a 10° step takes 80 ms: with settling, 130 ms.
const LIMITS: MotionLimits = MotionLimits {
    max_speed: 1000.0,
    acceleration: 6250.0,
};

#[derive(Debug, Serialize)]
struct Results {
    shots: u32,
    rotate_settle_s: f64,
    expose_s: f64,
    download_s: f64,
    upload_s: f64,
    upload_workers: u32,
    pipelined_wall_s: f64,
    bound_s: f64,
    efficiency: f64,
    sequential_wall_s: f64,
    speedup: f64,
    overhead_per_shot_ms: f64,
    photo_mb: u64,
    peak_rss_mb: f64,
    /// The simulated camera rendering, encoding and writing one photo of
    /// the shipped size (no latency modelled), after a first one: fastest,
    /// median, slowest of 12, in milliseconds.
    render_ms: (f64, f64, f64),
    idle_seconds: u64,
    idle: Option<Idle>,
    idle_web: Option<Idle>,
    backlog: Option<BacklogResults>,
    column: Option<ColumnResults>,
    bracket: Option<bracket::BracketResults>,
    /// The check after each ring that the object has not moved.
    moved: Option<moved::MovedResults>,
    /// Every photo sent to two destinations.
    two_destinations: several::SeveralResults,
    /// The daemon's memory over many scans.
    daemon_memory: Option<Vec<daemon::Sample>>,
    /// The shipped sphere's points, both axes moving together.
    sphere: Option<sphere::SphereResults>,
}

/// The column run: a column of cameras fired together at every stop,
/// against the same rig firing them one after another.
#[derive(Debug, Serialize)]
struct ColumnResults {
    cameras: u32,
    stops: u32,
    wall_s: f64,
    /// `max(rotate + settle, slowest download) + slowest exposure` per
    /// stop, plus the last stop's uploads (in parallel: one upload).
    bound_s: f64,
    efficiency: f64,
    one_after_another_wall_s: f64,
    speedup: f64,
}

/// The backlog run: scans piling up photos behind a destination that
/// refuses everything.
#[derive(Debug, Serialize)]
struct BacklogResults {
    scans: u32,
    shots: u32,
    /// Wall time of the first scans and of the last ones (the median of
    /// five each: a single scan's time varies by a third with the disk).
    first_scan_s: f64,
    last_scan_s: f64,
    /// Photos waiting after the last scan.
    pending: usize,
    /// One `scanrig uploads retry` pass over all of them (every upload
    /// refused): its time, and the journal lines it added.
    retry_pass_s: f64,
    retry_pass_journal_lines: usize,
    /// Journal lines in the spool after it all.
    journal_lines: usize,
    /// Retired scans in the index when `scanrig uploads` starts.
    retired: usize,
    /// Wall time of a whole `scanrig uploads` process (start-up, reading
    /// the index and the journals, printing) over 11 runs: fastest,
    /// median, slowest.
    uploads_startup_ms: (f64, f64, f64),
}

/// Runs the benchmark and prints the results.
pub fn run(settings: &Settings, args: &BenchArgs, _log: Logger) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir().context("cannot make a temporary folder")?;
    let n = args.shots.max(2);
    let step = Degrees(360.0 / f64::from(n));
    let rotate = LIMITS.move_duration(step) + SETTLE;
    let per_shot = rotate.max(DOWNLOAD) + EXPOSE;
    let bound = per_shot * n + UPLOAD;

    let pipelined = scan_wall(settings, tmp.path(), n, true)?;
    let sequential = scan_wall(settings, tmp.path(), n, false)?;
    let peak_rss = peak_rss_mb(tmp.path(), args.photo_mb, args.memory_shots)?;
    let render = render_ms(tmp.path())?;
    let watch = |web| {
        (args.idle_seconds > 0)
            .then(|| idle(tmp.path(), args.idle_seconds, web))
            .transpose()
    };
    let (idle, idle_web) = (watch(false)?, watch(true)?);
    let backlog = (args.backlog_scans > 0)
        .then(|| backlog(settings, tmp.path(), args))
        .transpose()?;
    let column = (args.column_cameras > 0)
        .then(|| -> anyhow::Result<ColumnResults> {
            let cameras = args.column_cameras;
            let wall = column_wall(settings, tmp.path(), n, cameras, true)?;
            let serial = column_wall(settings, tmp.path(), n, cameras, false)?;
            // A stop's photos are uploaded in parallel: the last stop's
            // take one upload's time.
            let bound = per_shot * n + UPLOAD;
            Ok(ColumnResults {
                cameras,
                stops: n,
                wall_s: wall.as_secs_f64(),
                bound_s: bound.as_secs_f64(),
                efficiency: bound.as_secs_f64() / wall.as_secs_f64(),
                one_after_another_wall_s: serial.as_secs_f64(),
                speedup: serial.as_secs_f64() / wall.as_secs_f64(),
            })
        })
        .transpose()?;
    let bracket = (args.bracket_frames > 1)
        .then(|| bracket::run(settings, tmp.path(), n, args.bracket_frames))
        .transpose()?;
    let two_destinations = several::run(settings, tmp.path(), n, bound)?;
    let moved = (args.moved_rings > 0)
        .then(|| moved::run(settings, tmp.path(), args.moved_rings, 12))
        .transpose()?;
    let daemon_memory = (args.daemon_scans > 0)
        .then(|| daemon::run(tmp.path(), args.daemon_scans, 50))
        .transpose()?;
    let sphere = (args.sphere_points > 0)
        .then(|| sphere::run(settings, tmp.path(), args.sphere_points))
        .transpose()?;

    let r = Results {
        shots: n,
        rotate_settle_s: rotate.as_secs_f64(),
        expose_s: EXPOSE.as_secs_f64(),
        download_s: DOWNLOAD.as_secs_f64(),
        upload_s: UPLOAD.as_secs_f64(),
        upload_workers: WORKERS,
        pipelined_wall_s: pipelined.as_secs_f64(),
        bound_s: bound.as_secs_f64(),
        efficiency: bound.as_secs_f64() / pipelined.as_secs_f64(),
        sequential_wall_s: sequential.as_secs_f64(),
        speedup: sequential.as_secs_f64() / pipelined.as_secs_f64(),
        overhead_per_shot_ms: (pipelined.as_secs_f64() - bound.as_secs_f64()) * 1000.0
            / f64::from(n),
        photo_mb: args.photo_mb,
        peak_rss_mb: peak_rss,
        render_ms: render,
        idle_seconds: args.idle_seconds,
        idle,
        idle_web,
        backlog,
        column,
        bracket,
        moved,
        two_destinations,
        daemon_memory,
        sphere,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print_results(&r);
    }
    Ok(())
}

fn print_results(r: &Results) {
    println!(
        "scanrig bench: {} shots; rotate+settle {:.0} ms, expose {:.0} ms, download {:.0} ms, upload {:.0} ms x {} workers",
        r.shots,
        r.rotate_settle_s * 1e3,
        r.expose_s * 1e3,
        r.download_s * 1e3,
        r.upload_s * 1e3,
        r.upload_workers
    );
    println!("  pipelined wall       {:7.3} s", r.pipelined_wall_s);
    println!(
        "  bound                {:7.3} s   efficiency {:.3} (target >= 0.97)",
        r.bound_s, r.efficiency
    );
    println!(
        "  sequential wall      {:7.3} s   speed-up {:.2}x (target >= 2.5x)",
        r.sequential_wall_s, r.speedup
    );
    println!(
        "  overhead per shot    {:7.2} ms  (target < 1 ms)",
        r.overhead_per_shot_ms
    );
    println!(
        "  peak RSS, {} MB photos {:6.1} MB  (target < 16 MB)",
        r.photo_mb, r.peak_rss_mb
    );
    println!(
        "  render {RENDER_W}x{RENDER_H}      {:7.1} ms  median; {:.1}-{:.1} over 12 (target < download {:.0} ms)",
        r.render_ms.1,
        r.render_ms.0,
        r.render_ms.2,
        r.download_s * 1e3
    );
    if let Some(b) = &r.backlog {
        println!(
            "  backlog: {} scans of {} shots against a destination that refuses everything",
            b.scans, b.shots
        );
        println!(
            "    first scans {:6.3} s, last {:6.3} s (medians of 5): {:.2}x (target <= 1.1x)",
            b.first_scan_s,
            b.last_scan_s,
            b.last_scan_s / b.first_scan_s
        );
        println!(
            "    a retry pass of {} photos: {:.2} s, {} journal lines added (target <= 10); {} lines in all",
            b.pending, b.retry_pass_s, b.retry_pass_journal_lines, b.journal_lines
        );
        println!(
            "    `scanrig uploads` with {} retired scans and {} waiting photos: median {:.1} ms, {:.1}-{:.1} over 11 runs (target < 30 ms)",
            b.retired, b.pending, b.uploads_startup_ms.1, b.uploads_startup_ms.0, b.uploads_startup_ms.2
        );
    }
    if let Some(c) = &r.column {
        println!(
            "  column of {} cameras, {} stops: wall {:.3} s, bound {:.3} s, efficiency {:.3} (target >= 0.97)",
            c.cameras, c.stops, c.wall_s, c.bound_s, c.efficiency
        );
        println!(
            "    fired one after another {:.3} s: together {:.2}x faster (target >= 2.5x)",
            c.one_after_another_wall_s, c.speedup
        );
    }
    if let Some(b) = &r.bracket {
        bracket::print(b);
    }
    several::print(&r.two_destinations);
    if let Some(m) = &r.moved {
        moved::print(m);
    }
    if let Some(sphere) = &r.sphere {
        sphere::print(sphere);
    }
    for (what, idle) in [("web off", &r.idle), ("web on ", &r.idle_web)] {
        match idle {
            Some(i) => println!(
                "  idle daemon, {what}  {:7.3} % of a core, {:.1} wake-ups/s over {} s (target < 0.5 %)",
                i.cpu_percent, i.wakeups_per_s, r.idle_seconds
            ),
            None => println!("  idle daemon, {what}  skipped"),
        }
    }
    if let Some(samples) = &r.daemon_memory {
        daemon::print(samples);
    }
}

/// The shipped simulated camera's photo size.
const RENDER_W: u32 = 1280;
const RENDER_H: u32 = 960;

/// What the simulated camera spends on a photo of the shipped size:
/// rendering the scene, encoding and writing the JPEG (its modelled
/// latencies set to zero). One photo first (it makes the textures, once
/// per process), then 12 timed at different angles: fastest, median,
/// slowest, ms.
fn render_ms(tmp: &Path) -> anyhow::Result<(f64, f64, f64)> {
    let camera = SimCamera::new(SimCameraConfig {
        width: RENDER_W,
        height: RENDER_H,
        expose_latency: Duration::ZERO,
        download_latency: Duration::ZERO,
        ..SimCameraConfig::default()
    });
    let mut session = (camera.connector())()?;
    let dir = tmp.join("render");
    fs::create_dir_all(&dir)?;
    let mut times = Vec::new();
    for i in 0..13 {
        let request = CaptureRequest {
            stem: format!("render_{i:02}"),
            label: format!("render {i}"),
            azimuth: Degrees(f64::from(i) * 27.0),
            tilt: Degrees(f64::from(i % 4) * 10.0 - 10.0),
        };
        let exposure = session.expose(&request)?;
        let started = Instant::now();
        session.download(&exposure, &dir)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut timed = times.split_off(1);
    timed.sort_by(f64::total_cmp);
    Ok((timed[0], median(&timed), timed[timed.len() - 1]))
}

/// The bench rig: fast axis, model latencies, no faults.
fn bench_settings(base: &Settings, dir: &Path) -> Settings {
    let mut s = base.clone();
    s.spool.dir = Some(dir.join("spool"));
    s.spool.keep_uploaded = false;
    s.turntable.sim = settings::SimAxis {
        max_speed_dps: LIMITS.max_speed,
        accel_dps2: LIMITS.acceleration,
        home_ms: 0,
        // The model rig is still once settled: its sway, as configured,
        // dies down within the settle time, so the sequential run (which
        // exposes as soon as it may) takes no photo shaken.
        shake_mm: base.turntable.sim.shake_mm,
        shake_ms: SETTLE.as_millis() as u64,
    };
    s.tilt.backend = TiltBackend::None;
    s.camera.sim = settings::SimCamera {
        width: 640,
        height: 480,
        file_size_kb: 0,
        expose_ms: EXPOSE.as_millis() as u64,
        download_ms: DOWNLOAD.as_millis() as u64,
        ..settings::SimCamera::default()
    };
    s.upload.workers = WORKERS;
    s.upload.queue = 16;
    // The pipeline's figures are of the shots alone; the ring check run
    // measures the check.
    s.moved.check = false;
    s
}

fn ring(n: u32, name: &str, settle: Duration) -> ScanPlan {
    let stations: Vec<Station> = (0..n)
        .map(|i| Station {
            ring: 1,
            index: i + 1,
            azimuth: Degrees(f64::from(i) * 360.0 / f64::from(n)),
            tilt: Degrees(0.0),
            cameras: Vec::new(),
        })
        .collect();
    ScanPlan::new(
        ScanId::new(unix_now(), name),
        name,
        name,
        settle,
        Default::default(),
        &stations,
    )
}

/// Wall time of one scan on the model rig.
fn scan_wall(base: &Settings, tmp: &Path, n: u32, pipelined: bool) -> anyhow::Result<Duration> {
    let name = if pipelined { "pipelined" } else { "sequential" };
    let dir = tmp.join(name);
    let s = bench_settings(base, &dir);
    wall(&s, &dir, n, name, |rig| rig.sequence.pipelined = pipelined)
}

/// Wall time of one scan of `n` stops on the model rig with a column of
/// `cameras`, fired together or one after another.
fn column_wall(
    base: &Settings,
    tmp: &Path,
    n: u32,
    cameras: u32,
    together: bool,
) -> anyhow::Result<Duration> {
    let name = if together { "column" } else { "column-serial" };
    let dir = tmp.join(name);
    let mut s = bench_settings(base, &dir);
    s.cameras = (1..=cameras)
        .map(|i| settings::ColumnCamera {
            name: format!("c{i}"),
            ..Default::default()
        })
        .collect();
    // The workers keep up with every camera's photos.
    s.upload.workers = WORKERS * cameras;
    wall(&s, &dir, n, name, |rig| rig.cameras_together = together)
}

/// Wall time of one scan of `n` shots named `name` on the rig of `s`
/// (changed by `adjust`), uploading to a destination [`UPLOAD`] away.
fn wall(
    s: &Settings,
    dir: &Path,
    n: u32,
    name: &str,
    adjust: impl FnOnce(&mut Rig),
) -> anyhow::Result<Duration> {
    wall_of(s, dir, ring(n, name, SETTLE), adjust)
}

/// Wall time of the scan `plan` on the rig of `s` (changed by `adjust`),
/// uploading to a destination [`UPLOAD`] away.
fn wall_of(
    s: &Settings,
    dir: &Path,
    plan: ScanPlan,
    adjust: impl FnOnce(&mut Rig),
) -> anyhow::Result<Duration> {
    summary_of(s, dir, plan, adjust).map(|summary| summary.wall)
}

/// The summary of the scan `plan` on the rig of `s` (changed by
/// `adjust`), uploading to a destination [`UPLOAD`] away.
fn summary_of(
    s: &Settings,
    dir: &Path,
    plan: ScanPlan,
    adjust: impl FnOnce(&mut Rig),
) -> anyhow::Result<ScanSummary> {
    let mut rig = rig::build(s, None, &slog::Logger::root(slog::Discard, slog::o!()))?;
    let remote = SimRemote::new(LocalDir::new(dir.join("dest")), UPLOAD, 0);
    rig.destinations = Destinations::only(Arc::new(remote));
    adjust(&mut rig);
    let (name, n) = (plan.profile.clone(), plan.shots.len());
    let report = runner::run(
        rig,
        Start::New(Box::new(plan)),
        false,
        None,
        logger(LogLevel::Warn),
    )?;
    if !report.success() || report.summary.uploaded != n {
        bail!(
            "the {name} bench scan did not complete: {:?}",
            report.summary
        );
    }
    Ok(report.summary)
}

/// The backlog run: `args.backlog_scans` scans against a destination that
/// refuses every upload (one try each), a forced retry pass over all their
/// photos, then `scanrig uploads` timed with `args.retired_scans` retired
/// scans in the index (one real 100-shot scan's summary, copied under new
/// ids) beside the waiting ones.
fn backlog(base: &Settings, tmp: &Path, args: &BenchArgs) -> anyhow::Result<BacklogResults> {
    let dir = tmp.join("backlog");
    let mut s = bench_settings(base, &dir);
    // A quick rig, so that what the controller does shows in the wall time.
    s.camera.sim.expose_ms = 1;
    s.camera.sim.download_ms = 1;
    s.turntable.sim.max_speed_dps = 3600.0;
    s.turntable.sim.accel_dps2 = 1e6;
    s.upload.max_attempts = 1;
    let spool = s.spool_dir();
    let quiet = slog::Logger::root(slog::Discard, slog::o!());
    let refusing = || -> anyhow::Result<Rig> {
        let mut rig = rig::build(&s, None, &quiet)?;
        let remote = SimRemote::new(LocalDir::new(dir.join("dest")), Duration::ZERO, 1);
        rig.destinations = Destinations::only(Arc::new(remote));
        Ok(rig)
    };
    let mut walls = Vec::new();
    for i in 0..args.backlog_scans {
        let plan = ring(
            args.backlog_shots,
            &format!("backlog{i:03}"),
            Duration::ZERO,
        );
        let report = runner::run(
            refusing()?,
            Start::New(Box::new(plan)),
            false,
            None,
            quiet.clone(),
        )?;
        let sum = &report.summary;
        if sum.captured != args.backlog_shots as usize || sum.uploaded != 0 {
            bail!("a backlog scan did not capture everything or was not refused: {sum:?}");
        }
        walls.push(sum.wall.as_secs_f64());
    }
    let pending = args.backlog_scans as usize * args.backlog_shots as usize;
    let before = journal_lines(&spool)?;
    let began = Instant::now();
    if runner::upload_pending(refusing()?, quiet.clone())? != 0 {
        bail!("the refusing destination took a photo");
    }
    let retry_pass = began.elapsed();
    let after = journal_lines(&spool)?;

    // One real scan is retired; the index then holds copies of its summary.
    let mut rig = rig::build(&s, None, &quiet)?;
    rig.destinations = Destinations::only(Arc::new(LocalDir::new(dir.join("dest"))));
    let plan = ring(100, "retired", Duration::ZERO);
    let report = runner::run(rig, Start::New(Box::new(plan)), false, None, quiet)?;
    if !report.success() {
        bail!("the scan to retire did not complete: {:?}", report.summary);
    }
    let index = spool.join(scanrig_actors::history::INDEX_FILE);
    let line = fs::read_to_string(&index)?;
    let mut summary: serde_json::Value = serde_json::from_str(line.trim())?;
    let mut copies = String::new();
    for i in 1..args.retired_scans {
        summary["id"] = serde_json::json!(format!("20200101T000000Z-copy{i:04}"));
        copies.push_str(&format!("{summary}\n"));
    }
    fs::OpenOptions::new()
        .append(true)
        .open(&index)?
        .write_all(copies.as_bytes())?;

    let config = dir.join("config.toml");
    fs::write(&config, format!("[spool]\ndir = {spool:?}\n"))?;
    let mut runs = Vec::new();
    for _ in 0..11 {
        let began = Instant::now();
        let status = Command::new(std::env::current_exe()?)
            .arg("--config")
            .arg(&config)
            .arg("uploads")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        runs.push(began.elapsed().as_secs_f64() * 1e3);
        if !status.success() {
            bail!("scanrig uploads failed ({status})");
        }
    }
    let ms = |f: fn(f64, f64) -> f64| runs.iter().copied().fold(runs[0], f);
    let startup = (ms(f64::min), median(&runs), ms(f64::max));
    Ok(BacklogResults {
        scans: args.backlog_scans,
        shots: args.backlog_shots,
        first_scan_s: median(&walls[..walls.len().min(5)]),
        last_scan_s: median(&walls[walls.len().saturating_sub(5)..]),
        pending,
        retry_pass_s: retry_pass.as_secs_f64(),
        retry_pass_journal_lines: after - before,
        journal_lines: after,
        retired: args.retired_scans as usize,
        uploads_startup_ms: startup,
    })
}

/// The median of some figures (0 for none).
fn median(figures: &[f64]) -> f64 {
    let mut sorted = figures.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// Lines in every journal of a spool.
fn journal_lines(spool: &Path) -> anyhow::Result<usize> {
    let mut lines = 0;
    for dir in scanrig_actors::journal::scan_dirs(spool)? {
        let text = fs::read(dir.join(scanrig_actors::journal::JOURNAL_FILE))?;
        lines += text.iter().filter(|b| **b == b'\n').count();
    }
    Ok(lines)
}

/// Writes a config and a profile for a child `scanrig` process.
fn child_files(
    tmp: &Path,
    name: &str,
    photo_kb: u64,
    shots: u32,
) -> anyhow::Result<(String, String)> {
    let dir = tmp.join(name);
    fs::create_dir_all(&dir)?;
    let config = dir.join("config.toml");
    fs::write(
        &config,
        format!(
            "[spool]\ndir = {spool:?}\n[destination.local]\ndir = {dest:?}\n\
             [tilt]\nbackend = \"none\"\n[turntable.sim]\nhome_ms = 0\n\
             [camera.sim]\nfile_size_kb = {photo_kb}\nexpose_ms = 10\ndownload_ms = 10\n\
             [log]\nlevel = \"warn\"\n",
            spool = dir.join("spool"),
            dest = dir.join("dest"),
        ),
    )?;
    let profile = dir.join(format!("{name}.toml"));
    fs::write(
        &profile,
        format!("description = \"bench\"\nsettle_ms = 0\n[[rings]]\ntilt = 0.0\nshots = {shots}\n"),
    )?;
    Ok((config.display().to_string(), profile.display().to_string()))
}

/// Peak resident memory of a whole `scanrig scan` of large photos, as the
/// scan process itself read it (its VmHWM) at the end.
fn peak_rss_mb(tmp: &Path, photo_mb: u64, shots: u32) -> anyhow::Result<f64> {
    let (config, profile) = child_files(tmp, "memory", photo_mb * 1024, shots)?;
    let out = Command::new(std::env::current_exe()?)
        .args(["--config", &config, "scan", "--profile", &profile, "--json"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .context("cannot start scanrig for the memory run")?;
    if !out.status.success() {
        bail!("the memory run failed ({})", out.status);
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("the memory run's summary is not JSON")?;
    let kib = summary["peak_rss_kib"]
        .as_u64()
        .context("the memory run's summary has no peak_rss_kib")?;
    Ok(kib as f64 / 1024.0)
}

fn wait4(pid: libc::pid_t) -> anyhow::Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data, valid when zeroed, and filled by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    Ok((status, usage))
}

/// What an idle `scanrig daemon` costs.
#[derive(Debug, Serialize)]
struct Idle {
    /// CPU time, percent of one core.
    cpu_percent: f64,
    /// Times its threads were woken (context switches) per second.
    wakeups_per_s: f64,
}

/// Watches an idle `scanrig daemon`, with the web page on or off, for
/// `seconds`: CPU from the threads' schedstat (nanoseconds, not clock
/// ticks), wake-ups from their context switches.
fn idle(tmp: &Path, seconds: u64, web: bool) -> anyhow::Result<Idle> {
    let name = if web { "idle-web" } else { "idle" };
    let (config, _) = child_files(tmp, name, 0, 1)?;
    let listen = if web { "127.0.0.1:0" } else { "" };
    let mut text = fs::read_to_string(&config)?;
    text.push_str(&format!("[web]\nlisten = {listen:?}\n"));
    fs::write(&config, text)?;
    let child = Command::new(std::env::current_exe()?)
        .args(["--config", &config, "daemon"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start scanrig daemon")?;
    let pid = child.id() as libc::pid_t;
    // Measuring idleness means letting wall-clock time pass: one second for
    // start-up, then the measured window.
    std::thread::sleep(Duration::from_secs(1));
    let (start, began) = (thread_counters(pid)?, Instant::now());
    std::thread::sleep(Duration::from_secs(seconds));
    let end = thread_counters(pid)?;
    let elapsed = began.elapsed().as_secs_f64();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let (status, _) = wait4(pid)?;
    if status != 0 {
        bail!("the idle daemon did not stop cleanly (wait status {status})");
    }
    Ok(Idle {
        cpu_percent: (end.0 - start.0) as f64 / 1e9 / elapsed * 100.0,
        wakeups_per_s: (end.1 - start.1) as f64 / elapsed,
    })
}

/// CPU nanoseconds and context switches of every thread of a process.
fn thread_counters(pid: libc::pid_t) -> anyhow::Result<(u64, u64)> {
    let (mut cpu_ns, mut switches) = (0u64, 0u64);
    for task in fs::read_dir(format!("/proc/{pid}/task"))? {
        let task = task?.path();
        // A thread that ended since the listing counts no more.
        let (Ok(sched), Ok(status)) = (
            fs::read_to_string(task.join("schedstat")),
            fs::read_to_string(task.join("status")),
        ) else {
            continue;
        };
        cpu_ns += sched
            .split_whitespace()
            .next()
            .context("odd schedstat")?
            .parse::<u64>()?;
        for line in status.lines() {
            if let Some(n) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += n.trim().parse::<u64>()?;
            }
        }
    }
    Ok((cpu_ns, switches))
}
