//! Synthetic photos for the simulated camera: a baseline JPEG of the scene
//! the rig sees (see [`super::scene`]), with the EXIF a camera writes (the
//! lens's focal length among it) and the shot's label and angles, and
//! optional padding.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use jpeg_encoder::{rgb_to_ycbcr, Encoder, ImageBuffer, JpegColorType};

use super::scene::{Stage, View};
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
    /// The start of the EXIF description.
    pub(crate) label: &'a str,
    /// The table's angle.
    pub(crate) azimuth: Degrees,
    /// The arm's tilt.
    pub(crate) tilt: Degrees,
    /// The rig the photo is taken on.
    pub(crate) stage: Stage,
    /// When the shot was taken (EXIF DateTime, UTC).
    pub(crate) captured: SystemTime,
    /// 0 = natural size; else pad the file to at least this many bytes.
    pub(crate) file_size: u64,
    /// How it is exposed and focused.
    pub(crate) look: Look,
}

/// How a photo comes out: exposed, focused, shaken, with its grain, and
/// the objects where they stood.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Look {
    /// Stops brighter (negative: darker) than the camera's normal exposure.
    pub(crate) ev: f64,
    /// Depth of field: the lens's f-number and its focus drive (steps
    /// from focused on the table's axis); `None`: everything sharp.
    pub(crate) focus: Option<(f64, i32)>,
    /// How far the rig swayed each way as the shutter opened, millimetres
    /// at the table's axis.
    pub(crate) sway_mm: f64,
    /// The objects had slipped: how far (mm) and turned (degrees), as
    /// [`View::slipped`] takes them.
    pub(crate) slip: Option<(f64, f64)>,
    /// The sensor's noise: its spread, in levels of 255, and the seed that
    /// makes it this photo's own.
    pub(crate) noise: (f32, u64),
}

/// The widest blur, in pixels from a point: past it a photo is only mush.
const MAX_BLUR: f64 = 24.0;

/// Writes the shot as a baseline JPEG with EXIF to `w`. Padding is streamed
/// in APP15 segments, so the file can be large without a large buffer.
pub(crate) fn write_jpeg(w: &mut impl Write, spec: &ImageSpec<'_>) -> io::Result<()> {
    let (width, height) = size(spec)?;
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

/// Writes the shot uncompressed, as a binary PPM: the simulated camera's
/// RAW file, the other half of a RAW + JPEG pair (the same picture, no
/// EXIF, no padding).
pub(crate) fn write_ppm(w: &mut impl Write, spec: &ImageSpec<'_>) -> io::Result<()> {
    let (width, height) = size(spec)?;
    write!(w, "P6\n{width} {height}\n255\n")?;
    let picture = Picture::new(spec, width, height);
    let mut row = Vec::with_capacity(3 * usize::from(width));
    for y in 0..u32::from(height) {
        row.clear();
        picture.row(y, |r, g, b| row.extend([r, g, b]));
        w.write_all(&row)?;
    }
    Ok(())
}

/// The photo's size, if a JPEG can have it.
fn size(spec: &ImageSpec<'_>) -> io::Result<(u16, u16)> {
    match (u16::try_from(spec.width), u16::try_from(spec.height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a JPEG must be 1 to 65535 pixels each way, not {}x{}",
                spec.width, spec.height
            ),
        )),
    }
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

/// One EXIF value, as TIFF types it.
enum Value {
    /// Type 2: text, NUL-terminated.
    Ascii(String),
    /// Type 3.
    Short(u16),
    /// Type 4.
    Long(u32),
    /// Type 5: a fraction.
    Rational(u32, u32),
    /// Type 7: bytes.
    Undefined(Vec<u8>),
}

impl Value {
    /// Its TIFF type, count and bytes (little-endian).
    fn encode(&self) -> (u16, u32, Vec<u8>) {
        match self {
            Value::Ascii(text) => {
                let mut bytes = text.replace('\0', " ").into_bytes();
                bytes.push(0);
                (2, bytes.len() as u32, bytes)
            }
            Value::Short(v) => (3, 1, v.to_le_bytes().to_vec()),
            Value::Long(v) => (4, 1, v.to_le_bytes().to_vec()),
            Value::Rational(n, d) => (5, 1, [n.to_le_bytes(), d.to_le_bytes()].concat()),
            Value::Undefined(bytes) => (7, bytes.len() as u32, bytes.clone()),
        }
    }
}

