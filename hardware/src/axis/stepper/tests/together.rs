//! The table and the tilt arm moved together, each driver stepped from a
//! thread of its own, on one virtual time line: both pulse trains run at
//! once and each keeps its own ramp; a stop halts both; soft limits refuse
//! the move before either axis steps; one after the other, the trains
//! never overlap.

use super::super::bench::PressAt;
use super::*;
use crate::axis::{Axes, Halt, MoveOrder, StopKind};

/// The tilt arm: half the table's speed and acceleration (45 °/s,
/// 180 °/s²), held to -30…45°.
fn tilt_config() -> StepperConfig {
    StepperConfig {
        name: "tilt",
        limits: MotionLimits {
            max_speed: 45.0,
            acceleration: 180.0,
        },
        travel: Travel {
            min: Some((Degrees(-30.0), "tilt.min_deg")),
            max: Some((Degrees(45.0), "tilt.max_deg")),
        },
        ..config()
    }
}

/// The table, held to ±400°.
fn table_config() -> StepperConfig {
    StepperConfig {
        travel: Travel {
            min: Some((Degrees(-400.0), "turntable.max_turns")),
            max: Some((Degrees(400.0), "turntable.max_turns")),
        },
        ..config()
    }
}

fn motor<C: Clock + Clone + Send + 'static>(
    config: StepperConfig,
    clock: &C,
) -> (Box<dyn Axis>, BenchMotor<C>) {
    let bench = BenchMotor::new(clock.clone());
    let axis = StepperAxis::new(
        config,
        bench.step.clone(),
        bench.dir.clone(),
        bench.enable.clone(),
        None::<ScriptedEndstop>,
        clock.clone(),
    )
    .expect("valid config");
    (Box::new(axis), bench)
}

/// Both axes homed on `clock`, moving in `order`.
fn rig_of<C: Clock + Clone + Send + 'static>(
    clock: &C,
    order: MoveOrder,
) -> (Axes, BenchMotor<C>, BenchMotor<C>) {
    let (azimuth, table) = motor(table_config(), clock);
    let (tilt, arm) = motor(tilt_config(), clock);
    let mut axes = Axes {
        azimuth,
        tilt: Some(tilt),
        order,
    };
    axes.azimuth.home(&Ticket::unstoppable()).unwrap();
    axes.tilt
        .as_mut()
        .unwrap()
        .home(&Ticket::unstoppable())
        .unwrap();
    (axes, table, arm)
}

fn secs(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64()
}

#[test]
fn together_both_pulse_trains_run_at_once_each_on_its_own_ramp() {
    let clock = LockstepClock::new();
    let (mut axes, table, arm) = rig_of(&clock, MoveOrder::Together);
    let start = clock.now();
    clock.expect(2);
    let both = axes
        .move_to(Degrees(120.0), Degrees(40.0), &Ticket::unstoppable())
        .unwrap();
    let (t, a) = (table.step.rising_edges(), arm.step.rising_edges());
    assert_eq!(
        (table.position(), arm.position()),
        (steps_of(120.0), steps_of(40.0))
    );
    // Each starts at once (its first step a ramp's first step after the
    // start), and the trains overlap.
    assert!(
        secs(start, t[0]) < 0.02 && secs(start, a[0]) < 0.03,
        "{t:?} {a:?}"
    );
    assert!(a[0] < *t.last().unwrap() && t[0] < *a.last().unwrap());
    // Each keeps its own limits: no edge faster, no change of pace
    // steeper, than its own ramp allows.
    check_limits(&t, 90.0 * SPD, 360.0 * SPD);
    let rates = check_limits(&a, 45.0 * SPD, 180.0 * SPD);
    assert!(
        rates.iter().any(|r| *r > 44.0 * SPD),
        "the arm reached its speed"
    );
    // Arrived when the later one has: the table's 120° take 1.583 s, the
    // arm's 40° 1.139 s.
    let (t_table, t_arm) = (
        table_config()
            .limits
            .move_duration(Degrees(120.0))
            .as_secs_f64(),
        tilt_config()
            .limits
            .move_duration(Degrees(40.0))
            .as_secs_f64(),
    );
    let took = secs(start, clock.now());
    assert!((took - t_table.max(t_arm)).abs() < 0.01, "{took} s");
    assert!(
        (both.duration.as_secs_f64() - took).abs() < 0.01,
        "{both:?}"
    );
    assert_eq!(
        both.tilt.map(|r| r.to),
        Some(Degrees(steps_of(40.0) as f64 / SPD))
    );
}

#[test]
fn one_after_the_other_the_arm_steps_only_once_the_table_stands() {
    let clock = LockstepClock::new();
    let (mut axes, table, arm) = rig_of(&clock, MoveOrder::OneAfterTheOther);
    let start = clock.now();
    let both = axes
        .move_to(Degrees(120.0), Degrees(40.0), &Ticket::unstoppable())
        .unwrap();
    let (t, a) = (table.step.rising_edges(), arm.step.rising_edges());
    assert!(!t.is_empty() && !a.is_empty());
    assert!(a[0] > *t.last().unwrap(), "the trains overlap");
    // The arm's DIR and ENABLE were set before, but no STEP edge of one
    // motor falls within the other's train.
    let t_sum = table_config().limits.move_duration(Degrees(120.0))
        + tilt_config().limits.move_duration(Degrees(40.0));
    let took = secs(start, clock.now());
    assert!((took - t_sum.as_secs_f64()).abs() < 0.01, "{took} s");
    assert!(
        (both.duration.as_secs_f64() - took).abs() < 0.01,
        "{both:?}"
    );
    assert_eq!(
        (table.position(), arm.position()),
        (steps_of(120.0), steps_of(40.0))
    );
}

