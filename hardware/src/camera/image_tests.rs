//! Tests of the simulated camera's synthetic JPEG files.

use super::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn spec(file_size: u64) -> ImageSpec<'static> {
    ImageSpec {
        width: 160,
        height: 120,
        label: "scan 7 ring 2 shot 3",
        azimuth: Degrees(90.0),
        tilt: Degrees(15.0),
        stage: Stage::default(),
        captured: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        file_size,
        look: Look::default(),
    }
}

fn encode(spec: &ImageSpec<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    write_jpeg(&mut out, spec).unwrap();
    out
}

fn decode(bytes: &[u8]) -> (u16, u16, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let pixels = d.decode().unwrap();
    let info = d.info().unwrap();
    (info.width, info.height, pixels)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn dates_are_civil_utc() {
    assert_eq!(exif_datetime(UNIX_EPOCH), "1970:01:01 00:00:00");
    let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(exif_datetime(t), "2023:11:14 22:13:20");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661); // 2000-02-29
    assert_eq!(exif_datetime(leap), "2000:02:29 01:01:01");
}

#[test]
fn jpeg_decodes_at_size_with_exif_and_a_pattern() {
    let bytes = encode(&spec(0));
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
    assert!(contains(&bytes, b"Exif\0\0II*\0"));
    assert!(contains(
        &bytes,
        b"scan 7 ring 2 shot 3; azimuth=90.0; tilt=15.0\0"
    ));
    assert!(contains(&bytes, b"scanrig\0"));
    assert!(contains(&bytes, b"2023:11:14 22:13:20\0"));
    let (w, h, pixels) = decode(&bytes);
    assert_eq!((w, h, pixels.len()), (160, 120, 160 * 120 * 3));
    let lo = pixels.iter().min().unwrap();
    let hi = pixels.iter().max().unwrap();
    assert!(hi - lo > 150, "image looks flat: {lo}..{hi}");
}

/// A TIFF entry's type and its value's bytes.
type Entry = (u16, Vec<u8>);

