//! The picture the judges look at: a photo decoded small, straight from its
//! JPEG's DCT coefficients (or from the large preview a camera appends to
//! it, or from the JPEG preview a RAW file embeds), never at full size.

use jpeg_decoder::{CodingProcess, Decoder, PixelFormat};
use serde::{Deserialize, Serialize};

use super::NotJudged;

/// The judges' picture is the photo scaled down by the JPEG decoder itself
/// (1/2, 1/4 or 1/8, the DCT's own reductions) as far as it goes while its
/// longer side stays at least this many pixels. So every photo is judged
/// at a long side between 600 and 1200 px: a 24 MP photo (6000 × 4000) at
/// 1/8 (750 × 500), a 12 MP one at 1/4, the simulated camera's 640 × 480
/// as it is; and the measures below are comparable across photo sizes.
pub const MIN_SIDE: u16 = 600;

/// How many JPEG streams a RAW file is searched for before giving up.
const MAX_EMBEDDED: usize = 64;

/// What the judges' picture was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The photo itself, a JPEG.
    Photo,
    /// The large preview the camera appended to the JPEG (MPF).
    CameraPreview,
    /// The JPEG preview inside a RAW file.
    RawPreview,
}

/// A photo, small, in 8-bit RGB and in luma (0..=255).
#[derive(Debug, Clone)]
pub struct Picture {
    width: usize,
    height: usize,
    rgb: Vec<[u8; 3]>,
    luma: Vec<f32>,
    photo_px: (u32, u32),
    source: Source,
}

impl Picture {
    /// Decodes `photo` (a JPEG, or a RAW file with a JPEG preview in it)
    /// at the reduced size the judges use.
    pub fn decode(photo: &[u8]) -> Result<Picture, NotJudged> {
        let (primary, mut source) = if photo.starts_with(&[0xFF, 0xD8]) {
            (photo, Source::Photo)
        } else {
            let preview = embedded_preview(photo).ok_or(NotJudged::NoPreview)?;
            (preview, Source::RawPreview)
        };
        let jpeg = match super::mpf::large_preview(primary, MIN_SIDE) {
            Some(preview) => {
                source = Source::CameraPreview;
                preview
            }
            None => primary,
        };
        Picture::decode_jpeg(Decoder::new(jpeg), crate::jpeg::size(primary), source)
    }

    /// Decodes the JPEG `reader` reads, at the reduced size the judges
    /// use, without holding the whole file: a plain JPEG, with no preview
    /// appended (see [`Picture::decode`] for those).
    pub fn decode_reader(reader: impl std::io::Read) -> Result<Picture, NotJudged> {
        Picture::decode_jpeg(Decoder::new(reader), None, Source::Photo)
    }

    /// Decodes what `decoder` reads, from a photo of `photo_px` (its own
    /// size when `None`).
    fn decode_jpeg<R: std::io::Read>(
        mut decoder: Decoder<R>,
        photo_px: Option<(u32, u32)>,
        source: Source,
    ) -> Result<Picture, NotJudged> {
        decoder.read_info().map_err(undecodable)?;
        let info = decoder.info().ok_or(NotJudged::NoPreview)?;
        if info.coding_process == CodingProcess::Lossless {
            return Err(NotJudged::NoPreview);
        }
        let photo_px = photo_px.unwrap_or((u32::from(info.width), u32::from(info.height)));
        let long = info.width.max(info.height);
        let (w, h) = if long > MIN_SIDE {
            let at = |side: u16| {
                let scaled = u32::from(side) * u32::from(MIN_SIDE);
                u16::try_from(scaled.div_ceil(u32::from(long))).unwrap_or(side)
            };
            decoder
                .scale(at(info.width), at(info.height))
                .map_err(undecodable)?
        } else {
            (info.width, info.height)
        };
        let pixels = decoder.decode().map_err(undecodable)?;
        let format = decoder.info().map_or(info.pixel_format, |i| i.pixel_format);
        let rgb: Vec<[u8; 3]> = match format {
            PixelFormat::L8 => pixels.iter().map(|&l| [l; 3]).collect(),
            // Big-endian 16-bit grey: the high byte.
            PixelFormat::L16 => pixels.chunks_exact(2).map(|l| [l[0]; 3]).collect(),
            PixelFormat::RGB24 => pixels.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
            PixelFormat::CMYK32 => pixels
                .chunks_exact(4)
                .map(|c| {
                    [0, 1, 2].map(|i| (u16::from(255 - c[i]) * u16::from(255 - c[3]) / 255) as u8)
                })
                .collect(),
        };
        let (width, height) = (usize::from(w), usize::from(h));
        if rgb.len() != width * height || rgb.is_empty() {
            return Err(NotJudged::Undecodable(format!(
                "{} pixels decoded for a {width} × {height} picture",
                rgb.len()
            )));
        }
        let mut picture = Picture::from_rgb(width, height, rgb, photo_px);
        picture.source = source;
        Ok(picture)
    }

    /// A picture of `width` × `height` pixels, row after row, taken from a
    /// photo of `photo_px`.
    fn from_rgb(width: usize, height: usize, rgb: Vec<[u8; 3]>, photo_px: (u32, u32)) -> Picture {
        let luma = rgb
            .iter()
            .map(|&[r, g, b]| 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b))
            .collect();
        Picture {
            width,
            height,
            rgb,
            luma,
            photo_px,
            source: Source::Photo,
        }
    }

    /// Width and height of the picture, pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Width and height of the photo it was decoded from, pixels.
    pub fn photo_size(&self) -> (u32, u32) {
        self.photo_px
    }

    /// What it was decoded from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The colour of every pixel, row after row.
    pub(crate) fn rgb(&self) -> &[[u8; 3]] {
        &self.rgb
    }

    /// The luma of every pixel, row after row, 0..=255.
    pub(crate) fn luma(&self) -> &[f32] {
        &self.luma
    }
}

/// The largest DCT-coded JPEG stream inside a RAW file (its preview), if
/// there is one.
fn embedded_preview(file: &[u8]) -> Option<&[u8]> {
    let starts = file
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0xFF, 0xD8, 0xFF])
        .map(|(i, _)| i)
        .take(MAX_EMBEDDED);
    starts
        .filter_map(|start| {
            let stream = &file[start..];
            let mut decoder = Decoder::new(stream);
            decoder.read_info().ok()?;
            let info = decoder.info()?;
            (info.coding_process != CodingProcess::Lossless)
                .then(|| (u32::from(info.width) * u32::from(info.height), stream))
        })
        .max_by_key(|(pixels, _)| *pixels)
        .map(|(_, stream)| stream)
}

fn undecodable(e: jpeg_decoder::Error) -> NotJudged {
    NotJudged::Undecodable(e.to_string())
}
