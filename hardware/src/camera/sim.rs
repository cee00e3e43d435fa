//! A simulated camera: real JPEG files, realistic latency, injected faults and a one-off unplug.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::image::{write_jpeg, ImageSpec};
use super::{
    Camera, CameraConnector, CameraError, CameraFile, CameraInfo, CaptureRequest, DownloadedFile,
    Exposure, Result,
};
use crate::fsutil::{DurableFile, FileDigest};

/// Where the simulated camera keeps its photos.
const FOLDER: &str = "/store_00010001/DCIM/100SIMCM";

/// The simulated camera's widgets and the values each accepts.
const WIDGETS: &[(&str, &[&str])] = &[
    ("iso", &["Auto", "100", "200", "400", "800", "1600", "3200"]),
    (
        "shutterspeed",
        &[
            "1/1000", "1/500", "1/250", "1/125", "1/60", "1/30", "1/15", "1/8", "1/4", "1/2", "1",
        ],
    ),
    ("aperture", &["2.8", "4", "5.6", "8", "11", "16", "22"]),
    (
        "imageformat",
        &["JPEG Fine", "JPEG Normal", "RAW + JPEG Fine"],
    ),
    (
        "whitebalance",
        &["Auto", "Daylight", "Cloudy", "Tungsten", "Fluorescent"],
    ),
    ("focusmode", &["Manual", "AF-S", "AF-C"]),
    ("capturetarget", &["Internal RAM", "Memory card"]),
];

/// How the simulated camera behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    faults: u32,
    connects: u32,
    settings: BTreeMap<String, String>,
    applied: Vec<BTreeMap<String, String>>,
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
                faults: 0,
                connects: 0,
                settings: BTreeMap::new(),
                applied: Vec::new(),
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
                    detail: format!("simulated unplug, back in {} ms", rest.as_millis()),
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

    /// Injected failures so far: faults, the unplug itself, and every call
    /// or connect refused while unplugged.
    pub fn faults(&self) -> u32 {
        lock(&self.device).faults
    }

    /// Sessions opened so far.
    pub fn connects(&self) -> u32 {
        lock(&self.device).connects
    }

    /// The settings of every successful `apply_settings`, oldest first.
    pub fn applied_settings(&self) -> Vec<BTreeMap<String, String>> {
        lock(&self.device).applied.clone()
    }
}

/// One connection to the simulated camera.
struct Session {
    camera: SimCamera,
}

impl Camera for Session {
    fn info(&self) -> CameraInfo {
        CameraInfo {
            model: "scanrig SimCamera".to_string(),
            port: "sim:0".to_string(),
        }
    }

