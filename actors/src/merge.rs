//! Merging a shot's bracketed set into one image beside its frames:
//! exposure fusion, or a focus stack (aligned first), by Debian's `enfuse`
//! and `align_image_stack`. The merger works on a thread of its own, so a
//! merge never holds up the camera, the table or the uploads of other
//! shots; a set it cannot merge keeps its frames and says why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use actix::prelude::*;
use scanrig_hardware::camera::DownloadedFile;
use scanrig_hardware::fsutil::{commit_written, temp_path};
use slog::{info, Logger};

use crate::model::BracketKind;

/// How sets are merged.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeConfig {
    /// The `enfuse` program.
    pub enfuse: PathBuf,
    /// The `align_image_stack` program (hugin-tools).
    pub align_image_stack: PathBuf,
    /// Align a focus stack's frames before stacking them (a lens's image
    /// grows or shrinks as it focuses).
    pub align: bool,
    /// JPEG quality of the merged image, 1 to 100.
    pub quality: u8,
    /// Sets waiting or being merged at most; a set past it is uploaded
    /// unmerged rather than wait (capture never waits for a merge).
    pub queue: usize,
}

/// The merger: one set at a time.
pub struct Merger {
    config: MergeConfig,
    log: Logger,
}

impl Merger {
    /// A merger that runs the configured tools.
    pub fn new(config: MergeConfig, log: Logger) -> Merger {
        Merger { config, log }
    }
}

impl Actor for Merger {
    type Context = SyncContext<Self>;
}

/// Merges the frames `inputs` (file names in `dir`) into `output` in
/// `dir`, written durably; the reply is the merged file, or why it could
/// not be made.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<DownloadedFile, String>")]
pub struct Merge {
    /// Exposure fusion or focus stacking.
    pub kind: BracketKind,
    /// The scan's spool folder.
    pub dir: PathBuf,
    /// The frames, in order.
    pub inputs: Vec<String>,
    /// The merged image's file name.
    pub output: String,
}

impl Handler<Merge> for Merger {
    type Result = Result<DownloadedFile, String>;

    fn handle(&mut self, msg: Merge, _: &mut Self::Context) -> Self::Result {
        let started = Instant::now();
        let merged = self.merge_now(&msg)?;
        info!(self.log, "set merged"; "file" => &msg.output, "frames" => msg.inputs.len(),
            "ms" => started.elapsed().as_millis() as u64);
        Ok(merged)
    }
}

impl Merger {
    /// Merges one set here and now (the handler's work, blocking).
    pub fn merge_now(&self, msg: &Merge) -> Result<DownloadedFile, String> {
        let target = msg.dir.join(&msg.output);
        let work = std::env::temp_dir().join(format!(
            "scanrig-merge-{}-{}",
            std::process::id(),
            msg.output
        ));
        let merged = self.merge(msg, &target, &work);
        // The aligned frames are scratch, whatever happened.
        let _ = std::fs::remove_dir_all(&work);
        merged
    }

    fn merge(&self, msg: &Merge, target: &Path, work: &Path) -> Result<DownloadedFile, String> {
        let mut inputs: Vec<PathBuf> = msg.inputs.iter().map(|n| msg.dir.join(n)).collect();
        if msg.kind == BracketKind::Focus && self.config.align {
            std::fs::create_dir_all(work)
                .map_err(|e| format!("cannot make {}: {e}", work.display()))?;
            let prefix = work.join("aligned_");
            let mut align = Command::new(&self.config.align_image_stack);
            align
                .args(["-m", "--use-given-order", "-a"])
                .arg(&prefix)
                .args(&inputs);
            run(&mut align, &self.config.align_image_stack, "hugin-tools")?;
            let aligned: Vec<PathBuf> = (0..inputs.len())
                .map(|i| work.join(format!("aligned_{i:04}.tif")))
                .collect();
            // A frame too far out of focus to find control points in is
            // left out by align_image_stack; the rig did not move between
            // the frames, so the set is then merged as taken.
            if aligned.iter().all(|a| a.exists()) {
                inputs = aligned;
            }
        }
        // enfuse writes by the output's extension: a JPEG, then moved to
        // the temp name the spool commits from.
        let temp = temp_path(target).map_err(|e| e.to_string())?;
        let written = PathBuf::from(format!("{}.jpg", temp.display()));
        let mut enfuse = Command::new(&self.config.enfuse);
        enfuse
            .arg(format!("--output={}", written.display()))
            .arg(format!("--compression={}", self.config.quality));
        if msg.kind == BracketKind::Focus {
            // The sharpest frame wins each pixel.
            enfuse.args([
                "--exposure-weight=0",
                "--saturation-weight=0",
                "--contrast-weight=1",
                "--hard-mask",
                "--contrast-window-size=5",
            ]);
        }
        enfuse.args(&inputs);
        let fused = run(&mut enfuse, &self.config.enfuse, "enfuse");
        let committed = fused.and_then(|()| {
            std::fs::rename(&written, &temp)
                .and_then(|()| commit_written(target))
                .map_err(|e| format!("cannot keep the merged image {}: {e}", target.display()))
        });
        if committed.is_err() {
            let _ = std::fs::remove_file(&written);
            let _ = std::fs::remove_file(&temp);
        }
        Ok(DownloadedFile::new(target.to_path_buf(), committed?))
    }
}

/// Runs a merging tool; a clear reason when it cannot be run or fails.
fn run(command: &mut Command, program: &Path, package: &str) -> Result<(), String> {
    let name = program.display();
    let out = command.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "`{name}` was not found; install Debian's {package} package (apt install {package}) or set its path in [merge]"
        ),
        _ => format!("cannot run `{name}`: {e}"),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let last = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Err(format!("`{name}` failed ({}): {last}", out.status))
}
