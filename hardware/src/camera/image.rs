//! Synthetic photos for the simulated camera: a baseline JPEG showing the shot, with EXIF and optional padding.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use jpeg_encoder::{rgb_to_ycbcr, Encoder, ImageBuffer, JpegColorType};

use crate::Degrees;

/// Largest payload of one APP segment (its length field counts itself).
const MAX_APP_PAYLOAD: usize = 65533;
/// Longest label written into EXIF, in bytes.
const MAX_LABEL_BYTES: usize = 1024;

/// What to draw and how big the file should be.
#[derive(Debug, Clone)]
pub(crate) struct ImageSpec<'a> {
    /// Image width in pixels (1..=65535).
    pub(crate) width: u32,
    /// Image height in pixels (1..=65535).
    pub(crate) height: u32,
    /// First line of text and start of the EXIF description.
    pub(crate) label: &'a str,
    /// Third line of text.
    pub(crate) stem: &'a str,
    /// Turntable angle; sets the background hue.
    pub(crate) azimuth: Degrees,
    /// Tilt angle; sets the height of the horizon line.
    pub(crate) tilt: Degrees,
    /// When the shot was taken (EXIF DateTime, UTC).
    pub(crate) captured: SystemTime,
    /// 0 = natural size; else pad the file to at least this many bytes.
    pub(crate) file_size: u64,
}

/// Writes the shot as a baseline JPEG with EXIF to `w`. Padding is streamed
/// in APP15 segments, so the file can be large without a large buffer.
pub(crate) fn write_jpeg(w: &mut impl Write, spec: &ImageSpec<'_>) -> io::Result<()> {
    let (width, height) = match (u16::try_from(spec.width), u16::try_from(spec.height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => (w, h),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a JPEG must be 1 to 65535 pixels each way, not {}x{}",
                    spec.width, spec.height
                ),
            ))
        }
    };
    let mut jpeg = Vec::new();
    let mut encoder = Encoder::new(&mut jpeg, 90);
    encoder
        .add_exif_metadata(&exif_tiff(spec))
        .map_err(io::Error::other)?;
    encoder
        .encode_image(Picture::new(spec, width, height))
        .map_err(io::Error::other)?;

    let split = end_of_app_segments(&jpeg);
    let (head, tail) = jpeg.split_at(split);
    w.write_all(head)?;
    let natural = jpeg.len() as u64;
    if spec.file_size > natural {
        write_padding(w, spec.file_size - natural)?;
    }
    w.write_all(tail)
}

/// Offset just past SOI and the APPn segments that follow it.
fn end_of_app_segments(jpeg: &[u8]) -> usize {
    let mut pos = 2;
    while let [0xFF, 0xE0..=0xEF, hi, lo, ..] = jpeg[pos.min(jpeg.len())..] {
        pos += 2 + usize::from(u16::from_be_bytes([hi, lo]));
    }
    pos.min(jpeg.len())
}

/// Writes APP15 filler segments totalling exactly `bytes` (at least 4).
fn write_padding(w: &mut impl Write, bytes: u64) -> io::Result<()> {
    let per_segment = (MAX_APP_PAYLOAD + 4) as u64;
    let segments = bytes.div_ceil(per_segment);
    let payload_total = bytes.saturating_sub(4 * segments);
    let filler = vec![0u8; MAX_APP_PAYLOAD];
    for i in 0..segments {
        // Spread evenly; each share is at most MAX_APP_PAYLOAD.
        let share = payload_total / segments + u64::from(i < payload_total % segments);
        let share = usize::try_from(share).map_or(MAX_APP_PAYLOAD, |s| s.min(MAX_APP_PAYLOAD));
        let len = u16::try_from(share + 2).unwrap_or(u16::MAX);
        w.write_all(&[0xFF, 0xEF])?;
        w.write_all(&len.to_be_bytes())?;
        w.write_all(&filler[..share])?;
    }
    Ok(())
}

