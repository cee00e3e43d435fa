//! The rig's settings: the shipped defaults, overridden by the system (or
//! `--config`) file, overridden by `SCANRIG_<SECTION>__<KEY>` environment
//! variables; checked as a whole, every problem reported together.

use std::path::PathBuf;

use scanrig_actors::model::{CameraName, ColumnPlace, Geometry, Priors};
use scanrig_hardware::axis::{TableWay, Travel};
use scanrig_hardware::Degrees;
use serde::{Deserialize, Serialize};

use crate::config_error::ConfigErrors;
use crate::profile::order::RigMotion;

mod axes;
mod camera;
mod daemon;
mod destinations;
mod drive;
mod gpio;
mod handoff;
mod health;
mod lights;
mod load;
mod merge;
mod moved;
mod mqtt;
mod quality;
mod s3;
mod sftp;
mod spool;
mod upload;
mod webdav;
mod wired;

pub use axes::{SimAxis, Tilt, TiltBackend, TiltMove, Turntable, TurntableBackend};
pub use camera::{Camera, CameraBackend, ColumnCamera, ColumnSim, Gphoto2Camera, SimCamera};
pub use daemon::{Buttons, ButtonsBackend, Daemon, Log, LogLevel, Profiles, Supervision, Web};
pub use destinations::{configured, destinations_problems};
pub use drive::{drive_problems, Drive, DriveAuth};
pub use gpio::{
    pin_problems, pins_in_use, stepper_rate_limit, GpioPanel, StepDriver, Stepper, MAX_GPIO,
    MAX_STEP_RATE,
};
pub use handoff::{Export, Hooks};
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
use spool::fallback_spool;
pub use spool::Spool;
pub use upload::{Destination, DestinationKind, LocalDestination, Upload};
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
