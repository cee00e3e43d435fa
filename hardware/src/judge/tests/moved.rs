//! A check frame held against a ring's first photo: drawn pictures of an
//! object slipped by 3 cm, or only noisy, shaken or exposed otherwise; and
//! the simulated camera's preview of the pose of a photo.

use super::*;
use crate::axis::{Shake, Sway};

/// 640 px across are 0.336 m at the shipped geometry (0.5 m away, a 35 mm
/// lens on a 23.5 mm sensor): 3 cm are 57 px.
const THREE_CM_PX: u32 = 57;

/// How a drawn picture differs from the first photo.
#[derive(Default)]
struct Drawn {
    /// The object's slip to the right, pixels.
    slip: u32,
    /// The whole picture's shift to the right, pixels (the rig shaking).
    shake: u32,
    /// Noise added to every pixel, at most this many levels each way.
    noise: u8,
    /// Brightness, as a share of the photo's.
    gain: f32,
}

/// A light backdrop, a textured table top across the lower third and a
/// textured box of 120 × 160 px on it, 640 × 480.
fn drawn(d: &Drawn) -> Vec<u8> {
    let gain = if d.gain == 0.0 { 1.0 } else { d.gain };
    synthetic(640, 480, |x, y| {
        let x = x.wrapping_sub(d.shake);
        let ox = x.wrapping_sub(260 + d.slip);
        let level = if ox < 120 && (180..340).contains(&y) {
            60 + speckle(ox / 12, y / 12) / 2
        } else if y >= 320 {
            110 + speckle(x / 20, y / 20) / 4
        } else {
            200
        };
        let noise = if d.noise == 0 {
            0
        } else {
            i32::from(speckle(x.wrapping_add(7), y + 3) % (2 * d.noise + 1)) - i32::from(d.noise)
        };
        let v = (f32::from(level) * gain) as i32 + noise;
        [v.clamp(0, 255) as u8; 3]
    })
}

/// The first photo, drawn, against a frame drawn as `frame` says.
fn compared(frame: &Drawn) -> Movement {
    compare_files(&drawn(&Drawn::default()), &drawn(frame)).unwrap()
}

#[test]
fn an_object_slipped_by_3_cm_is_told_from_noise_shake_and_exposure() {
    let slipped = compared(&Drawn {
        slip: THREE_CM_PX,
        ..Drawn::default()
    });
    let calm = [
        compared(&Drawn::default()),
        compared(&Drawn {
            noise: 8,
            ..Drawn::default()
        }),
        compared(&Drawn {
            shake: 1,
            noise: 8,
            ..Drawn::default()
        }),
        compared(&Drawn {
            shake: 12,
            ..Drawn::default()
        }),
        compared(&Drawn {
            gain: 0.7,
            noise: 4,
            ..Drawn::default()
        }),
    ];
    let limit = MAX_CHANGED;
    assert!(slipped.changed > 1.5 * limit, "{slipped:?}");
    for movement in calm {
        assert!(movement.changed < limit / 2.0, "{movement:?}");
    }
    // A photo exposed 2 stops over, its backdrop blown out to white.
    let over = compared(&Drawn {
        gain: 1.6,
        noise: 4,
        ..Drawn::default()
    });
    assert!(over.changed < limit / 2.0, "{over:?}");
    // Half a centimetre is not a slip worth a pause either.
    let nudged = compared(&Drawn {
        slip: THREE_CM_PX / 6,
        ..Drawn::default()
    });
    assert!(nudged.changed < limit, "{nudged:?}");
}

#[test]
fn a_frame_of_another_shape_or_no_jpeg_is_not_compared() {
    let photo = drawn(&Drawn::default());
    let wide = synthetic(640, 360, |_, _| [128; 3]);
    let e = compare_files(&photo, &wide).unwrap_err();
    assert!(matches!(e, NotCompared::Shape { .. }), "{e:?}");
    assert!(e.to_string().contains("(640, 360)"), "{e}");
    let e = compare_files(&photo, b"not a picture").unwrap_err();
    assert!(e.to_string().starts_with("the check frame"), "{e}");
}

