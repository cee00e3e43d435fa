//! Tests of the stepper driver on the bench: recorded pin edges under a virtual clock.

mod config;
mod homing;
mod power;
mod round;
mod stopping;
mod timing;
mod together;

use std::time::{Duration, Instant};

use super::bench::{BenchMotor, RecordingPin, ScriptedEndstop};
use super::*;
use crate::axis::{Axis, AxisError, MotionLimits, Ticket, Travel};

type Pin = RecordingPin<VirtualClock>;
type BenchAxis = StepperAxis<Pin, Pin, Pin, ScriptedEndstop, VirtualClock>;

/// 200 × 16 microsteps through a 1:3 belt: 9600 steps/rev, 26.67 steps/°,
/// so 10° is 266.67 steps and rounding matters. 90 °/s = 2400 steps/s,
/// 360 °/s² = 9600 steps/s²; a full ramp up and down covers 600 steps (22.5°).
fn config() -> StepperConfig {
    StepperConfig {
        name: "turntable",
        full_steps_per_rev: 200,
        microsteps: 16,
        gear_ratio: 3.0,
        limits: MotionLimits {
            max_speed: 90.0,
            acceleration: 360.0,
        },
        invert_direction: false,
        enable_active_low: true,
        backlash: None,
        homing: None,
        travel: Travel::default(),
        timing: StepTiming::A4988,
    }
}

const SPD: f64 = 9600.0 / 360.0;

/// Homing towards an active-low end-stop at 10 °/s, giving up after
/// `timeout`.
fn homing(timeout: Duration) -> HomingConfig {
    HomingConfig {
        endstop_active_low: true,
        direction: -1,
        speed: 10.0,
        backoff: Degrees(2.0),
        position: Degrees(0.0),
        timeout,
    }
}

fn steps_of(degrees: f64) -> i64 {
    (degrees * SPD).round() as i64
}

fn rig(config: StepperConfig) -> (BenchAxis, BenchMotor<VirtualClock>) {
    rig_with(config, |_| None)
}

fn rig_with(
    config: StepperConfig,
    endstop: impl FnOnce(&BenchMotor<VirtualClock>) -> Option<ScriptedEndstop>,
) -> (BenchAxis, BenchMotor<VirtualClock>) {
    let clock = VirtualClock::new();
    let bench = BenchMotor::new(clock.clone());
    let stop = endstop(&bench);
    let axis = StepperAxis::new(
        config,
        bench.step.clone(),
        bench.dir.clone(),
        bench.enable.clone(),
        stop,
        clock,
    )
    .expect("valid config");
    (axis, bench)
}

/// Step rates (steps/s) between consecutive rising edges, and the
/// acceleration between consecutive rates; asserts neither exceeds its limit
/// beyond what nanosecond rounding of the edge times explains. Returns the rates.
fn check_limits(rises: &[Instant], max_rate: f64, max_accel: f64) -> Vec<f64> {
    const EDGE_ERROR: f64 = 2e-9; // two edges, each rounded to the nanosecond
    let dts: Vec<f64> = rises
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let rates: Vec<f64> = dts.iter().map(|dt| 1.0 / dt).collect();
    for (i, r) in rates.iter().enumerate() {
        let slack = r * r * EDGE_ERROR;
        assert!(
            *r <= max_rate + slack,
            "interval {i}: {r} steps/s > {max_rate}"
        );
    }
    for i in 1..rates.len() {
        let (r0, r1) = (rates[i - 1], rates[i]);
        let dt = (dts[i - 1] + dts[i]) / 2.0;
        let accel = (r1 - r0) / dt;
        let slack = (r0 * r0 + r1 * r1) * EDGE_ERROR / dt + 1e-9 * max_accel;
        assert!(
            accel.abs() <= max_accel + slack,
            "interval {i}: {accel} steps/s² > {max_accel}"
        );
    }
    rates
}

/// What `f` returned, and the rising STEP edges it made.
fn rises_during<T>(bench: &BenchMotor<VirtualClock>, f: impl FnOnce() -> T) -> (T, Vec<Instant>) {
    let before = bench.step.rising_edges().len();
    let out = f();
    (out, bench.step.rising_edges()[before..].to_vec())
}

