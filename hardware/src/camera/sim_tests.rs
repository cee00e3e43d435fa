//! Tests of the simulated camera's sessions, faults and settings.

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

#[test]
fn preview_frames_are_small_numbered_jpegs_and_take_no_photo() {
    let camera = SimCamera::new(SimCameraConfig {
        width: 1920,
        height: 1280,
        // Latency is for shots: a preview does not wait for it.
        expose_latency: Duration::from_secs(3600),
        download_latency: Duration::from_secs(3600),
        ..SimCameraConfig::default()
    });
    let mut session = camera.connector()().unwrap();
    let first = session.preview().unwrap();
    let second = session.preview().unwrap();
    assert_ne!(first, second, "consecutive frames differ");
    for frame in [&first, &second] {
        let mut decoder = jpeg_decoder::Decoder::new(&frame[..]);
        decoder.decode().unwrap();
        let info = decoder.info().unwrap();
        assert_eq!((info.width, info.height), (480, 320));
    }
    assert!(contains(&first, b"PREVIEW"), "the EXIF names it a preview");
    assert_eq!((camera.previews(), camera.exposures()), (2, 0));

    // A camera smaller than a preview is not blown up.
    let small = quick(SimCameraConfig::default());
    let frame = small.connector()().unwrap().preview().unwrap();
    let mut decoder = jpeg_decoder::Decoder::new(&frame[..]);
    decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    assert_eq!((info.width, info.height), (96, 64));
}

#[test]
fn an_unplugged_camera_gives_no_preview() {
    let camera = quick(SimCameraConfig {
        unplug_after_exposures: 1,
        unplug_for: Duration::from_secs(3600),
        ..SimCameraConfig::default()
    });
    let mut session = camera.connector()().unwrap();
    session.expose(&request(1)).unwrap();
    // Due to unplug, but only a shot pulls the plug.
    session.preview().unwrap();
    let err = session.expose(&request(2)).unwrap_err();
    assert!(matches!(err, CameraError::Disconnected { .. }), "{err}");
    let err = session.preview().unwrap_err();
    assert!(
        matches!(err, CameraError::Disconnected { during: "preview" }),
        "{err}"
    );
    assert!(err.needs_reconnect());
    assert_eq!(camera.previews(), 1);
}

#[test]
fn photos_are_darker_with_the_lights_dimmed_or_off_and_unchanged_at_full_light() {
    use crate::judge::{Problem, QualityLimits};
    use crate::light::{Brightness, Light, LightSpec, Lighting};
    // A photo's median luma, and what the judges say of its exposure.
    let judged = |lighting: &Lighting| {
        let camera = SimCamera::new(SimCameraConfig {
            expose_latency: Duration::ZERO,
            download_latency: Duration::ZERO,
            lighting: lighting.clone(),
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let exposure = session.expose(&request(0)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = session.download(&exposure, dir.path()).unwrap();
        let judged = crate::judge::judge_file(&files[0].path, None)
            .unwrap()
            .unwrap();
        let exposure_problems: Vec<String> = judged
            .verdict(&QualityLimits::default())
            .problems
            .iter()
            .filter(|p| matches!(p, Problem::Clipped { .. } | Problem::Crushed { .. }))
            .map(ToString::to_string)
            .collect();
        (judged.exposure.median, exposure_problems)
    };
    let (without, _) = judged(&Lighting::default());
    let room = Lighting::default();
    let spec = LightSpec {
        name: "ring".into(),
        pin: 18,
        active_low: false,
        pwm_hz: Some(1000.0),
        warmup: Duration::ZERO,
    };
    let mut light = Light::new(spec, Box::new(room.output("ring", false))).unwrap();
    let (off, dark) = judged(&room);
    light.set(Brightness::new(40).unwrap()).unwrap();
    let (dimmed, _) = judged(&room);
    light.set(Brightness::FULL).unwrap();
    let (full, problems) = judged(&room);
    assert_eq!(
        full, without,
        "full light must give the photos of a rig without lights"
    );
    assert_eq!(problems, Vec::<String>::new(), "well exposed at full light");
    assert!(
        off < dimmed && dimmed < full,
        "median luma off {off}, at 40 % {dimmed}, full {full}"
    );
    assert!(
        off * 2 < full,
        "off {off} against full {full}: not much darker"
    );
    assert!(
        !dark.is_empty(),
        "the judges find nothing wrong with the photo taken with the lights off"
    );
}
