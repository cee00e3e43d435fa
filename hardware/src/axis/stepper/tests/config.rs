//! Config validation: every bad field is named, and the step-rate bound follows the pulse width.

use super::*;

#[test]
fn config_checks_name_the_bad_field() {
    let homing = homing(Duration::from_secs(5));
    let with_homing = |h: HomingConfig| StepperConfig {
        homing: Some(h),
        ..config()
    };
    let limits = |max_speed, acceleration| StepperConfig {
        limits: MotionLimits {
            max_speed,
            acceleration,
        },
        ..config()
    };
    let cases = [
        (
            StepperConfig {
                full_steps_per_rev: 0,
                ..config()
            },
            "full_steps_per_rev",
        ),
        (
            StepperConfig {
                microsteps: 0,
                ..config()
            },
            "microsteps",
        ),
        (
            StepperConfig {
                gear_ratio: 0.0,
                ..config()
            },
            "gear_ratio",
        ),
        (
            StepperConfig {
                gear_ratio: f64::NAN,
                ..config()
            },
            "gear_ratio",
        ),
        (limits(-1.0, 360.0), "limits.max_speed"),
        (limits(1e-310, 360.0), "limits.max_speed"),
        (
            StepperConfig {
                gear_ratio: 1e-300,
                ..limits(1e-10, 1.0)
            },
            "limits.max_speed",
        ),
        (limits(90.0, f64::INFINITY), "limits.acceleration"),
        // 20 000 °/s × 26.67 = 533 333 steps/s > 500 000 (1 µs pulses).
        (limits(20_000.0, 360.0), "limits.max_speed"),
        (
            StepperConfig {
                backlash: Some(Degrees(-1.0)),
                ..config()
            },
            "backlash",
        ),
        (
            with_homing(HomingConfig {
                direction: 0,
                ..homing
            }),
            "homing.direction",
        ),
        (
            with_homing(HomingConfig {
                speed: 100.0,
                ..homing
            }),
            "homing.speed",
        ),
        (
            with_homing(HomingConfig {
                backoff: Degrees(f64::NAN),
                position: Degrees(0.0),
                ..homing
            }),
            "homing.backoff",
        ),
        (
            with_homing(HomingConfig {
                timeout: Duration::ZERO,
                ..homing
            }),
            "homing.timeout",
        ),
    ];
    for (config, field) in cases {
        let err = config.check().unwrap_err();
        assert_eq!(err.field, field, "{err}");
        assert!(err.to_string().starts_with("turntable stepper: "), "{err}");
        let opened = StepperAxis::new(
            config,
            RecordingPin::new(SystemClock),
            RecordingPin::new(SystemClock),
            RecordingPin::new(SystemClock),
            None::<NoEndstop>,
            SystemClock,
        );
        let Err(AxisError::Driver { reason, .. }) = opened else {
            panic!("{field} accepted by new()");
        };
        assert!(reason.contains(field), "{reason}");
    }
    assert_eq!(config().check(), Ok(()));
    assert_eq!(with_homing(homing).check(), Ok(()));
    assert_eq!(
        limits(18_000.0, 360.0).check(),
        Ok(()),
        "480 000 steps/s is allowed"
    );
}

#[test]
fn step_rate_limits_follow_the_pulse_width() {
    assert_eq!(StepTiming::A4988.max_step_rate(), 500_000.0);
    assert!((StepTiming::DRV8825.max_step_rate() - 263_157.9).abs() < 0.1);
    assert_eq!(StepTiming::default(), StepTiming::CONSERVATIVE);
    let instant = StepTiming {
        min_pulse: Duration::ZERO,
        ..StepTiming::TMC2209
    };
    assert_eq!(instant.max_step_rate(), f64::INFINITY);
}
