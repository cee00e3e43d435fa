//! Small JPEG thumbnails of photos: decoded at 1/8, 1/4 or 1/2 scale inside
//! the JPEG decoder (so a 25 MB photo costs little), box-filtered down to
//! the size asked for, and encoded again.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use jpeg_decoder::{Decoder, PixelFormat};
use jpeg_encoder::{ColorType, Encoder};
use scanrig_hardware::camera::fit;

/// JPEG quality of thumbnails (1..=100).
const QUALITY: u8 = 75;

/// A thumbnail of the JPEG file at `path`, read as a stream: at most
/// `max_side` pixels each way, with the aspect ratio kept (a smaller image
/// keeps its size; orientation tags are not applied). Fails with
/// `InvalidInput` when `max_side` is 0, and with `InvalidData` when the file
/// is not a JPEG this decoder reads or is CMYK; errors name the file.
pub(super) fn thumbnail_file(path: &Path, max_side: u16) -> io::Result<Vec<u8>> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(named)?;
    thumbnail_from(BufReader::new(file), max_side).map_err(named)
}

fn thumbnail_from(reader: impl Read, max_side: u16) -> io::Result<Vec<u8>> {
    if max_side == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a thumbnail must be at least 1 pixel on its longer side, not 0",
        ));
    }
    let mut decoder = Decoder::new(reader);
    decoder.read_info().map_err(decode_error)?;
    let full = info(&decoder)?;
    let channels = match full.pixel_format {
        PixelFormat::L8 | PixelFormat::L16 => 1,
        PixelFormat::RGB24 => 3,
        PixelFormat::CMYK32 => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "CMYK JPEGs get no thumbnail; only grayscale and colour (RGB) ones do",
            ))
        }
    };
    let (width, height) = fit(full.width.into(), full.height.into(), max_side.into());
    // Both fit in max_side, a u16.
    let (width, height) = (width as u16, height as u16);
    decoder.scale(width, height).map_err(decode_error)?;
    let pixels = decoder.decode().map_err(decode_error)?;
    let decoded = info(&decoder)?;
    let pixels = match decoded.pixel_format {
        // Native-endian 16-bit samples (lossless JPEG): keep the high byte.
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]).to_be_bytes()[0])
            .collect(),
        _ => pixels,
    };
    let (sw, sh) = (usize::from(decoded.width), usize::from(decoded.height));
    if sw == 0 || sh == 0 || pixels.len() != sw * sh * channels {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the decoder gave {} bytes for a {sw}x{sh} image",
                pixels.len()
            ),
        ));
    }
    let small = resize(
        &pixels,
        (sw, sh),
        channels,
        (usize::from(width), usize::from(height)),
    );
    let color = if channels == 1 {
        ColorType::Luma
    } else {
        ColorType::Rgb
    };
    let mut out = Vec::new();
    Encoder::new(&mut out, QUALITY)
        .encode(&small, width, height, color)
        .map_err(io::Error::other)?;
    Ok(out)
}

/// The decoder's image info, present once its header has been read.
fn info<R: Read>(decoder: &Decoder<R>) -> io::Result<jpeg_decoder::ImageInfo> {
    decoder
        .info()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the JPEG has no frame header"))
}

/// Read errors stay what they are; everything else is bad data.
fn decode_error(e: jpeg_decoder::Error) -> io::Error {
    match e {
        jpeg_decoder::Error::Io(e) => e,
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a JPEG that can be read: {other}"),
        ),
    }
}

