//! The ring check run of `scanrig bench`: what the check after each ring
//! that the object has not moved costs a scan. The same scan of several
//! rings is taken with the check on and off, a few times each; the
//! difference per ring is the move back to the ring's first shot, its
//! settling, the check frame, the comparison and its journal record.

use std::path::Path;
use std::time::Duration;

use scanrig_actors::clock::unix_now;
use scanrig_actors::model::{ScanId, ScanPlan, Station};
use scanrig_actors::supervisor::ScanSummary;
use scanrig_hardware::Degrees;
use serde::Serialize;

use super::{bench_settings, median, summary_of, SETTLE};
use crate::settings::Settings;

/// Runs of each scan, alternating: the medians are reported.
const RUNS: usize = 3;

/// What the ring check run found.
#[derive(Debug, Serialize)]
pub(super) struct MovedResults {
    rings: u32,
    shots_per_ring: u32,
    /// Wall time with the check on and off, medians of [`RUNS`].
    checked_wall_s: f64,
    unchecked_wall_s: f64,
    /// What the check adds to the scan per ring, milliseconds: the
    /// median of the differences of the runs, and their range.
    per_ring_ms: (f64, f64, f64),
    /// The check frame, the comparison and the journal record alone, per
    /// ring (the stage `checking` of a run's summary): fastest, median,
    /// slowest run, milliseconds.
    checking_ms: (f64, f64, f64),
}

/// The run: `rings` rings of `shots` shots, all level (the bench rig has
/// no tilt motor, and a ring at a new tilt would wait for the operator).
pub(super) fn run(
    base: &Settings,
    tmp: &Path,
    rings: u32,
    shots: u32,
) -> anyhow::Result<MovedResults> {
    let stations: Vec<Station> = (1..=rings)
        .flat_map(|ring| {
            (0..shots).map(move |i| Station {
                ring,
                index: i + 1,
                azimuth: Degrees(f64::from(i) * 360.0 / f64::from(shots)),
                tilt: Degrees(0.0),
                cameras: Vec::new(),
            })
        })
        .collect();
    let scan = |check: bool, run: usize| -> anyhow::Result<ScanSummary> {
        let name = format!(
            "rings-{}-{run}",
            if check { "checked" } else { "unchecked" }
        );
        let dir = tmp.join(&name);
        let mut s = bench_settings(base, &dir);
        s.moved.check = check;
        let plan = ScanPlan::new(
            ScanId::new(unix_now(), &name),
            &name,
            &name,
            SETTLE,
            Default::default(),
            &stations,
        );
        summary_of(&s, &dir, plan, |_| {})
    };
    let (mut on, mut off, mut added, mut checking) = (vec![], vec![], vec![], vec![]);
    for run in 0..RUNS {
        let checked = scan(true, run)?;
        let unchecked = scan(false, run)?;
        let secs = |d: Duration| d.as_secs_f64();
        on.push(secs(checked.wall));
        off.push(secs(unchecked.wall));
        let per_ring = |d: f64| d * 1000.0 / f64::from(rings);
        added.push(per_ring(secs(checked.wall) - secs(unchecked.wall)));
        checking.push(per_ring(secs(checked.stages.checking)));
    }
    let range = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], median(&v), v[v.len() - 1])
    };
    Ok(MovedResults {
        rings,
        shots_per_ring: shots,
        checked_wall_s: median(&on),
        unchecked_wall_s: median(&off),
        per_ring_ms: range(added),
        checking_ms: range(checking),
    })
}

/// Prints the run's lines of the bench's report.
pub(super) fn print(m: &MovedResults) {
    println!(
        "  ring check, {} rings of {} shots: wall {:.3} s checked, {:.3} s not (medians of {RUNS})",
        m.rings, m.shots_per_ring, m.checked_wall_s, m.unchecked_wall_s
    );
    println!(
        "    added per ring {:.0} ms median, {:.0}-{:.0}; of which frame + compare + journal {:.1} ms, {:.1}-{:.1}",
        m.per_ring_ms.1,
        m.per_ring_ms.0,
        m.per_ring_ms.2,
        m.checking_ms.1,
        m.checking_ms.0,
        m.checking_ms.2
    );
}
