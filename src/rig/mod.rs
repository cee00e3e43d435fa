//! Wiring: builds the supervisor's [`Rig`] from the settings, choosing a
//! backend (simulated or real) for every device. [`gpio`] wires the
//! Raspberry Pi's pins (feature `rppal`).

#[cfg(feature = "rppal")]
mod gpio;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scanrig_actors::destination::{Destination, Destinations, LocalDir, Opener};
use scanrig_actors::health::{HealthReader, PiHealth};
use scanrig_actors::lights::LightsRig;
use scanrig_actors::model::{Place, Turn};
use scanrig_actors::restart::Backoff;
use scanrig_actors::sequence::SequenceConfig;
use scanrig_actors::supervisor::{Rig, RigCamera};
use scanrig_hardware::axis::stepper::SystemClock;
use scanrig_hardware::axis::{
    Axes, AxesConnector, Axis, AxisError, Shake, SimAxis, SimAxisConfig, Sway, Travel,
};
#[cfg(any(not(feature = "gphoto2"), not(feature = "rppal")))]
use scanrig_hardware::camera::CameraError;
use scanrig_hardware::camera::{
    wired, CameraConnector, SimCamera, SimCameraConfig, SimCard, Slip, Stage,
};
use scanrig_hardware::light::{Light, Lighting};
use scanrig_hardware::panel::{Buttons, Indicator, SimButtons, SimIndicator};

use slog::Logger;

use crate::drive::{DriveDestination, DriveOptions};
use crate::s3::{S3Destination, S3Options};
use crate::settings::{
    self, ButtonsBackend, CameraBackend, DestinationKind, LightsBackend, PauseLights, Settings,
    TiltBackend, TurntableBackend, S3 as S3Settings,
};
use crate::sftp::SftpDestination;
use crate::webdav::{WebdavDestination, WebdavOptions};

/// What the simulated cameras see of the simulated rig: its sway after
/// each stop, and its lights.
#[derive(Debug, Clone, Default)]
pub struct Room {
    /// The simulated axes' sway.
    pub shake: Shake,
    /// The simulated lights.
    pub lighting: Lighting,
}

/// Builds the rig. `dest` overrides the configured destination folder.
pub fn build(settings: &Settings, dest: Option<PathBuf>, log: &Logger) -> anyhow::Result<Rig> {
    let (buttons, indicator) = panel(settings)?;
    // The simulated cameras see the simulated axes' sway and lights.
    let room = Room::default();
    Ok(Rig {
        axes: axes(settings, &room.shake)?,
        cameras: cameras(settings, &room),
        cameras_together: true,
        camera_timeout: Duration::from_secs(settings.camera.timeout_s),
        manual_tilt: settings.tilt.backend == TiltBackend::None,
        // A camera fired by a wire sends no frame back to check by.
        moved: settings
            .moved
            .limit()
            .filter(|_| !settings::wired(settings)),
        destinations: destinations(settings, dest, log)?,
        priors: settings.priors(),
        hooks: settings.hooks.kinds(),
        upload_workers: settings.upload.workers as usize,
        buttons,
        indicator,
        spool: settings.spool_dir(),
        keep_uploaded: settings.spool.keep_uploaded,
        retention: settings.retention(),
        commit_delay: Duration::from_millis(settings.spool.commit_delay_ms),
        min_free: settings.spool.min_free_mb.saturating_mul(1_000_000),
        sequence: sequence(settings),
        backlog_backoff: Backoff {
            initial: Duration::from_secs(settings.upload.backlog_wait_s),
            max: Duration::from_secs(settings.upload.backlog_wait_max_s),
        },
        merge: settings.merge.config(),
        judge: settings.quality.config(settings.settle_store()),
        lights: lights(settings, &room.lighting)?,
        health: health(settings),
    })
}

/// Opens one axis (again, after a failure).
pub type AxisOpener = Box<dyn Fn() -> Result<Box<dyn Axis>, AxisError> + Send + Sync>;

