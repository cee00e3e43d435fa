//! Step timing achieved with the real clock (ignored by default: it measures this machine).

use super::super::ramp::Ramp;
use super::*;

/// Percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

#[test]
#[ignore = "timing measurement; run with --ignored --nocapture"]
fn real_clock_step_rate_and_jitter() {
    const STEPS: u64 = 2000;
    let spd = 3200.0 / 360.0; // 200 × 16, direct drive
    for rate in [1_000.0, 4_000.0, 10_000.0] {
        // Ramps of 50 ms, so most of the 2000 steps cruise.
        let config = StepperConfig {
            gear_ratio: 1.0,
            limits: MotionLimits {
                max_speed: rate / spd,
                acceleration: rate / spd * 20.0,
            },
            ..config()
        };
        let bench = BenchMotor::new(SystemClock);
        let mut axis = StepperAxis::new(
            config,
            bench.step.clone(),
            bench.dir.clone(),
            bench.enable.clone(),
            None::<NoEndstop>,
            SystemClock,
        )
        .unwrap();
        axis.home(&Ticket::unstoppable()).unwrap();
        let report = axis
            .move_to(Degrees(STEPS as f64 / spd), &Ticket::unstoppable())
            .unwrap();
        let rises = bench.step.rising_edges();
        assert_eq!(rises.len() as u64, STEPS);

        let ramp = Ramp::new(STEPS, rate, rate * 20.0);
        let mut deviations: Vec<f64> = (1..STEPS)
            .map(|k| {
                let planned = ramp.step_time(k + 1) - ramp.step_time(k);
                let actual = (rises[k as usize] - rises[k as usize - 1]).as_secs_f64();
                (actual - planned).abs() * 1e6
            })
            .collect();
        deviations.sort_by(f64::total_cmp);
        let cruise: Vec<f64> = (1..STEPS as usize)
            .filter(|k| ramp.phase(*k as f64) == super::super::ramp::Phase::Cruise)
            .map(|k| (rises[k] - rises[k - 1]).as_secs_f64())
            .collect();
        let achieved = cruise.len() as f64 / cruise.iter().sum::<f64>();
        let widths: Vec<f64> = rises
            .iter()
            .zip(bench.step.falling_edges())
            .map(|(r, f)| (f - *r).as_secs_f64() * 1e6)
            .collect();
        let planned = Duration::from_secs_f64(ramp.total_time());
        println!(
            "planned {rate:>6.0} steps/s: cruise achieved {achieved:>8.1} steps/s; \
             |interval − plan| p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs; \
             pulse width max {:.2} µs; move {:?} (plan {planned:?})",
            percentile(&deviations, 0.5),
            percentile(&deviations, 0.99),
            deviations[deviations.len() - 1],
            widths.iter().cloned().fold(0.0, f64::max),
            report.duration,
        );
    }
}