/// An IFD starting at `at` (from the TIFF header), its entries sorted by
/// tag, followed by the values that do not fit in an entry; no next IFD.
fn ifd(at: usize, entries: &[(u16, Value)]) -> Vec<u8> {
    let data_start = at + 2 + 12 * entries.len() + 4;
    let mut out = (entries.len() as u16).to_le_bytes().to_vec();
    let mut data = Vec::new();
    for (tag, value) in entries {
        let (kind, count, mut bytes) = value.encode();
        out.extend(tag.to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(count.to_le_bytes());
        if bytes.len() <= 4 {
            bytes.resize(4, 0);
            out.extend(bytes);
        } else {
            out.extend(((data_start + data.len()) as u32).to_le_bytes());
            data.extend(bytes);
            if data.len() % 2 == 1 {
                data.push(0); // offsets are word-aligned
            }
        }
    }
    out.extend(0u32.to_le_bytes());
    out.extend(data);
    out
}

/// A fraction near `v` (0..=40 000), in ten-thousandths.
fn rational(v: f64) -> Value {
    Value::Rational((v.clamp(0.0, 4e4) * 1e4).round() as u32, 10_000)
}

/// The 35 mm film diagonal, millimetres.
const FILM_DIAGONAL_MM: f64 = 43.27;

/// A little-endian TIFF header with IFD0 (description, make, model, time)
/// and the Exif IFD a camera writes: the lens's focal length, its 35 mm
/// equivalent and the focal plane's resolution (from which COLMAP and
/// Meshroom read the focal length in pixels), the photo's size, the time
/// taken, and the shot's label and angles again as a user comment.
fn exif_tiff(spec: &ImageSpec<'_>) -> Vec<u8> {
    let mut label_end = spec.label.len().min(MAX_LABEL_BYTES);
    while !spec.label.is_char_boundary(label_end) {
        label_end -= 1;
    }
    let description = format!(
        "{}; azimuth={:.1}; tilt={:.1}",
        &spec.label[..label_end],
        spec.azimuth.get(),
        spec.tilt.get()
    );
    let taken = exif_datetime(spec.captured);
    // The photo is the largest rectangle of its shape in the sensor's
    // middle: its pixels' pitch, as the scene has it.
    let stage = &spec.stage;
    let (w, h) = (f64::from(spec.width), f64::from(spec.height));
    let pitch_mm = (stage.sensor_width_mm / w).min(stage.sensor_height_mm / h);
    let diagonal_mm = (w * pitch_mm).hypot(h * pitch_mm);
    let equivalent = stage.focal_mm * FILM_DIAGONAL_MM / diagonal_mm;
    let per_cm = 10.0 / pitch_mm;
    let mut comment = b"ASCII\0\0\0".to_vec();
    comment.extend(description.replace('\0', " ").bytes());
    let exif = [
        (0x9003, Value::Ascii(taken.clone())), // DateTimeOriginal
        (0x920A, rational(stage.focal_mm)),    // FocalLength
        (0x9286, Value::Undefined(comment)),   // UserComment
        (0xA002, Value::Long(spec.width)),     // PixelXDimension
        (0xA003, Value::Long(spec.height)),    // PixelYDimension
        (0xA20E, rational(per_cm)),            // FocalPlaneXResolution
        (0xA20F, rational(per_cm)),            // FocalPlaneYResolution
        (0xA210, Value::Short(3)),             // FocalPlaneResolutionUnit: cm
        (
            0xA405, // FocalLengthIn35mmFilm
            Value::Short(equivalent.round().clamp(1.0, 65535.0) as u16),
        ),
    ];
    let ifd0 = |exif_at: u32| {
        ifd(
            8,
            &[
                (0x010E, Value::Ascii(description.clone())), // ImageDescription
                (0x010F, Value::Ascii(MAKE.to_string())),
                (0x0110, Value::Ascii(MODEL.to_string())),
                (0x0132, Value::Ascii(taken.clone())), // DateTime
                (0x8769, Value::Long(exif_at)),        // the Exif IFD
            ],
        )
    };
    let exif_at = 8 + ifd0(0).len();
    let mut out = b"II*\0".to_vec();
    out.extend(8u32.to_le_bytes());
    out.extend(ifd0(exif_at as u32));
    out.extend(ifd(exif_at, &exif));
    out
}

/// The simulated camera's make and model, as EXIF names them.
const MAKE: &str = "scanrig";
const MODEL: &str = "SimCamera";

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

/// The picture, computed row by row as the encoder asks for it (all at
/// once when it has a depth of field).
struct Picture {
    width: u16,
    height: u16,
    view: View,
    /// The exposure's factor on every channel.
    gain: f32,
    /// The scene, as the lens and the sway let the sensor see it.
    frame: Frame,
    /// The sensor's noise: its spread (levels) and seed.
    noise: (f32, u64),
}

/// How the picture's colours are had.
enum Frame {
    /// Each pixel on its own: sharp and still.
    Each,
    /// All at once: through a depth of field, and smeared.
    Whole(Vec<[f32; 3]>),
    /// Smeared by the sway alone: a band of rows at a time.
    Swayed(RefCell<SwayedRows>),
}

impl Picture {
    fn new(spec: &ImageSpec<'_>, width: u16, height: u16) -> Picture {
        let (w, h) = (u32::from(width), u32::from(height));
        let mut view = View::new(&spec.stage, w, h, spec.azimuth, spec.tilt);
        if let Some((mm, deg)) = spec.look.slip {
            view = view.slipped(mm, deg);
        }
        let reach = spec.look.sway_mm * view.px_per_mm();
        let frame = match spec.look.focus {
            Some((f_number, drive)) => {
                let (wu, hu) = (w as usize, h as usize);
                let sharp = focused(&view, w, h, f_number, drive);
                // The rig sways every way: sideways, then up and down.
                Frame::Whole(smear(
                    smear(sharp, wu, hu, reach, true),
                    wu,
                    hu,
                    reach,
                    false,
                ))
            }
            None if reach > SWAY_SEEN => Frame::Swayed(RefCell::new(SwayedRows::new(reach))),
            None => Frame::Each,
        };
        Picture {
            width,
            height,
            view,
            // Light adds up linearly; the file's values are about its
            // 1/2.2 power.
            gain: 2f64.powf(spec.look.ev / 2.2) as f32,
            frame,
            noise: spec.look.noise,
        }
    }

    /// Row `y`, one pixel after the other.
    fn row(&self, y: u32, mut each: impl FnMut(u8, u8, u8)) {
        let w = u32::from(self.width);
        let to8 = |c: f32, n: f32| (c * self.gain * 255.0 + n).round().clamp(0.0, 255.0) as u8;
        let mut put = |x: u32, colour: [f32; 3]| {
            let grain = grain(self.noise, y * w + x);
            each(
                to8(colour[0], grain[0]),
                to8(colour[1], grain[1]),
                to8(colour[2], grain[2]),
            );
        };
        match &self.frame {
            Frame::Each => (0..w).for_each(|x| put(x, self.view.sample(x, y).0)),
            Frame::Whole(frame) => {
                let start = (y * w) as usize;
                for (x, colour) in (0..w).zip(&frame[start..start + w as usize]) {
                    put(x, *colour);
                }
            }
            Frame::Swayed(rows) => {
                let rows = &mut *rows.borrow_mut();
                let h = u32::from(self.height);
                for (x, colour) in (0..w).zip(rows.row(&self.view, w, h, y)) {
                    put(x, colour);
                }
            }
        }
    }
}

/// The rows of a picture smeared by the sway, made as they are asked for:
/// each row smeared along itself, then each pixel along its column from
/// the rows about it, as [`smear`] does a whole frame, holding only the
/// band of rows the sway reaches across.
struct SwayedRows {
    reach: f64,
    /// The rows smeared along themselves, from row `first` on.
    band: VecDeque<Vec<[f32; 3]>>,
    first: usize,
}

impl SwayedRows {
    fn new(reach: f64) -> SwayedRows {
        SwayedRows {
            reach,
            band: VecDeque::new(),
            first: 0,
        }
    }

    /// Row `y` of the picture (`w` × `h`) of `view`, smeared every way.
    fn row(&mut self, view: &View, w: u32, h: u32, y: u32) -> Vec<[f32; 3]> {
        let (wu, hu, y) = (w as usize, h as usize, y as usize);
        let reach = self.reach.min(MAX_BLUR);
        let taps = (2.0 * reach).ceil() as usize + 1;
        let last = (hu - 1) as f64;
        let at = |k: usize| {
            (y as f64 - reach + 2.0 * reach * k as f64 / (taps - 1) as f64).clamp(0.0, last)
        };
        // The rows its column's taps fall between.
        let (low, high) = (at(0) as usize, ((at(taps - 1) as usize) + 1).min(hu - 1));
        if low < self.first {
            self.band.clear();
            self.first = low;
        }
        while self.first < low && !self.band.is_empty() {
            self.band.pop_front();
            self.first += 1;
        }
        if self.band.is_empty() {
            self.first = low;
        }
        while self.first + self.band.len() <= high {
            let row = (self.first + self.band.len()) as u32;
            let sharp = (0..w).map(|x| view.sample(x, row).0).collect();
            self.band.push_back(smear(sharp, wu, 1, self.reach, true));
        }
        (0..wu)
            .map(|x| {
                let mut sum = [0f32; 3];
                for k in 0..taps {
                    let at = at(k);
                    let (i0, f) = (at as usize, (at - at.floor()) as f32);
                    let i1 = (i0 + 1).min(hu - 1);
                    let a = self.band[i0 - self.first][x];
                    let b = self.band[i1 - self.first][x];
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += a[c] + (b[c] - a[c]) * f;
                    }
                }
                sum.map(|s| s / taps as f32)
            })
            .collect()
    }
}

