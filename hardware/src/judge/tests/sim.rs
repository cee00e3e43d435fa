//! The judges on the simulated camera's photos: in focus or not, exposed
//! well or not, the object in the frame, cut off by its edge or missing.

use super::*;

#[test]
fn a_camera_in_focus_and_well_exposed_is_good() {
    for tilt in [0.0, 5.0] {
        let (judgement, verdict) = judged(&Shot {
            tilt,
            ..Shot::default()
        });
        assert!(verdict.is_good(), "tilt {tilt}: {verdict:?} {judgement:?}");
        assert_eq!(judgement.measured_px, (640, 480));
        assert_eq!(judgement.exposure.over, Region::Object);
        assert!(judgement.framing.fill > 0.15, "{judgement:?}");
    }
}

#[test]
fn a_lens_focused_behind_the_object_is_judged_blurred() {
    let at = |drive: &str| {
        judged(&Shot {
            settings: &[("aperture", "2.8"), ("manualfocusdrive", drive)],
            depth_of_field: true,
            ..Shot::default()
        })
    };
    let (focused, good) = at("0");
    let (soft, _) = at("300");
    let (far, blurred) = at("3000");
    assert!(good.is_good(), "{good:?}");
    assert_eq!(names(&blurred), ["blurred"], "{blurred:?}");
    let s = |j: &Judgement| j.sharpness.object;
    assert!(
        s(&focused) > s(&soft) && s(&soft) > 2.0 * s(&far),
        "{} {} {}",
        s(&focused),
        s(&soft),
        s(&far)
    );
    assert!(
        blurred.problems[0]
            .to_string()
            .starts_with("blurred: sharpness "),
        "{}",
        blurred.problems[0]
    );
}

#[test]
fn sharpness_does_not_change_with_exposure_or_photo_size() {
    let (normal, _) = judged(&Shot::default());
    let (dark, _) = judged(&Shot {
        settings: &[("exposurecompensation", "-2")],
        ..Shot::default()
    });
    // Twice the pixels each way: decoded at half size, by the DCT.
    let (large, _) = judged(&Shot {
        size: (1280, 960),
        ..Shot::default()
    });
    assert_eq!(large.measured_px, (640, 480));
    let s = normal.sharpness.object;
    // The simulated scene's texture, drawn at 640 × 480 about a texel a
    // pixel, is a little finer than drawn at twice the size and halved:
    // 71 against 57, both with the sensor's noise.
    for other in [&dark, &large] {
        let ratio = other.sharpness.object / s;
        assert!((0.75..1.25).contains(&ratio), "{s} vs {other:?}");
    }
    assert!((large.framing.fill - normal.framing.fill).abs() < 0.02);
}

#[test]
fn three_stops_over_is_judged_clipped_and_normal_exposure_not() {
    let (over, verdict) = judged(&Shot {
        settings: &[("exposurecompensation", "+3")],
        ..Shot::default()
    });
    let clipped = verdict
        .problems
        .iter()
        .find(|p| matches!(p, Problem::Clipped { .. }))
        .unwrap_or_else(|| panic!("{verdict:?}"));
    assert!(
        clipped
            .to_string()
            .starts_with("overexposed: 74 % blown out to white"),
        "{clipped}"
    );
    assert!(over.exposure.clipped > 0.5, "{over:?}");
    // The backdrop blew out with the object: the whole frame is counted.
    assert_eq!(over.exposure.over, Region::Frame);
    assert_eq!(over.exposure.median, 255);

    let (normal, verdict) = judged(&Shot::default());
    assert!(verdict.is_good(), "{verdict:?}");
    assert_eq!(normal.exposure.clipped, 0.0);
    assert!((60..160).contains(&normal.exposure.median), "{normal:?}");
}

#[test]
fn a_camera_tilted_in_place_to_the_object_3ring_profiles_outer_rings_sees_only_backdrop() {
    // On a tripod (no arm) a tilt turns the camera in place: at -20° and
    // +45° it looks past the table.
    for tilt in [-20.0, 45.0] {
        let (judgement, verdict) = judged(&Shot {
            tilt,
            ..Shot::default()
        });
        assert_eq!(names(&verdict), ["empty"], "tilt {tilt}: {verdict:?}");
        assert!(judgement.framing.fill < 0.01, "{judgement:?}");
        // The backdrop's exposure, not the few pixels taken for an object.
        assert_eq!(judgement.exposure.over, Region::Frame);
        assert!(judgement.exposure.clipped < 0.001, "{judgement:?}");
        assert!(
            verdict.problems[0]
                .to_string()
                .starts_with("the object is not in the frame"),
            "{}",
            verdict.problems[0]
        );
    }
}

#[test]
fn an_object_running_out_of_the_top_is_judged_cut_off() {
    let (judgement, verdict) = judged(&Shot {
        tilt: 20.0,
        ..Shot::default()
    });
    assert!(
        matches!(
            verdict.problems[..],
            [Problem::CutOff {
                edge: Edge::Top,
                ..
            }]
        ),
        "{verdict:?}"
    );
    assert!(judgement.framing.edges.top > 0.2, "{judgement:?}");
    assert_eq!(judgement.framing.edges.left, 0.0);
    assert_eq!(judgement.framing.edges.right, 0.0);
    assert!(
        verdict.problems[0]
            .to_string()
            .starts_with("the object leaves the frame at the top edge"),
        "{}",
        verdict.problems[0]
    );
    // Tilted 5°, it is whole.
    let (whole, _) = judged(&Shot::default());
    assert_eq!(whole.framing.edges, Edges::default());
}
