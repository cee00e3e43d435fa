//! Motion axes: the turntable and the optional tilt arm.
//!
//! An [`Axis`] moves to absolute angles and blocks until it stands still.
//! [`motion`] holds the trapezoidal-ramp arithmetic that both the simulator
//! and the stepper driver use.

pub mod motion;
mod sim;
pub mod stepper;

use std::sync::Arc;
use std::time::Duration;

use crate::Degrees;

pub use motion::MotionLimits;
pub use sim::{SimAxis, SimAxisConfig};

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

/// What a finished move did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoveReport {
    /// Where the axis stood before the move.
    pub from: Degrees,
    /// Where it stands now.
    pub to: Degrees,
    /// How long the move really took.
    pub duration: Duration,
}

/// One motor axis with absolute positions.
pub trait Axis: Send {
    /// Finds the home position (end-stop, or the current position when the
    /// axis has none) and calls it 0°. Energises the motor.
    fn home(&mut self) -> Result<()>;

    /// Takes the current position as 0° without moving, and energises the
    /// motor: for jogging an axis by hand without homing it.
    fn set_zero_here(&mut self) -> Result<()>;

    /// Moves to an absolute angle and returns once the axis stands there.
    fn move_to(&mut self, target: Degrees) -> Result<MoveReport>;

    /// The current position, or `None` until the axis has been homed.
    fn position(&self) -> Option<Degrees>;

    /// Energises (holds torque) or releases the motor.
    fn set_energised(&mut self, on: bool) -> Result<()>;
}

/// The rig's axes, opened together.
pub struct Axes {
    /// The turntable.
    pub azimuth: Box<dyn Axis>,
    /// The tilt arm, on rigs that have one.
    pub tilt: Option<Box<dyn Axis>>,
}

/// Opens (or reopens, after a failure) the rig's axes.
pub type AxesConnector = Arc<dyn Fn() -> Result<Axes> + Send + Sync>;
