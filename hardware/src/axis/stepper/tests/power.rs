//! Energising, releasing and failing: the motor is released whenever the driver lets go of it.

use super::*;

#[test]
fn releasing_and_dropping_de_energise_and_moves_energise_again() {
    let (mut axis, bench) = rig(config());
    assert!(
        bench.enable.is_high(),
        "starts released (ENABLE active low)"
    );
    assert!(matches!(
        axis.move_to(Degrees(1.0), &Ticket::unstoppable()),
        Err(AxisError::NotHomed { axis: "turntable" })
    ));
    axis.home(&Ticket::unstoppable()).unwrap();
    assert!(!bench.enable.is_high() && axis.is_energised());
    axis.move_to(Degrees(45.0), &Ticket::unstoppable()).unwrap();
    axis.set_energised(false).unwrap();
    assert!(bench.enable.is_high() && !axis.is_energised());
    assert_eq!(axis.position().map(|p| p.get().round()), Some(45.0));
    axis.move_to(Degrees(40.0), &Ticket::unstoppable()).unwrap();
    assert!(!bench.enable.is_high());
    drop(axis);
    assert!(bench.enable.is_high(), "released on drop");

    let (mut axis, bench) = rig(StepperConfig {
        enable_active_low: false,
        ..config()
    });
    axis.home(&Ticket::unstoppable()).unwrap();
    assert!(bench.enable.is_high());
    drop(axis);
    assert!(!bench.enable.is_high());
}

#[test]
fn a_failing_step_pin_releases_the_motor_and_forgets_the_position() {
    let (mut axis, bench) = rig(config());
    axis.home(&Ticket::unstoppable()).unwrap();
    bench.step.fail_after(20);
    let err = axis
        .move_to(Degrees(90.0), &Ticket::unstoppable())
        .unwrap_err();
    let AxisError::Driver { axis: name, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*name, "turntable");
    assert!(reason.contains("STEP pin failed"), "{reason}");
    assert!(reason.contains("motor released"), "{reason}");
    assert!(bench.enable.is_high(), "released");
    assert_eq!(bench.position(), 10);
    assert_eq!(axis.position(), None);
    assert!(matches!(
        axis.move_to(Degrees(1.0), &Ticket::unstoppable()),
        Err(AxisError::NotHomed { .. })
    ));
}

#[test]
fn nonsense_targets_are_errors_that_leave_the_axis_alone() {
    let (mut axis, bench) = rig(config());
    axis.home(&Ticket::unstoppable()).unwrap();
    for bad in [f64::NAN, f64::INFINITY, 1e300, -1e17] {
        let err = axis
            .move_to(Degrees(bad), &Ticket::unstoppable())
            .unwrap_err();
        assert!(matches!(err, AxisError::Driver { .. }), "{bad}: {err}");
    }
    assert_eq!(bench.step.events().len(), 1, "only the initial STEP low");
    assert_eq!(axis.position(), Some(Degrees::ZERO));
    assert!(axis.is_energised());
}
