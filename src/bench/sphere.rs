//! The sphere run of `scanrig bench`: the shipped `sphere-130` profile's
//! points on the shipped simulated table and tilt arm, both axes moving
//! together, with a fast camera and a DSLR-like one; each scan against its
//! bound, and the total move time of the order chosen against a
//! nearest-neighbour order and the banded serpentine.

use std::path::Path;
use std::time::{Duration, Instant};

use scanrig_actors::clock::unix_now;
use scanrig_actors::model::ScanId;
use scanrig_hardware::axis::MoveOrder;
use serde::Serialize;

use super::{bench_settings, summary_of, SETTLE, UPLOAD};
use crate::profile::order::RigMotion;
use crate::profile::Profile;
use crate::settings::{self, Settings, TiltBackend, TiltMove};

/// A camera's timing: its name, exposure and download, milliseconds.
const CAMERAS: [(&str, u64, u64); 2] = [("fast", 130, 200), ("dslr-like", 250, 800)];

/// What the sphere run found.
#[derive(Debug, Serialize)]
pub(super) struct SphereResults {
    shots: usize,
    settle_s: f64,
    /// Total move time of the shots, by the rig's motion model, seconds:
    /// in the order chosen, nearest neighbour first, the banded
    /// serpentine, and the serpentine one axis after the other.
    chosen_moves_s: f64,
    nearest_moves_s: f64,
    serpentine_moves_s: f64,
    serpentine_one_after_the_other_s: f64,
    /// How long choosing the order took, milliseconds.
    ordering_ms: f64,
    /// One scan per camera timing.
    cameras: Vec<SphereScan>,
}

/// One scan of the sphere.
#[derive(Debug, Serialize)]
struct SphereScan {
    camera: &'static str,
    expose_s: f64,
    download_s: f64,
    wall_s: f64,
    /// `max(move + settle, download) + expose` per shot, plus the last
    /// upload.
    bound_s: f64,
    efficiency: f64,
}

/// The run: the shipped sphere-130 profile with `points` points.
pub(super) fn run(base: &Settings, tmp: &Path, points: u32) -> anyhow::Result<SphereResults> {
    let mut shipped = Profile::find("sphere-130", &[])
        .map_err(|e| anyhow::anyhow!("the shipped sphere profile: {e}"))?;
    if let Some(sphere) = &mut shipped.sphere {
        sphere.points = points;
    }
    let rig = |dir: &Path, expose_ms: u64, download_ms: u64| {
        let mut s = bench_settings(base, dir);
        let still = |axis: settings::SimAxis| settings::SimAxis {
            home_ms: 0,
            shake_mm: 0.0,
            ..axis
        };
        s.turntable.sim = still(settings::SimAxis::default());
        s.tilt.backend = TiltBackend::Sim;
        s.tilt.moves = TiltMove::Together;
        s.tilt.sim = still(settings::SimAxis::tilt_default());
        s.camera.sim.expose_ms = expose_ms;
        s.camera.sim.download_ms = download_ms;
        s
    };
    let s = rig(tmp, 0, 0);
    let profile = shipped
        .for_rig(&s.limits())
        .map_err(|e| anyhow::anyhow!("the sphere on the bench rig: {e}"))?;
    let motion = profile.motion().expect("the bench rig has a tilt motor");
    let listed = profile.listed();
    let started = Instant::now();
    let chosen = profile.shots();
    let ordering_ms = started.elapsed().as_secs_f64() * 1000.0;
    let moves: Vec<Duration> = motion
        .moves(&chosen)
        .into_iter()
        .map(Duration::from_secs_f64)
        .collect();
    let mut cameras = Vec::new();
    for (camera, expose_ms, download_ms) in CAMERAS {
        let name = format!("sphere-{camera}");
        let dir = tmp.join(&name);
        let s = rig(&dir, expose_ms, download_ms);
        let mut plan = profile.plan(ScanId::new(unix_now(), &name), None, 0);
        plan.settle_ms = SETTLE.as_millis() as u64;
        let (expose, download) = (
            Duration::from_millis(expose_ms),
            Duration::from_millis(download_ms),
        );
        let bound: Duration = moves
            .iter()
            .map(|m| (*m + SETTLE).max(download) + expose)
            .sum::<Duration>()
            + UPLOAD;
        let wall = summary_of(&s, &dir, plan, |_| {})?.wall;
        cameras.push(SphereScan {
            camera,
            expose_s: expose.as_secs_f64(),
            download_s: download.as_secs_f64(),
            wall_s: wall.as_secs_f64(),
            bound_s: bound.as_secs_f64(),
            efficiency: bound.as_secs_f64() / wall.as_secs_f64(),
        });
    }
    let apart = RigMotion {
        order: MoveOrder::OneAfterTheOther,
        ..motion
    };
    Ok(SphereResults {
        shots: chosen.len(),
        settle_s: SETTLE.as_secs_f64(),
        chosen_moves_s: motion.total(&chosen),
        nearest_moves_s: motion.total(&motion.nearest_neighbour(&listed)),
        serpentine_moves_s: motion.total(&listed),
        serpentine_one_after_the_other_s: apart.total(&listed),
        ordering_ms,
        cameras,
    })
}

/// Prints the run's lines.
pub(super) fn print(r: &SphereResults) {
    println!(
        "  sphere-130 points ({} shots), both axes together, settle {:.0} ms; moves by the motion model:",
        r.shots,
        r.settle_s * 1e3
    );
    println!(
        "    chosen order {:.1} s (ordered in {:.1} ms), nearest neighbour {:.1} s, banded serpentine {:.1} s (one axis after the other {:.1} s)",
        r.chosen_moves_s,
        r.ordering_ms,
        r.nearest_moves_s,
        r.serpentine_moves_s,
        r.serpentine_one_after_the_other_s
    );
    for c in &r.cameras {
        println!(
            "    {:<9} expose {:.0} ms, download {:.0} ms: wall {:.3} s, bound {:.3} s, efficiency {:.3} (target >= 0.97)",
            c.camera,
            c.expose_s * 1e3,
            c.download_s * 1e3,
            c.wall_s,
            c.bound_s,
            c.efficiency
        );
    }
}
