//! The simulated rig as its photos show it: the sway after a move, the
//! objects slipping, the sensor's noise.

use super::*;
use crate::axis::{Axis, MotionLimits, SimAxis, SimAxisConfig, Sway, Ticket, Travel};
use crate::judge::{judge, Problem, QualityLimits};

/// A 640 × 480 camera (the judges' own size) on `shake`, the objects
/// slipping as `slip` says.
fn camera(shake: &Shake, slip: Slip) -> SimCamera {
    SimCamera::new(SimCameraConfig {
        expose_latency: Duration::ZERO,
        download_latency: Duration::ZERO,
        shake: shake.clone(),
        slip,
        ..SimCameraConfig::default()
    })
}

/// The JPEG `session` takes with the table at `azimuth`, 5° down.
fn photo(session: &mut dyn Camera, azimuth: f64) -> Vec<u8> {
    let exposure = session
        .expose(&CaptureRequest {
            stem: "shot".into(),
            label: "rig".into(),
            azimuth: Degrees(azimuth),
            tilt: Degrees(5.0),
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = session.download(&exposure, dir.path()).unwrap().remove(0);
    std::fs::read(file.path).unwrap()
}

/// The pixels of a JPEG, RGB.
fn pixels(jpeg: &[u8]) -> Vec<u8> {
    jpeg_decoder::Decoder::new(jpeg).decode().unwrap()
}

/// The mean difference of two pictures of one size, levels.
fn difference(a: &[u8], b: &[u8]) -> f64 {
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

#[test]
fn a_photo_taken_as_the_table_stops_is_shaken_and_one_taken_after_settling_is_sharp() {
    let shake = Shake::default();
    let mut table = SimAxis::new(SimAxisConfig {
        name: "turntable",
        limits: MotionLimits {
            max_speed: 3600.0,
            acceleration: 36000.0,
        },
        home_duration: Duration::ZERO,
        travel: Travel::default(),
        fail_every_nth_move: 0,
    })
    .shaking(
        &shake,
        Sway {
            mm: 1.5,
            settle: Duration::from_millis(150),
        },
    );
    let mut session = camera(&shake, Slip::default()).connector()().unwrap();
    let limits = QualityLimits::default();
    table.home(&Ticket::unstoppable()).unwrap();

    table
        .move_to(Degrees(30.0), &Ticket::unstoppable())
        .unwrap();
    let shaken = judge(&photo(&mut *session, 30.0), None).unwrap();

    table
        .move_to(Degrees(60.0), &Ticket::unstoppable())
        .unwrap();
    // The settle time of the shipped profiles.
    std::thread::sleep(Duration::from_millis(300));
    let settled = judge(&photo(&mut *session, 60.0), None).unwrap();

    let (s, t) = (shaken.sharpness.object, settled.sharpness.object);
    assert!(s < limits.min_sharpness / 2.0, "shaken: {s}");
    assert!(
        matches!(
            shaken.verdict(&limits).problems[..],
            [Problem::Blurred { .. }]
        ),
        "{shaken:?}"
    );
    assert!(settled.verdict(&limits).is_good(), "{settled:?}");
    assert!(t > 4.0 * s, "settled {t}, shaken {s}");
}

#[test]
fn the_objects_slip_after_the_set_shot_and_stay_where_they_slipped() {
    let slip = Slip {
        after_shots: 2,
        mm: 30.0,
        deg: 20.0,
    };
    let camera = camera(&Shake::default(), slip);
    let mut session = camera.connector()().unwrap();
    let shots: Vec<Vec<u8>> = (0..4)
        .map(|_| pixels(&photo(&mut *session, 30.0)))
        .collect();
    // The same pose each time: only the sensor's noise tells shots 1 and
    // 2 apart, and 3 and 4; the slip, 2 and 3.
    let still = difference(&shots[0], &shots[1]);
    let after = difference(&shots[2], &shots[3]);
    let slipped = difference(&shots[1], &shots[2]);
    assert!(still < 2.0 && after < 2.0, "{still} {after}");
    assert!(slipped > 10.0 * still.max(after), "{slipped} vs {still}");
    // The preview shows them where they are now.
    let preview = jpeg_decoder::Decoder::new(&session.preview().unwrap()[..])
        .decode()
        .unwrap();
    let unslipped = SimCamera::new(SimCameraConfig::default()).connector()()
        .unwrap()
        .preview()
        .unwrap();
    assert!(difference(&preview, &pixels(&unslipped)) > 5.0);
}

#[test]
fn the_sensor_s_noise_is_light_each_photo_its_own_and_grows_with_the_iso() {
    let camera = camera(&Shake::default(), Slip::default());
    let mut session = camera.connector()().unwrap();
    let mut pair = |iso: &str| {
        let settings = BTreeMap::from([("iso".to_string(), iso.to_string())]);
        session.apply_settings(&settings).unwrap();
        let (a, b) = (photo(&mut *session, 0.0), photo(&mut *session, 0.0));
        assert_ne!(a, b, "two photos of one pose are not the same file");
        difference(&pixels(&a), &pixels(&b))
    };
    let (low, high) = (pair("100"), pair("3200"));
    assert!(low > 0.2 && low < 1.5, "ISO 100: {low}");
    assert!(high > 3.0 * low, "ISO 3200: {high}, ISO 100: {low}");
}
