//! The rig's settings: the shipped defaults, overridden by the system (or
//! `--config`) file, overridden by `SCANRIG_<SECTION>__<KEY>` environment
//! variables; checked as a whole, every problem reported together.

use std::path::{Path, PathBuf};

use scanrig_actors::hooks::HookKind;
use scanrig_actors::model::{CameraName, ColumnPlace, Format, Geometry, Priors};
use scanrig_hardware::axis::{MotionLimits, MoveOrder, TableWay, Travel};
use scanrig_hardware::Degrees;
use serde::{Deserialize, Serialize};

use crate::config_error::ConfigErrors;
use crate::profile::order::RigMotion;

mod destinations;
mod drive;
mod gpio;
mod health;
mod lights;
mod load;
mod merge;
mod moved;
mod mqtt;
mod quality;
mod s3;
mod sftp;
mod webdav;
mod wired;

pub use destinations::{configured, destinations_problems};
pub use drive::{drive_problems, Drive, DriveAuth};
pub use gpio::{
    pin_problems, pins_in_use, stepper_rate_limit, GpioPanel, StepDriver, Stepper, MAX_GPIO,
    MAX_STEP_RATE,
};
pub use health::HealthSettings;
pub use lights::{
    lights_problems, valid_light_name, LightEntry, Lighting, LightsBackend, PauseLights,
};
pub use merge::{merge_problems, Merge};
pub use moved::{moved_problems, Moved};
pub use mqtt::{mqtt_problems, valid_rig_name, BrokerAddr, Mqtt};
pub use quality::{quality_problems, Acting, MaxEdge, Quality};
pub use s3::{s3_problems, S3Credentials, S3};
pub use sftp::{sftp_problems, Sftp};
pub use webdav::{webdav_problems, Webdav};
pub use wired::{wired, wired_cameras, wired_problems, WiredCamera};
#[cfg(test)]
mod tests;

/// Most cameras a column takes.
pub const MAX_CAMERAS: usize = 8;

/// The shipped defaults, a fully simulated rig; every key, commented.
pub const DEFAULTS_TOML: &str = include_str!("../config/default.toml");
/// The system-wide settings file, read when it exists and no `--config` is given.
pub const SYSTEM_FILE: &str = "/etc/scanrig/config.toml";

/// Where [`Settings::load`] looks.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The `--config FILE` given; it must exist. Replaces `system_file`.
    pub config_file: Option<PathBuf>,
    /// Read when it exists and `config_file` is `None`; default [`SYSTEM_FILE`].
    pub system_file: PathBuf,
    /// The environment: `SCANRIG_*` overrides, and `STATE_DIRECTORY`,
    /// `XDG_STATE_HOME`, `HOME` for the default spool folder. Default: this
    /// process's environment.
    pub env: Vec<(String, String)>,
    /// The names of the environment's variables whose value is not valid
    /// UTF-8 (a `SCANRIG_*` one among them is refused).
    pub not_utf8: Vec<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        let mut env = Vec::new();
        let mut not_utf8 = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Ok(name) = name.into_string() else {
                continue;
            };
            match value.into_string() {
                Ok(value) => env.push((name, value)),
                Err(_) => not_utf8.push(name),
            }
        }
        LoadOptions {
            config_file: None,
            system_file: PathBuf::from(SYSTEM_FILE),
            env,
            not_utf8,
        }
    }
}