    fn apply_settings(&mut self, settings: &BTreeMap<String, String>) -> Result<()> {
        let mut device = lock(&self.camera.device);
        device.check_plug("apply_settings", false)?;
        for (key, value) in settings {
            let Some((_, choices)) = WIDGETS.iter().find(|(name, _)| name == key) else {
                return Err(CameraError::UnknownSetting {
                    key: key.clone(),
                    known: WIDGETS.iter().map(|(name, _)| name.to_string()).collect(),
                });
            };
            if !choices.contains(&value.as_str()) {
                return Err(CameraError::InvalidValue {
                    key: key.clone(),
                    value: value.clone(),
                    choices: choices.iter().map(|c| c.to_string()).collect(),
                });
            }
        }
        device.settings.extend(settings.clone());
        device.applied.push(settings.clone());
        Ok(())
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
            let file = CameraFile {
                folder: FOLDER.to_string(),
                name: format!("SIM_{:04}.JPG", d.next_number),
            };
            d.next_number += 1;
            d.exposures += 1;
            d.card.insert(
                card_key(&file),
                Shot {
                    request: request.clone(),
                    captured: SystemTime::now(),
                },
            );
            Ok(Exposure {
                request: request.clone(),
                files: vec![file],
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
                stem,
                azimuth: shot.request.azimuth,
                tilt: shot.request.tilt,
                captured: shot.captured,
                file_size: config.file_size,
            };
            let digest = write_file(&path, &spec).map_err(|source| CameraError::Io {
                path: path.clone(),
                source,
            })?;
            downloaded.push(DownloadedFile {
                path,
                sha256: digest.sha256,
                size: digest.size,
            });
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
fn write_file(path: &Path, spec: &ImageSpec<'_>) -> io::Result<FileDigest> {
    let mut file = DurableFile::create(path)?;
    write_jpeg(&mut file, spec)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Degrees;

    fn request(n: u32) -> CaptureRequest {
        CaptureRequest {
            stem: format!("shot_{n:03}"),
            label: format!("test scan shot {n}"),
            azimuth: Degrees(f64::from(n) * 30.0),
            tilt: Degrees(-10.0),
        }
    }

    fn quick(config: SimCameraConfig) -> SimCamera {
        SimCamera::new(SimCameraConfig {
            width: 96,
            height: 64,
            expose_latency: Duration::ZERO,
            download_latency: Duration::ZERO,
            ..config
        })
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn downloads_a_decodable_jpeg_with_exif_and_empties_the_card() {
        let camera = quick(SimCameraConfig::default());
        let mut session = camera.connector()().unwrap();
        assert_eq!(session.info().model, "scanrig SimCamera");
        let exposure = session.expose(&request(3)).unwrap();
        assert_eq!(exposure.files[0].folder, FOLDER);
        assert_eq!(exposure.files[0].name, "SIM_0001.JPG");
        let dir = tempfile::tempdir().unwrap();
        let files = session.download(&exposure, dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, dir.path().join("shot_003.jpg"));
        let bytes = std::fs::read(&files[0].path).unwrap();
        assert_eq!(bytes.len() as u64, files[0].size);
        assert_eq!(
            crate::fsutil::digest_file(&files[0].path).unwrap().sha256,
            files[0].sha256
        );
        assert!(contains(
            &bytes,
            b"test scan shot 3; azimuth=90.0; tilt=-10.0"
        ));
        let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
        decoder.decode().unwrap();
        let info = decoder.info().unwrap();
        assert_eq!((info.width, info.height), (96, 64));
        assert_eq!((camera.exposures(), camera.downloads()), (1, 1));

        let again = session.download(&exposure, dir.path()).unwrap_err();
        assert!(matches!(again, CameraError::FileGone { .. }), "{again}");
    }

    #[test]
    fn padding_and_distinct_requests() {
        let camera = quick(SimCameraConfig {
            file_size: 200_000,
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let a = session.expose(&request(1)).unwrap();
        let b = session.expose(&request(2)).unwrap();
        let fa = session.download(&a, dir.path()).unwrap().remove(0);
        let fb = session.download(&b, dir.path()).unwrap().remove(0);
        assert!(fa.size >= 200_000 && fa.size < 200_004, "{}", fa.size);
        assert_ne!(fa.sha256, fb.sha256);
        let bytes = std::fs::read(&fb.path).unwrap();
        assert_eq!(bytes.len() as u64, fb.size);
        jpeg_decoder::Decoder::new(&bytes[..]).decode().unwrap();
    }

    #[test]
    fn every_third_expose_and_second_download_fail() {
        let camera = quick(SimCameraConfig {
            fail_every_nth_expose: 3,
            fail_every_nth_download: 2,
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let outcomes: Vec<bool> = (1..=7)
            .map(|n| session.expose(&request(n)).is_ok())
            .collect();
        assert_eq!(outcomes, [true, true, false, true, true, false, true]);
        let eighth = session.expose(&request(8)).unwrap();
        assert_eq!(camera.exposures(), 6);
        let ninth = session.expose(&request(9)).unwrap_err();
        assert!(matches!(
            ninth,
            CameraError::Driver {
                during: "expose",
                ..
            }
        ));

        let dir = tempfile::tempdir().unwrap();
        session.download(&eighth, dir.path()).unwrap(); // download attempt 1
        let gone = session.download(&eighth, dir.path()).unwrap_err(); // not an attempt
        assert!(matches!(gone, CameraError::FileGone { .. }), "{gone}");
        let tenth = session.expose(&request(10)).unwrap();
        let failed = session.download(&tenth, dir.path()).unwrap_err(); // attempt 2
        assert!(matches!(
            failed,
            CameraError::Driver {
                during: "download",
                ..
            }
        ));
        assert!(!dir.path().join("shot_010.jpg").exists());
        session.download(&tenth, dir.path()).unwrap(); // still on the card
        assert_eq!(camera.faults(), 4);
    }

    #[test]
    fn unplugs_once_and_keeps_the_card() {
        let camera = quick(SimCameraConfig {
            unplug_after_exposures: 2,
            unplug_for: Duration::from_millis(30),
            ..SimCameraConfig::default()
        });
        let connect = camera.connector();
        let mut session = connect().unwrap();
        session.expose(&request(1)).unwrap();
        let pending = session.expose(&request(2)).unwrap();
        let err = session.expose(&request(3)).unwrap_err();
        assert!(matches!(
            err,
            CameraError::Disconnected { during: "expose" }
        ));
        match connect() {
            Err(CameraError::NotConnected { detail }) => {
                assert!(detail.starts_with("simulated unplug"), "{detail}")
            }
            other => panic!("connected while unplugged: {:?}", other.is_ok()),
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            session.download(&pending, dir.path()),
            Err(CameraError::Disconnected { during: "download" })
        ));
        thread::sleep(Duration::from_millis(40));
        let mut replugged = connect().unwrap();
        replugged.download(&pending, dir.path()).unwrap();
        for n in 4..8 {
            replugged.expose(&request(n)).unwrap();
        }
        assert_eq!(camera.connects(), 2);
        assert_eq!(camera.faults(), 3);
    }

    #[test]
    fn settings_are_validated_before_anything_is_applied() {
        let camera = quick(SimCameraConfig::default());
        let mut session = camera.connector()().unwrap();
        let settings = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let unknown = session
            .apply_settings(&settings(&[("iso", "100"), ("zoom", "2x")]))
            .unwrap_err();
        match &unknown {
            CameraError::UnknownSetting { key, known } => {
                assert_eq!(key, "zoom");
                assert!(known.contains(&"shutterspeed".to_string()));
            }
            other => panic!("{other}"),
        }
        let invalid = session
            .apply_settings(&settings(&[("aperture", "8"), ("iso", "123")]))
            .unwrap_err();
        assert!(invalid.is_configuration());
        assert!(invalid.to_string().contains("Auto, 100, 200"), "{invalid}");
        assert!(camera.applied_settings().is_empty());

        let good = settings(&[("iso", "200"), ("imageformat", "RAW + JPEG Fine")]);
        session.apply_settings(&good).unwrap();
        assert_eq!(camera.applied_settings(), vec![good]);
    }

    #[test]
    fn latency_is_respected_and_bad_stems_refused() {
        let camera = SimCamera::new(SimCameraConfig {
            width: 32,
            height: 32,
            expose_latency: Duration::from_millis(30),
            download_latency: Duration::from_millis(20),
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let t = Instant::now();
        let exposure = session.expose(&request(1)).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(30));
        let dir = tempfile::tempdir().unwrap();
        let t = Instant::now();
        session.download(&exposure, dir.path()).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(20));

        let mut sneaky = session.expose(&request(2)).unwrap();
        sneaky.request.stem = "../escape".to_string();
        let err = session.download(&sneaky, dir.path()).unwrap_err();
        assert!(matches!(err, CameraError::Io { .. }), "{err}");
    }
}
