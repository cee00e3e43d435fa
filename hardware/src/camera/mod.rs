//! Cameras: expose (shutter) and download are separate calls, so the rig can
//! move while a photo transfers.
//!
//! [`gphoto`] (feature `gphoto2`) drives real cameras through libgphoto2;
//! [`SimCamera`] writes real JPEG files of the rig's scene with the shot
//! described in EXIF, with configurable latency and injected faults;
//! [`trigger`] fires a camera by a wire (its remote socket through
//! opto-couplers) and [`SimCard`] is such a camera's card, the photos left
//! on it.

mod card;
#[cfg(feature = "gphoto2")]
pub mod gphoto;
mod image;
mod scene;
mod sim;
pub mod trigger;
pub mod wired;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Degrees;

pub use card::{SimCard, CARD_FOLDER};
pub use scene::{Slip, Stage};
pub use sim::{SimCamera, SimCameraConfig};

/// What can go wrong with a camera.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// No camera answers (none connected, switched off, unplugged).
    #[error("no camera is connected{}; check the USB cable and that the camera is switched on", detail_suffix(.detail))]
    NotConnected {
        /// What the driver knows (port, model), may be empty.
        detail: String,
    },
    /// The camera went away in the middle of an operation.
    #[error("the camera disconnected during {during}")]
    Disconnected {
        /// The operation that was cut off ("expose", "download").
        during: &'static str,
    },
    /// The camera is busy; trying again shortly usually works.
    #[error("the camera is busy ({during}); will retry")]
    Busy {
        /// The operation that was refused.
        during: &'static str,
    },
    /// The camera did not answer in time.
    #[error("the camera did not answer within {seconds} s during {during}")]
    Timeout {
        /// The operation that timed out.
        during: &'static str,
        /// The limit that was exceeded.
        seconds: u64,
    },
    /// A setting the camera does not have.
    #[error("the camera has no setting '{key}'; it has: {}", .known.join(", "))]
    UnknownSetting {
        /// The setting asked for.
        key: String,
        /// The settings the camera has.
        known: Vec<String>,
    },
    /// A value the setting does not accept.
    #[error("the camera's '{key}' cannot be '{value}'; choose one of: {}", .choices.join(", "))]
    InvalidValue {
        /// The setting.
        key: String,
        /// The value asked for.
        value: String,
        /// The values it accepts.
        choices: Vec<String>,
    },
    /// The photo to download is no longer on the camera; it must be retaken.
    #[error("{file} is no longer on the camera; the shot must be taken again")]
    FileGone {
        /// The file on the camera.
        file: String,
    },
    /// Writing the photo to the spool failed.
    #[error("could not write {}: {source}", .path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Another program holds the camera's USB interface.
    #[error("could not claim the camera on {port}: another program holds it, most often the desktop's volume monitor (gvfs-gphoto2-volume-monitor) or a photo importer; stop it (`systemctl --user stop gvfs-gphoto2-volume-monitor` or `pkill -f gvfs-gphoto2`), or install scanrig's udev rule that keeps desktops away from cameras, then try again")]
    Claimed {
        /// The port of the camera.
        port: String,
    },
    /// More than one camera is connected and the configuration does not say
    /// which one to use.
    #[error("{} cameras are connected ({}); set camera.gphoto2.model or camera.gphoto2.port to choose one", .found.len(), .found.join("; "))]
    Ambiguous {
        /// The cameras found, as "model at port".
        found: Vec<String>,
    },
    /// The camera cannot do this at all (a camera without live view asked
    /// for a preview); the connection is fine and retrying will not help.
    #[error(
        "this camera does not support {during} ({reason}); a preview needs a camera with live view over USB"
    )]
    Unsupported {
        /// The operation the camera does not support ("preview").
        during: &'static str,
        /// The driver's own words.
        reason: String,
    },
    /// Anything else the driver reports.
    #[error("camera error during {during}: {reason}")]
    Driver {
        /// The operation that failed.
        during: &'static str,
        /// The driver's own words.
        reason: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

impl CameraError {
    /// Whether the camera connection must be closed and reopened before the
    /// next call (the actor restarts).
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            CameraError::NotConnected { .. }
                | CameraError::Disconnected { .. }
                | CameraError::Busy { .. }
                | CameraError::Timeout { .. }
                | CameraError::Claimed { .. }
                | CameraError::Driver { .. }
        )
    }

    /// Whether retrying cannot help until someone changes the settings or
    /// the configuration.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            CameraError::UnknownSetting { .. }
                | CameraError::InvalidValue { .. }
                | CameraError::Ambiguous { .. }
        )
    }
}

