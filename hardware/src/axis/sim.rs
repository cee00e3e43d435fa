//! A simulated motor axis: blocks for as long as the real move would take
//! (or until it is stopped, braking as a real one would), keeps to its soft
//! limits and can inject driver faults; with a [`Shake`], the rig sways
//! after every stop.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{
    Axes, AxesConnector, Axis, AxisError, MotionLimits, MoveOrder, MoveReport, Result, Shake,
    StopKind, Sway, Ticket, Travel,
};
use crate::recent::Recent;
use crate::Degrees;

/// How a simulated axis behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimAxisConfig {
    /// Which axis it plays ("turntable", "tilt"); used in errors.
    pub name: &'static str,
    /// Speed and acceleration; moves sleep as long as they would take.
    pub limits: MotionLimits,
    /// How long homing takes.
    pub home_duration: Duration,
    /// The soft limits.
    pub travel: Travel,
    /// Every n-th move attempt (counted over all sessions) fails with a
    /// driver fault without moving; 0 = never.
    pub fail_every_nth_move: u32,
}

/// The physical motor, shared by every clone and session.
#[derive(Debug)]
struct Motor {
    config: SimAxisConfig,
    position: Degrees,
    energised: bool,
    moves: Recent<MoveReport>,
    homings: u32,
    move_attempts: u32,
    faults: u32,
    /// Where its stops are noted, and how it makes the rig sway.
    shake: Option<(Shake, Sway)>,
}

impl Motor {
    /// Notes a stop in the rig's shake, if it has one.
    fn stopped(&self) {
        if let Some((shake, sway)) = &self.shake {
            shake.stopped(self.config.name, *sway);
        }
    }
}

/// A simulated motor axis.
///
/// Clones share one motor (its position, counters and energised flag); each
/// handle (and each session opened by [`SimAxis::connector`]) keeps its own
/// "homed" flag, so a fresh session must home before it may move.
#[derive(Debug, Clone)]
pub struct SimAxis {
    motor: Arc<Mutex<Motor>>,
    homed: bool,
}

fn lock(motor: &Mutex<Motor>) -> MutexGuard<'_, Motor> {
    motor.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimAxis {
    /// A new, un-homed, de-energised motor standing at 0°.
    pub fn new(config: SimAxisConfig) -> SimAxis {
        SimAxis {
            motor: Arc::new(Mutex::new(Motor {
                config,
                position: Degrees::ZERO,
                energised: false,
                moves: Recent::default(),
                homings: 0,
                move_attempts: 0,
                faults: 0,
                shake: None,
            })),
            homed: false,
        }
    }

    /// The same motor, noting the stop of every move that went somewhere
    /// in `shake`: the rig then sways as `sway` says. Homing ends at a
    /// crawl, backing off the end-stop, and sets nothing swaying.
    pub fn shaking(self, shake: &Shake, sway: Sway) -> SimAxis {
        lock(&self.motor).shake = Some((shake.clone(), sway));
        self
    }

    /// An [`AxesConnector`] whose every call opens fresh, un-homed sessions
    /// on these (shared) simulated motors.
    pub fn connector(azimuth: SimAxis, tilt: Option<SimAxis>) -> AxesConnector {
        Arc::new(move || {
            Ok(Axes {
                azimuth: Box::new(azimuth.session()),
                tilt: tilt
                    .as_ref()
                    .map(|t| Box::new(t.session()) as Box<dyn Axis>),
                order: MoveOrder::Together,
            })
        })
    }

    /// A new un-homed handle on the same motor, as after a reconnect.
    pub fn session(&self) -> SimAxis {
        SimAxis {
            motor: Arc::clone(&self.motor),
            homed: false,
        }
    }

    /// The completed moves, oldest first, over all sessions (the latest
    /// thousand).
    pub fn moves(&self) -> Vec<MoveReport> {
        lock(&self.motor).moves.to_vec()
    }

    /// How many times the motor was homed.
    pub fn homings(&self) -> u32 {
        lock(&self.motor).homings
    }

    /// Whether the motor holds torque.
    pub fn is_energised(&self) -> bool {
        lock(&self.motor).energised
    }

    /// How many failures were injected so far.
    pub fn faults(&self) -> u32 {
        lock(&self.motor).faults
    }
}

