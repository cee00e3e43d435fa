//! Judging photos as they land: the judge reads a photo from the spool and
//! measures it (`scanrig_hardware::judge`) on a thread of its own, so that
//! judging never holds up the camera, the table or the uploads. The
//! supervisor keeps its queue bounded: a photo that finds it full is
//! journaled as not judged, and the scan goes on.

use std::path::PathBuf;
use std::time::Instant;

use actix::prelude::*;
use scanrig_hardware::judge::{judge_file, Judgement, QualityLimits};
use slog::{debug, Logger};

use crate::model::SpoolFile;
use crate::poses::export::photo_of;
use crate::settle::SettleStore;

/// How photos are judged.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeConfig {
    /// How good a photo must be.
    pub limits: QualityLimits,
    /// Photos waiting or being judged at most; a photo past it is not
    /// judged (capture and upload never wait for the judge).
    pub queue: usize,
    /// Where the rig keeps the settle time it learned: a photo judged
    /// blurred at it lengthens it.
    pub settle: Option<SettleStore>,
}

/// The judge: one photo at a time.
pub struct Judge {
    log: Logger,
}

impl Judge {
    /// A judge that logs to `log`.
    pub fn new(log: Logger) -> Judge {
        Judge { log }
    }
}

impl Actor for Judge {
    type Context = SyncContext<Self>;
}

/// Measures the photo at `path`; the reply is the judgement, or why there
/// is none.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Judgement, String>")]
pub struct JudgePhoto(pub PathBuf);

impl Handler<JudgePhoto> for Judge {
    type Result = Result<Judgement, String>;

    fn handle(&mut self, JudgePhoto(path): JudgePhoto, _: &mut Self::Context) -> Self::Result {
        let started = Instant::now();
        let judged = judge_file(&path, None).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "not judged: {} left the spool (uploaded) before it could be judged",
                path.display()
            ),
            _ => format!("not judged: cannot read {}: {e}", path.display()),
        })?;
        let judged = judged.map_err(|e| e.to_string());
        debug!(self.log, "photo judged"; "file" => %path.display(),
            "ms" => started.elapsed().as_millis() as u64);
        judged
    }
}

/// The photos of a shot's files the judges look at: one file of each
/// camera's frame (of a JPEG + RAW pair, the JPEG), merged images too.
pub fn photos_of(files: &[SpoolFile]) -> Vec<&SpoolFile> {
    let mut photos: Vec<&SpoolFile> = Vec::new();
    for f in files {
        let same = |g: &&SpoolFile| g.camera == f.camera && g.frame == f.frame;
        if photos.iter().any(same) {
            continue;
        }
        let set: Vec<&SpoolFile> = files.iter().filter(same).collect();
        if let Some(photo) = photo_of(&set, |g| &g.name, |g| g.pixels) {
            photos.push(photo);
        }
    }
    photos
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CameraName, Frame};

    fn file(name: &str, camera: Option<&str>, frame: Frame, pixels: bool) -> SpoolFile {
        SpoolFile {
            name: name.into(),
            sha256: String::new(),
            size: 1,
            pixels: pixels.then_some([640, 480]),
            camera: camera.map(|c| CameraName::new(c).unwrap()),
            frame,
        }
    }

    #[test]
    fn one_photo_of_each_camera_s_frame_is_judged_the_jpeg_of_a_pair() {
        let files = [
            file("s_low.nef", Some("low"), Frame::Only, false),
            file("s_low.jpg", Some("low"), Frame::Only, true),
            file("s_high_b1.jpg", Some("high"), Frame::Bracket(1), true),
            file("s_high_b2.jpg", Some("high"), Frame::Bracket(2), true),
            file(
                "s_high_fused.jpg",
                Some("high"),
                Frame::Merged(crate::model::BracketKind::Exposure),
                true,
            ),
            file("s_raw.nef", None, Frame::Only, false),
        ];
        let names: Vec<&str> = photos_of(&files).iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "s_low.jpg",
                "s_high_b1.jpg",
                "s_high_b2.jpg",
                "s_high_fused.jpg",
                "s_raw.nef"
            ]
        );
    }

    #[test]
    fn a_photo_gone_from_the_spool_or_not_a_photo_is_not_judged_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.jpg");
        std::fs::write(&text, b"not a photo").unwrap();
        System::new().block_on(async {
            let log = Logger::root(slog::Discard, slog::o!());
            let judge = SyncArbiter::start(1, move || Judge::new(log.clone()));
            let gone = judge.send(JudgePhoto(dir.path().join("gone.jpg"))).await;
            let gone = gone.unwrap().unwrap_err();
            assert!(
                gone.ends_with("gone.jpg left the spool (uploaded) before it could be judged"),
                "{gone}"
            );
            let odd = judge.send(JudgePhoto(text)).await.unwrap().unwrap_err();
            assert!(odd.starts_with("not judged: neither a JPEG"), "{odd}");
        });
    }
}
