//! The bracket run of `scanrig bench`: every stop a set of exposure
//! frames, against its bound; the same scan with merging on the rig (it
//! must not slow capture); and the merger's own time per set.

use std::path::Path;
use std::time::{Duration, Instant};

use scanrig_actors::merge::{Merge, Merger};
use scanrig_actors::model::{Bracket, BracketKind, Frame, PhotoName};
use scanrig_hardware::Degrees;
use serde::Serialize;

use super::{bench_settings, median, ring, wall_of, DOWNLOAD, EXPOSE, LIMITS, SETTLE, UPLOAD};
use crate::settings::{Merge as MergeSettings, Settings};

/// What the bracket run found.
#[derive(Debug, Serialize)]
pub(super) struct BracketResults {
    frames: u32,
    stops: u32,
    wall_s: f64,
    /// Per stop `max(rotate + settle, frames × download) + frames ×
    /// expose`, plus the last stop's uploads (in parallel: one upload).
    bound_s: f64,
    efficiency: f64,
    /// The same scan merging every set on the rig, or why it could not.
    merging: Result<Merging, String>,
}

/// The scan with merging on.
#[derive(Debug, Serialize)]
struct Merging {
    wall_s: f64,
    /// Wall with merging over wall without.
    slowdown: f64,
    /// The bound plus what merging adds at the very end: the last set's
    /// merge (median; the merged image goes up beside the frames).
    bound_s: f64,
    efficiency: f64,
    /// Sets merged (the others found the queue full and went unmerged).
    merged: usize,
    /// The merger alone on each set of the first scan, one after another:
    /// fastest, median, slowest, milliseconds.
    merge_ms: (f64, f64, f64),
    /// Capture time per stop, milliseconds: merging keeps up when a set
    /// merges faster.
    capture_ms_per_stop: f64,
}

/// The run: `n` stops of `frames` exposures each.
pub(super) fn run(
    base: &Settings,
    tmp: &Path,
    n: u32,
    frames: u32,
) -> anyhow::Result<BracketResults> {
    let step = Degrees(360.0 / f64::from(n));
    let rotate = LIMITS.move_duration(step) + SETTLE;
    let per_stop = rotate.max(DOWNLOAD * frames) + EXPOSE * frames;
    let bound = per_stop * n + UPLOAD;
    let steps = ["-2", "0", "+2", "-1", "+1", "-3", "+3"];
    let values: Vec<String> = (0..frames as usize)
        .map(|i| steps[i % steps.len()].to_string())
        .collect();
    let bracket = Bracket {
        kind: BracketKind::Exposure,
        frames: values
            .iter()
            .map(|v| [("exposurecompensation".to_string(), v.clone())].into())
            .collect(),
        after: Default::default(),
    };
    let scan = |merge: bool| -> anyhow::Result<(Duration, std::path::PathBuf)> {
        let name = if merge { "bracket-merged" } else { "bracket" };
        let dir = tmp.join(name);
        let mut s = bench_settings(base, &dir);
        s.merge = MergeSettings {
            enabled: merge,
            ..MergeSettings::default()
        };
        let mut plan = ring(n, name, SETTLE);
        plan.bracket = Some(Box::new(bracket.clone()));
        let folder = dir.join("dest").join(plan.scan.as_str());
        Ok((wall_of(&s, &dir, plan, |_| {})?, folder))
    };
    let (wall, folder) = scan(false)?;
    let merging = merge_figures(base, &folder, n, frames, wall, bound, || scan(true));
    Ok(BracketResults {
        frames,
        stops: n,
        wall_s: wall.as_secs_f64(),
        bound_s: bound.as_secs_f64(),
        efficiency: bound.as_secs_f64() / wall.as_secs_f64(),
        merging,
    })
}

/// The merger's time on each set of the scan in `folder`, then the scan
/// again merging on the rig.
fn merge_figures(
    base: &Settings,
    folder: &Path,
    n: u32,
    frames: u32,
    wall: Duration,
    bound: Duration,
    merged_scan: impl FnOnce() -> anyhow::Result<(Duration, std::path::PathBuf)>,
) -> Result<Merging, String> {
    let config = MergeSettings {
        enabled: true,
        ..base.merge.clone()
    }
    .config()
    .ok_or("merging is off")?;
    let merger = Merger::new(config, slog::Logger::root(slog::Discard, slog::o!()));
    let mut sets: Vec<Vec<String>> = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map_err(|e| format!("cannot read {}: {e}", folder.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    for chunk in names.chunks(frames as usize) {
        sets.push(chunk.to_vec());
    }
    let mut times = Vec::new();
    for set in &sets {
        let output = set[0].replace("_b1.jpg", "_bench-fused.jpg");
        let started = Instant::now();
        merger.merge_now(&Merge {
            kind: BracketKind::Exposure,
            dir: folder.to_path_buf(),
            inputs: set.clone(),
            output,
        })?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let (with, merged_folder) = merged_scan().map_err(|e| e.to_string())?;
    let merged = std::fs::read_dir(&merged_folder)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| {
            let name = PhotoName::of_file(&e.file_name().to_string_lossy());
            name.is_some_and(|n| n.frame == Frame::Merged(BracketKind::Exposure))
        })
        .count();
    let merge_ms = (times[0], median(&times), times[times.len() - 1]);
    let bound = bound.as_secs_f64() + merge_ms.1 / 1000.0;
    Ok(Merging {
        wall_s: with.as_secs_f64(),
        slowdown: with.as_secs_f64() / wall.as_secs_f64(),
        bound_s: bound,
        efficiency: bound / with.as_secs_f64(),
        merged,
        merge_ms,
        capture_ms_per_stop: wall.as_secs_f64() * 1000.0 / f64::from(n),
    })
}

/// Prints the run.
pub(super) fn print(b: &BracketResults) {
    println!(
        "  bracket of {} exposures, {} stops: wall {:.3} s, bound {:.3} s, efficiency {:.3} (target >= 0.97)",
        b.frames, b.stops, b.wall_s, b.bound_s, b.efficiency
    );
    match &b.merging {
        Ok(m) => {
            println!(
                "    merging on the rig: wall {:.3} s ({:.3}x), {} of {} sets merged; bound + last merge {:.3} s, efficiency {:.3}",
                m.wall_s, m.slowdown, m.merged, b.stops, m.bound_s, m.efficiency
            );
            println!(
                "    enfuse per set {:.0} ms median, {:.0}-{:.0}; capture per stop {:.0} ms: {}",
                m.merge_ms.1,
                m.merge_ms.0,
                m.merge_ms.2,
                m.capture_ms_per_stop,
                if m.merge_ms.1 < m.capture_ms_per_stop {
                    "keeps up"
                } else {
                    "falls behind (sets past the queue go unmerged)"
                }
            );
        }
        Err(e) => println!("    merging skipped: {e}"),
    }
}
