//! A simulated camera: real JPEG files (and RAW ones, as PPM, for "RAW +
//! JPEG"), realistic latency, injected faults and a one-off unplug.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::image::{write_jpeg, write_ppm, ImageSpec, Look};
use super::scene::{Slip, Stage};
use super::{
    check_settings, Camera, CameraConnector, CameraError, CameraFile, CameraInfo, CaptureRequest,
    DownloadedFile, Exposure, Result, Setting,
};
use crate::axis::Shake;
use crate::fsutil::{DurableFile, FileDigest};
use crate::light::Lighting;
use crate::recent::Recent;
use crate::Degrees;

/// Where the simulated camera keeps its photos.
const FOLDER: &str = "/store_00010001/DCIM/100SIMCM";
/// Longest side of a preview frame, in pixels.
const PREVIEW_MAX_SIDE: u32 = 480;

/// The simulated camera's list settings: each one's name, the values it
/// accepts and its value at power-on.
const WIDGETS: &[(&str, &[&str], &str)] = &[
    (
        "iso",
        &["Auto", "100", "200", "400", "800", "1600", "3200"],
        "Auto",
    ),
    (
        "shutterspeed",
        &[
            "1/1000", "1/500", "1/250", "1/125", "1/60", "1/30", "1/15", "1/8", "1/4", "1/2", "1",
        ],
        "1/60",
    ),
    (
        "exposurecompensation",
        &[
            "-3", "-2.7", "-2.3", "-2", "-1.7", "-1.3", "-1", "-0.7", "-0.3", "0", "+0.3", "+0.7",
            "+1", "+1.3", "+1.7", "+2", "+2.3", "+2.7", "+3",
        ],
        "0",
    ),
    (
        "aperture",
        &["2.8", "4", "5.6", "8", "11", "16", "22"],
        "2.8",
    ),
    (
        "imageformat",
        &["JPEG Fine", "JPEG Normal", "RAW + JPEG Fine"],
        "JPEG Fine",
    ),
    (
        "whitebalance",
        &["Auto", "Daylight", "Cloudy", "Tungsten", "Fluorescent"],
        "Auto",
    ),
    ("focusmode", &["Manual", "AF-S", "AF-C"], "Manual"),
    (
        "capturetarget",
        &["Internal RAM", "Memory card"],
        "Internal RAM",
    ),
];

/// The sensor's noise at ISO 100, in levels of 255 (its spread); it grows
/// with the square root of the ISO.
const NOISE_AT_ISO_100: f64 = 0.8;
/// The ISO the camera chooses on "Auto".
const AUTO_ISO: f64 = 200.0;

/// The focus drive: a relative move of the lens's focus by this many
/// steps of 0.1 mm (negative: nearer), as a range setting.
const FOCUS_DRIVE: &str = "manualfocusdrive";
/// The farthest one drive goes, in steps.
const FOCUS_DRIVE_MAX: i32 = 32767;

/// How the simulated camera behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCameraConfig {
    /// Image width in pixels (1..=65535).
    pub width: u32,
    /// Image height in pixels (1..=65535).
    pub height: u32,
    /// 0 = natural JPEG size; else each file is padded to at least this many bytes.
    pub file_size: u64,
    /// How long an exposure takes.
    pub expose_latency: Duration,
    /// How long a download takes (at least).
    pub download_latency: Duration,
    /// Every n-th expose attempt fails with a driver fault; 0 = never.
    pub fail_every_nth_expose: u32,
    /// Every n-th download attempt fails with a driver fault (the file stays
    /// on the card); 0 = never.
    pub fail_every_nth_download: u32,
    /// After this many successful exposures the camera unplugs once; 0 = never.
    pub unplug_after_exposures: u32,
    /// How long the camera stays unplugged.
    pub unplug_for: Duration,
    /// The rig the camera stands on: what it sees in each photo.
    pub stage: Stage,
    /// The lens has a depth of field (its `aperture` and focus drive blur
    /// what is not in focus); `false`: everything is sharp.
    pub depth_of_field: bool,
    /// The rig's sway after its axes stop, as the simulated axes note it:
    /// a photo taken while the rig still sways is smeared that far.
    pub shake: Shake,
    /// The objects slipping on the table after some shot.
    pub slip: Slip,
    /// The rig's simulated lights: a photo taken with them dimmed or off
    /// is as much darker.
    pub lighting: Lighting,
}

