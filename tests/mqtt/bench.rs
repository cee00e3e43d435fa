//! The benchmark of many simulated rigs on one broker.

use std::time::Duration;

use crate::common::broker::{Broker, VIEWER};
use crate::common::{self, assert_complete, plan, ring_profile, rings_of, Rig, Running, DEADLINE};
use crate::{daemon, fleet, online, rig_on};
use serde_json::Value;

/// Whether a status shows a change of state.
type Shows = fn(&Value) -> bool;

/// Percentile `p` (0..=100) of sorted `v`.
fn percentile(v: &[u64], p: usize) -> u64 {
    v[((v.len() - 1) * p).div_ceil(100)]
}

/// Rigs of the benchmark: 36 shots with `scanrig bench`'s timings (a 10°
/// step in 80 ms plus 50 ms settling, 50 ms exposures, 200 ms downloads),
/// photos to a local folder; on `broker` when given.
const BENCH_SHOTS: u32 = 36;

fn bench_rigs(names: &[String], broker: Option<&Broker>) -> Vec<(Rig, Running)> {
    let timings = "[web]\nlisten = \"\"\n[daemon]\nprofile = \"bench\"\n\
        [camera.sim]\nexpose_ms = 50\ndownload_ms = 200\n\
        [turntable.sim]\nmax_speed_dps = 1000.0\naccel_dps2 = 6250.0\nhome_ms = 0\n";
    names
        .iter()
        .map(|n| {
            let rig = match broker {
                Some(broker) => rig_on(broker, n, timings),
                None => Rig::with(timings),
            };
            rig.profile("bench", &ring_profile(BENCH_SHOTS, 50));
            let running = daemon(&rig);
            (rig, running)
        })
        .collect()
}

/// Each rig's efficiency, `scanrig bench`'s bound without its last upload
/// (here a local folder), 36 × (max(130, 200) + 50) ms, over the scan's
/// wall time from its start to its retirement (scans.jsonl); sorted.
fn bench_efficiency(rigs: &[(Rig, Running)]) -> Vec<f64> {
    let bound = f64::from(BENCH_SHOTS) * 250.0;
    let mut out: Vec<f64> = rigs
        .iter()
        .map(|(rig, _)| {
            let scan = rig.only_scan();
            assert_complete(
                &rig.delivered(&scan),
                &plan("bench", &rings_of(&ring_profile(BENCH_SHOTS, 50))),
            );
            let s = rig.retired(&scan).expect("retired");
            let wall = s["retired_at"].as_u64().unwrap() - s["started_at"].as_u64().unwrap();
            bound / wall as f64
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// The benchmark of BENCHMARKS.md, "A studio of rigs": 20 simulated rigs
/// (processes; `BENCH_RIGS` sets another number) on one broker, started by
/// one `scanrig fleet start`; then the same rigs without MQTT, started
/// together by SIGUSR1 (the Start button), for their efficiency alone.
#[test]
#[ignore = "benchmark: cargo test --release --test mqtt bench -- --ignored --nocapture"]
fn bench_twenty_rigs_on_one_broker() {
    let count: usize = std::env::var("BENCH_RIGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let names: Vec<String> = (0..count).map(|n| format!("rig-{n:02}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let broker = Broker::start(&name_refs).expect("mosquitto");
    let rigs = bench_rigs(&names, Some(&broker));
    for n in &names {
        online(&broker, n);
    }
    let watch = broker.client(VIEWER, &["scanrig/+/events", "scanrig/+/status"]);
    let all = names.join(",");
    let t0 = common::unix_ms();
    let (code, out) = fleet(
        &broker,
        &rigs[0].0,
        &["start", "--profile", "bench", "--rigs", &all],
    );
    assert_eq!(code, 0, "{out}");
    let answered = common::unix_ms() - t0;

    /// A rig as the events tell it.
    #[derive(Default)]
    struct Told {
        started: Option<u64>,
        first_photo: Option<u64>,
        /// The event time of a change of state not yet seen in a status,
        /// and how to know the status that shows it.
        change: Option<(u64, Shows)>,
        done: bool,
    }
    let mut told: std::collections::BTreeMap<String, Told> = Default::default();
    let mut latencies = Vec::new();
    watch.wait(
        "every rig finished and its status seen",
        Duration::from_secs(120),
        |m| {
            let now = common::unix_ms();
            let rig = m.topic.split('/').nth(1).unwrap().to_owned();
            let t = told.entry(rig).or_default();
            let v = m.json();
            if m.topic.ends_with("/events") {
                let at = v["time_ms"].as_u64().unwrap();
                match v["event"].as_str().unwrap() {
                    "started" => {
                        t.started = Some(at);
                        t.change = Some((at, |s| s["state"] == "scanning"));
                    }
                    "photo" if t.first_photo.is_none() => t.first_photo = Some(at),
                    "finished" => t.change = Some((at, |s| !s["scan"]["outcome"].is_null())),
                    _ => {}
                }
            } else if let Some((at, shows)) = t.change {
                if shows(&v) {
                    latencies.push(now.saturating_sub(at));
                    t.change = None;
                    t.done |= !v["scan"]["outcome"].is_null();
                }
            }
            told.values().filter(|t| t.done).count() == count
        },
    );
    let efficiency = bench_efficiency(&rigs);
    let mut first: Vec<u64> = told.values().map(|t| t.first_photo.unwrap() - t0).collect();
    let mut started: Vec<u64> = told.values().map(|t| t.started.unwrap() - t0).collect();
    first.sort();
    started.sort();
    latencies.sort();
    drop(rigs);

    // The same rigs without MQTT.
    let mut alone = bench_rigs(&names, None);
    for (_, running) in &mut alone {
        running.wait_for_stderr("ready; press Start", DEADLINE);
        running.signal(libc::SIGUSR1);
    }
    for (rig, running) in &alone {
        common::wait_for("the scan retired", Duration::from_secs(120), || {
            rig.known_scans().first().is_some_and(|s| rig.is_retired(s))
        });
        let _ = running;
    }
    let baseline = bench_efficiency(&alone);

    let stats = |v: &[u64]| {
        format!(
            "min {} p50 {} p99 {} max {} ms",
            v[0],
            percentile(v, 50),
            percentile(v, 99),
            v[v.len() - 1]
        )
    };
    println!("{count} rigs, {BENCH_SHOTS} shots each; `scanrig fleet start --rigs …` answered by all in {answered} ms");
    println!(
        "scan started, from the fleet command: {} (skew {} ms)",
        stats(&started),
        started[count - 1] - started[0]
    );
    println!(
        "first photo, from the fleet command: {} (skew {} ms)",
        stats(&first),
        first[count - 1] - first[0]
    );
    println!(
        "status latency, change of state to subscriber ({} changes): {}",
        latencies.len(),
        stats(&latencies)
    );
    let spread = |e: &[f64]| {
        format!(
            "min {:.3} median {:.3} max {:.3}",
            e[0],
            e[e.len() / 2],
            e[e.len() - 1]
        )
    };
    println!("efficiency with MQTT:    {}", spread(&efficiency));
    println!("efficiency without MQTT: {}", spread(&baseline));
}
