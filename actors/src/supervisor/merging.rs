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
use crate::journal::SpoolFile;
use crate::merge::Merge;
use crate::plan::{BracketKind, ScanId, ShotId};

/// The merges of a shot's files: each camera's JPEG frames
/// (`<stem>[_<camera>]_b<k>.jpg`), in frame order, into
/// `<stem>[_<camera>]_fused.jpg` (exposure) or `…_stacked.jpg` (focus);
/// none already made (a shot journaled again) or of a single frame.
pub(super) fn merges(kind: BracketKind, dir: &Path, files: &[SpoolFile]) -> Vec<Merge> {
    let mut sets: BTreeMap<&str, Vec<(u32, &str)>> = BTreeMap::new();
    for f in files {
        let Some(stem) = f
            .name
            .strip_suffix(".jpg")
            .or_else(|| f.name.strip_suffix(".jpeg"))
        else {
            continue;
        };
        let Some((set, frame)) = stem.rsplit_once("_b") else {
            continue;
        };
        if let Ok(k) = frame.parse::<u32>() {
            sets.entry(set).or_default().push((k, &f.name));
        }
    }
    let end = match kind {
        BracketKind::Exposure => "fused",
        BracketKind::Focus => "stacked",
    };
    sets.into_iter()
        .filter(|(_, frames)| frames.len() > 1)
        .map(|(set, mut frames)| {
            frames.sort_unstable();
            Merge {
                kind,
                dir: dir.to_path_buf(),
                inputs: frames.into_iter().map(|(_, n)| n.to_owned()).collect(),
                output: format!("{set}_{end}.jpg"),
            }
        })
        .filter(|m| !files.iter().any(|f| f.name == m.output))
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
                    merges(b.kind, &run.dir, files)
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
            .map(|job| {
                let output = job.output.clone();
                let reply = merger.send(job);
                async move { (output, reply.await) }
            })
            .collect();
        let id = scan.clone();
        futures_util::future::join_all(asked)
            .into_actor(self)
            .map(move |answers, act, ctx| {
                act.merging -= answers.len();
                for (output, answer) in answers {
                    let merged = answer
                        .map_err(|e| format!("the merger stopped: {e}"))
                        .and_then(|r| r);
                    match (merged, act.runs.get_mut(&id)) {
                        (Ok(file), Some(run)) => {
                            run.files
                                .entry(shot)
                                .or_default()
                                .push(super::commands::spool_file(file));
                        }
                        (Err(e), _) => {
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

    fn file(name: &str) -> SpoolFile {
        SpoolFile {
            name: name.into(),
            sha256: String::new(),
            size: 1,
            pixels: None,
        }
    }

    #[test]
    fn each_camera_s_jpeg_frames_make_one_merge_in_frame_order() {
        let files: Vec<SpoolFile> = [
            "s_0001_low_b2.jpg",
            "s_0001_low_b1.jpg",
            "s_0001_low_b1.ppm",
            "s_0001_high_b1.jpg",
            "s_0001_high_b2.jpg",
            "s_0001_high_b10.jpg",
        ]
        .map(file)
        .into();
        let jobs = merges(BracketKind::Focus, Path::new("/spool/s"), &files);
        let got: Vec<(&str, Vec<&str>)> = jobs
            .iter()
            .map(|m| {
                (
                    m.output.as_str(),
                    m.inputs.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "s_0001_high_stacked.jpg",
                    vec![
                        "s_0001_high_b1.jpg",
                        "s_0001_high_b2.jpg",
                        "s_0001_high_b10.jpg"
                    ]
                ),
                (
                    "s_0001_low_stacked.jpg",
                    vec!["s_0001_low_b1.jpg", "s_0001_low_b2.jpg"]
                ),
            ]
        );
        // Merged already (the shot journaled again): not again.
        let mut again = files.clone();
        again.push(file("s_0001_low_stacked.jpg"));
        let jobs = merges(BracketKind::Focus, Path::new("/spool/s"), &again);
        assert_eq!(jobs.len(), 1);
        let fused = merges(BracketKind::Exposure, Path::new("/"), &files[..2]);
        assert_eq!(fused[0].output, "s_0001_low_fused.jpg");
    }
}
