//! Motion axes: the turntable and the optional tilt arm.
//!
//! An [`Axis`] moves to absolute angles and blocks until it stands still,
//! or until the move's [`Ticket`] says stop ([`halt`]). [`Travel`] keeps
//! every move within the rig's soft limits. [`motion`] holds the
//! trapezoidal-ramp arithmetic that both the simulator and the stepper
//! driver use. [`shake`] is how the simulated rig sways after a move.
//! [`turn`] picks which turn of a shot's angle the table goes to.

pub mod halt;
pub mod motion;
pub mod shake;
mod sim;
pub mod stepper;
pub mod turn;

use std::sync::Arc;
use std::time::Duration;

use crate::Degrees;

pub use halt::{Halt, StopKind, Ticket};
pub use motion::MotionLimits;
pub use shake::{Shake, Sway};
pub use sim::{SimAxis, SimAxisConfig};
pub use turn::{on_table, TableWay};

/// What can go wrong with an axis.
#[derive(Debug, thiserror::Error)]
pub enum AxisError {
    /// A move was asked for before the axis was homed.
    #[error("the {axis} axis has not been homed; home it before moving")]
    NotHomed {
        /// Which axis ("turntable", "tilt").
        axis: &'static str,
    },
    /// Homing ran out of time without reaching the end-stop.
    #[error("homing the {axis} axis found no end-stop within {after:?}; check the end-stop wiring and its pin in the config")]
    HomingTimeout {
        /// Which axis.
        axis: &'static str,
        /// How long homing searched.
        after: Duration,
    },
    /// The tilt axis was asked to move on a rig that has none.
    #[error("this rig has no tilt motor (tilt.backend is not set); only the turntable can move")]
    NoTiltAxis,
    /// A move past a soft limit was refused before any step.
    #[error("the {axis} axis may not go to {target}: that is past {setting} = {limit}; choose a move within it, or change {setting} if the rig allows")]
    BeyondLimit {
        /// Which axis.
        axis: &'static str,
        /// Where the move would have ended.
        target: Degrees,
        /// The limit it would pass.
        limit: Degrees,
        /// The setting that sets the limit (`tilt.max_deg`).
        setting: &'static str,
    },
    /// Homing was stopped (Pause, Stop, an emergency stop) before it
    /// finished; the axis is not homed.
    #[error("homing the {axis} axis was stopped before it finished; it homes again before the next move")]
    Stopped {
        /// Which axis.
        axis: &'static str,
    },
    /// The driver reported a fault (stall, driver error, lost connection).
    #[error("the {axis} axis driver failed: {reason}")]
    Driver {
        /// Which axis.
        axis: &'static str,
        /// The driver's own words.
        reason: String,
    },
}

/// Result of axis operations.
pub type Result<T, E = AxisError> = std::result::Result<T, E>;

impl AxisError {
    /// Whether trying again cannot help until someone acts (a limit, a
    /// missing axis, an end-stop that is never found).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            AxisError::HomingTimeout { .. } | AxisError::NoTiltAxis | AxisError::BeyondLimit { .. }
        )
    }
}

/// What a finished move did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoveReport {
    /// Where the axis stood before the move.
    pub from: Degrees,
    /// Where it stands now (for an emergency stop: where the counted steps
    /// say, though the axis now counts as not homed).
    pub to: Degrees,
    /// How long the move really took.
    pub duration: Duration,
    /// The move was stopped before its target, and how.
    pub stopped: Option<StopKind>,
}

/// Where an axis may go, in degrees from home. Every move is checked
/// before a single step; a move past a limit is refused, never clamped.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Travel {
    /// The lowest angle and the setting that gives it.
    pub min: Option<(Degrees, &'static str)>,
    /// The highest angle and the setting that gives it.
    pub max: Option<(Degrees, &'static str)>,
}

impl Travel {
    /// Refuses a move of the `axis` to `target` past either limit.
    pub fn check(&self, axis: &'static str, target: Degrees) -> Result<()> {
        let beyond = |(limit, setting): (Degrees, &'static str)| AxisError::BeyondLimit {
            axis,
            target,
            limit,
            setting,
        };
        match (self.min, self.max) {
            (Some(min), _) if target.get() < min.0.get() => Err(beyond(min)),
            (_, Some(max)) if target.get() > max.0.get() => Err(beyond(max)),
            _ => Ok(()),
        }
    }
}

/// One motor axis with absolute positions.
pub trait Axis: Send {
    /// Finds the home position (end-stop, or the current position when the
    /// axis has none) and calls it 0°. Energises the motor. A stop asked
    /// for on `ticket` ends it with [`AxisError::Stopped`].
    fn home(&mut self, ticket: &Ticket) -> Result<()>;

    /// Takes the current position as 0° without moving, and energises the
    /// motor: for jogging an axis by hand without homing it.
    fn set_zero_here(&mut self) -> Result<()>;

    /// Moves to an absolute angle and returns once the axis stands there,
    /// or stands still short of it after a stop asked for on `ticket`. A
    /// target past the soft limits is refused before any step.
    fn move_to(&mut self, target: Degrees, ticket: &Ticket) -> Result<MoveReport>;

    /// Refuses a target past the soft limits, without moving.
    fn check(&self, target: Degrees) -> Result<()>;

    /// The soft limits.
    fn travel(&self) -> Travel;

    /// The current position, or `None` until the axis has been homed.
    fn position(&self) -> Option<Degrees>;

    /// Energises (holds torque) or releases the motor.
    fn set_energised(&mut self, on: bool) -> Result<()>;
}

/// Homes `axis` if it has not been, then turns it by `by` from where it
/// stands (within its soft limits).
pub fn jog(axis: &mut dyn Axis, by: Degrees, ticket: &Ticket) -> Result<MoveReport> {
    if axis.position().is_none() {
        axis.home(ticket)?;
    }
    let from = axis.position().unwrap_or(Degrees::ZERO);
    axis.move_to(from + by, ticket)
}

/// How a move to a shot drives the table and the tilt arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MoveOrder {
    /// Both at once, each driver stepped from a thread of its own: the
    /// move takes as long as the longer of the two.
    #[default]
    Together,
    /// The table, then the tilt: for rigs whose power supply cannot drive
    /// both motors at once.
    OneAfterTheOther,
}