impl Default for SimCameraConfig {
    /// 640x480 natural-size JPEGs, 50 ms exposures, 200 ms downloads, no faults.
    fn default() -> Self {
        SimCameraConfig {
            width: 640,
            height: 480,
            file_size: 0,
            expose_latency: Duration::from_millis(50),
            download_latency: Duration::from_millis(200),
            fail_every_nth_expose: 0,
            fail_every_nth_download: 0,
            unplug_after_exposures: 0,
            unplug_for: Duration::ZERO,
            stage: Stage::default(),
            depth_of_field: false,
            shake: Shake::default(),
            slip: Slip::default(),
            lighting: Lighting::default(),
        }
    }
}

/// The one-off unplug.
#[derive(Debug, Clone, Copy)]
enum Plug {
    /// Plugged in; will unplug once `unplug_after_exposures` is reached.
    Armed,
    /// Unplugged until then.
    Unplugged { until: Instant },
    /// Plugged in again for good.
    Done,
}

/// A photo on the card, waiting for download.
#[derive(Debug, Clone)]
struct Shot {
    request: CaptureRequest,
    captured: SystemTime,
    look: Look,
}

/// The device shared by every clone and session.
#[derive(Debug)]
struct Device {
    config: SimCameraConfig,
    plug: Plug,
    card: BTreeMap<String, Shot>,
    next_number: u32,
    expose_attempts: u32,
    download_attempts: u32,
    exposures: u32,
    downloads: u32,
    previews: u32,
    faults: u32,
    connects: u32,
    settings: BTreeMap<String, String>,
    applied: Recent<BTreeMap<String, String>>,
    /// When each exposure was taken.
    exposed: Recent<SystemTime>,
    /// Where the focus drive has moved the lens's focus, in steps.
    focus: i32,
}

impl Device {
    /// How much longer the camera stays unplugged, if it is.
    fn unplugged_for(&mut self) -> Option<Duration> {
        if let Plug::Unplugged { until } = self.plug {
            match until.checked_duration_since(Instant::now()) {
                Some(rest) if !rest.is_zero() => return Some(rest),
                _ => self.plug = Plug::Done,
            }
        }
        None
    }

    /// Refuses a call while unplugged and, when `may_unplug`, pulls the plug
    /// once enough exposures have succeeded.
    fn check_plug(&mut self, during: &'static str, may_unplug: bool) -> Result<()> {
        let due = self.config.unplug_after_exposures != 0
            && self.exposures >= self.config.unplug_after_exposures;
        if self.unplugged_for().is_none() {
            if !(may_unplug && due && matches!(self.plug, Plug::Armed)) {
                return Ok(());
            }
            self.plug = Plug::Unplugged {
                until: Instant::now() + self.config.unplug_for,
            };
        }
        self.faults += 1;
        Err(CameraError::Disconnected { during })
    }

    /// A list setting's value now.
    fn value(&self, name: &str) -> &str {
        let power_on = WIDGETS.iter().find(|w| w.0 == name).map_or("", |w| w.2);
        self.settings.get(name).map_or(power_on, String::as_str)
    }

    /// Every setting, as the camera lists them.
    fn known(&self) -> Vec<Setting> {
        let mut known: Vec<Setting> = WIDGETS
            .iter()
            .map(|(name, choices, _)| Setting {
                name: name.to_string(),
                label: name.to_string(),
                kind: "radio",
                value: self.value(name).to_string(),
                choices: choices.iter().map(|c| c.to_string()).collect(),
                read_only: false,
            })
            .collect();
        known.push(Setting {
            name: FOCUS_DRIVE.to_string(),
            label: "Manual focus drive".to_string(),
            kind: "range",
            value: "0".to_string(),
            choices: vec![format!("-{FOCUS_DRIVE_MAX}..{FOCUS_DRIVE_MAX} step 1")],
            read_only: false,
        });
        known
    }

