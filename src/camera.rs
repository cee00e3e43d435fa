//! `scanrig camera`: find the camera, read its settings, take a test shot —
//! the checks a photographer makes before the first scan.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Subcommand;
use scanrig_actors::clock::{compact_utc, unix_now};
use scanrig_hardware::camera::{CameraInfo, CaptureRequest, Setting};
use scanrig_hardware::Degrees;

use crate::rig::{self, Room};
use crate::settings::{CameraBackend, Settings};

/// What to do with the camera.
#[derive(Debug, Subcommand)]
pub enum CameraCommand {
    /// List the cameras that are connected, with their ports.
    List,
    /// Show the camera's settings with current values and choices.
    Config {
        /// Only this setting (e.g. iso, f-number, shutterspeed).
        key: Option<String>,
    },
    /// Take one test shot and download it.
    Capture {
        /// Folder for the photo.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dest: PathBuf,
    },
}

/// Runs a camera command.
pub fn run(settings: &Settings, command: CameraCommand) -> anyhow::Result<()> {
    match command {
        CameraCommand::List => list(settings),
        CameraCommand::Config { key } => config(settings, key.as_deref()),
        CameraCommand::Capture { dest } => capture(settings, dest),
    }
}

fn list(settings: &Settings) -> anyhow::Result<()> {
    let mut cameras = detect(settings)?;
    // A camera the configuration names exactly, on a port detection does
    // not probe, is listed when it answers.
    let g = &settings.camera.gphoto2;
    let named = settings.camera.backend == CameraBackend::Gphoto2
        && !g.model.is_empty()
        && !g.port.is_empty();
    if named && !cameras.iter().any(|c| c.port == g.port) {
        if let Ok(camera) = rig::camera(settings, &Room::default())() {
            cameras.push(camera.info());
        }
    }
    if cameras.is_empty() && settings.cameras.is_empty() {
        bail!("no camera detected; check that it is connected by USB, switched on, in PTP (not mass-storage) mode, and not mounted by the desktop");
    }
    println!("{:<32} port", "model");
    for c in cameras {
        println!("{:<32} {}", c.model, c.port);
    }
    if settings.cameras.is_empty() {
        return Ok(());
    }
    // A column: each configured camera, opened as a scan would open it.
    println!(
        "\n{:<16} {:<10} model / port, or why not",
        "column camera", "connected"
    );
    let mut missing = 0;
    for camera in rig::cameras(settings, &Room::default()) {
        let name = camera
            .name
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        match (camera.connector)() {
            Ok(c) => {
                let info = c.info();
                println!("{:<16} {:<10} {} / {}", name, "yes", info.model, info.port);
            }
            Err(e) => {
                missing += 1;
                println!("{:<16} {:<10} {e}", name, "no");
            }
        }
    }
    if missing > 0 {
        bail!(
            "{missing} of the column's {} cameras are not connected",
            settings.cameras.len()
        );
    }
    Ok(())
}

fn detect(settings: &Settings) -> anyhow::Result<Vec<CameraInfo>> {
    Ok(match settings.camera.backend {
        CameraBackend::Sim | CameraBackend::Trigger => {
            vec![rig::camera(settings, &Room::default())()?.info()]
        }
        #[cfg(feature = "gphoto2")]
        CameraBackend::Gphoto2 => scanrig_hardware::camera::gphoto::detect()?,
        #[cfg(not(feature = "gphoto2"))]
        CameraBackend::Gphoto2 => bail!("this build of scanrig has no gphoto2 driver"),
    })
}

fn config(settings: &Settings, key: Option<&str>) -> anyhow::Result<()> {
    let mut camera = rig::camera(settings, &Room::default())().context("cannot open the camera")?;
    let all = camera
        .settings()
        .context("cannot read the camera's settings")?;
    let shown: Vec<&Setting> = all
        .iter()
        .filter(|s| key.is_none_or(|k| s.name == k))
        .collect();
    if let (Some(key), true) = (key, shown.is_empty()) {
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "the camera has no setting '{key}'; it has: {}",
            names.join(", ")
        );
    }
    for s in shown {
        let ro = if s.read_only { ", read-only" } else { "" };
        println!("{} ({}{ro}): {}", s.name, s.label, s.value);
        if !s.choices.is_empty() {
            println!("  {}: {}", s.kind, s.choices.join(" | "));
        }
    }
    Ok(())
}

fn capture(settings: &Settings, dest: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut camera = rig::camera(settings, &Room::default())().context("cannot open the camera")?;
    let info = camera.info();
    let stem = format!("test-{}", compact_utc(unix_now()));
    let request = CaptureRequest {
        stem: stem.clone(),
        label: format!("test shot {stem}"),
        azimuth: Degrees(0.0),
        tilt: Degrees(0.0),
    };
    let started = Instant::now();
    let exposure = camera.expose(&request).context("the capture failed")?;
    let exposed = started.elapsed();
    if exposure.left_on_card.is_some() {
        println!(
            "{} on {}: fired in {:.0} ms; the photo is on the camera's card",
            info.model,
            info.port,
            exposed.as_secs_f64() * 1e3
        );
        return Ok(());
    }
    let files = camera
        .download(&exposure, &dest)
        .context("the download failed")?;
    let downloaded = started.elapsed() - exposed;
    println!(
        "{} on {}: exposed in {:.0} ms, downloaded in {:.0} ms",
        info.model,
        info.port,
        exposed.as_secs_f64() * 1e3,
        downloaded.as_secs_f64() * 1e3
    );
    for f in files {
        println!(
            "{}  {} bytes  sha256 {}",
            f.path.display(),
            f.size,
            f.sha256
        );
    }
    Ok(())
}
