//! The judges on photos the simulated camera renders, whose truth the test
//! sets: sharp or out of focus, well exposed or blown out, the object in
//! the frame, cut off by its edge or missing.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::camera::{CaptureRequest, SimCamera, SimCameraConfig, Stage};
use crate::Degrees;

/// What the simulated camera is asked to photograph, and how.
struct Shot<'a> {
    tilt: f64,
    settings: &'a [(&'a str, &'a str)],
    stage: Stage,
    depth_of_field: bool,
    size: (u32, u32),
}

impl Default for Shot<'_> {
    /// The shipped geometry's camera, tilted 5° down so that the whole
    /// table is in the frame, at 640 × 480, all in focus.
    fn default() -> Self {
        Shot {
            tilt: 5.0,
            settings: &[],
            stage: Stage::default(),
            depth_of_field: false,
            size: (640, 480),
        }
    }
}

/// The JPEG the simulated camera takes of `shot`.
fn photo(shot: &Shot<'_>) -> Vec<u8> {
    let camera = SimCamera::new(SimCameraConfig {
        width: shot.size.0,
        height: shot.size.1,
        expose_latency: Duration::ZERO,
        download_latency: Duration::ZERO,
        stage: shot.stage,
        depth_of_field: shot.depth_of_field,
        ..SimCameraConfig::default()
    });
    let mut session = camera.connector()().unwrap();
    let settings: BTreeMap<String, String> = shot
        .settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    session.apply_settings(&settings).unwrap();
    let exposure = session
        .expose(&CaptureRequest {
            stem: "r1_s01".into(),
            label: "judged".into(),
            azimuth: Degrees(30.0),
            tilt: Degrees(shot.tilt),
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = session.download(&exposure, dir.path()).unwrap().remove(0);
    std::fs::read(file.path).unwrap()
}

/// The judgement of `shot` and its verdict under the default limits.
fn judged(shot: &Shot<'_>) -> (Judgement, Verdict) {
    let judgement = judge(&photo(shot), None).unwrap();
    let verdict = judgement.verdict(&QualityLimits::default());
    (judgement, verdict)
}

/// The names of the problems in `verdict`.
fn names(verdict: &Verdict) -> Vec<&'static str> {
    verdict
        .problems
        .iter()
        .map(|p| match p {
            Problem::Blurred { .. } => "blurred",
            Problem::Clipped { .. } => "clipped",
            Problem::Crushed { .. } => "crushed",
            Problem::Empty { .. } => "empty",
            Problem::CutOff { .. } => "cut off",
        })
        .collect()
}

/// A JPEG of `width` × `height` pixels coloured by `pixel`.
fn synthetic(width: u16, height: u16, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let rgb: Vec<u8> = (0..u32::from(height))
        .flat_map(|y| (0..u32::from(width)).map(move |x| (x, y)))
        .flat_map(|(x, y)| pixel(x, y))
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// A reproducible texture level, 0..=255, for pixel (`x`, `y`).
fn speckle(x: u32, y: u32) -> u8 {
    let h = (x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77)).wrapping_mul(0xC2B2_AE3D);
    (h >> 24) as u8
}

#[test]
fn the_shipped_rig_in_focus_and_well_exposed_is_good() {
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
    for other in [&dark, &large] {
        let ratio = other.sharpness.object / s;
        assert!((0.8..1.25).contains(&ratio), "{s} vs {other:?}");
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
            .starts_with("overexposed: 73 % blown out to white"),
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
fn a_frame_sunk_in_black_is_judged_crushed() {
    // A dark grey backdrop, and an object whose lower half is black.
    let photo = synthetic(320, 240, |x, y| {
        let object = (80..240).contains(&x) && (40..200).contains(&y);
        match (object, y >= 120) {
            (true, true) => [0, 0, 0],
            (true, false) => [speckle(x, y) / 2 + 60; 3],
            (false, _) => [40, 40, 45],
        }
    });
    let judgement = judge(&photo, None).unwrap();
    let verdict = judgement.verdict(&QualityLimits::default());
    assert_eq!(names(&verdict), ["crushed"], "{verdict:?}");
    assert!(
        (0.4..0.6).contains(&judgement.exposure.crushed),
        "{judgement:?}"
    );
}

#[test]
fn the_histogram_counts_the_whole_frame() {
    // A quarter of the frame at 20, the rest at 200.
    let photo = synthetic(320, 240, |x, y| {
        if x < 160 && y < 120 {
            [20; 3]
        } else {
            [200; 3]
        }
    });
    let exposure = judge(&photo, None).unwrap().exposure;
    assert_eq!(exposure.histogram.len(), BINS);
    assert_eq!(
        exposure
            .histogram
            .iter()
            .map(|&k| u32::from(k))
            .sum::<u32>(),
        1000
    );
    let (dark, light) = (
        usize::from(20u8) * BINS / 256,
        usize::from(200u8) * BINS / 256,
    );
    assert!(
        (240..260).contains(&exposure.histogram[dark]),
        "{exposure:?}"
    );
    assert!(
        (740..760).contains(&exposure.histogram[light]),
        "{exposure:?}"
    );
}

#[test]
fn the_shipped_object_3ring_profiles_outer_rings_show_only_backdrop() {
    // With the shipped [geometry] a tilt turns the camera in place: at
    // -20° and +45° it looks past the table.
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

/// An unevenly lit backdrop (dark left, light right) and, when `object`,
/// a speckled square on it: a fifth of the frame, touching no edge.
fn on_uneven_light(object: bool) -> Vec<u8> {
    synthetic(400, 300, |x, y| {
        if object && (110..290).contains(&x) && (65..232).contains(&y) {
            [speckle(x, y), speckle(y, x), 128]
        } else {
            let level = (60 + x * 160 / 400) as u8;
            [level, level, level + 5]
        }
    })
}

#[test]
fn a_background_frame_tells_the_object_from_an_unevenly_lit_backdrop() {
    let background = Picture::decode(&on_uneven_light(false)).unwrap();
    let photo = on_uneven_light(true);
    let against_frame = judge(&photo, Some(&background)).unwrap().framing;
    assert_eq!(against_frame.backdrop, BackdropFrom::Frame);
    assert!(
        (against_frame.fill - 0.25).abs() < 0.02,
        "{against_frame:?}"
    );
    assert_eq!(against_frame.edges, Edges::default());
    // Along the border the backdrop is no one colour: no backdrop is
    // seen, and the whole frame counts as the object.
    let against_border = judge(&photo, None).unwrap().framing;
    assert_eq!(against_border.backdrop, BackdropFrom::Unseen);
    assert_eq!(against_border.fill, 1.0);

    let small = synthetic(200, 150, |_, _| [128; 3]);
    let small = Picture::decode(&small).unwrap();
    assert_eq!(
        judge(&photo, Some(&small)).unwrap_err(),
        NotJudged::BackgroundSize {
            background: (200, 150),
            photo: (400, 300)
        }
    );
}

#[test]
fn an_object_filling_the_frame_runs_out_of_every_edge() {
    let photo = synthetic(320, 240, |x, y| [speckle(x, y), speckle(y, x), 100]);
    let judgement = judge(&photo, None).unwrap();
    assert_eq!(judgement.framing.backdrop, BackdropFrom::Unseen);
    assert_eq!(judgement.framing.fill, 1.0);
    let verdict = judgement.verdict(&QualityLimits::default());
    let cut: Vec<Edge> = verdict
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::CutOff { edge, .. } => Some(*edge),
            _ => None,
        })
        .collect();
    // The bottom is not judged by default (the turntable runs out of it).
    assert_eq!(cut, [Edge::Top, Edge::Left, Edge::Right], "{verdict:?}");
}

#[test]
fn grey_photos_are_judged() {
    // A grey JPEG: the top half at 30, the bottom half at 160.
    let (w, h) = (160u16, 120u16);
    let levels: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |_| if y < h / 2 { 30 } else { 160 }))
        .collect();
    let mut photo = Vec::new();
    jpeg_encoder::Encoder::new(&mut photo, 90)
        .encode(&levels, w, h, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let judgement = judge(&photo, None).unwrap();
    assert_eq!(judgement.measured_px, (160, 120));
    let histogram = &judgement.exposure.histogram;
    assert!(
        (490..=510).contains(&histogram[30 * BINS / 256]),
        "{histogram:?}"
    );
    assert!(
        (490..=510).contains(&histogram[160 * BINS / 256]),
        "{histogram:?}"
    );
}

#[test]
fn the_heat_map_shows_where_the_photo_is_sharp() {
    // Speckle over the whole frame, box-blurred on its right half.
    let sharp = |x: u32, y: u32| f32::from(speckle(x, y));
    let blurred = |x: u32, y: u32| {
        let near = (0..5).flat_map(|dy| (0..5).map(move |dx| sharp(x + dx, y + dy)));
        near.sum::<f32>() / 25.0
    };
    let photo = synthetic(640, 480, |x, y| {
        let level = if x < 320 { sharp(x, y) } else { blurred(x, y) };
        [level as u8; 3]
    });
    let grid = judge(&photo, None).unwrap().sharpness.grid;
    assert_eq!(grid.len(), GRID_COLUMNS * GRID_ROWS);
    for row in grid.chunks(GRID_COLUMNS) {
        let (left, right) = row.split_at(GRID_COLUMNS / 2);
        let least_left = left.iter().min().unwrap();
        let most_right = right.iter().max().unwrap();
        assert!(*least_left > 2 * most_right, "{row:?}");
    }
}

#[test]
fn raw_files_are_judged_by_their_preview_or_not_at_all() {
    let preview = photo(&Shot::default());
    // A TIFF-like RAW: a header, the preview, then sensor data.
    let mut raw = b"II*\0\x08\0\0\0".to_vec();
    raw.extend(vec![0x11; 1000]);
    raw.extend(&preview);
    raw.extend(vec![0x22; 5000]);
    let from_raw = judge(&raw, None).unwrap();
    assert_eq!(from_raw, judge(&preview, None).unwrap());

    // The simulated camera's RAW (a PPM) has no preview.
    let ppm = b"P6\n2 2\n255\n............".to_vec();
    let err = judge(&ppm, None).unwrap_err();
    assert_eq!(err, NotJudged::NoPreview);
    assert!(err.to_string().starts_with("not judged: "), "{err}");
    // A JPEG cut short after its header.
    let cut = &preview[..preview.len() / 3];
    assert!(matches!(judge(cut, None), Err(NotJudged::Undecodable(_))));
}

/// `photo` with `preview` appended and listed in an MPF segment, as
/// cameras write their large preview.
fn with_mpf_preview(photo: &[u8], preview: &[u8]) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0xB002u16.to_le_bytes());
    tiff.extend(7u16.to_le_bytes());
    tiff.extend(32u32.to_le_bytes());
    tiff.extend(26u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    let segment_len = 2 + 4 + tiff.len() + 32;
    // The TIFF header sits after SOI, the marker, the length and "MPF\0".
    let preview_at = 2 + 2 + segment_len + (photo.len() - 2) - 10;
    for (attribute, size, offset) in [
        (0x2003_0000u32, photo.len(), 0),
        (0x0001_0002, preview.len(), preview_at),
    ] {
        tiff.extend(attribute.to_le_bytes());
        tiff.extend((size as u32).to_le_bytes());
        tiff.extend((offset as u32).to_le_bytes());
        tiff.extend([0; 4]);
    }
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE2];
    out.extend((segment_len as u16).to_be_bytes());
    out.extend(b"MPF\0");
    out.extend(tiff);
    out.extend(&photo[2..]);
    out.extend(preview);
    out
}