/// `width`x`height` scaled down (never up) so the longer side is at most
/// `max_side`; no side becomes 0.
pub fn fit(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = u64::from(width.max(height));
    if long <= u64::from(max_side) {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled = (u64::from(side) * u64::from(max_side) + long / 2) / long;
        u32::try_from(scaled).unwrap_or(max_side).max(1)
    };
    (scale(width), scale(height))
}

/// Result of camera operations.
pub type Result<T, E = CameraError> = std::result::Result<T, E>;

/// What the camera should photograph; the simulator draws it into the image.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRequest {
    /// File name without extension for the downloaded file(s).
    pub stem: String,
    /// Human-readable label of the shot (scan, ring, shot).
    pub label: String,
    /// Turntable angle of the shot.
    pub azimuth: Degrees,
    /// Tilt angle of the shot.
    pub tilt: Degrees,
}

/// A file on the camera's card or in its RAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraFile {
    /// Folder on the camera.
    pub folder: String,
    /// File name on the camera.
    pub name: String,
}

/// A photo taken (shutter closed) but not yet downloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// What was asked for.
    pub request: CaptureRequest,
    /// The file(s) the camera made: one, or a JPEG+RAW pair.
    pub files: Vec<CameraFile>,
    /// For a camera fired by a wire, which keeps its photo on its card
    /// (nothing to download): when its shutter was pressed.
    pub left_on_card: Option<std::time::SystemTime>,
}

/// A file safely in the spool: fsync'd and renamed into place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its sha256, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Width and height in pixels, for a JPEG.
    pub pixels: Option<(u32, u32)>,
}

impl DownloadedFile {
    /// The file at `path`, committed with `digest`; its pixels are read
    /// from its header.
    pub fn new(path: PathBuf, digest: crate::fsutil::FileDigest) -> DownloadedFile {
        let pixels = crate::jpeg::size_of_file(&path).ok().flatten();
        DownloadedFile {
            pixels,
            path,
            sha256: digest.sha256,
            size: digest.size,
        }
    }
}

/// One of the camera's settings (a libgphoto2 "widget").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Name used in profiles, e.g. `iso`, `f-number`.
    pub name: String,
    /// The camera's label for it, e.g. "ISO Speed".
    pub label: String,
    /// What kind of value it takes: `radio`, `text`, `toggle`, `range`, `date`.
    pub kind: &'static str,
    /// Its current value, as text.
    pub value: String,
    /// The values it accepts, for settings that have a list (or a range
    /// written as `min..max step s`).
    pub choices: Vec<String>,
    /// Whether it can only be read.
    pub read_only: bool,
}

impl Setting {
    /// Whether `value` is one the setting accepts: one of a list's
    /// choices, a number within a range, a toggle's on or off.
    pub fn check(&self, value: &str) -> Result<()> {
        let invalid = |choices: Vec<String>| CameraError::InvalidValue {
            key: self.name.clone(),
            value: value.to_owned(),
            choices,
        };
        if self.read_only {
            return Err(invalid(vec![format!(
                "none: {} can only be read",
                self.name
            )]));
        }
        let ok = match self.kind {
            "radio" => self.choices.iter().any(|c| c == value),
            "toggle" => parse_toggle(value).is_some(),
            "range" => value.parse::<f32>().is_ok_and(|v| self.within(v)),
            "date" => value.parse::<i32>().is_ok(),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(invalid(self.choices.clone()))
        }
    }

    /// Whether `v` lies in a range written as `min..max step s` (any
    /// number, when the range is not written so).
    fn within(&self, v: f32) -> bool {
        let bounds = self.choices.first().and_then(|c| {
            let (span, _) = c.split_once(" step ").unwrap_or((c, ""));
            let (min, max) = span.split_once("..")?;
            Some((
                min.trim().parse::<f32>().ok()?,
                max.trim().parse::<f32>().ok()?,
            ))
        });
        bounds.is_none_or(|(min, max)| (min..=max).contains(&v))
    }
}

