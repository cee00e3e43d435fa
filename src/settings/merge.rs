//! `[merge]`: whether the rig merges bracketed sets itself (exposure fusion
//! and focus stacks by Debian's `enfuse` and `align_image_stack`), or
//! leaves that to a workstation.

use std::path::PathBuf;

use scanrig_actors::merge::MergeConfig;
use serde::{Deserialize, Serialize};

/// `[merge]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Merge {
    /// Merge on the rig; `false` (the default): the frames alone are
    /// uploaded and a workstation merges them.
    pub enabled: bool,
    /// The `enfuse` program (Debian's enfuse package).
    pub enfuse: PathBuf,
    /// The `align_image_stack` program (Debian's hugin-tools package).
    pub align_image_stack: PathBuf,
    /// Align a focus stack's frames before stacking them.
    pub align: bool,
    /// JPEG quality of the merged image, 1 to 100.
    pub quality: u8,
    /// Sets waiting or being merged at most, 1 to 16; a set past it is
    /// uploaded unmerged (capture never waits for a merge).
    pub queue: usize,
}

impl Default for Merge {
    fn default() -> Self {
        Merge {
            enabled: false,
            enfuse: "enfuse".into(),
            align_image_stack: "align_image_stack".into(),
            align: true,
            quality: 95,
            queue: 2,
        }
    }
}

impl Merge {
    /// How the merger runs, when merging is on.
    pub fn config(&self) -> Option<MergeConfig> {
        self.enabled.then(|| MergeConfig {
            enfuse: self.enfuse.clone(),
            align_image_stack: self.align_image_stack.clone(),
            align: self.align,
            quality: self.quality,
            queue: self.queue,
        })
    }
}

/// What is wrong with `[merge]`: (key, reason).
pub fn merge_problems(m: &Merge) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !(1..=100).contains(&m.quality) {
        out.push((
            "merge.quality",
            format!("must be 1 to 100, found {}", m.quality),
        ));
    }
    if !(1..=16).contains(&m.queue) {
        out.push((
            "merge.queue",
            format!("must be 1 to 16 sets, found {}", m.queue),
        ));
    }
    for (key, program) in [
        ("merge.enfuse", &m.enfuse),
        ("merge.align_image_stack", &m.align_image_stack),
    ] {
        if program.as_os_str().is_empty() {
            out.push((key, "is empty; give the program's name or path".into()));
        }
    }
    out
}