/// The whole rig configuration. Field defaults equal `config/default.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where photos wait for upload.
    pub spool: Spool,
    /// Where photos are uploaded to.
    pub destination: Destination,
    /// `[[destinations]]`: several destinations, each named, every photo
    /// going to each; when set, `[destination]` is not used.
    pub destinations: Vec<Destination>,
    /// The upload workers.
    pub upload: Upload,
    /// Restarting failed devices and workers.
    pub supervision: Supervision,
    /// The turntable axis.
    pub turntable: Turntable,
    /// The optional tilt arm.
    pub tilt: Tilt,
    /// The camera (and what every camera of a column shares).
    pub camera: Camera,
    /// `[[cameras]]`: a column of cameras fired together at every stop;
    /// empty: the one camera of `[camera]`.
    pub cameras: Vec<ColumnCamera>,
    /// The start / pause / stop buttons.
    pub buttons: Buttons,
    /// The long-running daemon.
    pub daemon: Daemon,
    /// The daemon's web page and REST API.
    pub web: Web,
    /// Where scan profiles are found.
    pub profiles: Profiles,
    /// Logging.
    pub log: Log,
    /// `[geometry]`: where the camera stands and its lens, for each photo's
    /// camera pose (how to measure it: deploy/HARDWARE.md).
    pub geometry: Geometry,
    /// `[export]`: the pose priors written beside every scan's manifest.
    pub export: Export,
    /// `[hooks]`: what is told when a scan is done.
    pub hooks: Hooks,
    /// `[mqtt]`: a studio's MQTT broker.
    pub mqtt: Mqtt,
    /// `[merge]`: merging bracketed sets on the rig.
    pub merge: Merge,
    /// `[quality]`: every photo judged as it lands, and what a problem does.
    pub quality: Quality,
    /// `[moved]`: the check after each ring that the object has not moved.
    pub moved: Moved,
    /// `[lighting]`: what the lights do between scans and in a pause.
    pub lighting: Lighting,
    /// `[[lights]]`: the rig's lights.
    pub lights: Vec<LightEntry>,
    /// `[health]`: reading the Pi's own health.
    pub health: HealthSettings,
    /// The spool folder used when `spool.dir` is unset, resolved at load.
    #[serde(skip)]
    fallback_spool: Option<PathBuf>,
    /// The layers that were read, highest priority last.
    #[serde(skip)]
    sources: Vec<String>,
    /// Which layer set which key, to name it in problems found later.
    #[serde(skip)]
    layers: load::Layers,
}

/// `[spool]`: the folder where photos wait until they are uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spool {
    /// The folder; unset means the systemd / XDG state folder (see [`Settings::spool_dir`]).
    pub dir: Option<PathBuf>,
    /// Keep photos after a successful upload instead of deleting them.
    pub keep_uploaded: bool,
    /// Pause the scan when the spool's disk has less free than this, in MB.
    pub min_free_mb: u64,
    /// Finished scans whose photos are all sent are remembered (in the
    /// scans index, for `scanrig scans` and the web page): at most this many...
    pub history_scans: usize,
    /// ...for at most this many days.
    pub history_days: u64,
    /// An upload or fault record of the journal waits up to this many
    /// milliseconds for others to be committed with it (one fdatasync for
    /// all); a capture record never waits.
    pub commit_delay_ms: u64,
}

impl Default for Spool {
    fn default() -> Self {
        Spool {
            dir: None,
            keep_uploaded: false,
            min_free_mb: 500,
            history_scans: 1000,
            history_days: 365,
            commit_delay_ms: 3,
        }
    }
}

/// Where photos are uploaded to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// A folder on this machine, `[destination.local]`.
    #[default]
    Local,
    /// Google Drive, `[destination.drive]`.
    Drive,
    /// An S3-compatible bucket, `[destination.s3]`.
    S3,
    /// A WebDAV server (Nextcloud, a NAS), `[destination.webdav]`.
    Webdav,
    /// An SFTP server, `[destination.sftp]`.
    Sftp,
}

/// `[destination]`: where every photo ends up, chosen by `kind`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Destination {
    /// Its name, in `[[destinations]]` (unused in `[destination]`).
    pub name: String,
    /// Which destination.
    pub kind: DestinationKind,
    /// The local folder's settings.
    pub local: LocalDestination,
    /// Google Drive's settings.
    pub drive: Drive,
    /// An S3-compatible bucket's settings.
    pub s3: S3,
    /// The WebDAV server's settings.
    pub webdav: Webdav,
    /// The SFTP server's settings.
    pub sftp: Sftp,
}

/// `[destination.local]`: a folder on this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalDestination {
    /// The folder, relative to the working directory unless absolute.
    pub dir: PathBuf,
}

impl Default for LocalDestination {
    fn default() -> Self {
        LocalDestination {
            dir: PathBuf::from("photos"),
        }
    }
}

/// `[upload]`: the upload workers and their retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Upload {
    /// Photos uploaded at the same time, 1..=16.
    pub workers: u32,
    /// Photos captured but not yet uploaded before capture waits, 1..=1000.
    pub queue: u32,
    /// Tries per photo, 1..=100.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds.
    pub retry_initial_ms: u64,
    /// Longest wait between retries, in milliseconds (>= `retry_initial_ms`).
    pub retry_max_ms: u64,
    /// The idle daemon sends photos still waiting this often, in seconds;
    /// 0 never.
    pub retry_every_s: u64,
    /// A photo that a run gave up on is not tried by the next passes for
    /// this long, in seconds; doubled with each run that gives up on it...
    pub backlog_wait_s: u64,
    /// ...up to this many seconds.
    pub backlog_wait_max_s: u64,
}

