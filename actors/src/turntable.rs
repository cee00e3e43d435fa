//! The turntable actor: owns the axes (turntable and optional tilt) on a
//! thread of its own, since a move blocks for as long as it takes.

use std::time::Duration;

use actix::prelude::*;
use scanrig_hardware::axis::{
    self, on_table, turn, Axes, AxesConnector, AxisError, StopKind, TableWay, Ticket,
};
use scanrig_hardware::Degrees;
use serde::{Deserialize, Serialize};
use slog::{debug, info, warn, Logger};

/// Homes every axis, unless stopped on its ticket. A table homed already
/// first goes back the shorter way to a whole turn from home (with soft
/// limits: to home itself, unwinding a cable), so that homing finds home
/// where it was.
#[derive(Message)]
#[rtype(result = "Result<(), AxisError>")]
pub struct Home(pub Ticket);

/// Moves to a shot's position.
#[derive(Message)]
#[rtype(result = "Result<Moved, AxisError>")]
pub struct MoveTo {
    /// Turntable angle: the table goes to the turn of it `way` picks.
    pub azimuth: Degrees,
    /// Which way the table turns to it.
    pub way: TableWay,
    /// Tilt angle (ignored on rigs without a tilt axis).
    pub tilt: Degrees,
    /// Stops the move when a stop is asked for.
    pub ticket: Ticket,
}

/// An axis of the rig, for [`Jog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JogAxis {
    /// The turntable.
    Turntable,
    /// The tilt arm (on rigs that have one).
    Tilt,
}

/// Turns one axis by an angle from where it stands, homing that axis first
/// if it has not been homed; answers the axis' new position. A tilt jog on
/// a rig without a tilt axis answers [`AxisError::NoTiltAxis`].
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Jogged, AxisError>")]
pub struct Jog {
    /// Which axis.
    pub axis: JogAxis,
    /// How far; negative turns the other way.
    pub by: Degrees,
    /// Stops the jog when a stop is asked for.
    pub ticket: Ticket,
}

/// Where a jog left the axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jogged {
    /// Its position: the table's angle in [0, 360), whatever turn it
    /// stands at, the tilt's as it is (`None` after an emergency stop: it
    /// homes again).
    pub at: Option<Degrees>,
    /// The jog was stopped before its end, and how.
    pub stopped: Option<StopKind>,
}

/// Homes each axis not homed yet, leaving the others where they stand;
/// answers where the axes then stand.
#[derive(Message)]
#[rtype(result = "Result<Stand, AxisError>")]
pub struct Ready(pub Ticket);

/// Where the axes stand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stand {
    /// The turntable's angle, in [0, 360), whatever turn it stands at.
    pub azimuth: Degrees,
    /// The tilt (0 on a rig without a tilt axis).
    pub tilt: Degrees,
    /// Some axis had not been homed, and was.
    pub homed: bool,
}

/// Releases the motors (no holding torque); the next move homes first.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Release;

/// A finished (or stopped) move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moved {
    /// No axis had to move.
    pub still: bool,
    /// How long the move took.
    pub duration: Duration,
    /// The move was stopped short of its target, and how.
    pub stopped: Option<StopKind>,
}

/// The turntable actor. Like the camera actor it stops itself after a
/// failure; the arbiter builds a new one that reopens the axes, which must be
/// homed again.
pub struct TurntableActor {
    connector: AxesConnector,
    axes: Option<Axes>,
    log: Logger,
}

impl Actor for TurntableActor {
    type Context = SyncContext<Self>;

    fn stopped(&mut self, _: &mut Self::Context) {
        self.release();
    }
}

impl TurntableActor {
    /// Starts the turntable actor on a thread of its own.
    pub fn start(connector: AxesConnector, log: Logger) -> Addr<TurntableActor> {
        SyncArbiter::start(1, move || TurntableActor {
            connector: connector.clone(),
            axes: None,
            log: log.clone(),
        })
    }

    fn axes(&mut self) -> Result<&mut Axes, AxisError> {
        if self.axes.is_none() {
            self.axes = Some((self.connector)()?);
        }
        Ok(self.axes.as_mut().expect("just opened"))
    }

    fn release(&mut self) {
        if let Some(axes) = &mut self.axes {
            let tilt = axes.tilt.as_mut().map(|t| t.set_energised(false));
            if let Err(e) = axes.azimuth.set_energised(false) {
                warn!(self.log, "could not release the turntable motor"; "error" => %e);
            }
            if let Some(Err(e)) = tilt {
                warn!(self.log, "could not release the tilt motor"; "error" => %e);
            }
        }
    }

