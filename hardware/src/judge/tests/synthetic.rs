//! The judges on drawn pictures whose every pixel the test sets: black
//! shadows, the histogram, a background frame, a frame the object fills,
//! grey JPEGs, the heat map.

use super::*;

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