impl Default for Upload {
    fn default() -> Self {
        Upload {
            workers: 4,
            queue: 16,
            max_attempts: 5,
            retry_initial_ms: 500,
            retry_max_ms: 30_000,
            retry_every_s: 300,
            backlog_wait_s: 60,
            backlog_wait_max_s: 3600,
        }
    }
}

/// `[web]`: the daemon's web page and REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Web {
    /// Address and port to listen on; empty turns the web side off.
    pub listen: String,
    /// The access token; empty: generated on first use when one is needed.
    pub token: String,
    /// Live preview frames per second, 1..=30.
    pub preview_fps: u32,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: "127.0.0.1:8080".into(),
            token: String::new(),
            preview_fps: 5,
        }
    }
}

/// `[supervision]`: how failed devices and workers are restarted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Supervision {
    /// Restarts allowed within `window_s` before giving up, at least 1.
    pub max_restarts: u32,
    /// The window, in seconds, at least 1.
    pub window_s: u64,
    /// Wait before the first restart, in milliseconds.
    pub backoff_initial_ms: u64,
    /// Longest wait before a restart, in milliseconds (>= `backoff_initial_ms`).
    pub backoff_max_ms: u64,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            max_restarts: 5,
            window_s: 60,
            backoff_initial_ms: 200,
            backoff_max_ms: 10_000,
        }
    }
}

/// The settings of a simulated axis (`[turntable.sim]`, `[tilt.sim]`).
/// Keys missing from a partial table take the turntable's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimAxis {
    /// Top speed in degrees per second, in (0, 3600].
    pub max_speed_dps: f64,
    /// Acceleration in degrees per second squared, above 0.
    pub accel_dps2: f64,
    /// Duration of the homing move, in milliseconds.
    pub home_ms: u64,
    /// How far the rig sways every way as the axis stops, millimetres at
    /// the object (0 to 50; 0: not at all).
    pub shake_mm: f64,
    /// How long the sway takes to die down to a twentieth, milliseconds.
    pub shake_ms: u64,
}

impl Default for SimAxis {
    fn default() -> Self {
        SimAxis {
            max_speed_dps: 120.0,
            accel_dps2: 480.0,
            home_ms: 300,
            shake_mm: 2.0,
            shake_ms: 250,
        }
    }
}

impl SimAxis {
    /// Its speed and acceleration.
    pub fn limits(&self) -> MotionLimits {
        MotionLimits {
            max_speed: self.max_speed_dps,
            acceleration: self.accel_dps2,
        }
    }

    /// The tilt arm's defaults: slower than the turntable.
    pub fn tilt_default() -> Self {
        SimAxis {
            max_speed_dps: 60.0,
            accel_dps2: 240.0,
            home_ms: 300,
            ..SimAxis::default()
        }
    }
}

/// Which driver turns the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurntableBackend {
    /// The simulator, configured by `[turntable.sim]`.
    #[default]
    Sim,
    /// A stepper motor on GPIO, configured by `[turntable.stepper]`.
    Stepper,
}

/// `[turntable]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Turntable {
    /// The driver.
    pub backend: TurntableBackend,
    /// For a rig with a cable through the table: how many turns from home
    /// the table may be, either way (unset: no limit).
    pub max_turns: Option<f64>,
    /// The simulator's settings.
    pub sim: SimAxis,
    /// The stepper's settings.
    pub stepper: Stepper,
}

/// Which driver tilts the camera arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiltBackend {
    /// The rig has no tilt arm.
    None,
    /// The simulator, configured by `[tilt.sim]`.
    #[default]
    Sim,
    /// A stepper motor on GPIO, configured by `[tilt.stepper]`.
    Stepper,
}

/// `tilt.move`: how a move to a shot drives the table and the arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiltMove {
    /// Both motors at once.
    #[default]
    Together,
    /// The table, then the arm (a power supply that cannot drive both).
    OneAfterTheOther,
}

