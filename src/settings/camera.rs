//! `[camera]` and `[[cameras]]`: the camera driver, the one camera or the
//! column of cameras, the real camera's and the simulated camera's settings.

use serde::{Deserialize, Serialize};

use super::WiredCamera;

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
