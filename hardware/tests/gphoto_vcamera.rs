//! The libgphoto2 camera driver against libgphoto2's own virtual camera
//! (built by `.ci/vcamera`): capture, download, settings, preview, a camera
//! gone.
//!
//! The virtual camera is found through `VCAMERA_IOLIBS` (its iolib folder).
//! Without it these tests say so and skip, unless `VCAMERA_REQUIRED=1`
//! (as in CI), where a missing camera is a failure.
#![cfg(feature = "gphoto2")]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use scanrig_hardware::camera::gphoto::{self, GphotoConfig};
use scanrig_hardware::camera::{CameraError, CaptureRequest};
use scanrig_hardware::fsutil::digest_file;
use scanrig_hardware::Degrees;

/// The folder the tests run in: it holds `>rec`, the virtual camera's USB id.
static WORKDIR: OnceLock<Option<PathBuf>> = OnceLock::new();
/// One camera at a time: the virtual camera's state is shared by sessions.
static CAMERA: Mutex<()> = Mutex::new(());

/// Sets up the virtual camera once; `None` (with the reason printed) when
/// it is not built here.
fn vcamera() -> Option<MutexGuard<'static, ()>> {
    let dir = WORKDIR.get_or_init(|| {
        let Some(iolibs) = std::env::var_os("VCAMERA_IOLIBS") else {
            assert!(
                std::env::var_os("VCAMERA_REQUIRED").is_none(),
                "VCAMERA_REQUIRED is set but VCAMERA_IOLIBS is not: run .ci/vcamera"
            );
            return None;
        };
        // libgphoto2 reads IOLIBS when it first lists its port drivers,
        // which no test has done yet.
        std::env::set_var("IOLIBS", iolibs);
        let dir = tempfile::tempdir().expect("temp dir").keep();
        std::fs::write(dir.join(">rec"), [0xb0, 0x04, 0x37, 0x04]).expect(">rec");
        // The port `usb:>rec` names a file relative to the working directory.
        std::env::set_current_dir(&dir).expect("cd");
        Some(dir)
    });
    if dir.is_none() {
        // Straight to stderr, past the test harness's capture, so the skip
        // shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: libgphoto2's virtual camera is not built here (run .ci/vcamera PREFIX and set VCAMERA_IOLIBS=PREFIX/lib/libgphoto2_port/0.12.1)"
        );
        return None;
    }
    Some(CAMERA.lock().unwrap_or_else(|e| e.into_inner()))
}

fn config() -> GphotoConfig {
    GphotoConfig {
        model: "Nikon DSC D750".into(),
        port: "usb:>rec".into(),
        delete_after_download: true,
        pair_wait: Duration::from_millis(20),
    }
}

fn request(stem: &str) -> CaptureRequest {
    CaptureRequest {
        stem: stem.into(),
        label: stem.into(),
        azimuth: Degrees(0.0),
        tilt: Degrees(0.0),
    }
}

#[test]
fn capture_then_download_puts_the_whole_photo_in_the_spool_and_clears_the_card() {
    let Some(_camera) = vcamera() else { return };
    let mut camera = gphoto::connector(config())().expect("open the virtual camera");
    assert_eq!(camera.info().model, "Nikon DSC D750");
    let spool = tempfile::tempdir().unwrap();
    for n in 1..=3 {
        let stem = format!("shot_{n:04}");
        let exposure = camera.expose(&request(&stem)).expect("capture");
        assert_eq!(exposure.files.len(), 1);
        assert!(exposure.files[0].name.to_uppercase().ends_with(".JPG"));
        let files = camera.download(&exposure, spool.path()).expect("download");
        assert_eq!(files.len(), 1);
        let file = &files[0];
        assert_eq!(file.path, spool.path().join(format!("{stem}.jpg")));
        let bytes = std::fs::read(&file.path).unwrap();
        assert_eq!(&bytes[..2], [0xFF, 0xD8], "a JPEG");
        let digest = digest_file(&file.path).unwrap();
        assert_eq!(
            (digest.sha256.as_str(), digest.size),
            (file.sha256.as_str(), file.size)
        );
        // Deleted from the camera after the download: a second download finds nothing.
        let again = camera.download(&exposure, spool.path()).unwrap_err();
        assert!(matches!(again, CameraError::FileGone { .. }), "{again}");
    }
    let names: Vec<_> = std::fs::read_dir(spool.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "no temp file left: {names:?}");
}

