//! The supervisor's side of merging: once a bracketed shot's frames are in
//! the spool, each camera's set goes to the merger (within its queue) and
//! the merged image joins the shot's files before the shot is journaled,
//! so it is uploaded and listed in the manifest with them, exactly once. A
//! set that cannot be merged, or finds the queue full, is journaled with
//! its frames alone, and the log (and the status's last error) says why.

use std::collections::BTreeMap;
use std::path::Path;

use actix::prelude::*;
use slog::warn;

use super::Supervisor;
use crate::merge::Merge;
use crate::model::{BracketKind, CameraName, Frame, PhotoName, ScanId, ShotId, SpoolFile};

/// The merges of a shot's files: each camera's JPEG frames, in frame
/// order, into the camera's merged image (`<stem>[_<camera>]_fused.jpg`
/// for exposure, `…_stacked.jpg` for focus); none already made (a shot
/// journaled again) or of a single frame. Each merge comes with the
/// merged image's name (of take `take` of the shot).
pub(super) fn merges(
    kind: BracketKind,
    (stem, take): (&str, u32),
    dir: &Path,
    files: &[SpoolFile],
) -> Vec<(PhotoName, Merge)> {
    let mut sets: BTreeMap<Option<&CameraName>, Vec<(u32, &str)>> = BTreeMap::new();
    for f in files {
        let lower = f.name.to_ascii_lowercase();
        let jpeg = lower.ends_with(".jpg") || lower.ends_with(".jpeg");
        if let (true, Frame::Bracket(k)) = (jpeg, f.frame) {
            sets.entry(f.camera.as_ref())
                .or_default()
                .push((k, &f.name));
        }
    }
    let made = |camera: Option<&CameraName>| {
        files
            .iter()
            .any(|f| f.camera.as_ref() == camera && f.frame == Frame::Merged(kind))
    };
    sets.into_iter()
        .filter(|(camera, frames)| frames.len() > 1 && !made(*camera))
        .map(|(camera, mut frames)| {
            frames.sort_unstable();
            let name = PhotoName {
                shot: stem.to_owned(),
                camera: camera.cloned(),
                frame: Frame::Merged(kind),
                take,
            };
            let merge = Merge {
                kind,
                dir: dir.to_path_buf(),
                inputs: frames.into_iter().map(|(_, n)| n.to_owned()).collect(),
                output: name.file("jpg"),
            };
            (name, merge)
        })
        .collect()
}

impl Supervisor {
    /// Merges a bracketed shot's sets (when merging is on), then journals
    /// the shot with whatever was merged.
    pub(super) fn merge_then_persist(
        &mut self,
        scan: &ScanId,
        shot: ShotId,
        ctx: &mut Context<Self>,
    ) {
        let jobs = match (&self.merger, self.runs.get(scan)) {
            (Some(_), Some(run)) => match &run.plan.bracket {
                Some(b) => {
                    let files = run.files.get(&shot).map_or(&[][..], Vec::as_slice);
                    let shot_of = (run.plan.shot(shot).stem.as_str(), run.seq.take(shot));
                    merges(b.kind, shot_of, &run.dir, files)
                }
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let Some(merger) = self.merger.as_ref().filter(|_| !jobs.is_empty()) else {
            self.persist(scan, shot, ctx);
            return self.check_space(scan, ctx);
        };
        if self.merging + jobs.len() > self.merge_queue {
            warn!(self.log, "the merge queue is full: this set is uploaded unmerged (merge it on a workstation)";
                "scan" => %scan, "shot" => shot.0, "queue" => self.merge_queue);
            self.persist(scan, shot, ctx);
            return self.check_space(scan, ctx);
        }
        self.merging += jobs.len();
        let asked: Vec<_> = jobs
            .into_iter()
            .map(|(name, job)| {
                let reply = merger.send(job);
                async move { (name, reply.await) }
            })
            .collect();
        let id = scan.clone();
        futures_util::future::join_all(asked)
            .into_actor(self)
            .map(move |answers, act, ctx| {
                act.merging -= answers.len();
                for (name, answer) in answers {
                    let merged = answer
                        .map_err(|e| format!("the merger stopped: {e}"))
                        .and_then(|r| r);
                    match (merged, act.runs.get_mut(&id)) {
                        (Ok(file), Some(run)) => {
                            run.files
                                .entry(shot)
                                .or_default()
                                .push(super::commands::spool_file(file, &name));
                        }
                        (Err(e), _) => {
                            let output = name.file("jpg");
                            act.error(&format!(
                                "merging {output} failed: {e}; its frames are uploaded unmerged"
                            ));
                            warn!(act.log, "merging a set failed; its frames are uploaded unmerged";
                                "scan" => %id, "shot" => shot.0, "file" => output, "error" => e);
                        }
                        (Ok(_), None) => {}
                    }
                }
                act.persist(&id, shot, ctx);
                act.check_space(&id, ctx);
            })
            .spawn(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEM: &str = "s_0001_r1_az000.0_t+00.0";

    fn file(camera: &str, frame: Frame, ext: &str) -> SpoolFile {
        let camera = CameraName::new(camera).unwrap();
        let name = PhotoName {
            shot: STEM.into(),
            camera: Some(camera.clone()),
            frame,
            take: 1,
        };
        SpoolFile {
            name: name.file(ext),
            sha256: String::new(),
            size: 1,
            pixels: None,
            camera: Some(camera),
            frame,
        }
    }

    #[test]
    fn each_camera_s_jpeg_frames_make_one_merge_in_frame_order() {
        let files = vec![
            file("low", Frame::Bracket(2), "jpg"),
            file("low", Frame::Bracket(1), "jpg"),
            file("low", Frame::Bracket(1), "ppm"),
            file("high", Frame::Bracket(1), "jpg"),
            file("high", Frame::Bracket(2), "jpg"),
            file("high", Frame::Bracket(10), "jpg"),
        ];
        let jobs = merges(BracketKind::Focus, (STEM, 1), Path::new("/spool/s"), &files);
        let got: Vec<(String, Vec<&str>)> = jobs
            .iter()
            .map(|(name, m)| {
                assert_eq!(name.file("jpg"), m.output);
                let frames = m.inputs.iter().map(|i| &i[STEM.len() + 1..]).collect();
                (m.output[STEM.len() + 1..].to_owned(), frames)
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "high_stacked.jpg".to_owned(),
                    vec!["high_b1.jpg", "high_b2.jpg", "high_b10.jpg"]
                ),
                (
                    "low_stacked.jpg".to_owned(),
                    vec!["low_b1.jpg", "low_b2.jpg"]
                ),
            ]
        );
        // Merged already (the shot journaled again): not again.
        let mut again = files.clone();
        again.push(file("low", Frame::Merged(BracketKind::Focus), "jpg"));
        let jobs = merges(BracketKind::Focus, (STEM, 1), Path::new("/spool/s"), &again);
        assert_eq!(jobs.len(), 1);
        let fused = merges(
            BracketKind::Exposure,
            (STEM, 1),
            Path::new("/"),
            &files[..2],
        );
        assert_eq!(fused[0].1.output, format!("{STEM}_low_fused.jpg"));
        assert_eq!(fused[0].0.frame, Frame::Merged(BracketKind::Exposure));
        // A retake's merged image is of its take.
        let fused = merges(
            BracketKind::Exposure,
            (STEM, 3),
            Path::new("/"),
            &files[..2],
        );
        assert_eq!(fused[0].1.output, format!("{STEM}_low_fused_take3.jpg"));
    }
}