    /// Reopens the axes after a device failure; what is refused before any
    /// step (a limit, a missing axis) or stopped on purpose is no failure.
    fn fail<T>(
        &mut self,
        ctx: &mut SyncContext<Self>,
        result: Result<T, AxisError>,
    ) -> Result<T, AxisError> {
        match &result {
            Err(
                AxisError::BeyondLimit { .. } | AxisError::NoTiltAxis | AxisError::Stopped { .. },
            ) => {}
            Err(e) => {
                warn!(self.log, "axis failed, reopening"; "error" => %e);
                ctx.stop();
            }
            Ok(_) => {}
        }
        result
    }
}

impl Handler<Home> for TurntableActor {
    type Result = Result<(), AxisError>;

    fn handle(&mut self, Home(ticket): Home, ctx: &mut Self::Context) -> Self::Result {
        let result = self.axes().and_then(|axes| {
            if let Some(from) = axes.azimuth.position() {
                let back = turn::way_home(from, &axes.azimuth.travel());
                if back != from && axes.azimuth.move_to(back, &ticket)?.stopped.is_some() {
                    return Err(AxisError::Stopped { axis: "turntable" });
                }
            }
            axes.azimuth.home(&ticket)?;
            if let Some(tilt) = &mut axes.tilt {
                tilt.home(&ticket)?;
            }
            Ok(())
        });
        if result.is_ok() {
            info!(self.log, "axes homed");
        }
        self.fail(ctx, result)
    }
}

impl Handler<MoveTo> for TurntableActor {
    type Result = Result<Moved, AxisError>;

    fn handle(&mut self, msg: MoveTo, ctx: &mut Self::Context) -> Self::Result {
        debug!(self.log, "moving"; "azimuth" => msg.azimuth.get(), "tilt" => msg.tilt.get());
        let result = self.axes().and_then(|axes| {
            let both = axes.move_to_shot(msg.azimuth, msg.tilt, msg.way, &msg.ticket)?;
            let (az, tilt) = (both.azimuth, both.tilt);
            let still = az.from == az.to && tilt.is_none_or(|t| t.from == t.to);
            // Of the two axes' stops, the stronger says what became of the rig.
            Ok(Moved {
                still,
                duration: both.duration,
                stopped: az.stopped.max(tilt.and_then(|t| t.stopped)),
            })
        });
        self.fail(ctx, result)
    }
}

impl Handler<Jog> for TurntableActor {
    type Result = Result<Jogged, AxisError>;

    fn handle(&mut self, msg: Jog, ctx: &mut Self::Context) -> Self::Result {
        let axes = match self.axes() {
            Ok(axes) => axes,
            Err(e) => return self.fail(ctx, Err(e)),
        };
        let axis = match (msg.axis, &mut axes.tilt) {
            (JogAxis::Turntable, _) => &mut axes.azimuth,
            (JogAxis::Tilt, Some(tilt)) => tilt,
            (JogAxis::Tilt, None) => return Err(AxisError::NoTiltAxis),
        };
        let table = msg.axis == JogAxis::Turntable;
        let result = axis::jog(axis.as_mut(), msg.by, &msg.ticket).map(|report| Jogged {
            at: axis
                .position()
                .map(|at| if table { on_table(at) } else { at }),
            stopped: report.stopped,
        });
        self.fail(ctx, result)
    }
}

impl Handler<Ready> for TurntableActor {
    type Result = Result<Stand, AxisError>;

    fn handle(&mut self, Ready(ticket): Ready, ctx: &mut Self::Context) -> Self::Result {
        let result = self.axes().and_then(|axes| {
            let mut homed = false;
            let mut ready = |axis: &mut Box<dyn axis::Axis>| match axis.position() {
                Some(at) => Ok(at),
                None => {
                    homed = true;
                    axis.home(&ticket).map(|()| Degrees::ZERO)
                }
            };
            let azimuth = on_table(ready(&mut axes.azimuth)?);
            let tilt = match &mut axes.tilt {
                Some(tilt) => ready(tilt)?,
                None => Degrees::ZERO,
            };
            Ok(Stand {
                azimuth,
                tilt,
                homed,
            })
        });
        self.fail(ctx, result)
    }
}

impl Handler<Release> for TurntableActor {
    type Result = ();

    fn handle(&mut self, _: Release, _: &mut Self::Context) {
        self.release();
        info!(self.log, "motors released");
    }
}

#[cfg(test)]
mod tests {
    use scanrig_hardware::axis::{MotionLimits, SimAxis, SimAxisConfig, Travel};

    use super::*;

    fn axis_config(name: &'static str) -> SimAxisConfig {
        SimAxisConfig {
            name,
            limits: MotionLimits {
                max_speed: 36_000.0,
                acceleration: 360_000.0,
            },
            home_duration: Duration::ZERO,
            travel: Travel::default(),
            fail_every_nth_move: 0,
        }
    }