#[test]
fn scan_plans_make_exact_step_counts_in_the_right_direction() {
    let (mut axis, bench) = rig(config());
    axis.home(&Ticket::unstoppable()).unwrap();
    // 36 × 10° to one full turn, three rings of 24 × 15°, then all the way back.
    let mut plan: Vec<f64> = (1..=36).map(|i| f64::from(i) * 10.0).collect();
    plan.extend((1..=72).map(|i| 360.0 + f64::from(i) * 15.0));
    plan.push(0.0);
    let limits = config().limits;
    let mut at = 0.0;
    let mut first_turn = Vec::new();
    for &target in &plan {
        let (delta, rises) = {
            let expected = steps_of(target) - steps_of(at);
            let (report, rises) = rises_during(&bench, || {
                axis.move_to(Degrees(target), &Ticket::unstoppable())
            });
            let report = report.unwrap();
            assert_eq!(report.from, Degrees(steps_of(at) as f64 / SPD), "{target}");
            assert_eq!(
                report.to,
                Degrees(steps_of(target) as f64 / SPD),
                "{target}"
            );
            let planned = limits.move_duration(Degrees(expected as f64 / SPD));
            let error = report.duration.abs_diff(planned);
            assert!(
                error < Duration::from_micros(5),
                "{target}: {report:?} vs {planned:?}"
            );
            (expected, rises)
        };
        assert_eq!(rises.len() as i64, delta.abs(), "move to {target}");
        assert_eq!(
            bench.dir.is_high(),
            delta > 0,
            "direction of move to {target}"
        );
        assert_eq!(bench.position(), steps_of(target), "motor after {target}");
        assert_eq!(axis.steps(), Some(steps_of(target)));
        let shown = axis.position().unwrap().get();
        assert!((shown - target).abs() <= 0.5 / SPD, "{shown} for {target}");
        if first_turn.len() < 36 {
            first_turn.push(delta);
        }
        at = target;
    }
    // 10° is 266.67 steps: moves of 267 and 266 add up to exactly one turn.
    assert_eq!(first_turn.iter().sum::<i64>(), 9600);
    assert!(first_turn.contains(&266) && first_turn.contains(&267));
    assert_eq!(bench.position(), 0);
    assert!(!bench.enable.is_high(), "kept energised while scanning");
}

#[test]
fn a_hundred_turns_in_ten_degree_moves_do_not_drift() {
    // 1:1, 3200 steps/rev: 10° = 88.89 steps.
    let (mut axis, bench) = rig(StepperConfig {
        gear_ratio: 1.0,
        ..config()
    });
    axis.home(&Ticket::unstoppable()).unwrap();
    for i in 1..=3600 {
        axis.move_to(Degrees(f64::from(i) * 10.0), &Ticket::unstoppable())
            .unwrap();
    }
    assert_eq!(axis.steps(), Some(100 * 3200));
    assert_eq!(bench.position(), 100 * 3200);
    assert_eq!(bench.step.rising_edges().len(), 320_000);
    assert_eq!(axis.position(), Some(Degrees(36_000.0)));
    axis.move_to(Degrees(0.0), &Ticket::unstoppable()).unwrap();
    assert_eq!(bench.position(), 0);
}

