//! The turntable actor: owns the axes (turntable and optional tilt) on a
//! thread of its own, since a move blocks for as long as it takes.

use std::time::Duration;

use actix::prelude::*;
use scanrig_hardware::axis::{Axes, AxesConnector, AxisError};
use scanrig_hardware::Degrees;
use slog::{info, warn, Logger};

/// Homes every axis.
#[derive(Message)]
#[rtype(result = "Result<(), AxisError>")]
pub struct Home;

/// Moves to an absolute position.
#[derive(Message)]
#[rtype(result = "Result<Moved, AxisError>")]
pub struct MoveTo {
    /// Turntable angle.
    pub azimuth: Degrees,
    /// Tilt angle (ignored on rigs without a tilt axis).
    pub tilt: Degrees,
}

/// Releases the motors (no holding torque); the next move homes first.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Release;

/// A finished move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moved {
    /// No axis had to move.
    pub still: bool,
    /// How long the move took.
    pub duration: Duration,
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

    fn fail<T>(
        &mut self,
        ctx: &mut SyncContext<Self>,
        result: Result<T, AxisError>,
    ) -> Result<T, AxisError> {
        if let Err(e) = &result {
            warn!(self.log, "axis failed, reopening"; "error" => %e);
            ctx.stop();
        }
        result
    }
}

impl Handler<Home> for TurntableActor {
    type Result = Result<(), AxisError>;

    fn handle(&mut self, _: Home, ctx: &mut Self::Context) -> Self::Result {
        let result = self.axes().and_then(|axes| {
            axes.azimuth.home()?;
            if let Some(tilt) = &mut axes.tilt {
                tilt.home()?;
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
        let result = self.axes().and_then(|axes| {
            let az = axes.azimuth.move_to(msg.azimuth)?;
            let tilt = match &mut axes.tilt {
                Some(t) => Some(t.move_to(msg.tilt)?),
                None => None,
            };
            let still = az.from == az.to && tilt.is_none_or(|t| t.from == t.to);
            Ok(Moved {
                still,
                duration: az.duration + tilt.map_or(Duration::ZERO, |t| t.duration),
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