/// Both axes on one virtual time line, with a stop of `kind` pressed 0.8 s
/// into a move of both (the table's 360° take 4.25 s, the arm's 45°
/// 1.25 s): the table cruises at 90 °/s then, the arm at 45 °/s.
fn stopped_during_both(
    kind: StopKind,
) -> (
    Axes,
    BenchMotor<PressAt<LockstepClock>>,
    BenchMotor<PressAt<LockstepClock>>,
    Instant,
) {
    let lockstep = LockstepClock::new();
    let halt = Halt::new();
    let press = lockstep.origin() + Duration::from_millis(800);
    let clock = PressAt::new(lockstep.clone(), press, halt.clone(), kind);
    let (mut axes, table, arm) = rig_of(&clock, MoveOrder::Together);
    lockstep.expect(2);
    let both = axes
        .move_to(Degrees(360.0), Degrees(45.0), &halt.ticket())
        .unwrap();
    assert_eq!(both.azimuth.stopped, Some(kind));
    assert_eq!(both.tilt.and_then(|t| t.stopped), Some(kind));
    (axes, table, arm, press)
}

#[test]
fn an_emergency_stop_halts_both_axes_within_one_step_period() {
    let (axes, table, arm, press) = stopped_during_both(StopKind::Emergency);
    for (bench, cruise) in [(&table, 90.0), (&arm, 45.0)] {
        let rises = bench.step.rising_edges();
        let before = rises.iter().filter(|r| **r <= press).count();
        assert!(before > 100, "it was moving: {before} steps");
        let last = *rises.last().unwrap();
        let period = 1.0 / (cruise * SPD);
        assert!(
            secs(press, last) <= period + 1e-9,
            "last edge {} s after",
            secs(press, last)
        );
        assert!(bench.enable.is_high(), "released (ENABLE active low)");
    }
    assert_eq!(axes.azimuth.position(), None);
    assert_eq!(axes.tilt.as_ref().unwrap().position(), None);
}

#[test]
fn a_controlled_stop_brakes_both_axes_from_the_next_step_on() {
    let (axes, table, arm, press) = stopped_during_both(StopKind::Controlled);
    for (bench, limits) in [
        (&table, table_config().limits),
        (&arm, tilt_config().limits),
    ] {
        let rises = bench.step.rising_edges();
        let after: Vec<Instant> = rises.iter().copied().filter(|r| *r > press).collect();
        let period = 1.0 / (limits.max_speed * SPD);
        // The first step after the press is no sooner than a cruise
        // step, and every later one comes later still: braking.
        let last_before = *rises.iter().rfind(|r| **r <= press).unwrap();
        assert!(secs(press, after[0]) <= period + 1e-9);
        assert!(secs(last_before, after[0]) >= period - 1e-9);
        for w in after.windows(3) {
            assert!(w[2] - w[1] >= w[1] - w[0], "not braking");
        }
        let braking = limits.max_speed / limits.acceleration;
        let last = *after.last().unwrap();
        assert!(
            secs(press, last) <= braking + period,
            "{} s",
            secs(press, last)
        );
        check_limits(&rises, limits.max_speed * SPD, limits.acceleration * SPD);
        assert!(!bench.enable.is_high(), "it holds its position");
    }
    // Where each stands is the steps it made.
    assert_eq!(
        axes.azimuth.position(),
        Some(Degrees(table.position() as f64 / SPD))
    );
    let tilt = axes.tilt.as_ref().unwrap().position();
    assert_eq!(tilt, Some(Degrees(arm.position() as f64 / SPD)));
}

#[test]
fn a_move_of_both_past_either_soft_limit_is_refused_before_either_steps() {
    let clock = LockstepClock::new();
    for order in [MoveOrder::Together, MoveOrder::OneAfterTheOther] {
        let (mut axes, table, arm) = rig_of(&clock, order);
        let tries = [
            (90.0, 45.5, "tilt.max_deg"),
            (90.0, -31.0, "tilt.min_deg"),
            (401.0, 10.0, "turntable.max_turns"),
        ];
        for (az, tilt, setting) in tries {
            let err = axes
                .move_to(Degrees(az), Degrees(tilt), &Ticket::unstoppable())
                .unwrap_err();
            assert!(
                matches!(err, AxisError::BeyondLimit { setting: s, .. } if s == setting),
                "{err}"
            );
        }
        assert!(table.step.rising_edges().is_empty() && arm.step.rising_edges().is_empty());
        // Right up to the limits is allowed.
        axes.move_to(Degrees(400.0), Degrees(45.0), &Ticket::unstoppable())
            .unwrap();
        assert_eq!(
            (table.position(), arm.position()),
            (steps_of(400.0), steps_of(45.0))
        );
    }
}
