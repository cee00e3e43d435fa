//! The large preview many cameras append to a JPEG (CIPA DC-007, "Multi-
//! Picture Format"): a second, smaller JPEG after the photo's end, listed
//! in an APP2 segment. Decoding it instead of the photo saves the Huffman
//! decoding of the whole photo, which the DCT's scaling cannot.

use std::io::{self, Read, Seek, SeekFrom};

/// The smallest picture that `jpeg`'s MPF segment lists after the photo
/// itself whose longer side is at least `min_side` (and less than the
/// photo's), if there is one.
pub(crate) fn large_preview(jpeg: &[u8], min_side: u16) -> Option<&[u8]> {
    let (photo_w, photo_h) = crate::jpeg::size(jpeg)?;
    let photo_long = photo_w.max(photo_h);
    let (tiff_at, tiff) = mpf_segment(jpeg)?;
    entries(tiff)?
        .filter_map(|(offset, size)| {
            let start = tiff_at.checked_add(offset)?;
            let image = jpeg.get(start..start.checked_add(size)?)?;
            let (w, h) = crate::jpeg::size(image)?;
            let long = w.max(h);
            (long >= u32::from(min_side) && long < photo_long).then_some((w * h, image))
        })
        .min_by_key(|(pixels, _)| *pixels)
        .map(|(_, image)| image)
}

/// Whether the JPEG `file` reads has an MPF segment among the segments
/// before its first scan: found by reading each segment's header and
/// seeking past its body, so a file with large segments is not read whole.
/// The file is left where it was.
pub(crate) fn has_segment(file: &mut (impl Read + Seek)) -> io::Result<bool> {
    let start = file.stream_position()?;
    let found = (|| {
        let mut pos = start + 2;
        loop {
            let mut head = [0u8; 8];
            file.seek(SeekFrom::Start(pos))?;
            if file.read(&mut head[..4])? < 4 || head[0] != 0xFF || head[1] == 0xDA {
                return Ok(false);
            }
            let len = u64::from(u16::from_be_bytes([head[2], head[3]]));
            if head[1] == 0xE2 && len >= 6 {
                file.read_exact(&mut head[4..])?;
                if &head[4..] == b"MPF\0" {
                    return Ok(true);
                }
            }
            pos += 2 + len;
        }
    })();
    file.seek(SeekFrom::Start(start))?;
    found
}

/// Where the MPF segment's TIFF header starts in `jpeg`, and the segment
/// from there: found among the segments before the first scan.
fn mpf_segment(jpeg: &[u8]) -> Option<(usize, &[u8])> {
    let mut pos = 2;
    while let [0xFF, marker, hi, lo, ..] = *jpeg.get(pos..)? {
        if marker == 0xDA {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let body = jpeg.get(pos + 4..pos + 2 + len)?;
        if marker == 0xE2 && body.starts_with(b"MPF\0") {
            return Some((pos + 8, &body[4..]));
        }
        pos += 2 + len;
    }
    None
}

/// Each image's (offset from the TIFF header, size) from the MP Entry tag
/// (0xB002) of the first IFD, but the first image (the photo itself).
fn entries(tiff: &[u8]) -> Option<impl Iterator<Item = (usize, usize)> + '_> {
    let little = match tiff.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let u16_at = move |at: usize| -> Option<usize> {
        let b = [*tiff.get(at)?, *tiff.get(at.checked_add(1)?)?];
        Some(usize::from(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }))
    };
    let u32_at = move |at: usize| -> Option<usize> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        let v = if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        };
        usize::try_from(v).ok()
    };
    let ifd = u32_at(4)?;
    let count = u16_at(ifd)?;
    let (list, n) = (0..count).find_map(|i| {
        let tag = ifd.checked_add(2 + 12 * i)?;
        if u16_at(tag)? != 0xB002 {
            return None;
        }
        // No more entries than the segment holds.
        let n = (u32_at(tag + 4)? / 16).min(tiff.len() / 16);
        Some((u32_at(tag + 8)?, n))
    })?;
    Some((1..n).filter_map(move |i| {
        let entry = list.checked_add(16 * i)?;
        Some((u32_at(entry + 8)?, u32_at(entry + 4)?))
    }))
}