    /// How a photo taken now comes out: its exposure in stops from the
    /// power-on one (shutter speed and exposure compensation); with a
    /// depth of field, the aperture and focus; smeared as far as the rig
    /// sways now; the objects slipped once the slip is due; and the
    /// sensor's noise at the ISO set, its own for each photo taken.
    fn look(&self) -> Look {
        let seconds = |v: &str| match v.split_once('/') {
            Some((n, d)) => n.parse::<f64>().unwrap_or(1.0) / d.parse::<f64>().unwrap_or(1.0),
            None => v.parse().unwrap_or(1.0),
        };
        let power_on = WIDGETS
            .iter()
            .find(|w| w.0 == "shutterspeed")
            .map_or("1", |w| w.2);
        let shutter = (seconds(self.value("shutterspeed")) / seconds(power_on)).log2();
        let compensation: f64 = self.value("exposurecompensation").parse().unwrap_or(0.0);
        let lit = self.config.lighting.exposure().map_or(0.0, f64::log2);
        let f_number: f64 = self.value("aperture").parse().unwrap_or(8.0);
        Look {
            ev: shutter + compensation + lit,
            focus: self.config.depth_of_field.then_some((f_number, self.focus)),
            sway_mm: self.config.shake.now(),
            ..self.scene()
        }
    }

    /// What any frame taken now shows, whatever the settings: the objects
    /// where they stand, the sensor's noise at the ISO set.
    fn scene(&self) -> Look {
        let slip = &self.config.slip;
        let slipped = slip.after_shots != 0 && self.exposures > slip.after_shots;
        let iso = self.value("iso").parse().unwrap_or(AUTO_ISO);
        let frames = u64::from(self.next_number) << 32 | u64::from(self.previews);
        Look {
            slip: slipped.then_some((slip.mm, slip.deg)),
            noise: ((NOISE_AT_ISO_100 * (iso / 100.0).sqrt()) as f32, frames),
            ..Look::default()
        }
    }

    /// Counts an attempt; true (and a fault) when this one must fail.
    fn injected(attempts: &mut u32, every_nth: u32, faults: &mut u32) -> bool {
        *attempts += 1;
        let fail = every_nth != 0 && *attempts % every_nth == 0;
        if fail {
            *faults += 1;
        }
        fail
    }
}

/// A simulated camera. Clones share one device (its card, counters and
/// plug state); [`SimCamera::connector`] opens sessions on it.
#[derive(Debug, Clone)]
pub struct SimCamera {
    device: Arc<Mutex<Device>>,
}

fn lock(device: &Mutex<Device>) -> MutexGuard<'_, Device> {
    device.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sleeps whatever is left of `total` since `started`.
fn sleep_rest(started: Instant, total: Duration) {
    if let Some(rest) = total.checked_sub(started.elapsed()) {
        thread::sleep(rest);
    }
}

impl SimCamera {
    /// A camera with an empty card.
    pub fn new(config: SimCameraConfig) -> SimCamera {
        SimCamera {
            device: Arc::new(Mutex::new(Device {
                config,
                plug: Plug::Armed,
                card: BTreeMap::new(),
                next_number: 1,
                expose_attempts: 0,
                download_attempts: 0,
                exposures: 0,
                downloads: 0,
                previews: 0,
                faults: 0,
                connects: 0,
                settings: BTreeMap::new(),
                applied: Recent::default(),
                exposed: Recent::default(),
                focus: 0,
            })),
        }
    }

    /// A [`CameraConnector`]; each call opens a session on the shared device,
    /// or fails with [`CameraError::NotConnected`] while it is unplugged.
    pub fn connector(&self) -> CameraConnector {
        let camera = self.clone();
        Arc::new(move || {
            let mut device = lock(&camera.device);
            if let Some(rest) = device.unplugged_for() {
                device.faults += 1;
                return Err(CameraError::NotConnected {
                    detail: format!(
                        "simulated unplug, back in {}",
                        crate::units::duration_words(rest)
                    ),
                });
            }
            device.connects += 1;
            Ok(Box::new(Session {
                camera: camera.clone(),
            }) as Box<dyn Camera>)
        })
    }

    /// Successful exposures so far.
    pub fn exposures(&self) -> u32 {
        lock(&self.device).exposures
    }

    /// Successful downloads so far (calls, not files).
    pub fn downloads(&self) -> u32 {
        lock(&self.device).downloads
    }

