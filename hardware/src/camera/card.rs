//! A wired camera's memory card, simulated: each press of the shutter
//! writes a JPEG of the scene into `DCIM/100SCANR/`, its EXIF capture time
//! read off the camera's own clock, which runs off the rig's by a set
//! offset (a camera's clock drifts, or was never set).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::image::{write_jpeg, ImageSpec, Look};
use super::{CaptureRequest, Stage};
use crate::fsutil::DurableFile;

/// The folder on the card the photos go to.
pub const CARD_FOLDER: &str = "DCIM/100SCANR";

/// A simulated camera's card: a folder a photo is written into per press
/// of the shutter, numbered on as a camera numbers them.
#[derive(Debug, Clone)]
pub struct SimCard {
    root: PathBuf,
    clock_offset_ms: i64,
    width: u32,
    height: u32,
    stage: Stage,
    taken: u32,
}

impl SimCard {
    /// The card at `root` (created if needed) of a camera whose clock runs
    /// `clock_offset_ms` ahead of the rig's (behind when negative), taking
    /// `width`x`height` photos of the scene on `stage`.
    pub fn new(
        root: &Path,
        clock_offset_ms: i64,
        (width, height): (u32, u32),
        stage: Stage,
    ) -> SimCard {
        SimCard {
            root: root.to_path_buf(),
            clock_offset_ms,
            width,
            height,
            stage,
            taken: 0,
        }
    }

    /// The card's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shutter pressed at `at` (the rig's clock) with the rig at
    /// `request`'s pose: the next photo written to the card, its EXIF
    /// DateTimeOriginal the camera's clock then. Returns its path.
    pub fn shoot(&mut self, request: &CaptureRequest, at: SystemTime) -> io::Result<PathBuf> {
        let folder = self.root.join(CARD_FOLDER);
        fs::create_dir_all(&folder)?;
        self.taken += 1;
        let path = folder.join(format!("IMG_{:04}.JPG", self.taken));
        let offset = Duration::from_millis(self.clock_offset_ms.unsigned_abs());
        let captured = if self.clock_offset_ms >= 0 {
            at + offset
        } else {
            at - offset
        };
        let spec = ImageSpec {
            width: self.width,
            height: self.height,
            label: &request.label,
            azimuth: request.azimuth,
            tilt: request.tilt,
            stage: self.stage,
            captured,
            file_size: 0,
            look: Look::default(),
        };
        let mut file = DurableFile::create(&path)?;
        write_jpeg(&mut file, &spec)?;
        file.commit()?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Degrees;

    #[test]
    fn each_press_writes_the_next_photo_with_the_cameras_clock_in_its_exif() {
        let dir = tempfile::tempdir().unwrap();
        let mut card = SimCard::new(dir.path(), -7 * 60_000, (64, 48), Stage::default());
        let request = CaptureRequest {
            stem: "s_0001".into(),
            label: "shot 1".into(),
            azimuth: Degrees(30.0),
            tilt: Degrees(0.0),
        };
        // 2023-11-14 22:13:20 UTC on the rig's clock.
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let first = card.shoot(&request, at).unwrap();
        let second = card.shoot(&request, at).unwrap();
        assert!(first.ends_with("DCIM/100SCANR/IMG_0001.JPG"), "{first:?}");
        assert!(second.ends_with("DCIM/100SCANR/IMG_0002.JPG"), "{second:?}");
        let bytes = fs::read(&first).unwrap();
        let taken = b"2023:11:14 22:06:20\0";
        assert!(
            bytes.windows(taken.len()).any(|w| w == taken),
            "the camera's clock, 7 minutes behind, in the EXIF"
        );
        assert!(jpeg_decoder::Decoder::new(&bytes[..]).decode().is_ok());
    }
}