    fn axis(name: &'static str) -> SimAxis {
        SimAxis::new(axis_config(name))
    }

    fn log() -> Logger {
        Logger::root(slog::Discard, slog::o!())
    }

    fn jog(axis: JogAxis, by: f64) -> Jog {
        Jog {
            axis,
            by: Degrees(by),
            ticket: Ticket::unstoppable(),
        }
    }

    #[test]
    fn a_jog_homes_once_then_turns_from_where_the_axis_stands() {
        let table = axis("turntable");
        System::new().block_on(async {
            let actor = TurntableActor::start(SimAxis::connector(table.clone(), None), log());
            let at = actor.send(jog(JogAxis::Turntable, 30.0)).await.unwrap();
            assert_eq!(at.unwrap().at, Some(Degrees(30.0)));
            let at = actor.send(jog(JogAxis::Turntable, -45.0)).await.unwrap();
            assert_eq!(at.unwrap().at, Some(Degrees(345.0)), "the table's angle");
            let at = actor.send(jog(JogAxis::Turntable, 735.0)).await.unwrap();
            assert_eq!(at.unwrap().at, Some(Degrees(0.0)), "two turns on");
        });
        assert_eq!(table.homings(), 1);
        let moves: Vec<_> = table.moves().iter().map(|m| (m.from, m.to)).collect();
        assert_eq!(
            moves,
            [
                (Degrees(0.0), Degrees(30.0)),
                (Degrees(30.0), Degrees(-15.0)),
                (Degrees(-15.0), Degrees(720.0))
            ]
        );
    }

    #[test]
    fn a_tilt_jog_moves_only_the_tilt_arm() {
        let (table, tilt) = (axis("turntable"), axis("tilt"));
        System::new().block_on(async {
            let connector = SimAxis::connector(table.clone(), Some(tilt.clone()));
            let actor = TurntableActor::start(connector, log());
            let at = actor.send(jog(JogAxis::Tilt, -20.0)).await.unwrap();
            assert_eq!(at.unwrap().at, Some(Degrees(-20.0)));
        });
        assert_eq!((tilt.homings(), tilt.moves().len()), (1, 1));
        assert_eq!((table.homings(), table.moves().len()), (0, 0));
    }

    #[test]
    fn ready_homes_only_the_axes_not_homed_and_says_where_they_stand() {
        let (table, tilt) = (axis("turntable"), axis("tilt"));
        System::new().block_on(async {
            let connector = SimAxis::connector(table.clone(), Some(tilt.clone()));
            let actor = TurntableActor::start(connector, log());
            actor
                .send(jog(JogAxis::Turntable, 30.0))
                .await
                .unwrap()
                .unwrap();
            let ready = |actor: &Addr<TurntableActor>| actor.send(Ready(Ticket::unstoppable()));
            let stand = ready(&actor).await.unwrap().unwrap();
            let want = Stand {
                azimuth: Degrees(30.0),
                tilt: Degrees::ZERO,
                homed: true,
            };
            assert_eq!(stand, want, "the tilt homed, the table left at 30°");
            let again = ready(&actor).await.unwrap().unwrap();
            assert_eq!(
                again,
                Stand {
                    homed: false,
                    ..want
                }
            );
        });
        assert_eq!((table.homings(), tilt.homings()), (1, 1));
        assert_eq!(table.moves().len(), 1, "the table did not move");
    }

    /// Moves the table to each shot's angle in turn, the shorter way
    /// round; answers where `Ready` then says it stands.
    async fn shots(actor: &Addr<TurntableActor>, angles: &[f64]) -> Degrees {
        for angle in angles {
            let to = MoveTo {
                azimuth: Degrees(*angle),
                way: TableWay::Shortest,
                tilt: Degrees::ZERO,
                ticket: Ticket::unstoppable(),
            };
            actor.send(to).await.unwrap().unwrap();
        }
        let stand = actor.send(Ready(Ticket::unstoppable())).await.unwrap();
        stand.unwrap().azimuth
    }

    fn travel(table: &SimAxis) -> Vec<(f64, f64)> {
        let moves = table.moves().into_iter();
        moves.map(|m| (m.from.get(), m.to.get())).collect()
    }