    /// Preview frames handed out so far.
    pub fn previews(&self) -> u32 {
        lock(&self.device).previews
    }

    /// Injected failures so far: faults, the unplug itself, and every call
    /// or connect refused while unplugged.
    pub fn faults(&self) -> u32 {
        lock(&self.device).faults
    }

    /// Sessions opened so far.
    pub fn connects(&self) -> u32 {
        lock(&self.device).connects
    }

    /// The settings of the successful `apply_settings`, oldest first (the
    /// latest thousand).
    pub fn applied_settings(&self) -> Vec<BTreeMap<String, String>> {
        lock(&self.device).applied.to_vec()
    }

    /// When each successful exposure was taken (the latest
    /// thousand), oldest first.
    pub fn exposure_times(&self) -> Vec<SystemTime> {
        lock(&self.device).exposed.to_vec()
    }
}

/// One connection to the simulated camera.
struct Session {
    camera: SimCamera,
}

impl Session {
    /// A preview's frame of the scene at `azimuth` and `tilt`: the size
    /// of the photos scaled to fit 480 pixels, labelled in EXIF with
    /// `label` (`None`: "PREVIEW" and its number); refused like every call
    /// while unplugged.
    fn small_frame(
        &mut self,
        azimuth: Degrees,
        tilt: Degrees,
        label: Option<&str>,
    ) -> Result<Vec<u8>> {
        let (frame, (width, height), device_stage, look) = {
            let mut device = lock(&self.camera.device);
            device.check_plug("preview", false)?;
            device.previews += 1;
            let size = super::fit(device.config.width, device.config.height, PREVIEW_MAX_SIDE);
            (device.previews, size, device.config.stage, device.scene())
        };
        let label = label.map_or_else(|| format!("PREVIEW {frame}"), str::to_owned);
        let spec = ImageSpec {
            width,
            height,
            label: &label,
            azimuth,
            tilt,
            stage: device_stage,
            captured: SystemTime::now(),
            file_size: 0,
            look,
        };
        let mut jpeg = Vec::new();
        write_jpeg(&mut jpeg, &spec).map_err(|e| CameraError::Driver {
            during: "preview",
            reason: e.to_string(),
        })?;
        Ok(jpeg)
    }
}

impl Camera for Session {
    fn info(&self) -> CameraInfo {
        CameraInfo {
            model: "scanrig SimCamera".to_string(),
            port: "sim:0".to_string(),
        }
    }

    fn settings(&mut self) -> Result<Vec<Setting>> {
        let mut device = lock(&self.camera.device);
        device.check_plug("settings", false)?;
        Ok(device.known())
    }

    /// Checks every value first (a bad one changes nothing), then sets
    /// them; a focus drive moves the focus by that many steps.
    fn apply_settings(&mut self, settings: &BTreeMap<String, String>) -> Result<()> {
        let mut device = lock(&self.camera.device);
        device.check_plug("apply_settings", false)?;
        check_settings(&device.known(), settings)?;
        for (key, value) in settings {
            if key == FOCUS_DRIVE {
                let steps = value.parse::<f64>().unwrap_or(0.0).round() as i32;
                device.focus = device.focus.saturating_add(steps);
            } else {
                device.settings.insert(key.clone(), value.clone());
            }
        }
        device.applied.push(settings.clone());
        Ok(())
    }

    /// A preview's frame of the scene with the table at 0°.
    fn preview(&mut self) -> Result<Vec<u8>> {
        self.small_frame(Degrees::ZERO, Degrees::ZERO, None)
    }

    /// A preview's frame of the scene at `request`'s pose, labelled in EXIF
    /// like the photo taken there.
    fn check_frame(&mut self, request: &CaptureRequest) -> Result<Vec<u8>> {
        self.small_frame(request.azimuth, request.tilt, Some(&request.stem))
    }