#[test]
fn a_cameras_large_preview_is_judged_in_place_of_its_photo() {
    let large = photo(&Shot {
        size: (1280, 960),
        ..Shot::default()
    });
    let preview = photo(&Shot::default());
    let both = with_mpf_preview(&large, &preview);
    let judgement = judge(&both, None).unwrap();
    assert_eq!(judgement, judge(&preview, None).unwrap());
    assert_ne!(judgement, judge(&large, None).unwrap());
    // A preview smaller than the judges need is left alone.
    let small = photo(&Shot {
        size: (320, 240),
        ..Shot::default()
    });
    let judgement = judge(&with_mpf_preview(&large, &small), None).unwrap();
    assert_eq!(judgement, judge(&large, None).unwrap());
}

#[test]
fn damaged_and_tiny_photos_are_judged_or_refused_without_a_panic() {
    let whole = photo(&Shot::default());
    let tiny = photo(&Shot {
        size: (320, 240),
        ..Shot::default()
    });
    let with_preview = with_mpf_preview(&whole, &tiny);
    for n in 0..300usize {
        let mut damaged = whole.clone();
        let at = (n * 7919) % damaged.len();
        // And the preview's list, in the first 80 bytes.
        let mut list = with_preview.clone();
        list[2 + n % 78] ^= 1 << (n % 8);
        let _ = judge(&list, None);
        damaged[at] ^= 1 << (n % 8);
        if n % 3 == 0 {
            damaged.truncate(at.max(2));
        }
        let _ = judge(&damaged, None);
    }
    for (w, h) in [(1, 1), (2, 3), (700, 1), (1, 900)] {
        let judgement = judge(&synthetic(w, h, |x, y| [speckle(x, y); 3]), None).unwrap();
        let (mw, mh) = judgement.measured_px;
        assert!(mw >= 1 && mh >= 1 && mw <= u32::from(w) && mh <= u32::from(h));
    }
}