/// A little-endian TIFF header with IFD0: description, make, model, time.
fn exif_tiff(spec: &ImageSpec<'_>) -> Vec<u8> {
    let mut label_end = spec.label.len().min(MAX_LABEL_BYTES);
    while !spec.label.is_char_boundary(label_end) {
        label_end -= 1;
    }
    let description = format!(
        "{}; azimuth={:.1}; tilt={:.1}",
        spec.label[..label_end].replace('\0', " "),
        spec.azimuth.get(),
        spec.tilt.get()
    );
    let entries: [(u16, Vec<u8>); 4] = [
        (0x010E, description.into_bytes()),
        (0x010F, b"scanrig".to_vec()),
        (0x0110, b"SimCamera".to_vec()),
        (0x0132, exif_datetime(spec.captured).into_bytes()),
    ];
    let ifd_len = 2 + 12 * entries.len() + 4;
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    let mut data = Vec::new();
    let data_start = 8 + ifd_len;
    for (tag, value) in &entries {
        let mut value = value.clone();
        value.push(0);
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes()); // ASCII
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        if value.len() <= 4 {
            value.resize(4, 0);
            out.extend_from_slice(&value);
        } else {
            out.extend_from_slice(&((data_start + data.len()) as u32).to_le_bytes());
            data.extend_from_slice(&value);
            if data.len() % 2 == 1 {
                data.push(0); // offsets are word-aligned
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    out.extend_from_slice(&data);
    out
}

/// `YYYY:MM:DD HH:MM:SS` in UTC; times before 1970 read as the epoch.
fn exif_datetime(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}:{m:02}:{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// One line of big text.
struct TextLine {
    glyphs: Vec<[u8; 8]>,
    scale: u32,
    x0: u32,
    y0: u32,
}

/// The picture, computed row by row as the encoder asks for it.
struct Picture {
    width: u16,
    height: u16,
    hue: f64,
    check: u32,
    horizon: u32,
    lines: Vec<TextLine>,
    /// Light panel behind the text: x0, y0, x1, y1 (exclusive).
    panel: (u32, u32, u32, u32),
}

impl Picture {
    fn new(spec: &ImageSpec<'_>, width: u16, height: u16) -> Picture {
        let (w, h) = (u32::from(width), u32::from(height));
        let texts = [
            spec.label.to_string(),
            format!(
                "AZ {:05.1}  TILT {:+05.1}",
                spec.azimuth.get(),
                spec.tilt.get()
            ),
            spec.stem.to_string(),
        ];
        // Line pitch is 10 glyph pixels (8 + 2 gap); three lines use 85 % of the height.
        let max_scale = (h * 85 / 100 / 30).max(1);
        let mut lines: Vec<TextLine> = texts
            .iter()
            .map(|t| {
                let glyphs: Vec<[u8; 8]> = t.chars().map(glyph).collect();
                let chars = glyphs.len().max(1) as u32;
                let scale = (w * 9 / 10 / (8 * chars)).clamp(1, max_scale);
                let x0 = w.saturating_sub(8 * scale * chars) / 2;
                TextLine {
                    glyphs,
                    scale,
                    x0,
                    y0: 0,
                }
            })
            .collect();
        let block: u32 = lines.iter().map(|l| 10 * l.scale).sum();
        let mut y = h.saturating_sub(block) / 2;
        for line in &mut lines {
            line.y0 = y + line.scale;
            y += 10 * line.scale;
        }
        let left = lines.iter().map(|l| l.x0).min().unwrap_or(0);
        let panel_top = h.saturating_sub(block) / 2;
        let panel = (
            left.saturating_sub(8),
            panel_top.saturating_sub(4),
            (w - left + 8).min(w),
            (panel_top + block + 4).min(h),
        );
        let tilt = spec.tilt.get().clamp(-90.0, 90.0);
        let horizon = ((0.5 - tilt / 180.0) * f64::from(h.saturating_sub(1))) as u32;
        Picture {
            width,
            height,
            hue: spec.azimuth.get().rem_euclid(360.0),
            check: (w.max(h) / 16).max(8),
            horizon,
            lines,
            panel,
        }
    }

    fn pixel(&self, x: u32, y: u32) -> (u8, u8, u8) {
        for line in &self.lines {
            let (dx, dy) = (x.wrapping_sub(line.x0), y.wrapping_sub(line.y0));
            if dy < 8 * line.scale && dx < 8 * line.scale * line.glyphs.len() as u32 {
                let gx = dx / line.scale;
                let bits = line.glyphs[(gx / 8) as usize][(dy / line.scale) as usize];
                if bits >> (gx % 8) & 1 == 1 {
                    return (10, 10, 10);
                }
            }
        }
        let (px0, py0, px1, py1) = self.panel;
        if (px0..px1).contains(&x) && (py0..py1).contains(&y) {
            return (245, 245, 240);
        }
        if y == self.horizon || y == self.horizon + 1 {
            return (255, 255, 255);
        }
        let dark = (x / self.check + y / self.check) % 2 == 1;
        hsv(self.hue, 0.6, if dark { 0.6 } else { 0.85 })
    }
}

impl ImageBuffer for Picture {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        for x in 0..u32::from(self.width) {
            let (r, g, b) = self.pixel(x, u32::from(y));
            let (yy, cb, cr) = rgb_to_ycbcr(r, g, b);
            buffers[0].push(yy);
            buffers[1].push(cb);
            buffers[2].push(cr);
        }
    }
}

/// The 8x8 glyph of a character; `?` for anything outside ASCII.
fn glyph(c: char) -> [u8; 8] {
    let i = if c.is_ascii() {
        c as usize
    } else {
        '?' as usize
    };
    font8x8::legacy::BASIC_LEGACY[i]
}

/// HSV (hue in degrees, s and v in 0..=1) to RGB.
fn hsv(hue: f64, s: f64, v: f64) -> (u8, u8, u8) {
    let c = v * s;
    let h = hue / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let to8 = |f: f64| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to8(r), to8(g), to8(b))
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