/// Opens the configured axes (each call of the connector reopens them);
/// the simulated ones note their stops in `shake`.
pub fn axes(settings: &Settings, shake: &Shake) -> anyhow::Result<AxesConnector> {
    let limits = settings.limits();
    let azimuth: AxisOpener = match settings.turntable.backend {
        TurntableBackend::Sim => sim_opener(
            sim_axis("turntable", &settings.turntable.sim, limits.turntable),
            shake,
            &settings.turntable.sim,
        ),
        TurntableBackend::Stepper => {
            stepper_opener("turntable", &settings.turntable.stepper, limits.turntable)?
        }
    };
    let tilt: Option<AxisOpener> = match settings.tilt.backend {
        TiltBackend::None => None,
        TiltBackend::Sim => Some(sim_opener(
            sim_axis("tilt", &settings.tilt.sim, limits.tilt),
            shake,
            &settings.tilt.sim,
        )),
        TiltBackend::Stepper => Some(stepper_opener("tilt", &settings.tilt.stepper, limits.tilt)?),
    };
    let order = settings.tilt.moves.order();
    Ok(Arc::new(move || {
        Ok(Axes {
            azimuth: azimuth()?,
            tilt: tilt.as_ref().map(|open| open()).transpose()?,
            order,
        })
    }))
}

/// A simulated axis making the rig sway after each stop, as its settings
/// `s` say.
fn sim_opener(config: SimAxisConfig, shake: &Shake, s: &settings::SimAxis) -> AxisOpener {
    let sway = Sway {
        mm: s.shake_mm,
        settle: Duration::from_millis(s.shake_ms),
    };
    let motor = SimAxis::new(config).shaking(shake, sway);
    Box::new(move || Ok(Box::new(motor.session()) as Box<dyn Axis>))
}

#[cfg(feature = "rppal")]
fn stepper_opener(
    name: &'static str,
    stepper: &settings::Stepper,
    travel: Travel,
) -> anyhow::Result<AxisOpener> {
    gpio::stepper_opener(name, stepper, travel)
}

#[cfg(not(feature = "rppal"))]
fn stepper_opener(_: &'static str, _: &settings::Stepper, _: Travel) -> anyhow::Result<AxisOpener> {
    anyhow::bail!("this build of scanrig has no GPIO support; build with `--features pi`")
}

/// The Pi's health reader, how often it reads, and what it reads now
/// (for the warning before a scan that starts at once).
fn health(settings: &Settings) -> (HealthReader, Duration, PiHealth) {
    let reader = HealthReader {
        root: settings.health.root.clone(),
        spool: settings.spool_dir(),
    };
    let (now, _) = reader.read();
    (reader, Duration::from_secs(settings.health.every_s), now)
}

/// Opens the configured lights, switched off; simulated ones light `lighting`.
pub fn lights(settings: &Settings, lighting: &Lighting) -> anyhow::Result<LightsRig> {
    let mut lights = Vec::new();
    for entry in &settings.lights {
        let spec = entry.spec();
        lights.push(match settings.lighting.backend {
            LightsBackend::Sim => {
                let output = lighting.output(&spec.name, spec.active_low);
                Light::new(spec, Box::new(output))?
            }
            #[cfg(feature = "rppal")]
            LightsBackend::Gpio => scanrig_hardware::light::open(spec)?,
            #[cfg(not(feature = "rppal"))]
            LightsBackend::Gpio => {
                anyhow::bail!(
                    "this build of scanrig has no GPIO support; build with `--features pi`"
                )
            }
        });
    }
    Ok(LightsRig {
        lights,
        pause_off: settings.lighting.pause == PauseLights::Off,
        idle_timeout: settings.lighting.idle_timeout(),
        idle_in_pause: settings.lighting.idle_in_pause,
    })
}

/// Opens the configured buttons and status light.
pub fn panel(settings: &Settings) -> anyhow::Result<(Box<dyn Buttons>, Box<dyn Indicator>)> {
    match settings.buttons.backend {
        ButtonsBackend::Sim => Ok((Box::new(SimButtons::new()), Box::new(SimIndicator::new()))),
        #[cfg(feature = "rppal")]
        ButtonsBackend::Gpio => gpio::panel(settings),
        #[cfg(not(feature = "rppal"))]
        ButtonsBackend::Gpio => {
            anyhow::bail!("this build of scanrig has no GPIO support; build with `--features pi`")
        }
    }
}

/// Opens the configured camera (`[camera]`, or the first of a column); a
/// simulated one sees the rig sway and its lights as `room` says.
pub fn camera(settings: &Settings, room: &Room) -> CameraConnector {
    match settings.cameras.first() {
        Some(c) => column_camera(settings, c, room),
        None => {
            let g = &settings.camera.gphoto2;
            connector(settings, settings.camera.backend, &g.model, &g.port, room)
        }
    }
}