#[test]
fn the_simulated_cameras_check_frame_matches_its_photo_of_the_same_pose() {
    // At the size of the photos and of the rig tests' (whose caption, the
    // photo's name, runs across the whole top of the frame).
    for (width, height) in [(640, 480), (160, 120)] {
        let camera = SimCamera::new(SimCameraConfig {
            width,
            height,
            expose_latency: Duration::ZERO,
            download_latency: Duration::ZERO,
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let at = |azimuth: f64| CaptureRequest {
            stem: "scan_0001_r1_az040.0_t+10.0".into(),
            label: "checked".into(),
            azimuth: Degrees(azimuth),
            tilt: Degrees(10.0),
        };
        let exposure = session.expose(&at(40.0)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = session.download(&exposure, dir.path()).unwrap().remove(0);
        let photo = std::fs::read(file.path).unwrap();

        let same = session.check_frame(&at(40.0)).unwrap();
        let still = compare_files(&photo, &same).unwrap();
        assert!(still.changed < MAX_CHANGED / 2.0, "{width}: {still:?}");
        // The table turned by 10° under the object is a moved object.
        let turned = session.check_frame(&at(50.0)).unwrap();
        let moved = compare_files(&photo, &turned).unwrap();
        assert!(moved.changed > MAX_CHANGED, "{width}: {moved:?}");
        assert_eq!((camera.previews(), camera.exposures()), (2, 1));
    }
}

#[test]
fn the_simulated_objects_slipped_by_3_cm_are_seen_moved_by_the_check_frame() {
    let camera = SimCamera::new(SimCameraConfig {
        expose_latency: Duration::ZERO,
        download_latency: Duration::ZERO,
        slip: crate::camera::Slip {
            after_shots: 1,
            mm: 30.0,
            deg: 0.0,
        },
        ..SimCameraConfig::default()
    });
    let mut session = camera.connector()().unwrap();
    let at = |azimuth: f64| CaptureRequest {
        stem: format!("scan_r1_az{azimuth:05.1}"),
        label: "slipped".into(),
        azimuth: Degrees(azimuth),
        tilt: Degrees(5.0),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut photos = Vec::new();
    for azimuth in [0.0, 90.0, 180.0] {
        let exposure = session.expose(&at(azimuth)).unwrap();
        let file = session.download(&exposure, dir.path()).unwrap().remove(0);
        photos.push(std::fs::read(file.path).unwrap());
    }
    // The first photo was taken before the slip, the frames after it.
    let first = compare_files(&photos[0], &session.check_frame(&at(0.0)).unwrap()).unwrap();
    assert!(first.changed > 2.0 * MAX_CHANGED, "{first:?}");
    let last = compare_files(&photos[2], &session.check_frame(&at(180.0)).unwrap()).unwrap();
    assert!(last.changed < MAX_CHANGED / 2.0, "{last:?}");
}

#[test]
fn a_photo_smeared_by_the_rigs_sway_is_no_moved_object() {
    // Both axes just stopped (1.5 + 2 mm of sway, the shipped simulated
    // rig's): the photo is smeared, the check frame after settling is not.
    for (width, height) in [(640, 480), (160, 120)] {
        let shake = Shake::default();
        let camera = SimCamera::new(SimCameraConfig {
            width,
            height,
            expose_latency: Duration::ZERO,
            download_latency: Duration::ZERO,
            shake: shake.clone(),
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let at = CaptureRequest {
            stem: "scan_0001_r1_az030.0_t+10.0".into(),
            label: "swaying".into(),
            azimuth: Degrees(30.0),
            tilt: Degrees(10.0),
        };
        let settle = Duration::from_secs(60);
        shake.stopped("turntable", Sway { mm: 1.5, settle });
        shake.stopped("tilt", Sway { mm: 2.0, settle });
        let exposure = session.expose(&at).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = session.download(&exposure, dir.path()).unwrap().remove(0);
        let photo = std::fs::read(file.path).unwrap();
        let m = compare_files(&photo, &session.check_frame(&at).unwrap()).unwrap();
        assert!(m.changed < MAX_CHANGED / 2.0, "{width}: {m:?}");
    }
}
