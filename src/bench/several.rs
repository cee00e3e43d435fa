//! The two-destination run of `scanrig bench`: the pipelined scan again,
//! every photo going to two destinations [`UPLOAD`] away, each with its
//! own workers; measured against the same single-camera bound.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use scanrig_actors::destination::{Destination, Destinations, LocalDir, Opener, SimRemote};
use serde::Serialize;

use super::{bench_settings, wall, UPLOAD};
use crate::settings::Settings;

/// What the two-destination run found.
#[derive(Debug, Serialize)]
pub(super) struct SeveralResults {
    destinations: u32,
    wall_s: f64,
    /// The single-camera bound: a second destination adds no time to it.
    bound_s: f64,
    efficiency: f64,
}

/// Takes the scan of `n` shots sending every photo to two destinations.
pub(super) fn run(
    base: &Settings,
    tmp: &Path,
    n: u32,
    bound: Duration,
) -> anyhow::Result<SeveralResults> {
    let dir = tmp.join("two-destinations");
    let s = bench_settings(base, &dir);
    let remote = |name: &str| -> (String, Arc<dyn Destination>) {
        let folder = LocalDir::new(dir.join(name));
        (name.to_owned(), Arc::new(SimRemote::new(folder, UPLOAD, 0)))
    };
    let named = vec![remote("near"), remote("far")];
    let open: Opener = Arc::new(|place| Err(format!("the bench sends nowhere else than {place}")));
    let destinations = Destinations::several(named, open)
        .ok_or_else(|| anyhow::anyhow!("no destination to send to"))?;
    let wall = wall(&s, &dir, n, "two-destinations", |rig| {
        rig.destinations = destinations
    })?;
    Ok(SeveralResults {
        destinations: 2,
        wall_s: wall.as_secs_f64(),
        bound_s: bound.as_secs_f64(),
        efficiency: bound.as_secs_f64() / wall.as_secs_f64(),
    })
}

/// Prints the run's line.
pub(super) fn print(r: &SeveralResults) {
    println!(
        "  {} destinations: wall {:.3} s, bound {:.3} s, efficiency {:.3} (target >= 0.97)",
        r.destinations, r.wall_s, r.bound_s, r.efficiency
    );
}