/// The rig's cameras: the column of `[[cameras]]`, or the one of `[camera]`.
pub fn cameras(settings: &Settings, room: &Room) -> Vec<RigCamera> {
    if settings.cameras.is_empty() {
        return vec![RigCamera {
            name: None,
            connector: camera(settings, room),
            settings: BTreeMap::new(),
        }];
    }
    settings
        .column()
        .map(|(name, c)| RigCamera {
            name: Some(name),
            connector: column_camera(settings, c, room),
            settings: c.settings.clone(),
        })
        .collect()
}

/// Opens one camera of a column: what it does not say comes from `[camera]`.
fn column_camera(settings: &Settings, c: &settings::ColumnCamera, room: &Room) -> CameraConnector {
    let g = &settings.camera.gphoto2;
    let model = if c.model.is_empty() {
        &g.model
    } else {
        &c.model
    };
    let port = if c.port.is_empty() { &g.port } else { &c.port };
    let backend = c.backend.unwrap_or(settings.camera.backend);
    // A simulated one sees from its own place on the column.
    let mut sim = sim_camera(settings, room);
    sim.stage.height_m = c.height_m.unwrap_or(sim.stage.height_m);
    sim.stage.tilt_deg = c.tilt;
    if backend == CameraBackend::Trigger {
        return wired_connector(&c.trigger, sim);
    }
    if backend == CameraBackend::Sim {
        let f = &c.sim;
        sim.fail_every_nth_expose = f.fail_every_nth_expose.unwrap_or(sim.fail_every_nth_expose);
        sim.fail_every_nth_download = f
            .fail_every_nth_download
            .unwrap_or(sim.fail_every_nth_download);
        sim.unplug_after_exposures = f.unplug_after_shots.unwrap_or(sim.unplug_after_exposures);
        sim.unplug_for = f.unplug_ms.map_or(sim.unplug_for, Duration::from_millis);
        sim.download_latency = f
            .download_ms
            .map_or(sim.download_latency, Duration::from_millis);
        return SimCamera::new(sim).connector();
    }
    connector(settings, backend, model, port, room)
}

/// Opens a camera of `backend`, the model and port chosen (gphoto2), a
/// simulated one seeing the rig as `room` says.
fn connector(
    settings: &Settings,
    backend: CameraBackend,
    model: &str,
    port: &str,
    room: &Room,
) -> CameraConnector {
    match backend {
        CameraBackend::Sim => SimCamera::new(sim_camera(settings, room)).connector(),
        CameraBackend::Trigger => {
            wired_connector(&settings.camera.trigger, sim_camera(settings, room))
        }
        #[cfg(feature = "gphoto2")]
        CameraBackend::Gphoto2 => {
            let g = &settings.camera.gphoto2;
            scanrig_hardware::camera::gphoto::connector(
                scanrig_hardware::camera::gphoto::GphotoConfig {
                    model: model.to_owned(),
                    port: port.to_owned(),
                    delete_after_download: g.delete_after_download,
                    pair_wait: Duration::from_millis(g.pair_wait_ms),
                },
            )
        }
        // Refused by `Settings::load` in a build without the driver.
        #[cfg(not(feature = "gphoto2"))]
        CameraBackend::Gphoto2 => {
            let _ = (model, port);
            Arc::new(|| {
                Err(CameraError::NotConnected {
                    detail: "this build of scanrig has no gphoto2 driver".into(),
                })
            })
        }
    }
}

/// A camera fired by a wire, its lines `t`: simulated, writing to its
/// card the photos `sim` would take, or on the Pi's pins
/// (`Settings::load` refuses it in a build without them).
fn wired_connector(t: &settings::WiredCamera, sim: SimCameraConfig) -> CameraConnector {
    if let Some(dir) = &t.sim_card {
        let offset_ms = t.sim_clock_offset_s.saturating_mul(1000);
        let card = SimCard::new(dir, offset_ms, (sim.width, sim.height), sim.stage);
        let line = || wired::SimLine::new(SystemClock);
        let focus = t.focus_pin.map(|_| line());
        return wired::sim_connector(t.timing(), line(), focus, card);
    }
    #[cfg(feature = "rppal")]
    {
        let shutter = t.shutter_pin.unwrap_or_default();
        wired::gpio_connector(t.timing(), shutter, t.focus_pin)
    }
    #[cfg(not(feature = "rppal"))]
    Arc::new(|| {
        Err(CameraError::NotConnected {
            detail: "this build of scanrig has no GPIO".into(),
        })
    })
}

/// The configured destination, or a local folder given on the command line.
pub fn destination(
    settings: &Settings,
    dest: Option<PathBuf>,
    log: &Logger,
) -> anyhow::Result<Arc<dyn Destination>> {
    match dest {
        Some(dir) => Ok(Arc::new(LocalDir::new(dir))),
        None => configured_destination(settings, &settings.destination, log),
    }
}