impl TiltMove {
    /// The axes' way of moving it stands for.
    pub fn order(self) -> MoveOrder {
        match self {
            TiltMove::Together => MoveOrder::Together,
            TiltMove::OneAfterTheOther => MoveOrder::OneAfterTheOther,
        }
    }
}

/// `[tilt]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tilt {
    /// The driver.
    pub backend: TiltBackend,
    /// The lowest tilt the arm may be moved to, degrees.
    pub min_deg: f64,
    /// The highest tilt the arm may be moved to, degrees.
    pub max_deg: f64,
    /// How a move to a shot drives the table and the arm.
    #[serde(rename = "move")]
    pub moves: TiltMove,
    /// The simulator's settings.
    #[serde(default = "SimAxis::tilt_default")]
    pub sim: SimAxis,
    /// The stepper's settings.
    #[serde(default = "Stepper::tilt_default")]
    pub stepper: Stepper,
}

impl Default for Tilt {
    fn default() -> Self {
        Tilt {
            backend: TiltBackend::Sim,
            min_deg: -90.0,
            max_deg: 90.0,
            moves: TiltMove::Together,
            sim: SimAxis::tilt_default(),
            stepper: Stepper::tilt_default(),
        }
    }
}

/// Which camera driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraBackend {
    /// The simulated camera, configured by `[camera.sim]`.
    #[default]
    Sim,
    /// A real camera through libgphoto2, configured by `[camera.gphoto2]`.
    Gphoto2,
    /// A camera fired by a wire, its photos left on its card for `scanrig
    /// import`, configured by `[camera.trigger]`.
    Trigger,
}

/// `[camera]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Camera {
    /// The driver.
    pub backend: CameraBackend,
    /// Longest wait for one camera call (an exposure, a download), in
    /// seconds, before the camera counts as failed.
    pub timeout_s: u64,
    /// The simulator's settings.
    pub sim: SimCamera,
    /// The libgphoto2 driver's settings.
    pub gphoto2: Gphoto2Camera,
    /// A camera fired by a wire.
    pub trigger: WiredCamera,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            backend: CameraBackend::Sim,
            timeout_s: 60,
            sim: SimCamera::default(),
            gphoto2: Gphoto2Camera::default(),
            trigger: WiredCamera::default(),
        }
    }
}

/// One camera of a column, `[[cameras]]`: what it does not say comes
/// from `[camera]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnCamera {
    /// Its name, in its photos' names (`<shot>_<name>.jpg`): letters,
    /// digits, `-`, `_`.
    pub name: String,
    /// Its driver; unset: `camera.backend`.
    pub backend: Option<CameraBackend>,
    /// Its model, as `scanrig camera list` shows it (gphoto2); empty:
    /// `camera.gphoto2.model`.
    pub model: String,
    /// Its port, as `scanrig camera list` shows it (gphoto2): what tells
    /// two cameras of the same model apart.
    pub port: String,
    /// Its place on the column: its tilt, degrees (positive: above the
    /// table looking down).
    pub tilt: f64,
    /// Its place on the column: its height above the turntable's top,
    /// metres; unset: `geometry.height_m`.
    pub height_m: Option<f64>,
    /// Its own settings (widget → value), applied once per scan before any
    /// motor moves; a profile's `[camera]` settings win over them.
    pub settings: std::collections::BTreeMap<String, String>,
    /// This simulated camera's own download time and faults, over
    /// `[camera.sim]`'s.
    pub sim: ColumnSim,
    /// `[cameras.trigger]`: the lines of this camera when it is fired by a
    /// wire (`backend = "trigger"`).
    pub trigger: WiredCamera,
}

/// `[cameras.sim]`: one simulated camera of a column, where it differs
/// from `[camera.sim]` (unset: as there).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnSim {
    /// Time to fetch a photo from it, in milliseconds.
    pub download_ms: Option<u64>,
    /// Fail every Nth exposure.
    pub fail_every_nth_expose: Option<u32>,
    /// Fail every Nth download.
    pub fail_every_nth_download: Option<u32>,
    /// Unplug the camera after this many shots...
    pub unplug_after_shots: Option<u32>,
    /// ...for this many milliseconds.
    pub unplug_ms: Option<u64>,
}

