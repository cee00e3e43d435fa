//! The size of a JPEG photo, read from its frame header: enough to know a
//! photo's pixels without decoding it (only the segment headers are read,
//! skipping over EXIF blocks, previews and maker notes however large).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Width and height, in pixels, of the JPEG at `path`; `None` when it is
/// not a JPEG (a RAW file, say) or its header is cut short.
pub fn size_of_file(path: &Path) -> io::Result<Option<(u32, u32)>> {
    size_of(BufReader::with_capacity(512, File::open(path)?))
}

/// Width and height of the JPEG whose first bytes are `bytes`.
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    size_of(io::Cursor::new(bytes)).ok().flatten()
}

/// Walks the segments from the start of image to the frame header.
fn size_of(mut r: impl Read + Seek) -> io::Result<Option<(u32, u32)>> {
    let mut byte = [0u8; 1];
    let mut next = |r: &mut dyn Read| -> io::Result<Option<u8>> {
        match r.read_exact(&mut byte) {
            Ok(()) => Ok(Some(byte[0])),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    };
    if (next(&mut r)?, next(&mut r)?) != (Some(0xFF), Some(0xD8)) {
        return Ok(None);
    }
    loop {
        if next(&mut r)? != Some(0xFF) {
            return Ok(None);
        }
        // Markers may be padded with 0xFF bytes.
        let marker = loop {
            match next(&mut r)? {
                Some(0xFF) => continue,
                Some(m) => break m,
                None => return Ok(None),
            }
        };
        let mut head = [0u8; 7];
        let want = if is_frame_header(marker) { 7 } else { 2 };
        match r.read_exact(&mut head[..want]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let length = u16::from_be_bytes([head[0], head[1]]);
        if is_frame_header(marker) {
            let height = u16::from_be_bytes([head[3], head[4]]);
            let width = u16::from_be_bytes([head[5], head[6]]);
            return Ok(Some((u32::from(width), u32::from(height))));
        }
        if marker == 0xDA || length < 2 {
            // Image data began without a frame header: not a usable JPEG.
            return Ok(None);
        }
        r.seek(SeekFrom::Current(i64::from(length) - 2))?;
    }
}

/// Start of frame: SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
fn is_frame_header(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker)
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
    fn large_segments_before_the_frame_are_skipped_not_read() {
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
