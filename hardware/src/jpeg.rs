//! The size of a JPEG photo, read from its frame header: enough to know a
//! photo's pixels without decoding it (a few hundred bytes are read).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Width and height, in pixels, of the JPEG at `path`; `None` when it is
/// not a JPEG (a RAW file, say) or its header is cut short.
pub fn size_of_file(path: &Path) -> io::Result<Option<(u32, u32)>> {
    let mut head = Vec::new();
    // Frame headers come after the EXIF block (at most 64 KiB) and tables.
    File::open(path)?.take(256 * 1024).read_to_end(&mut head)?;
    Ok(size(&head))
}

/// Width and height of the JPEG whose first bytes are `bytes`.
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        // Markers may be padded with 0xFF bytes.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        // Start of frame: SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let height = u16::from_be_bytes([*bytes.get(at + 5)?, *bytes.get(at + 6)?]);
            let width = u16::from_be_bytes([*bytes.get(at + 7)?, *bytes.get(at + 8)?]);
            return Some((u32::from(width), u32::from(height)));
        }
        if marker == 0xDA || length < 2 {
            // Image data began without a frame header: not a usable JPEG.
            return None;
        }
        at += 2 + length;
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
}