#[test]
fn preview_on_a_camera_without_live_view_is_unsupported_and_the_session_lives_on() {
    let Some(_camera) = vcamera() else { return };
    let mut camera = gphoto::connector(config())().expect("open");
    // The virtual D750 has no Nikon live view (PTP StartLiveView), so
    // libgphoto2 refuses the preview; a real D750 would hand over a frame.
    let err = camera
        .preview()
        .expect_err("the virtual camera has no live view");
    assert!(
        matches!(
            err,
            CameraError::Unsupported {
                during: "preview",
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.needs_reconnect(), "{err}");
    camera
        .expose(&request("after_preview"))
        .expect("the session still captures");
}

#[test]
fn settings_are_listed_with_choices_and_a_valid_value_is_applied() {
    let Some(_camera) = vcamera() else { return };
    let mut camera = gphoto::connector(config())().expect("open");
    let settings = camera.settings().expect("list settings");
    let fnumber = settings
        .iter()
        .find(|s| s.name == "f-number")
        .expect("f-number");
    assert_eq!(fnumber.kind, "radio");
    assert!(fnumber.choices.iter().any(|c| c == "f/5.6"), "{fnumber:?}");
    assert!(settings.iter().any(|s| s.name == "capturetarget"));
    let wanted = if fnumber.value == "f/5.6" {
        "f/8"
    } else {
        "f/5.6"
    };
    let mut change = BTreeMap::new();
    change.insert("f-number".to_string(), wanted.to_string());
    camera.apply_settings(&change).expect("set f-number");
    let after = camera.settings().unwrap();
    let value = &after.iter().find(|s| s.name == "f-number").unwrap().value;
    assert_eq!(value, wanted);
}

#[test]
fn bad_settings_name_the_choices_and_change_nothing() {
    let Some(_camera) = vcamera() else { return };
    let mut camera = gphoto::connector(config())().expect("open");
    let before = camera.settings().unwrap();
    let value_of = |settings: &[scanrig_hardware::camera::Setting], name: &str| {
        settings
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .value
            .clone()
    };
    let other = if value_of(&before, "f-number") == "f/8" {
        "f/11"
    } else {
        "f/8"
    };

    // A valid change next to an unknown widget: refused as a whole.
    let mut bad = BTreeMap::new();
    bad.insert("f-number".to_string(), other.to_string());
    bad.insert("isoo".to_string(), "100".to_string());
    let err = camera.apply_settings(&bad).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CameraError::UnknownSetting { .. }), "{text}");
    assert!(text.contains("isoo") && text.contains("f-number"), "{text}");

    // A value the camera does not offer: the message lists the choices.
    let mut bad = BTreeMap::new();
    bad.insert("f-number".to_string(), "f/99".to_string());
    let err = camera.apply_settings(&bad).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CameraError::InvalidValue { .. }), "{text}");
    assert!(text.contains("f/99") && text.contains("f/5.6"), "{text}");

    // A read-only one.
    let mut bad = BTreeMap::new();
    bad.insert("imagesize".to_string(), "1024x768".to_string());
    assert!(camera.apply_settings(&bad).is_err());

    let after = camera.settings().unwrap();
    assert_eq!(value_of(&after, "f-number"), value_of(&before, "f-number"));
}

#[test]
fn a_camera_that_is_gone_is_reported_as_not_connected() {
    let Some(_camera) = vcamera() else { return };
    std::fs::rename(">rec", "rec.away").unwrap();
    let result = gphoto::connector(config())();
    std::fs::rename("rec.away", ">rec").unwrap();
    let err = result.err().expect("no camera");
    assert!(matches!(err, CameraError::NotConnected { .. }), "{err}");
    assert!(err.needs_reconnect());
    assert!(err.to_string().contains("check the USB cable"), "{err}");
    // Back again: a new session works. (The virtual camera remembers the
    // USB id it last failed to read for a port until another port is
    // tried; a real camera has no such memory.)
    let elsewhere = GphotoConfig {
        port: "usb:>elsewhere".into(),
        ..config()
    };
    assert!(gphoto::connector(elsewhere)().is_err());
    let mut camera = gphoto::connector(config())().expect("reconnect");
    camera
        .expose(&request("after"))
        .expect("capture after reconnect");
}

#[test]
fn asking_for_a_model_that_is_not_there_says_so() {
    let Some(_camera) = vcamera() else { return };
    let wanted = GphotoConfig {
        model: "Canon EOS 5D".into(),
        port: String::new(),
        ..config()
    };
    let err = gphoto::connector(wanted)().err().expect("no such camera");
    assert!(matches!(err, CameraError::NotConnected { .. }), "{err}");
    assert!(err.to_string().contains("Canon EOS 5D"), "{err}");
}