/// `[camera.gphoto2]`: which real camera, and what to do with its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gphoto2Camera {
    /// Model as `scanrig camera list` shows it; empty for whichever is connected.
    pub model: String,
    /// Port as `scanrig camera list` shows it (e.g. `usb:001,004`); empty for any.
    pub port: String,
    /// Delete each photo from the camera's card once it is safely in the spool.
    pub delete_after_download: bool,
    /// When the image format makes pairs ("RAW + JPEG"): how long to wait
    /// after a capture for the second file, in milliseconds.
    pub pair_wait_ms: u64,
}

impl Default for Gphoto2Camera {
    fn default() -> Self {
        Gphoto2Camera {
            model: String::new(),
            port: String::new(),
            delete_after_download: true,
            pair_wait_ms: 3000,
        }
    }
}

/// `[camera.sim]`: the simulated camera, with fault injection (0 = off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimCamera {
    /// Photo width in pixels, 16..=8192.
    pub width: u32,
    /// Photo height in pixels, 16..=8192.
    pub height: u32,
    /// Pad photos to about this many KiB; 0 keeps the natural size.
    pub file_size_kb: u64,
    /// Exposure time, in milliseconds.
    pub expose_ms: u64,
    /// Time to fetch a photo from the camera, in milliseconds.
    pub download_ms: u64,
    /// Fail every Nth exposure.
    pub fail_every_nth_expose: u32,
    /// Fail every Nth download.
    pub fail_every_nth_download: u32,
    /// Unplug the camera after this many shots...
    pub unplug_after_shots: u32,
    /// ...for this many milliseconds.
    pub unplug_ms: u64,
    /// The lens has a depth of field: its `aperture` and focus drive
    /// (`manualfocusdrive`) blur what is not in focus, for focus stacks;
    /// `false`: everything is sharp.
    pub depth_of_field: bool,
    /// The object slips on the table after this many shots (0: never)...
    pub slip_after_shots: u32,
    /// ...sliding this many millimetres across it...
    pub slip_mm: f64,
    /// ...and turning this many degrees about the table's axis.
    pub slip_deg: f64,
}

impl Default for SimCamera {
    fn default() -> Self {
        SimCamera {
            width: 1280,
            height: 960,
            file_size_kb: 0,
            expose_ms: 50,
            download_ms: 300,
            fail_every_nth_expose: 0,
            fail_every_nth_download: 0,
            unplug_after_shots: 0,
            unplug_ms: 0,
            depth_of_field: false,
            slip_after_shots: 0,
            slip_mm: 30.0,
            slip_deg: 20.0,
        }
    }
}

/// Where button presses come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonsBackend {
    /// Simulated buttons.
    #[default]
    Sim,
    /// Buttons and status light on GPIO, configured by `[buttons.gpio]`.
    Gpio,
}

/// `[buttons]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Buttons {
    /// The driver.
    pub backend: ButtonsBackend,
    /// A press held this long, in milliseconds, is a long press.
    pub long_press_ms: u64,
    /// The GPIO panel's settings.
    pub gpio: GpioPanel,
}

impl Default for Buttons {
    fn default() -> Self {
        Buttons {
            backend: ButtonsBackend::Sim,
            long_press_ms: 1500,
            gpio: GpioPanel::default(),
        }
    }
}

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Daemon {
    /// The profile run on the start button: a name or a path.
    pub profile: String,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            profile: "turntable-36".into(),
        }
    }
}

/// `[profiles]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profiles {
    /// Folders searched for `<name>.toml`, in order, before the shipped profiles.
    pub dirs: Vec<PathBuf>,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles {
            dirs: vec![PathBuf::from("/etc/scanrig/profiles")],
        }
    }
}

/// How much to log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// The normal level.
    #[default]
    Info,
    /// Details for debugging.
    Debug,
    /// Everything.
    Trace,
}

/// `[export]`: which reconstruction tools' pose priors every scan writes
/// beside its manifest, from `[geometry]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Export {
    /// The formats (`[]`: none; `scanrig export` writes any of them later).
    pub formats: Vec<Format>,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            formats: Format::ALL.to_vec(),
        }
    }
}

impl Settings {
    /// The column's cameras (`[[cameras]]`) with their names; loading
    /// checked every name, so none is left out.
    pub fn column(&self) -> impl Iterator<Item = (CameraName, &ColumnCamera)> {
        self.cameras
            .iter()
            .filter_map(|c| Some((CameraName::new(&c.name).ok()?, c)))
    }