/// How long a move of `distance` takes, or why it cannot be simulated
/// (non-finite angles, nonsensical limits, absurdly long moves).
fn planned_duration(limits: &MotionLimits, distance: f64) -> std::result::Result<Duration, String> {
    let (v, a) = (limits.max_speed, limits.acceleration);
    if !(v.is_finite() && a.is_finite() && v > 0.0 && a > 0.0) {
        return Err(format!(
            "motion limits must be positive (max_speed {v}, acceleration {a})"
        ));
    }
    if !distance.is_finite() {
        return Err(format!("cannot move by a non-finite distance ({distance})"));
    }
    // Upper bound of the trapezoid time; keeps Duration::from_secs_f64 safe.
    let bound = distance.abs() / v + 2.0 * v / a + 2.0 * (distance.abs() / a).sqrt();
    if bound > 1e9 {
        return Err(format!("a move of {distance}° would take too long"));
    }
    Ok(limits.move_duration(Degrees(distance)))
}

impl Axis for SimAxis {
    fn home(&mut self, ticket: &Ticket) -> Result<()> {
        self.homed = false;
        let (duration, axis) = {
            let motor = lock(&self.motor);
            (motor.config.home_duration, motor.config.name)
        };
        if ticket.wait_until(Instant::now() + duration).is_some() {
            lock(&self.motor).energised = false;
            return Err(AxisError::Stopped { axis });
        }
        let mut motor = lock(&self.motor);
        motor.position = Degrees::ZERO;
        motor.energised = true;
        motor.homings += 1;
        self.homed = true;
        Ok(())
    }

    fn set_zero_here(&mut self) -> Result<()> {
        let mut motor = lock(&self.motor);
        motor.position = Degrees::ZERO;
        motor.energised = true;
        self.homed = true;
        Ok(())
    }

    fn move_to(&mut self, target: Degrees, ticket: &Ticket) -> Result<MoveReport> {
        let started = Instant::now();
        let (from, duration, limits) = {
            let mut motor = lock(&self.motor);
            let axis = motor.config.name;
            if !self.homed {
                return Err(AxisError::NotHomed { axis });
            }
            if !target.get().is_finite() {
                return Err(AxisError::Driver {
                    axis,
                    reason: format!("target {} is not a finite angle", target.get()),
                });
            }
            motor.config.travel.check(axis, target)?;
            motor.move_attempts += 1;
            let nth = motor.config.fail_every_nth_move;
            if nth != 0 && motor.move_attempts % nth == 0 {
                motor.faults += 1;
                return Err(AxisError::Driver {
                    axis,
                    reason: format!(
                        "simulated fault (every {nth}th move; attempt {})",
                        motor.move_attempts
                    ),
                });
            }
            let from = motor.position;
            let duration = planned_duration(&motor.config.limits, (target - from).get())
                .map_err(|reason| AxisError::Driver { axis, reason })?;
            (from, duration, motor.config.limits)
        };
        // The motor turns while nobody holds the lock, so probes stay
        // responsive; a stop ends the wait.
        let stopped = ticket.wait_until(started + duration);
        let distance = target - from;
        let to = match stopped {
            None => target,
            Some(StopKind::Emergency) => {
                let (gone, _) = limits.progress(distance, started.elapsed());
                self.homed = false;
                lock(&self.motor).energised = false;
                from + Degrees(gone.copysign(distance.get()))
            }
            Some(StopKind::Controlled) => {
                let (rest, brake) = limits.braked(distance, started.elapsed());
                Ticket::unstoppable().wait_until(Instant::now() + brake);
                from + Degrees(rest.copysign(distance.get()))
            }
        };
        let report = MoveReport {
            from,
            to,
            duration: started.elapsed(),
            stopped,
        };
        let mut motor = lock(&self.motor);
        motor.position = to;
        motor.moves.push(report);
        if to != from {
            motor.stopped();
        }
        Ok(report)
    }

    fn check(&self, target: Degrees) -> Result<()> {
        let motor = lock(&self.motor);
        motor.config.travel.check(motor.config.name, target)
    }

    fn travel(&self) -> Travel {
        lock(&self.motor).config.travel
    }

    fn position(&self) -> Option<Degrees> {
        self.homed.then(|| lock(&self.motor).position)
    }