/// Checks `settings` (name to value) against a camera's `known` settings,
/// changing nothing: the first that it lacks (listing those it has) or
/// that it does not accept (listing the choices).
pub fn check_settings(known: &[Setting], settings: &BTreeMap<String, String>) -> Result<()> {
    for (key, value) in settings {
        let Some(setting) = known.iter().find(|s| &s.name == key) else {
            return Err(CameraError::UnknownSetting {
                key: key.clone(),
                known: known
                    .iter()
                    .filter(|s| !s.read_only)
                    .map(|s| s.name.clone())
                    .collect(),
            });
        };
        setting.check(value)?;
    }
    Ok(())
}

/// A toggle's value: 1/on/true/yes or 0/off/false/no.
pub(crate) fn parse_toggle(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Some(true),
        "0" | "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// The camera's make and model and where it is connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// Model name as the camera reports it.
    pub model: String,
    /// Port (e.g. `usb:001,004`).
    pub port: String,
}

/// A camera that takes and hands over photos.
pub trait Camera: Send {
    /// Model and port.
    fn info(&self) -> CameraInfo;

    /// Every setting with its current value and choices.
    fn settings(&mut self) -> Result<Vec<Setting>>;

    /// Applies settings (widget name → value), once per scan. Every value is
    /// checked first: on an error nothing is applied.
    fn apply_settings(&mut self, settings: &BTreeMap<String, String>) -> Result<()>;

    /// One small JPEG frame from the live view, for framing the object; no
    /// photo is taken or stored. Cameras without live view answer
    /// [`CameraError::Unsupported`].
    fn preview(&mut self) -> Result<Vec<u8>>;

    /// A low-cost frame of what the camera sees from where it stands, at
    /// `request`'s pose, to hold against a photo taken there before: the
    /// live view's frame ([`Camera::preview`]); the simulator draws its
    /// scene at the request's pose, as it does for a photo.
    fn check_frame(&mut self, request: &CaptureRequest) -> Result<Vec<u8>> {
        let _ = request;
        self.preview()
    }

    /// Fires the shutter; returns once the shutter has closed.
    fn expose(&mut self, request: &CaptureRequest) -> Result<Exposure>;

    /// Downloads an exposure's file(s) into `dir` as `<stem>.<ext>`, each
    /// written to a temp file, fsync'd and renamed.
    fn download(&mut self, exposure: &Exposure, dir: &Path) -> Result<Vec<DownloadedFile>>;
}

/// Opens (or reopens, after a failure) the camera.
pub type CameraConnector = Arc<dyn Fn() -> Result<Box<dyn Camera>> + Send + Sync>;

#[cfg(test)]
pub(crate) mod setting_tests {
    use super::*;

    /// A list setting named `name` at `value`, with `choices`.
    pub(crate) fn radio(name: &str, value: &str, choices: &[&str]) -> Setting {
        Setting {
            name: name.into(),
            label: name.into(),
            kind: "radio",
            value: value.into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            read_only: false,
        }
    }

    #[test]
    fn values_are_checked_against_the_cameras_lists() {
        let iso = radio("iso", "100", &["100", "200"]);
        assert!(iso.check("200").is_ok());
        let e = iso.check("300").unwrap_err().to_string();
        assert!(e.contains("300") && e.contains("100, 200"), "{e}");
        let ro = Setting {
            read_only: true,
            ..iso.clone()
        };
        assert!(ro.check("200").is_err());
        let toggle = Setting {
            kind: "toggle",
            ..iso.clone()
        };
        assert!(toggle.check("on").is_ok());
        assert!(toggle.check("maybe").is_err());
        let drive = Setting {
            kind: "range",
            choices: vec!["-500..500 step 1".into()],
            ..iso.clone()
        };
        assert!(drive.check("-200").is_ok());
        let e = drive.check("900").unwrap_err().to_string();
        assert!(e.contains("-500..500 step 1"), "{e}");
        assert!(drive.check("far").is_err());
    }

    #[test]
    fn a_setting_the_camera_lacks_is_named_with_those_it_has() {
        let known = [radio("iso", "100", &["100", "200"])];
        let ask = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(check_settings(&known, &ask("iso", "200")).is_ok());
        let e = check_settings(&known, &ask("exposurecompensation", "+1"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no setting 'exposurecompensation'; it has: iso"),
            "{e}"
        );
    }
}