/// The sensor's noise on pixel `i`, in levels, each channel its own:
/// spread `sigma`, the same for the same `seed` and pixel.
fn grain((sigma, seed): (f32, u64), i: u32) -> [f32; 3] {
    if sigma == 0.0 {
        return [0.0; 3];
    }
    // splitmix64 of the seed and the pixel: six 10-bit uniforms, two a
    // channel, summed into a triangular spread of variance 1/6.
    let mut z = seed ^ u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let unit = |k: u32| ((z >> (10 * k)) & 0x3FF) as f32 / 1024.0;
    let scale = sigma * 6f32.sqrt();
    [0, 1, 2].map(|c| (unit(2 * c) + unit(2 * c + 1) - 1.0) * scale)
}

/// A sway smaller than this, in pixels each way, leaves no trace.
const SWAY_SEEN: f64 = 0.05;

/// `frame` (`w` × `h`) smeared along its rows (`across`) or its columns:
/// each pixel the mean of the line `reach` pixels each way about it, as
/// the picture sways that far while the shutter is open. Smeared in
/// place, a line at a time: a second frame would double what a photo
/// costs to draw.
fn smear(mut frame: Vec<[f32; 3]>, w: usize, h: usize, reach: f64, across: bool) -> Vec<[f32; 3]> {
    if reach <= SWAY_SEEN {
        return frame;
    }
    let reach = reach.min(MAX_BLUR);
    let taps = (2.0 * reach).ceil() as usize + 1;
    let (len, lines, step, stride) = if across { (w, h, 1, w) } else { (h, w, w, 1) };
    let last = (len - 1) as f64;
    let mut was = vec![[0f32; 3]; len];
    for line in 0..lines {
        let start = line * stride;
        for (i, px) in was.iter_mut().enumerate() {
            *px = frame[start + i * step];
        }
        for i in 0..len {
            let mut sum = [0f32; 3];
            for k in 0..taps {
                let at = (i as f64 - reach + 2.0 * reach * k as f64 / (taps - 1) as f64)
                    .clamp(0.0, last);
                let (i0, f) = (at as usize, (at - at.floor()) as f32);
                let i1 = (i0 + 1).min(len - 1);
                let (a, b) = (was[i0], was[i1]);
                for (c, s) in sum.iter_mut().enumerate() {
                    *s += a[c] + (b[c] - a[c]) * f;
                }
            }
            frame[start + i * step] = sum.map(|s| s / taps as f32);
        }
    }
    frame
}