    fn expose(&mut self, request: &CaptureRequest) -> Result<Exposure> {
        let started = Instant::now();
        let mut device = lock(&self.camera.device);
        device.check_plug("expose", true)?;
        let latency = device.config.expose_latency;
        let every = device.config.fail_every_nth_expose;
        let d = &mut *device;
        let outcome = if Device::injected(&mut d.expose_attempts, every, &mut d.faults) {
            Err(CameraError::Driver {
                during: "expose",
                reason: "simulated fault (every Nth exposure)".to_string(),
            })
        } else {
            // "RAW + JPEG …": a RAW file (a PPM here) beside the JPEG.
            let raw = d
                .settings
                .get("imageformat")
                .is_some_and(|f| f.starts_with("RAW"));
            let extensions: &[&str] = if raw { &["JPG", "PPM"] } else { &["JPG"] };
            let files: Vec<CameraFile> = extensions
                .iter()
                .map(|ext| CameraFile {
                    folder: FOLDER.to_string(),
                    name: format!("SIM_{:04}.{ext}", d.next_number),
                })
                .collect();
            d.next_number += 1;
            d.exposures += 1;
            let captured = SystemTime::now();
            d.exposed.push(captured);
            let shot = Shot {
                request: request.clone(),
                captured,
                look: d.look(),
            };
            for file in &files {
                d.card.insert(card_key(file), shot.clone());
            }
            Ok(Exposure {
                request: request.clone(),
                files,
                left_on_card: None,
            })
        };
        drop(device);
        sleep_rest(started, latency);
        outcome
    }

    fn download(&mut self, exposure: &Exposure, dir: &Path) -> Result<Vec<DownloadedFile>> {
        let started = Instant::now();
        let stem = &exposure.request.stem;
        let (shots, config) = {
            let mut device = lock(&self.camera.device);
            device.check_plug("download", true)?;
            if stem.is_empty() || stem.contains(['/', '\\']) || stem == "." || stem == ".." {
                return Err(CameraError::Io {
                    path: dir.join(stem),
                    source: io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "the shot's stem must be a plain file name",
                    ),
                });
            }
            let mut shots = Vec::new();
            for file in &exposure.files {
                let key = card_key(file);
                match device.card.get(&key) {
                    Some(shot) => shots.push((key, extension(&file.name), shot.clone())),
                    None => return Err(CameraError::FileGone { file: key }),
                }
            }
            let every = device.config.fail_every_nth_download;
            let d = &mut *device;
            if Device::injected(&mut d.download_attempts, every, &mut d.faults) {
                let latency = d.config.download_latency;
                drop(device);
                sleep_rest(started, latency);
                return Err(CameraError::Driver {
                    during: "download",
                    reason: "simulated fault (every Nth download)".to_string(),
                });
            }
            (shots, device.config.clone())
        };

        // Written without holding the lock: large files take a while.
        let mut downloaded = Vec::with_capacity(shots.len());
        for (_, ext, shot) in &shots {
            let path = dir.join(format!("{stem}.{ext}"));
            let spec = ImageSpec {
                width: config.width,
                height: config.height,
                label: &shot.request.label,
                azimuth: shot.request.azimuth,
                tilt: shot.request.tilt,
                stage: config.stage,
                captured: shot.captured,
                file_size: config.file_size,
                look: shot.look,
            };
            let digest =
                write_file(&path, &spec, ext == "ppm").map_err(|source| CameraError::Io {
                    path: path.clone(),
                    source,
                })?;
            downloaded.push(DownloadedFile::new(path, digest));
        }
        {
            let mut device = lock(&self.camera.device);
            for (key, _, _) in &shots {
                device.card.remove(key);
            }
            device.downloads += 1;
        }
        sleep_rest(started, config.download_latency);
        Ok(downloaded)
    }
}

fn card_key(file: &CameraFile) -> String {
    format!("{}/{}", file.folder, file.name)
}

/// Lower-case extension of a camera file name, `jpg` when it has none.
fn extension(name: &str) -> String {
    match Path::new(name).extension() {
        Some(ext) => ext.to_string_lossy().to_lowercase(),
        None => "jpg".to_string(),
    }
}

/// Streams the JPEG into a durable file and commits it.
/// Writes the photo durably: a JPEG, or the RAW file (`raw`).
fn write_file(path: &Path, spec: &ImageSpec<'_>, raw: bool) -> io::Result<FileDigest> {
    let mut file = DurableFile::create(path)?;
    if raw {
        write_ppm(&mut file, spec)?;
    } else {
        write_jpeg(&mut file, spec)?;
    }
    file.commit()
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rig_tests.rs"]
mod rig_tests;