    /// The priors new scans write, if any.
    pub fn priors(&self) -> Option<Priors> {
        let mut formats = self.export.formats.clone();
        formats.sort();
        formats.dedup();
        let cameras = self
            .column()
            .map(|(name, c)| ColumnPlace {
                name,
                tilt: c.tilt,
                height_m: c.height_m.unwrap_or(self.geometry.height_m),
            })
            .collect();
        (!formats.is_empty()).then_some(Priors {
            geometry: self.geometry,
            formats,
            cameras,
        })
    }
}

/// `[hooks]`: the scan-done hand-off, once every photo, the pose priors and
/// the manifest are at the destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hooks {
    /// A program and its arguments (no shell); empty: none.
    pub command: Vec<String>,
    /// Longest run of the command before it is killed, seconds.
    pub command_timeout_s: u64,
    /// Runs of a failing command before it is given up.
    pub command_attempts: u32,
    /// Where to POST the scan's summary (http:// or https://); empty: none.
    pub webhook_url: String,
    /// A file holding the secret the POST is signed with (HMAC-SHA256).
    pub webhook_secret_file: Option<PathBuf>,
    /// Longest wait for the webhook's answer, seconds.
    pub webhook_timeout_s: u64,
    /// First wait before a failed hook is tried again, milliseconds; it
    /// doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest wait between tries, milliseconds.
    pub retry_max_ms: u64,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            command: Vec::new(),
            command_timeout_s: 3600,
            command_attempts: 3,
            webhook_url: String::new(),
            webhook_secret_file: None,
            webhook_timeout_s: 10,
            retry_initial_ms: 10_000,
            retry_max_ms: 3_600_000,
        }
    }
}

impl Hooks {
    /// The hooks configured.
    pub fn kinds(&self) -> Vec<HookKind> {
        let mut kinds = Vec::new();
        if !self.command.is_empty() {
            kinds.push(HookKind::Command);
        }
        if !self.webhook_url.is_empty() {
            kinds.push(HookKind::Webhook);
        }
        kinds
    }

    /// The webhook's signing key, read from its secret file (only its
    /// owner may read it; one trailing line ending is not part of the
    /// key); `None` without a webhook or without a file.
    pub fn webhook_secret(&self) -> Option<Result<Vec<u8>, crate::secret::SecretError>> {
        if self.webhook_url.is_empty() {
            return None;
        }
        self.webhook_secret_file.as_deref().map(crate::secret::read)
    }
}

/// `[log]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// The level.
    pub level: LogLevel,
}

/// What a profile must fit: the soft limits of the rig's axes, and its
/// cameras.
#[derive(Debug, Clone, PartialEq)]
pub struct RigLimits {
    /// The turntable's.
    pub turntable: Travel,
    /// The tilt arm's.
    pub tilt: Travel,
    /// The names of the column's cameras (`[[cameras]]`); empty: the one
    /// camera of `[camera]`.
    pub cameras: Vec<CameraName>,
    /// How the axes move from shot to shot; `None` on a rig without a
    /// tilt motor (the operator sets the tilt).
    pub motion: Option<RigMotion>,
    /// The names of the rig's lights (`[[lights]]`).
    pub lights: Vec<String>,
}

impl Settings {
    /// The soft limits every move keeps to, and the cameras a profile may
    /// name.
    pub fn limits(&self) -> RigLimits {
        RigLimits {
            turntable: self.limits_of_table(),
            tilt: Travel {
                min: Some((Degrees(self.tilt.min_deg), "tilt.min_deg")),
                max: Some((Degrees(self.tilt.max_deg), "tilt.max_deg")),
            },
            cameras: self.column().map(|(name, _)| name).collect(),
            motion: self.motion(),
            lights: self.lights.iter().map(|l| l.name.clone()).collect(),
        }
    }

    /// The table's soft limits: `turntable.max_turns` either way.
    fn limits_of_table(&self) -> Travel {
        let turns = self.turntable.max_turns.map(|t| Degrees(t * 360.0));
        Travel {
            min: turns.map(|t| (Degrees(-t.get()), "turntable.max_turns")),
            max: turns.map(|t| (t, "turntable.max_turns")),
        }
    }

