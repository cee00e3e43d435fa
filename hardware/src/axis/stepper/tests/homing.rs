//! Homing against scripted end-stops: found, already pressed, never found.

use super::*;

/// Seek towards negative angles at 20 °/s (533 steps/s), back off 2° (53 steps).
fn homing(active_low: bool) -> HomingConfig {
    HomingConfig {
        endstop_active_low: active_low,
        direction: -1,
        speed: 20.0,
        backoff: Degrees(2.0),
        position: Degrees(0.0),
        timeout: Duration::from_secs(5),
    }
}

fn homed_config(active_low: bool) -> StepperConfig {
    StepperConfig {
        homing: Some(homing(active_low)),
        ..config()
    }
}

#[test]
fn homing_finds_the_switch_backs_off_and_calls_that_zero() {
    for active_low in [true, false] {
        let (mut axis, bench) = rig_with(homed_config(active_low), |b| {
            Some(b.endstop(-1, 1000, active_low))
        });
        assert_eq!(axis.position(), None);
        let (_, rises) = rises_during(&bench, || axis.home(&Ticket::unstoppable()).unwrap());
        assert_eq!(bench.position(), -1000 + 53);
        assert_eq!(rises.len(), 1000 + 53);
        assert_eq!(axis.steps(), Some(0));
        assert_eq!(axis.position(), Some(Degrees::ZERO));
        assert!(axis.is_energised() && !bench.enable.is_high());
        // The search stops dead on the switch; each stretch keeps the limits.
        check_limits(&rises[..1000], 20.0 * SPD, 360.0 * SPD);
        check_limits(&rises[1000..], 20.0 * SPD, 360.0 * SPD);

        axis.move_to(Degrees(10.0), &Ticket::unstoppable()).unwrap();
        assert_eq!(bench.position(), -947 + 267);
    }
}

#[test]
fn homing_that_starts_on_the_switch_first_moves_off_it() {
    // Pressed while the model position is ≤ 30: at the start.
    let (mut axis, bench) = rig_with(homed_config(true), |b| Some(b.endstop(-1, -30, true)));
    axis.home(&Ticket::unstoppable()).unwrap();
    // Up to 31 (released), back down to 30 (pressed), up 53.
    assert_eq!(bench.position(), 30 + 53);
    assert_eq!(bench.step.rising_edges().len(), 31 + 1 + 53);
    let dirs: Vec<bool> = bench.dir.events().iter().map(|e| e.high).collect();
    assert_eq!(dirs, [true, false, true], "away, towards, back off");
    assert_eq!(axis.position(), Some(Degrees::ZERO));
}

#[test]
fn homing_gives_up_after_the_timeout_and_releases_the_motor() {
    let (mut axis, bench) = rig_with(homed_config(true), |_| Some(ScriptedEndstop::never(true)));
    let err = axis.home(&Ticket::unstoppable()).unwrap_err();
    let AxisError::HomingTimeout { axis: name, after } = err else {
        panic!("{err:?}");
    };
    assert_eq!(name, "turntable");
    assert!(
        after > Duration::from_secs(5) && after < Duration::from_millis(5010),
        "{after:?}"
    );
    assert!(bench.enable.is_high(), "released");
    assert_eq!(axis.position(), None);
    // 5 s at 533 steps/s, less the ramp: it stepped, but never forever.
    let made = -bench.position();
    assert!((2600..=2700).contains(&made), "{made} steps");
    assert!(matches!(
        axis.move_to(Degrees(1.0), &Ticket::unstoppable()),
        Err(AxisError::NotHomed { .. })
    ));
}

#[test]
fn a_switch_that_never_opens_times_out_too() {
    let (mut axis, bench) = rig_with(homed_config(true), |b| {
        Some(b.endstop(-1, -1_000_000, true))
    });
    assert!(matches!(
        axis.home(&Ticket::unstoppable()),
        Err(AxisError::HomingTimeout { .. })
    ));
    assert!(bench.position() > 2600, "moved away from the switch first");
    assert!(bench.enable.is_high());
}

#[test]
fn without_homing_the_start_is_home() {
    let (mut axis, bench) = rig(config());
    axis.home(&Ticket::unstoppable()).unwrap();
    assert_eq!(axis.position(), Some(Degrees::ZERO));
    assert!(bench.step.rising_edges().is_empty());
    assert!(axis.is_energised());
    axis.move_to(Degrees(-10.0), &Ticket::unstoppable())
        .unwrap();
    axis.home(&Ticket::unstoppable()).unwrap();
    assert_eq!(
        axis.position(),
        Some(Degrees::ZERO),
        "homing again re-zeroes"
    );
    axis.move_to(Degrees(10.0), &Ticket::unstoppable()).unwrap();
    assert_eq!(bench.position(), -267 + 267);
}

#[test]
fn homing_needs_an_endstop_pin() {
    let clock = VirtualClock::new();
    let bench = BenchMotor::new(clock.clone());
    let opened = StepperAxis::new(
        homed_config(true),
        bench.step.clone(),
        bench.dir.clone(),
        bench.enable.clone(),
        None::<ScriptedEndstop>,
        clock,
    );
    let Err(AxisError::Driver { reason, .. }) = opened else {
        panic!("opened without an end-stop");
    };
    assert!(reason.contains("end-stop"), "{reason}");
}

#[test]
fn set_zero_here_takes_the_current_spot_as_zero_without_moving() {
    let (mut axis, bench) = rig_with(homed_config(true), |_| Some(ScriptedEndstop::never(true)));
    axis.set_zero_here().unwrap();
    assert_eq!(axis.position(), Some(Degrees::ZERO));
    assert!(axis.is_energised() && !bench.enable.is_high());
    assert!(bench.step.rising_edges().is_empty(), "no end-stop search");
    axis.move_to(Degrees(30.0), &Ticket::unstoppable()).unwrap();
    axis.set_zero_here().unwrap();
    axis.move_to(Degrees(-30.0), &Ticket::unstoppable())
        .unwrap();
    assert_eq!(bench.position(), 0, "30° up, re-zeroed, 30° down");
}

#[test]
fn a_homed_position_other_than_zero_is_where_the_axis_then_stands() {
    // A tilt arm whose switch is at its lowest point: homed, it stands at
    // -88°, and a move to 0° climbs 88°.
    let config = StepperConfig {
        homing: Some(HomingConfig {
            position: Degrees(-88.0),
            ..homing(true)
        }),
        ..config()
    };
    let (mut axis, bench) = rig_with(config, |b| Some(b.endstop(-1, 1000, true)));
    axis.home(&Ticket::unstoppable()).unwrap();
    assert_eq!(axis.position(), Some(Degrees(steps_of(-88.0) as f64 / SPD)));
    let before = bench.position();
    axis.move_to(Degrees(0.0), &Ticket::unstoppable()).unwrap();
    assert_eq!(bench.position() - before, -steps_of(-88.0));
}
