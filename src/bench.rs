//! `scanrig bench`: the pipeline benchmark on the simulated rig. Stage
//! latencies are modelled on a compact-camera rig, scaled down. Reports wall
//! time against the theoretical bound, the speed-up over a strictly
//! sequential run, the controller's overhead per shot, peak memory while
//! scanning large photos, and the CPU an idle daemon uses.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use scanrig_actors::clock::unix_now;
use scanrig_actors::destination::{Destinations, LocalDir, SimRemote};
use scanrig_actors::plan::{ScanId, ScanPlan, Station};
use scanrig_hardware::axis::MotionLimits;
use scanrig_hardware::Degrees;
use serde::Serialize;
use slog::Logger;

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
    idle_seconds: u64,
    idle_cpu_percent: Option<f64>,
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
    let idle = (args.idle_seconds > 0)
        .then(|| idle_cpu_percent(tmp.path(), args.idle_seconds))
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
        idle_seconds: args.idle_seconds,
        idle_cpu_percent: idle,
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
        "  peak RSS, {} MB photos {:6.1} MB  (target < 40 MB)",
        r.photo_mb, r.peak_rss_mb
    );
    match r.idle_cpu_percent {
        Some(cpu) => println!(
            "  idle daemon CPU      {cpu:7.3} % of a core over {} s (target < 0.5 %)",
            r.idle_seconds
        ),
        None => println!("  idle daemon CPU      skipped"),
    }
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
    };
    s.tilt.backend = TiltBackend::None;
    s.camera.sim = settings::SimCamera {
        width: 640,
        height: 480,
        file_size_kb: 0,
        expose_ms: EXPOSE.as_millis() as u64,
        download_ms: DOWNLOAD.as_millis() as u64,
        fail_every_nth_expose: 0,
        fail_every_nth_download: 0,
        unplug_after_shots: 0,
        unplug_ms: 0,
    };
    s.upload.workers = WORKERS;
    s.upload.queue = 16;
    s
}

fn ring(n: u32, name: &str, settle: Duration) -> ScanPlan {
    let stations: Vec<Station> = (0..n)
        .map(|i| Station {
            ring: 1,
            index: i + 1,
            azimuth: Degrees(f64::from(i) * 360.0 / f64::from(n)),
            tilt: Degrees(0.0),
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
    let mut rig = rig::build(&s, None, &slog::Logger::root(slog::Discard, slog::o!()))?;
    let remote = SimRemote::new(LocalDir::new(dir.join("dest")), UPLOAD, 0);
    rig.destinations = Destinations::only(Arc::new(remote));
    rig.sequence.pipelined = pipelined;
    let report = runner::run(
        rig,
        Start::New(ring(n, name, SETTLE)),
        false,
        logger(LogLevel::Warn),
    )?;
    let s = &report.summary;
    if !report.success() || s.uploaded != n as usize {
        bail!("the {name} bench scan did not complete: {s:?}");
    }
    Ok(s.wall)
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

/// Peak resident memory of a whole `scanrig scan` of large photos.
fn peak_rss_mb(tmp: &Path, photo_mb: u64, shots: u32) -> anyhow::Result<f64> {
    let (config, profile) = child_files(tmp, "memory", photo_mb * 1024, shots)?;
    let child = Command::new(std::env::current_exe()?)
        .args(["--config", &config, "scan", "--profile", &profile, "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start scanrig for the memory run")?;
    let (status, usage) = wait4(child.id() as libc::pid_t)?;
    if status != 0 {
        bail!("the memory run failed (wait status {status})");
    }
    // ru_maxrss is in KiB on Linux.
    Ok(usage.ru_maxrss as f64 / 1024.0)
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

/// CPU used by an idle `scanrig daemon`, percent of one core.
fn idle_cpu_percent(tmp: &Path, seconds: u64) -> anyhow::Result<f64> {
    let (config, _) = child_files(tmp, "idle", 0, 1)?;
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
    let start = (cpu_ticks(pid)?, Instant::now());
    std::thread::sleep(Duration::from_secs(seconds));
    let ticks = cpu_ticks(pid)? - start.0;
    let elapsed = start.1.elapsed().as_secs_f64();
    // SAFETY: kill and sysconf have no memory-safety preconditions.
    let hz = unsafe {
        libc::kill(pid, libc::SIGTERM);
        libc::sysconf(libc::_SC_CLK_TCK)
    } as f64;
    let (status, _) = wait4(pid)?;
    if status != 0 {
        bail!("the idle daemon did not stop cleanly (wait status {status})");
    }
    Ok(ticks as f64 / hz / elapsed * 100.0)
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: libc::pid_t) -> anyhow::Result<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}