#[test]
fn pulse_trains_keep_to_the_speed_and_acceleration_limits() {
    let (mut axis, bench) = rig(config());
    axis.home(&Ticket::unstoppable()).unwrap();
    let (v, a) = (90.0 * SPD, 360.0 * SPD);

    // 180°: a trapezoid that cruises at the limit.
    let (_, rises) = rises_during(&bench, || {
        axis.move_to(Degrees(180.0), &Ticket::unstoppable())
            .unwrap()
    });
    let rates = check_limits(&rises, v, a);
    let cruising = rates.iter().filter(|r| **r > 0.999 * v).count();
    assert!(cruising > 3000, "{cruising} intervals at cruise speed");

    // Back by 100°, then a short 2° move: a triangle far below cruise speed.
    let (_, rises) = rises_during(&bench, || {
        axis.move_to(Degrees(80.0), &Ticket::unstoppable()).unwrap()
    });
    check_limits(&rises, v, a);
    let (_, rises) = rises_during(&bench, || {
        axis.move_to(Degrees(82.0), &Ticket::unstoppable()).unwrap()
    });
    let n = steps_of(82.0) - steps_of(80.0);
    assert_eq!(rises.len() as i64, n);
    let rates = check_limits(&rises, v, a);
    let peak = rates.iter().cloned().fold(0.0, f64::max);
    let top = (a * n as f64).sqrt(); // triangle peak speed
    assert!(
        peak < top && peak > 0.9 * top,
        "peak {peak}, triangle top {top}"
    );
    let at = rates.iter().position(|r| *r == peak).unwrap();
    assert!(
        rates[..=at].windows(2).all(|w| w[1] > w[0]),
        "speeds up to the peak"
    );
    assert!(
        rates[at..].windows(2).all(|w| w[1] < w[0]),
        "slows down after it"
    );
    assert!(at.abs_diff(rates.len() / 2) <= 1, "peak in the middle");
}

#[test]
fn pulse_width_direction_setup_and_enable_setup_are_honoured() {
    // 200 µs pulses allow 2500 steps/s, just above the 2400 the limits need.
    let timing = StepTiming {
        min_pulse: Duration::from_micros(200),
        dir_setup: Duration::from_millis(30),
        enable_setup: Duration::from_millis(50),
    };
    let (mut axis, bench) = rig(StepperConfig { timing, ..config() });
    axis.home(&Ticket::unstoppable()).unwrap();
    for target in [10.0, -10.0, 5.0, 90.0, 0.0] {
        axis.move_to(Degrees(target), &Ticket::unstoppable())
            .unwrap();
    }
    axis.set_energised(false).unwrap();
    axis.move_to(Degrees(3.0), &Ticket::unstoppable()).unwrap();

    let (rises, falls) = (bench.step.rising_edges(), bench.step.falling_edges());
    assert_eq!(rises.len(), falls.len());
    for (i, (r, f)) in rises.iter().zip(&falls).enumerate() {
        assert!(*f - *r >= timing.min_pulse, "pulse {i} high too short");
        if let Some(next) = rises.get(i + 1) {
            assert!(*next - *f >= timing.min_pulse, "pulse {i} low too short");
        }
    }
    let dir = bench.dir.events();
    assert_eq!(dir.len(), 5, "DIR written only when it changes");
    for e in &dir {
        let next = rises.iter().find(|r| **r >= e.at).unwrap();
        assert!(*next - e.at >= timing.dir_setup, "DIR setup");
        if let Some(last) = rises.iter().rev().find(|r| **r <= e.at) {
            assert!(e.at - *last >= timing.dir_setup, "DIR hold");
        }
    }
    let enables = bench.enable.falling_edges(); // ENABLE is active low
    assert_eq!(
        enables.len(),
        2,
        "energised by homing and again by the last move"
    );
    for at in &enables {
        let first = rises.iter().find(|r| *r >= at).unwrap();
        assert!(*first - *at >= timing.enable_setup, "enable setup");
    }
    assert!(
        rises.iter().all(|r| !bench.enable.level_at(*r)),
        "steps only while enabled"
    );
}

#[test]
fn backlash_take_up_approaches_every_target_from_below() {
    let (mut axis, bench) = rig(StepperConfig {
        backlash: Some(Degrees(1.0)), // 27 steps
        ..config()
    });
    axis.home(&Ticket::unstoppable()).unwrap();
    let mut at = 0.0;
    for target in [10.0, 5.0, 5.0, 20.0, 0.0, -10.0] {
        let (_, rises) = rises_during(&bench, || {
            axis.move_to(Degrees(target), &Ticket::unstoppable())
                .unwrap()
        });
        let (from, to) = (steps_of(at), steps_of(target));
        let expected = if to < from {
            from - to + 2 * 27
        } else {
            to - from
        };
        assert_eq!(rises.len() as i64, expected, "{at} → {target}");
        if let Some(last) = rises.last() {
            assert!(bench.dir.level_at(*last), "{target} reached moving up");
        }
        assert_eq!(bench.position(), to);
        at = target;
    }
}