/// The entries of the IFD at `at` in `tiff` (little-endian), by tag.
fn read_ifd(tiff: &[u8], at: usize) -> BTreeMap<u16, Entry> {
    let u16_at = |i: usize| u16::from_le_bytes([tiff[i], tiff[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes(tiff[i..i + 4].try_into().unwrap());
    (0..usize::from(u16_at(at)))
        .map(|k| {
            let e = at + 2 + 12 * k;
            let (kind, count) = (u16_at(e + 2), u32_at(e + 4) as usize);
            let size = count * [0, 1, 1, 2, 4, 8, 1, 1][usize::from(kind)];
            let start = if size <= 4 {
                e + 8
            } else {
                u32_at(e + 8) as usize
            };
            (u16_at(e), (kind, tiff[start..start + size].to_vec()))
        })
        .collect()
}

/// A photo's EXIF tags, IFD0's and the Exif IFD's, read back from its
/// APP1 segment.
fn exif(jpeg: &[u8]) -> BTreeMap<u16, Entry> {
    let at = jpeg.windows(6).position(|w| w == b"Exif\0\0").unwrap() + 6;
    let tiff = &jpeg[at..];
    assert_eq!(&tiff[..4], b"II*\0");
    let mut tags = read_ifd(
        tiff,
        u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize,
    );
    let exif_ifd = u32::from_le_bytes(tags[&0x8769].1[..4].try_into().unwrap());
    tags.extend(read_ifd(tiff, exif_ifd as usize));
    tags
}

fn text(entry: &Entry) -> String {
    assert_eq!(entry.0, 2, "ASCII");
    String::from_utf8(entry.1.strip_suffix(b"\0").unwrap().to_vec()).unwrap()
}

fn number(entry: &Entry) -> f64 {
    let b = &entry.1;
    let word = |i: usize| f64::from(u32::from_le_bytes(b[i..i + 4].try_into().unwrap()));
    match entry.0 {
        3 => f64::from(u16::from_le_bytes([b[0], b[1]])),
        4 => word(0),
        5 => word(0) / word(4),
        kind => panic!("not a number: type {kind}"),
    }
}

#[test]
fn the_exif_says_what_a_camera_says_the_focal_length_in_every_form_tools_read() {
    // A 50 mm lens on a full-frame sensor, a 3:2 photo of 300 × 200.
    let full_frame = Stage {
        focal_mm: 50.0,
        sensor_width_mm: 36.0,
        sensor_height_mm: 24.0,
        ..Stage::default()
    };
    let tags = exif(&encode(&ImageSpec {
        width: 300,
        height: 200,
        stage: full_frame,
        ..spec(0)
    }));
    assert_eq!(text(&tags[&0x010F]), "scanrig"); // Make
    assert_eq!(text(&tags[&0x0110]), "SimCamera"); // Model
    let label = "scan 7 ring 2 shot 3; azimuth=90.0; tilt=15.0";
    assert_eq!(text(&tags[&0x010E]), label); // ImageDescription
    let comment = &tags[&0x9286]; // UserComment
    assert_eq!((comment.0, &comment.1[..8]), (7, &b"ASCII\0\0\0"[..]));
    assert_eq!(&comment.1[8..], label.as_bytes());
    assert_eq!(text(&tags[&0x9003]), "2023:11:14 22:13:20"); // DateTimeOriginal
    assert_eq!(number(&tags[&0x920A]), 50.0); // FocalLength
    assert_eq!(number(&tags[&0xA405]), 50.0); // FocalLengthIn35mmFilm
    assert_eq!(
        (number(&tags[&0xA002]), number(&tags[&0xA003])),
        (300.0, 200.0)
    );
    // 300 pixels over 3.6 cm; the focal length in pixels, as COLMAP
    // reads it from the focal plane's resolution: 50 / 36 × 300.
    assert_eq!(number(&tags[&0xA210]), 3.0); // centimetres
    let per_mm = number(&tags[&0xA20E]) / 10.0;
    assert!(
        (50.0 * per_mm - 50.0 / 36.0 * 300.0).abs() < 0.01,
        "{per_mm}"
    );
    assert_eq!(number(&tags[&0xA20F]), number(&tags[&0xA20E]));

    // The shipped 35 mm lens on APS-C (23.5 × 15.6), a 4:3 photo: the
    // largest 4:3 rectangle of the sensor, 20.8 × 15.6 mm, 26 mm across
    // (1.66 times less than 35 mm film's 43.27): as a 58 mm lens.
    let tags = exif(&encode(&spec(0)));
    assert_eq!(number(&tags[&0x920A]), 35.0);
    assert_eq!(number(&tags[&0xA405]), 58.0);
    assert!((number(&tags[&0xA20E]) - 160.0 / 2.08).abs() < 0.01);
}

#[test]
fn a_photo_of_nothing_but_the_backdrop_is_the_backdrop_in_every_corner() {
    // Looking 60° up, past everything: no caption, no mark, anywhere.
    let (w, h, pixels) = decode(&encode(&ImageSpec {
        tilt: Degrees(-60.0),
        ..spec(0)
    }));
    let backdrop = [199, 199, 204];
    let off: Vec<usize> = pixels
        .chunks(3)
        .enumerate()
        .filter(|(_, p)| p.iter().zip(backdrop).any(|(&c, b)| c.abs_diff(b) > 2))
        .map(|(i, _)| i)
        .collect();
    assert!(
        off.is_empty(),
        "{} of {w} × {h} pixels differ, the first at {:?}",
        off.len(),
        off.first()
            .map(|i| (i % usize::from(w), i / usize::from(w)))
    );
}

#[test]
fn azimuth_changes_the_picture() {
    let a = encode(&spec(0));
    let b = encode(&ImageSpec {
        azimuth: Degrees(200.0),
        ..spec(0)
    });
    // The objects turned with the table: the middle of the photo differs.
    let (pa, pb) = (decode(&a).2, decode(&b).2);
    let middle = (60 * 160 + 80) * 3;
    assert_ne!(&pa[middle..middle + 3], &pb[middle..middle + 3]);
}

#[test]
fn padding_reaches_the_exact_size_and_still_decodes() {
    let natural = encode(&spec(0)).len() as u64;
    for target in [natural + 1, natural + 4, natural + 70_000, 300_001] {
        let bytes = encode(&spec(target));
        assert!(bytes.len() as u64 >= target);
        assert!(bytes.len() as u64 <= target.max(natural + 4), "{target}");
        let (w, h, _) = decode(&bytes);
        assert_eq!((w, h), (160, 120));
    }
    assert_eq!(encode(&spec(natural - 10)).len() as u64, natural);
}

#[test]
fn bad_sizes_are_errors() {
    for (width, height) in [(0, 10), (10, 0), (70_000, 10)] {
        let err = write_jpeg(
            &mut Vec::new(),
            &ImageSpec {
                width,
                height,
                ..spec(0)
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}

/// The pixels of the shot as the RAW file has them: (width, RGB rows).
fn raw(spec: &ImageSpec<'_>) -> (usize, Vec<u8>) {
    let mut out = Vec::new();
    write_ppm(&mut out, spec).unwrap();
    let header = format!("P6\n{} {}\n255\n", spec.width, spec.height);
    assert!(out.starts_with(header.as_bytes()));
    (spec.width as usize, out[header.len()..].to_vec())
}

/// The variance of the Laplacian of the green channel: how sharp.
fn sharpness(width: usize, rgb: &[u8]) -> f64 {
    let height = rgb.len() / 3 / width;
    let g = |x: usize, y: usize| f64::from(rgb[3 * (y * width + x) + 1]);
    let values: Vec<f64> = (1..height - 1)
        .flat_map(|y| (1..width - 1).map(move |x| (x, y)))
        .map(|(x, y)| 4.0 * g(x, y) - g(x - 1, y) - g(x + 1, y) - g(x, y - 1) - g(x, y + 1))
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
}

#[test]
fn more_exposure_is_brighter_and_none_changes_nothing() {
    let at = |ev: f64| {
        let spec = ImageSpec {
            look: Look {
                ev,
                ..Look::default()
            },
            ..spec(0)
        };
        let (_, rgb) = raw(&spec);
        rgb.iter().map(|&v| f64::from(v)).sum::<f64>() / rgb.len() as f64
    };
    let (dark, normal, bright) = (at(-2.0), at(0.0), at(2.0));
    assert!(
        dark < normal * 0.6 && bright > normal * 1.3,
        "{dark} {normal} {bright}"
    );
    assert_eq!(
        encode(&spec(0)),
        encode(&ImageSpec {
            look: Look::default(),
            ..spec(0)
        })
    );
}

#[test]
fn a_lens_focused_away_from_the_objects_blurs_them() {
    let at = |focus: Option<(f64, i32)>| {
        let spec = ImageSpec {
            width: 320,
            height: 240,
            look: Look {
                focus,
                ..Look::default()
            },
            ..spec(0)
        };
        let (w, rgb) = raw(&spec);
        sharpness(w, &rgb)
    };
    let sharp = at(None);
    let focused = at(Some((2.8, 0)));
    let far = at(Some((2.8, 3000)));
    let stopped_down = at(Some((22.0, 3000)));
    assert!(far < focused * 0.7, "focused {focused}, 30 cm behind {far}");
    assert!(focused <= sharp, "{focused} {sharp}");
    assert!(stopped_down > far, "f/22 {stopped_down} vs f/2.8 {far}");
}

#[test]
fn a_swayed_picture_made_a_band_of_rows_at_a_time_is_the_whole_frame_smeared() {
    // Small and large sways, the largest past the widest blur; rows asked
    // in order (as the encoder does), then one again from the top.
    for sway_mm in [0.2, 3.0, 60.0] {
        let mut spec = spec(0);
        spec.look.sway_mm = sway_mm;
        let picture = Picture::new(&spec, 160, 120);
        let (w, h) = (160usize, 120usize);
        let reach = sway_mm * picture.view.px_per_mm();
        assert!(reach > SWAY_SEEN, "{reach}");
        let sharp = (0..h as u32)
            .flat_map(|y| (0..w as u32).map(move |x| (x, y)))
            .map(|(x, y)| picture.view.sample(x, y).0)
            .collect();
        let whole = smear(smear(sharp, w, h, reach, true), w, h, reach, false);
        let Frame::Swayed(rows) = &picture.frame else {
            panic!("a swayed picture is made a band at a time");
        };
        for y in (0..h).chain([0, 57]) {
            let row = rows
                .borrow_mut()
                .row(&picture.view, w as u32, h as u32, y as u32);
            assert_eq!(row, whole[y * w..(y + 1) * w], "sway {sway_mm} mm, row {y}");
        }
        // It holds the rows the sway reaches across, not the picture.
        assert!(rows.borrow().band.len() <= 2 * MAX_BLUR as usize + 3);
    }
}
