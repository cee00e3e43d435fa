//! Tests of the judges, on photos whose truth the test sets: the simulated
//! camera's, and pictures drawn pixel by pixel; and what they share.

mod cost;
mod files;
mod moved;
mod sim;
mod synthetic;

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::camera::{CaptureRequest, SimCamera, SimCameraConfig};
use crate::Degrees;

/// What the simulated camera is asked to photograph, and how.
struct Shot<'a> {
    tilt: f64,
    settings: &'a [(&'a str, &'a str)],
    depth_of_field: bool,
    size: (u32, u32),
}

impl Default for Shot<'_> {
    /// A camera on a tripod (the stage's default), tilted 5° down so that the whole
    /// table is in the frame, at 640 × 480, all in focus.
    fn default() -> Self {
        Shot {
            tilt: 5.0,
            settings: &[],
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