    fn set_energised(&mut self, on: bool) -> Result<()> {
        lock(&self.motor).energised = on;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axis::Halt;

    fn config(fail_every_nth_move: u32) -> SimAxisConfig {
        SimAxisConfig {
            name: "turntable",
            limits: MotionLimits {
                max_speed: 3600.0,
                acceleration: 36000.0,
            },
            home_duration: Duration::from_millis(5),
            travel: Travel::default(),
            fail_every_nth_move,
        }
    }

    #[test]
    fn moving_before_homing_is_refused() {
        let mut axis = SimAxis::new(config(0));
        assert!(matches!(
            axis.move_to(Degrees(10.0), &Ticket::unstoppable()),
            Err(AxisError::NotHomed { axis: "turntable" })
        ));
        assert_eq!(axis.position(), None);
        assert!(axis.moves().is_empty());
    }

    #[test]
    fn homing_takes_its_time_energises_and_zeroes() {
        let mut axis = SimAxis::new(config(0));
        let t = Instant::now();
        axis.home(&Ticket::unstoppable()).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(5));
        assert_eq!(axis.position(), Some(Degrees::ZERO));
        assert!(axis.is_energised());
        assert_eq!(axis.homings(), 1);
    }

    #[test]
    fn move_sleeps_the_trapezoid_time_and_reports_it() {
        let mut axis = SimAxis::new(config(0));
        axis.home(&Ticket::unstoppable()).unwrap();
        let expected = config(0).limits.move_duration(Degrees(90.0));
        let report = axis.move_to(Degrees(90.0), &Ticket::unstoppable()).unwrap();
        assert_eq!(report.from, Degrees(0.0));
        assert_eq!(report.to, Degrees(90.0));
        assert!(report.duration >= expected, "{report:?} < {expected:?}");
        let back = axis
            .move_to(Degrees(-30.0), &Ticket::unstoppable())
            .unwrap();
        assert_eq!(back.from, Degrees(90.0));
        assert_eq!(axis.position(), Some(Degrees(-30.0)));
        assert_eq!(axis.moves(), vec![report, back]);
    }