    /// How the axes move from shot to shot (`None` without a tilt motor).
    fn motion(&self) -> Option<RigMotion> {
        let table = match self.turntable.backend {
            TurntableBackend::Sim => (self.turntable.sim.limits(), 0.0),
            TurntableBackend::Stepper => self.turntable.stepper.motion(),
        };
        let tilt = match self.tilt.backend {
            TiltBackend::None => return None,
            TiltBackend::Sim => (self.tilt.sim.limits(), 0.0),
            TiltBackend::Stepper => self.tilt.stepper.motion(),
        };
        Some(RigMotion {
            table: table.0,
            tilt: tilt.0,
            order: self.tilt.moves.order(),
            home: (Degrees(table.1), Degrees(tilt.1)),
            table_way: TableWay::Shortest,
            table_travel: self.limits_of_table(),
        })
    }

    /// Loads the shipped defaults, then `opts.config_file` (which must exist)
    /// or else `opts.system_file` if it exists, then the `SCANRIG_*` variables
    /// of `opts.env`; checks the result, including that the spool folder can
    /// be created and written (a refused configuration leaves no folder it
    /// made behind). Every problem found is returned together.
    pub fn load(opts: &LoadOptions) -> Result<Settings, ConfigErrors> {
        load::load(opts)
    }

    /// How long retired scans are remembered.
    pub fn retention(&self) -> scanrig_actors::history::Retention {
        scanrig_actors::history::Retention {
            scans: self.spool.history_scans,
            days: self.spool.history_days,
        }
    }

    /// The spool folder: `spool.dir` if set, else `$STATE_DIRECTORY/spool`
    /// (systemd), else `$XDG_STATE_HOME/scanrig/spool`, else
    /// `$HOME/.local/state/scanrig/spool`, else `/var/lib/scanrig/spool`.
    /// The variables are those given to [`Settings::load`].
    pub fn spool_dir(&self) -> PathBuf {
        if let Some(dir) = &self.spool.dir {
            return dir.clone();
        }
        match &self.fallback_spool {
            Some(dir) => dir.clone(),
            None => fallback_spool(&LoadOptions::default().env).0,
        }
    }

    /// scanrig's state folder, where the tokens are kept: the spool's parent
    /// folder, so that the service and `sudo -u scanrig scanrig ...` agree
    /// (by default `$STATE_DIRECTORY`, `$XDG_STATE_HOME/scanrig` or
    /// `~/.local/state/scanrig`).
    pub fn state_dir(&self) -> PathBuf {
        let spool = self.spool_dir();
        match spool.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Where the rig keeps the settle time it learned: `settle.json` in
    /// [`Settings::state_dir`].
    pub fn settle_store(&self) -> scanrig_actors::settle::SettleStore {
        scanrig_actors::settle::SettleStore::in_dir(&self.state_dir())
    }

    /// The file holding the Drive tokens: `destination.drive.token_file`,
    /// else `drive-token.json` in [`Settings::state_dir`].
    pub fn drive_token_file(&self) -> PathBuf {
        match &self.destination.drive.token_file {
            Some(file) => file.clone(),
            None => self.state_dir().join("drive-token.json"),
        }
    }

    /// Where the value of `key` (dotted, like `daemon.profile`) came from:
    /// `environment SCANRIG_...`, the settings file's path, or `shipped
    /// defaults`; to name it in problems found after loading.
    pub fn origin(&self, key: &str) -> String {
        self.layers.origin(&[key])
    }

    /// The layers that were read, lowest priority first, for `check-config`:
    /// `shipped defaults`, then the file path, then `environment (NAMES)`.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }
}

/// The spool folder to use when `spool.dir` is unset, and where it came from.
fn fallback_spool(env: &[(String, String)]) -> (PathBuf, &'static str) {
    let get = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if let Some(dirs) = get("STATE_DIRECTORY") {
        // systemd separates several StateDirectory= entries with ':'.
        let first = dirs.split(':').next().unwrap_or(dirs);
        return (Path::new(first).join("spool"), "$STATE_DIRECTORY/spool");
    }
    if let Some(xdg) = get("XDG_STATE_HOME").filter(|p| Path::new(p).is_absolute()) {
        return (
            Path::new(xdg).join("scanrig/spool"),
            "$XDG_STATE_HOME/scanrig/spool",
        );
    }
    if let Some(home) = get("HOME") {
        return (
            Path::new(home).join(".local/state/scanrig/spool"),
            "$HOME/.local/state/scanrig/spool",
        );
    }
    (
        PathBuf::from("/var/lib/scanrig/spool"),
        "the last resort: none of $STATE_DIRECTORY, $XDG_STATE_HOME, $HOME is set",
    )
}