    #[test]
    fn the_table_goes_the_shorter_way_its_angle_told_in_0_to_360() {
        let table = axis("turntable");
        let at = System::new().block_on(async {
            let actor = TurntableActor::start(SimAxis::connector(table.clone(), None), log());
            let home = Home(Ticket::unstoppable());
            actor.send(home).await.unwrap().unwrap();
            let at = shots(&actor, &[350.0, 10.0, 120.0, 240.0, 350.0, 90.0]).await;
            // Homing again: the shorter way back to a whole turn first.
            let home = Home(Ticket::unstoppable());
            actor.send(home).await.unwrap().unwrap();
            (at, shots(&actor, &[]).await)
        });
        assert_eq!(at, (Degrees(90.0), Degrees::ZERO));
        let want = [
            (0.0, -10.0),
            (-10.0, 10.0),
            (10.0, 120.0),
            (120.0, 240.0),
            (240.0, 350.0),
            (350.0, 450.0),
            (450.0, 360.0),
        ];
        assert_eq!(travel(&table), want, "the motor's travel, unwrapped");
        assert_eq!(table.homings(), 2);
    }

    #[test]
    fn a_table_with_a_cable_never_passes_its_limit_and_unwinds_to_home() {
        let table = SimAxis::new(SimAxisConfig {
            travel: Travel {
                min: Some((Degrees(-360.0), "turntable.max_turns")),
                max: Some((Degrees(360.0), "turntable.max_turns")),
            },
            ..axis_config("turntable")
        });
        let at = System::new().block_on(async {
            let actor = TurntableActor::start(SimAxis::connector(table.clone(), None), log());
            let home = Home(Ticket::unstoppable());
            actor.send(home).await.unwrap().unwrap();
            let at = shots(&actor, &[270.0, 180.0, 90.0, 0.0, 270.0]).await;
            actor
                .send(Home(Ticket::unstoppable()))
                .await
                .unwrap()
                .unwrap();
            at
        });
        assert_eq!(at, Degrees(270.0));
        let want = [
            (0.0, -90.0),
            (-90.0, -180.0),
            (-180.0, -270.0),
            (-270.0, -360.0),
            // -450° would pass the limit: the long way.
            (-360.0, -90.0),
            // Home itself, not the turn nearest: the cable unwinds.
            (-90.0, 0.0),
        ];
        assert_eq!(travel(&table), want);
    }

    #[test]
    fn a_stop_during_a_move_of_both_axes_halts_both() {
        // 60° at 100 °/s, 1000 °/s² takes 0.7 s on either axis.
        let slow = |name| {
            SimAxis::new(SimAxisConfig {
                name,
                limits: MotionLimits {
                    max_speed: 100.0,
                    acceleration: 1000.0,
                },
                home_duration: Duration::ZERO,
                travel: Travel::default(),
                fail_every_nth_move: 0,
            })
        };
        let (table, tilt) = (slow("turntable"), slow("tilt"));
        let halt = scanrig_hardware::axis::Halt::new();
        let moved = System::new().block_on(async {
            let connector = SimAxis::connector(table.clone(), Some(tilt.clone()));
            let actor = TurntableActor::start(connector, log());
            actor
                .send(Home(Ticket::unstoppable()))
                .await
                .unwrap()
                .unwrap();
            let stopper = halt.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                stopper.request(StopKind::Emergency);
            });
            let to = MoveTo {
                azimuth: Degrees(60.0),
                way: TableWay::Shortest,
                tilt: Degrees(60.0),
                ticket: halt.ticket(),
            };
            actor.send(to).await.unwrap().unwrap()
        });
        assert_eq!(moved.stopped, Some(StopKind::Emergency));
        assert!(moved.duration < Duration::from_millis(600), "{moved:?}");
        for axis in [&table, &tilt] {
            let last = axis.moves().pop().unwrap();
            assert_eq!(last.stopped, Some(StopKind::Emergency), "{last:?}");
            assert!(last.to.get() > 0.0 && last.to.get() < 60.0, "{last:?}");
        }
    }

    #[test]
    fn a_tilt_jog_without_a_tilt_axis_says_so_and_changes_nothing() {
        let table = axis("turntable");
        System::new().block_on(async {
            let actor = TurntableActor::start(SimAxis::connector(table.clone(), None), log());
            actor
                .send(jog(JogAxis::Turntable, 10.0))
                .await
                .unwrap()
                .unwrap();
            let err = actor
                .send(jog(JogAxis::Tilt, 5.0))
                .await
                .unwrap()
                .unwrap_err();
            assert!(matches!(err, AxisError::NoTiltAxis), "{err}");
            assert!(err.to_string().contains("no tilt motor"), "{err}");
            // The same session carries on: no reopening, no second homing.
            let at = actor.send(jog(JogAxis::Turntable, 10.0)).await.unwrap();
            assert_eq!(at.unwrap().at, Some(Degrees(20.0)));
        });
        assert_eq!(table.homings(), 1);
    }
}