    #[test]
    fn a_stop_brakes_or_ends_the_move_and_limits_refuse_it_before() {
        let slow = SimAxisConfig {
            limits: MotionLimits {
                max_speed: 90.0,
                acceleration: 360.0,
            },
            travel: Travel {
                min: None,
                max: Some((Degrees(400.0), "turntable.max_turns")),
            },
            ..config(0)
        };
        let mut axis = SimAxis::new(slow);
        axis.home(&Ticket::unstoppable()).unwrap();
        let err = axis
            .move_to(Degrees(401.0), &Ticket::unstoppable())
            .unwrap_err();
        assert!(matches!(err, AxisError::BeyondLimit { .. }), "{err}");
        let halt = Halt::new();
        let stopper = halt.clone();
        let press = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stopper.request(StopKind::Controlled);
        });
        let report = axis.move_to(Degrees(360.0), &halt.ticket()).unwrap();
        press.join().unwrap();
        assert_eq!(report.stopped, Some(StopKind::Controlled));
        // 0.3 s in, braked: somewhere short of the target, and still homed.
        assert!(
            report.to.get() > 10.0 && report.to.get() < 60.0,
            "{report:?}"
        );
        assert_eq!(axis.position(), Some(report.to));
        let stopper = halt.clone();
        let press = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            stopper.request(StopKind::Emergency);
        });
        let report = axis.move_to(Degrees(0.0), &halt.ticket()).unwrap();
        press.join().unwrap();
        assert_eq!(report.stopped, Some(StopKind::Emergency));
        assert_eq!(
            axis.position(),
            None,
            "an emergency stop loses the position"
        );
        assert!(!axis.is_energised());
    }

    #[test]
    fn every_nth_attempt_fails_across_sessions_without_moving() {
        let motor = SimAxis::new(config(2));
        let connect = SimAxis::connector(motor.clone(), None);
        let mut first = connect().unwrap().azimuth;
        first.home(&Ticket::unstoppable()).unwrap();
        first
            .move_to(Degrees(10.0), &Ticket::unstoppable())
            .unwrap();
        let err = first
            .move_to(Degrees(20.0), &Ticket::unstoppable())
            .unwrap_err();
        assert!(
            matches!(&err, AxisError::Driver { reason, .. } if reason.starts_with("simulated fault")),
            "{err}"
        );
        assert_eq!(first.position(), Some(Degrees(10.0)));

        let mut second = connect().unwrap().azimuth;
        second.home(&Ticket::unstoppable()).unwrap();
        second
            .move_to(Degrees(5.0), &Ticket::unstoppable())
            .unwrap(); // attempt 3
        assert!(second
            .move_to(Degrees(6.0), &Ticket::unstoppable())
            .is_err()); // attempt 4
        assert_eq!(motor.faults(), 2);
        assert_eq!(motor.moves().len(), 2);
    }

    #[test]
    fn connector_sessions_start_unhomed_but_share_the_motor() {
        let az = SimAxis::new(config(0));
        let tilt = SimAxis::new(SimAxisConfig {
            name: "tilt",
            ..config(0)
        });
        let connect = SimAxis::connector(az.clone(), Some(tilt.clone()));
        let mut axes = connect().unwrap();
        axes.azimuth.home(&Ticket::unstoppable()).unwrap();
        axes.azimuth
            .move_to(Degrees(45.0), &Ticket::unstoppable())
            .unwrap();
        let mut tilt_axis = axes.tilt.expect("tilt session");
        assert!(matches!(
            tilt_axis.move_to(Degrees(1.0), &Ticket::unstoppable()),
            Err(AxisError::NotHomed { axis: "tilt" })
        ));

        let mut again = connect().unwrap();
        assert_eq!(again.azimuth.position(), None);
        assert!(again
            .azimuth
            .move_to(Degrees(1.0), &Ticket::unstoppable())
            .is_err());
        assert_eq!(az.moves().len(), 1);
        assert!(az.is_energised());
        again.azimuth.set_energised(false).unwrap();
        assert!(!az.is_energised());
        assert_eq!(tilt.homings(), 0);
    }

    #[test]
    fn every_move_that_goes_somewhere_sets_the_rig_swaying() {
        let shake = Shake::default();
        let sway = Sway {
            mm: 2.0,
            settle: Duration::from_millis(20),
        };
        let mut axis = SimAxis::new(config(0)).shaking(&shake, sway);
        axis.home(&Ticket::unstoppable()).unwrap();
        assert_eq!(shake.now(), 0.0, "homing ends at a crawl");
        // A move has it sway, a move to where the axis stands does not.
        axis.move_to(Degrees(5.0), &Ticket::unstoppable()).unwrap();
        assert!(shake.now() > 1.5, "{}", shake.now());
        std::thread::sleep(Duration::from_millis(40));
        axis.move_to(Degrees(5.0), &Ticket::unstoppable()).unwrap();
        assert!(shake.now() < 0.2, "{}", shake.now());
        axis.move_to(Degrees(6.0), &Ticket::unstoppable()).unwrap();
        assert!(shake.now() > 1.5, "{}", shake.now());
    }

    #[test]
    fn simulated_axes_move_together_or_one_after_the_other() {
        // 30° at 100 °/s, 1000 °/s²: 0.4 s for either axis.
        let slow = SimAxisConfig {
            limits: MotionLimits {
                max_speed: 100.0,
                acceleration: 1000.0,
            },
            ..config(0)
        };
        let (table, arm) = (
            SimAxis::new(slow),
            SimAxis::new(SimAxisConfig {
                name: "tilt",
                ..slow
            }),
        );
        let mut axes = SimAxis::connector(table.clone(), Some(arm.clone()))().unwrap();
        axes.azimuth.home(&Ticket::unstoppable()).unwrap();
        axes.tilt
            .as_mut()
            .unwrap()
            .home(&Ticket::unstoppable())
            .unwrap();
        let one = slow.limits.move_duration(Degrees(30.0));
        let mut took = |order, to: f64| {
            axes.order = order;
            let started = Instant::now();
            let both = axes
                .move_to(Degrees(to), Degrees(to), &Ticket::unstoppable())
                .unwrap();
            assert_eq!(both.tilt.map(|t| t.to), Some(Degrees(to)));
            started.elapsed()
        };
        let together = took(MoveOrder::Together, 30.0);
        assert!(together >= one && together < one * 7 / 4, "{together:?}");
        let apart = took(MoveOrder::OneAfterTheOther, 0.0);
        assert!(apart >= one * 2, "{apart:?}");
        assert_eq!((table.moves().len(), arm.moves().len()), (2, 2));
    }

    #[test]
    fn nonsense_input_is_an_error_not_a_panic() {
        let mut axis = SimAxis::new(config(0));
        axis.home(&Ticket::unstoppable()).unwrap();
        assert!(axis
            .move_to(Degrees(f64::NAN), &Ticket::unstoppable())
            .is_err());
        assert!(axis
            .move_to(Degrees(1e300), &Ticket::unstoppable())
            .is_err());
        let mut stuck = SimAxis::new(SimAxisConfig {
            limits: MotionLimits {
                max_speed: 0.0,
                acceleration: 1.0,
            },
            ..config(0)
        });
        stuck.home(&Ticket::unstoppable()).unwrap();
        assert!(stuck.move_to(Degrees(1.0), &Ticket::unstoppable()).is_err());
    }
}
