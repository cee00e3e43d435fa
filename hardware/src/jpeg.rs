//! The size of a JPEG photo, read from its frame header by jpeg-decoder
//! (`read_info` stops there): a photo's pixels without decoding it.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Width and height, in pixels, of the JPEG at `path`; `None` when it is
/// not a JPEG (a RAW file, say) or its header is cut short.
pub fn size_of_file(path: &Path) -> io::Result<Option<(u32, u32)>> {
    size_of(BufReader::with_capacity(8192, File::open(path)?))
}

/// Width and height of the JPEG whose first bytes are `bytes`.
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    size_of(bytes).ok().flatten()
}

/// Reads the segments from the start of image to the frame header.
fn size_of(r: impl Read) -> io::Result<Option<(u32, u32)>> {
    let mut decoder = jpeg_decoder::Decoder::new(r);
    match decoder.read_info() {
        Ok(()) => Ok(decoder
            .info()
            .map(|i| (u32::from(i.width), u32::from(i.height)))),
        Err(jpeg_decoder::Error::Io(e)) if e.kind() != io::ErrorKind::UnexpectedEof => Err(e),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let pixels = vec![128u8; usize::from(width) * usize::from(height) * 3];
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 90)
            .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    #[test]
    fn reads_the_size_an_encoder_wrote() {
        for (w, h) in [(640, 480), (33, 1000), (1280, 960)] {
            assert_eq!(size(&jpeg(w, h)), Some((u32::from(w), u32::from(h))));
        }
    }

    #[test]
    fn other_files_and_cut_headers_have_no_size() {
        assert_eq!(size(b"II*\0 a TIFF-like RAW"), None);
        assert_eq!(size(&[]), None);
        let whole = jpeg(64, 48);
        assert_eq!(size(&whole[..12]), None);
    }

    #[test]
    fn large_segments_before_the_frame_are_skipped() {
        // A 300 KiB APP15 block between the start and the frame header.
        let whole = jpeg(320, 200);
        let mut padded = whole[..2].to_vec();
        for _ in 0..5 {
            padded.extend([0xFF, 0xEF, 0xFF, 0xFF]);
            padded.extend(vec![0u8; 0xFFFD]);
        }
        padded.extend(&whole[2..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jpg");
        std::fs::write(&path, &padded).unwrap();
        assert_eq!(size_of_file(&path).unwrap(), Some((320, 200)));
    }
}