#[test]
fn a_judgement_is_small_in_json_and_reads_back() {
    let (judgement, verdict) = judged(&Shot {
        tilt: 20.0,
        ..Shot::default()
    });
    let json = serde_json::to_string(&judgement).unwrap();
    assert!(json.len() < 1024, "{} bytes: {json}", json.len());
    assert_eq!(serde_json::from_str::<Judgement>(&json).unwrap(), judgement);
    let json = serde_json::to_string(&verdict).unwrap();
    assert!(
        json.contains(r#""problem":"cut_off","edge":"top""#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), verdict);
}

/// The CPU time this process (all its threads) has used, milliseconds
/// (`/proc` counts it in hundredths of a second).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command's name (which may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 * 10.0
}

/// Milliseconds per call of `f`: the least wall time of `runs` runs, and
/// the CPU time of all of them over `runs` (a figure a loaded machine
/// changes less).
fn per_call(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let cpu = cpu_ms();
    let wall = (0..runs)
        .map(|_| {
            let start = std::time::Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min);
    (wall, (cpu_ms() - cpu) / runs as f64)
}

#[test]
#[ignore = "benchmark: cargo test --release -p scanrig-hardware --lib judge::tests::cost -- --ignored --nocapture"]
fn cost_per_photo() {
    let shipped = photo(&Shot::default());
    // A 24 MP photo: the simulated scene at 1500 × 1000, each pixel spread
    // over 4 × 4 with sensor-like noise on top, so that it compresses as a
    // real photo does (about 2 bits a pixel).
    let scene = photo(&Shot {
        size: (1500, 1000),
        ..Shot::default()
    });
    let mut decoder = jpeg_decoder::Decoder::new(&scene[..]);
    let pixels = decoder.decode().unwrap();
    let large = synthetic(6000, 4000, |x, y| {
        let i = 3 * ((y / 4) * 1500 + x / 4) as usize;
        let noise = i16::from(speckle(x, y) / 16) - 8;
        [0, 1, 2].map(|c| (i16::from(pixels[i + c]) + noise).clamp(0, 255) as u8)
    });
    let preview = photo(&Shot {
        size: (1620, 1080),
        ..Shot::default()
    });
    let with_preview = with_mpf_preview(&large, &preview);
    for (name, photo) in [
        ("640 x 480 (shipped)", &shipped),
        ("6000 x 4000", &large),
        ("6000 x 4000 with a 1620 x 1080 MPF preview", &with_preview),
    ] {
        let runs = 20;
        let decode = per_call(runs, || {
            Picture::decode(photo).unwrap();
        });
        let picture = Picture::decode(photo).unwrap();
        let measures = per_call(runs, || {
            measure(&picture, None);
        });
        let whole = per_call(runs, || {
            judge(photo, None).unwrap();
        });
        let measured = judge(photo, None).unwrap().measured_px;
        println!(
            "{name}: {:.1} MB, measured at {measured:?}: decoded in {:.1} ms ({:.1} ms CPU), \
             measured in {:.1} ms ({:.1} ms CPU); judged in {:.1} ms ({:.1} ms CPU) per photo",
            photo.len() as f64 / 1e6,
            decode.0,
            decode.1,
            measures.0,
            measures.1,
            whole.0,
            whole.1
        );
    }
}