/// The scene as a lens at `f_number`, its focus driven `drive` steps,
/// sees it: each pixel the mean of the square about it as wide as the
/// blur circle of what it shows.
fn focused(view: &View, w: u32, h: u32, f_number: f64, drive: i32) -> Vec<[f32; 3]> {
    let focus = view.focus_m(drive);
    let (wu, hu) = (w as usize, h as usize);
    let mut colour = Vec::with_capacity(wu * hu);
    let mut reach = Vec::with_capacity(wu * hu);
    for y in 0..h {
        for x in 0..w {
            let (c, depth) = view.sample(x, y);
            colour.push(c);
            let radius = (view.blur_px(depth, focus, f_number) / 2.0).min(MAX_BLUR);
            reach.push(radius.round() as usize);
        }
    }
    // Sums over every rectangle from the top-left corner.
    let stride = wu + 1;
    let mut sums = vec![[0f64; 3]; stride * (hu + 1)];
    for y in 0..hu {
        let mut row = [0f64; 3];
        for x in 0..wu {
            for (r, c) in row.iter_mut().zip(colour[y * wu + x]) {
                *r += f64::from(c);
            }
            let above = sums[y * stride + x + 1];
            sums[(y + 1) * stride + x + 1] = [0, 1, 2].map(|i| above[i] + row[i]);
        }
    }
    (0..hu * wu)
        .map(|i| {
            let (x, y, r) = (i % wu, i / wu, reach[i]);
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(wu));
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(hu));
            let at = |x: usize, y: usize| sums[y * stride + x];
            let n = ((x1 - x0) * (y1 - y0)) as f64;
            let (a, b, c, d) = (at(x1, y1), at(x0, y1), at(x1, y0), at(x0, y0));
            [0, 1, 2].map(|k| ((a[k] - b[k] - c[k] + d[k]) / n) as f32)
        })
        .collect()
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
        self.row(u32::from(y), |r, g, b| {
            let (yy, cb, cr) = rgb_to_ycbcr(r, g, b);
            buffers[0].push(yy);
            buffers[1].push(cb);
            buffers[2].push(cr);
        });
    }
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