/// Where new scans go: every destination configured, each by its name
/// (or a local folder given on the command line); and the places
/// journaled scans name.
pub fn destinations(
    settings: &Settings,
    dest: Option<PathBuf>,
    log: &Logger,
) -> anyhow::Result<Destinations> {
    let places = opener(settings, log);
    if dest.is_some() || settings.destinations.is_empty() {
        return Ok(Destinations::new(destination(settings, dest, log)?, places));
    }
    let named = settings
        .destinations
        .iter()
        .map(|d| Ok((d.name.clone(), configured_destination(settings, d, log)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Destinations::several(named, places)
        .ok_or_else(|| anyhow::anyhow!("[[destinations]] lists no destination"))
}

/// The destination `d` (`[destination]` or one of `[[destinations]]`)
/// configures.
pub fn configured_destination(
    settings: &Settings,
    d: &settings::Destination,
    log: &Logger,
) -> anyhow::Result<Arc<dyn Destination>> {
    Ok(match d.kind {
        DestinationKind::Local => Arc::new(LocalDir::new(d.local.dir.clone())),
        DestinationKind::Drive => {
            let mut s = settings.clone();
            s.destination.drive = d.drive.clone();
            Arc::new(drive_destination(&s, log)?)
        }
        DestinationKind::S3 => Arc::new(s3_destination(&d.s3)?),
        DestinationKind::Webdav => Arc::new(webdav_destination(&d.webdav)?),
        DestinationKind::Sftp => Arc::new(SftpDestination::new(&d.sftp)),
    })
}

/// The configured destination whose account and settings open `place`:
/// with `[[destinations]]`, one of the same kind (the one at that very
/// place if there is one), `None` if none is; else `[destination]`.
fn configured_for<'a>(settings: &'a Settings, place: &Place) -> Option<&'a settings::Destination> {
    if settings.destinations.is_empty() {
        return Some(&settings.destination);
    }
    let same = |d: &settings::Destination| match place {
        Place::Local { dir } => d.kind == DestinationKind::Local && d.local.dir == *dir,
        Place::Drive { .. } => d.kind == DestinationKind::Drive,
        Place::S3 {
            endpoint, bucket, ..
        } => d.kind == DestinationKind::S3 && d.s3.endpoint == *endpoint && d.s3.bucket == *bucket,
        Place::Webdav { url } => d.kind == DestinationKind::Webdav && d.webdav.url == *url,
        Place::Sftp { host, port, .. } => {
            d.kind == DestinationKind::Sftp && d.sftp.host == *host && d.sftp.port == *port
        }
    };
    let kind = match place {
        Place::Local { .. } => DestinationKind::Local,
        Place::Drive { .. } => DestinationKind::Drive,
        Place::S3 { .. } => DestinationKind::S3,
        Place::Webdav { .. } => DestinationKind::Webdav,
        Place::Sftp { .. } => DestinationKind::Sftp,
    };
    let list = &settings.destinations;
    list.iter()
        .find(|d| same(d))
        .or_else(|| list.iter().find(|d| d.kind == kind))
}

/// Opens the place a journaled scan names: a folder as it is, a Google
/// Drive folder, an S3, WebDAV or SFTP folder with the account and
/// settings of the configured destination of its kind; refused, saying
/// so, when no destination of its kind is configured any more.
pub fn opener(settings: &Settings, log: &Logger) -> Opener {
    let (settings, log) = (settings.clone(), log.clone());
    Arc::new(move |place: &Place| {
        let configured = || {
            configured_for(&settings, place).ok_or_else(|| format!(
                "the scan was started with {place}, which is no longer configured: add a destination of its kind to [[destinations]] (its account and settings are needed) to send the photos waiting for it"
            ))
        };
        let opened = match place {
            Place::Local { dir } => {
                Ok(Arc::new(LocalDir::new(dir.clone())) as Arc<dyn Destination>)
            }
            Place::Drive { folder_id, folder } => {
                let d = configured()?;
                let mut s = settings.clone();
                s.destination.drive = d.drive.clone();
                let drive = &mut s.destination.drive;
                drive.folder_id = folder_id.clone().unwrap_or_default();
                drive.folder = folder.clone().unwrap_or_default();
                drive_destination(&s, &log).map(|d| Arc::new(d) as Arc<dyn Destination>)
            }
            Place::S3 {
                endpoint,
                bucket,
                prefix,
            } => {
                let d = configured()?;
                let s3 = S3Settings {
                    endpoint: endpoint.clone(),
                    bucket: bucket.clone(),
                    prefix: prefix.clone(),
                    ..d.s3.clone()
                };
                s3_destination(&s3).map(|d| Arc::new(d) as Arc<dyn Destination>)
            }
            Place::Webdav { url } => {
                let mut w = configured()?.webdav.clone();
                w.url = url.clone();
                webdav_destination(&w).map(|d| Arc::new(d) as Arc<dyn Destination>)
            }
            Place::Sftp {
                host,
                port,
                user,
                dir,
            } => {
                let mut s = configured()?.sftp.clone();
                (s.host, s.port, s.user, s.dir) = (host.clone(), *port, user.clone(), dir.clone());
                Ok(Arc::new(SftpDestination::new(&s)) as Arc<dyn Destination>)
            }
        };
        opened.map_err(|e| format!("{e:#}"))
    })
}

/// The S3 bucket of `[destination.s3]` (or of a journaled scan's place),
/// with the configured access key.
pub fn s3_destination(s3: &S3Settings) -> anyhow::Result<S3Destination> {
    let credentials = s3
        .credentials()
        .map_err(|e| anyhow::anyhow!("destination.s3: {e}"))?;
    S3Destination::new(S3Options {
        settings: s3.clone(),
        credentials,
    })
}

/// The WebDAV destination of `[destination.webdav]`.
pub fn webdav_destination(w: &settings::Webdav) -> anyhow::Result<WebdavDestination> {
    WebdavDestination::new(WebdavOptions::new(w)?)
}

/// The Google Drive destination of the settings.
pub fn drive_destination(settings: &Settings, log: &Logger) -> anyhow::Result<DriveDestination> {
    let opts = DriveOptions::new(
        &settings.destination.drive,
        settings.drive_token_file(),
        settings.spool_dir(),
    );
    DriveDestination::new(opts, log.new(slog::o!("destination" => "drive")))
}

/// The sequence's tunables.
pub fn sequence(settings: &Settings) -> SequenceConfig {
    let (u, s) = (&settings.upload, &settings.supervision);
    SequenceConfig {
        upload_backlog: u.queue as usize,
        max_restarts: s.max_restarts,
        restart_window: Duration::from_secs(s.window_s),
        device_backoff: Backoff {
            initial: Duration::from_millis(s.backoff_initial_ms),
            max: Duration::from_millis(s.backoff_max_ms),
        },
        upload_attempts: u.max_attempts,
        upload_backoff: Backoff {
            initial: Duration::from_millis(u.retry_initial_ms),
            max: Duration::from_millis(u.retry_max_ms),
        },
        download_attempts: 3,
        pipelined: true,
        quality: settings.quality.on_problem(),
        retakes: settings.quality.retakes,
    }
}

fn sim_axis(name: &'static str, s: &settings::SimAxis, travel: Travel) -> SimAxisConfig {
    SimAxisConfig {
        name,
        travel,
        limits: s.limits(),
        home_duration: Duration::from_millis(s.home_ms),
        fail_every_nth_move: 0,
    }
}

/// The simulated camera, standing where `[geometry]` puts it: its photos
/// show what a camera there would see, swaying and lit as `room` says.
fn sim_camera(settings: &Settings, room: &Room) -> SimCameraConfig {
    let (s, g) = (&settings.camera.sim, &settings.geometry);
    SimCameraConfig {
        width: s.width,
        height: s.height,
        file_size: s.file_size_kb * 1024,
        expose_latency: Duration::from_millis(s.expose_ms),
        download_latency: Duration::from_millis(s.download_ms),
        fail_every_nth_expose: s.fail_every_nth_expose,
        fail_every_nth_download: s.fail_every_nth_download,
        unplug_after_exposures: s.unplug_after_shots,
        unplug_for: Duration::from_millis(s.unplug_ms),
        stage: Stage {
            distance_m: g.distance_m,
            height_m: g.height_m,
            arm_out_m: g.arm_out_m,
            arm_up_m: g.arm_up_m,
            clockwise: g.table_turns == Turn::Clockwise,
            focal_mm: g.focal_mm,
            sensor_width_mm: g.sensor_width_mm,
            sensor_height_mm: g.sensor_height_mm,
            tilt_deg: 0.0,
        },
        depth_of_field: s.depth_of_field,
        shake: room.shake.clone(),
        lighting: room.lighting.clone(),
        slip: Slip {
            after_shots: s.slip_after_shots,
            mm: s.slip_mm,
            deg: s.slip_deg,
        },
    }
}