/// Box filter: each target pixel is the mean of the source pixels it covers
/// (at least one, so a source smaller than the target is stretched).
fn resize(
    src: &[u8],
    (sw, sh): (usize, usize),
    channels: usize,
    (tw, th): (usize, usize),
) -> Vec<u8> {
    let span = |i: usize, source: usize, target: usize| {
        let start = i * source / target;
        (start, ((i + 1) * source / target).clamp(start + 1, source))
    };
    let mut out = Vec::with_capacity(tw * th * channels);
    let mut sum = vec![0u64; channels];
    for y in 0..th {
        let (y0, y1) = span(y, sh, th);
        for x in 0..tw {
            let (x0, x1) = span(x, sw, tw);
            sum.fill(0);
            for row in y0..y1 {
                let line = &src[(row * sw + x0) * channels..(row * sw + x1) * channels];
                for pixel in line.chunks_exact(channels) {
                    for (s, &v) in sum.iter_mut().zip(pixel) {
                        *s += u64::from(v);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            out.extend(sum.iter().map(|&s| ((s + n / 2) / n) as u8));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scanrig_hardware::camera::{CaptureRequest, SimCamera, SimCameraConfig};
    use scanrig_hardware::Degrees;

    use super::*;

    /// The thumbnail of JPEG bytes.
    fn thumbnail(jpeg: &[u8], max_side: u16) -> io::Result<Vec<u8>> {
        thumbnail_from(jpeg, max_side)
    }

    fn decode(jpeg: &[u8]) -> (jpeg_decoder::ImageInfo, Vec<u8>) {
        let mut decoder = Decoder::new(jpeg);
        let pixels = decoder.decode().expect("the thumbnail decodes");
        (decoder.info().expect("info"), pixels)
    }

    fn encoded(width: u16, height: u16, color: ColorType, pixel: &[u8]) -> Vec<u8> {
        let data = pixel.repeat(usize::from(width) * usize::from(height));
        let mut out = Vec::new();
        Encoder::new(&mut out, 90)
            .encode(&data, width, height, color)
            .unwrap();
        out
    }

    #[test]
    fn a_large_sim_photo_shrinks_to_fit_and_decodes() {
        let camera = SimCamera::new(SimCameraConfig {
            width: 1600,
            height: 1200,
            file_size: 3_000_000,
            expose_latency: Duration::ZERO,
            download_latency: Duration::ZERO,
            ..SimCameraConfig::default()
        });
        let mut session = camera.connector()().unwrap();
        let exposure = session
            .expose(&CaptureRequest {
                stem: "shot_001".into(),
                label: "thumbnail test".into(),
                azimuth: Degrees(90.0),
                tilt: Degrees(0.0),
            })
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let photo = session.download(&exposure, dir.path()).unwrap().remove(0);

        let small = thumbnail_file(&photo.path, 256).unwrap();
        let (info, _) = decode(&small);
        assert_eq!((info.width, info.height), (256, 192));
        assert_eq!(info.pixel_format, PixelFormat::RGB24);
        assert!(small.len() < 64 * 1024, "{} bytes", small.len());

        let bytes = std::fs::read(&photo.path).unwrap();
        let (info, _) = decode(&thumbnail(&bytes, 100).unwrap());
        assert!(info.width <= 100 && info.height <= 100, "{info:?}");
        assert_eq!((info.width, info.height), (100, 75));
    }

    #[test]
    fn grayscale_portraits_keep_their_shape_and_colours_survive() {
        let gray = encoded(300, 500, ColorType::Luma, &[128]);
        let (info, pixels) = decode(&thumbnail(&gray, 64).unwrap());
        assert_eq!((info.width, info.height), (38, 64));
        assert_eq!(info.pixel_format, PixelFormat::L8);
        assert!(pixels.iter().all(|&p| p.abs_diff(128) <= 3));

        let red = encoded(200, 100, ColorType::Rgb, &[220, 30, 40]);
        let (info, pixels) = decode(&thumbnail(&red, 50).unwrap());
        assert_eq!((info.width, info.height), (50, 25));
        for rgb in pixels.chunks_exact(3) {
            let want = [220, 30, 40];
            assert!(
                rgb.iter().zip(want).all(|(&a, b)| a.abs_diff(b) <= 8),
                "{rgb:?}"
            );
        }
    }

    #[test]
    fn a_small_image_is_not_enlarged() {
        let tiny = encoded(40, 30, ColorType::Rgb, &[10, 200, 10]);
        let (info, _) = decode(&thumbnail(&tiny, 100).unwrap());
        assert_eq!((info.width, info.height), (40, 30));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let cmyk = encoded(16, 16, ColorType::Cmyk, &[0, 0, 0, 0]);
        let err = thumbnail(&cmyk, 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert!(err.to_string().contains("CMYK"), "{err}");

        let err = thumbnail(b"not a jpeg at all", 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        let jpeg = encoded(16, 16, ColorType::Luma, &[0]);
        let err = thumbnail(&jpeg[..jpeg.len() / 2], 8).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            ),
            "{err}"
        );
        let err = thumbnail(&jpeg, 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

        let missing = Path::new("/nonexistent/scanrig/photo.jpg");
        let err = thumbnail_file(missing, 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("photo.jpg"), "{err}");
    }

    #[test]
    fn fitting_keeps_the_aspect_and_never_rounds_to_nothing() {
        assert_eq!(fit(6000, 4000, 320), (320, 213));
        assert_eq!(fit(4000, 6000, 320), (213, 320));
        assert_eq!(fit(10_000, 3, 100), (100, 1));
        assert_eq!(fit(320, 200, 320), (320, 200));
    }
}