/// The rig's axes, opened together.
pub struct Axes {
    /// The turntable.
    pub azimuth: Box<dyn Axis>,
    /// The tilt arm, on rigs that have one.
    pub tilt: Option<Box<dyn Axis>>,
    /// How a move drives both.
    pub order: MoveOrder,
}

/// What a move of both axes did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BothMoved {
    /// The table's move.
    pub azimuth: MoveReport,
    /// The tilt arm's (`None` without one, or when a stop ended the move
    /// before the arm's turn came).
    pub tilt: Option<MoveReport>,
    /// How long the whole move took.
    pub duration: Duration,
}

impl Axes {
    /// Moves the table to `azimuth` and the arm (if any) to `tilt`, in
    /// [`Axes::order`], returning once both stand still; both targets are
    /// checked against the soft limits before either axis moves, and a
    /// stop asked for on `ticket` stops both. Should one driver fail, the
    /// other still ends its move before the error is returned.
    pub fn move_to(
        &mut self,
        azimuth: Degrees,
        tilt: Degrees,
        ticket: &Ticket,
    ) -> Result<BothMoved> {
        if let Some(arm) = &self.tilt {
            arm.check(tilt)?;
        }
        self.azimuth.check(azimuth)?;
        let table = &mut self.azimuth;
        let (az, arm) = match (&mut self.tilt, self.order) {
            (None, _) => (table.move_to(azimuth, ticket)?, None),
            (Some(arm), MoveOrder::OneAfterTheOther) => {
                let az = table.move_to(azimuth, ticket)?;
                let arm = match az.stopped {
                    None => Some(arm.move_to(tilt, ticket)?),
                    Some(_) => None,
                };
                (az, arm)
            }
            (Some(arm), MoveOrder::Together) => {
                let (az, arm) = std::thread::scope(|s| {
                    let tilting = std::thread::Builder::new()
                        .name("tilt steps".into())
                        .spawn_scoped(s, || arm.move_to(tilt, ticket));
                    let az = table.move_to(azimuth, ticket);
                    let arm = match tilting {
                        Ok(thread) => thread
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                        Err(e) => Err(AxisError::Driver {
                            axis: "tilt",
                            reason: format!("cannot start the thread that steps it: {e}"),
                        }),
                    };
                    (az, arm)
                });
                (az?, Some(arm?))
            }
        };
        let duration = match self.order {
            MoveOrder::Together => az.duration.max(arm.map_or(Duration::ZERO, |t| t.duration)),
            MoveOrder::OneAfterTheOther => az.duration + arm.map_or(Duration::ZERO, |t| t.duration),
        };
        Ok(BothMoved {
            azimuth: az,
            tilt: arm,
            duration,
        })
    }

    /// Moves to a shot: the table to the turn of `angle` that `way` picks
    /// from where it stands (the turn nearest it within the limits, or
    /// the angle itself), the arm to `tilt`, as [`Axes::move_to`].
    pub fn move_to_shot(
        &mut self,
        angle: Degrees,
        tilt: Degrees,
        way: TableWay,
        ticket: &Ticket,
    ) -> Result<BothMoved> {
        let azimuth = match self.azimuth.position() {
            Some(from) => way.target(from, angle, &self.azimuth.travel()),
            None => angle,
        };
        self.move_to(azimuth, tilt, ticket)
    }
}

/// Opens (or reopens, after a failure) the rig's axes.
pub type AxesConnector = Arc<dyn Fn() -> Result<Axes> + Send + Sync>;
