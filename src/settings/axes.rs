//! `[turntable]` and `[tilt]`: the rig's two axes, their drivers, and the
//! simulated axis's settings.

use scanrig_hardware::axis::{MotionLimits, MoveOrder};
use serde::{Deserialize, Serialize};

use super::Stepper;

/// The settings of a simulated axis (`[turntable.sim]`, `[tilt.sim]`).
/// Keys missing from a partial table take the turntable's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimAxis {
    /// Top speed in degrees per second, in (0, 3600].
    pub max_speed_dps: f64,
    /// Acceleration in degrees per second squared, above 0.
    pub accel_dps2: f64,
    /// Duration of the homing move, in milliseconds.
    pub home_ms: u64,
    /// How far the rig sways every way as the axis stops, millimetres at
    /// the object (0 to 50; 0: not at all).
    pub shake_mm: f64,
    /// How long the sway takes to die down to a twentieth, milliseconds.
    pub shake_ms: u64,
}

impl Default for SimAxis {
    fn default() -> Self {
        SimAxis {
            max_speed_dps: 120.0,
            accel_dps2: 480.0,
            home_ms: 300,
            shake_mm: 2.0,
            shake_ms: 250,
        }
    }
}

impl SimAxis {
    /// Its speed and acceleration.
    pub fn limits(&self) -> MotionLimits {
        MotionLimits {
            max_speed: self.max_speed_dps,
            acceleration: self.accel_dps2,
        }
    }

    /// The tilt arm's defaults: slower than the turntable.
    pub fn tilt_default() -> Self {
        SimAxis {
            max_speed_dps: 60.0,
            accel_dps2: 240.0,
            home_ms: 300,
            ..SimAxis::default()
        }
    }
}

/// Which driver turns the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurntableBackend {
    /// The simulator, configured by `[turntable.sim]`.
    #[default]
    Sim,
    /// A stepper motor on GPIO, configured by `[turntable.stepper]`.
    Stepper,
}

/// `[turntable]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Turntable {
    /// The driver.
    pub backend: TurntableBackend,
    /// For a rig with a cable through the table: how many turns from home
    /// the table may be, either way (unset: no limit).
    pub max_turns: Option<f64>,
    /// The simulator's settings.
    pub sim: SimAxis,
    /// The stepper's settings.
    pub stepper: Stepper,
}

/// Which driver tilts the camera arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiltBackend {
    /// The rig has no tilt arm.
    None,
    /// The simulator, configured by `[tilt.sim]`.
    #[default]
    Sim,
    /// A stepper motor on GPIO, configured by `[tilt.stepper]`.
    Stepper,
}

/// `tilt.move`: how a move to a shot drives the table and the arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiltMove {
    /// Both motors at once.
    #[default]
    Together,
    /// The table, then the arm (a power supply that cannot drive both).
    OneAfterTheOther,
}

impl TiltMove {
    /// The axes' way of moving it stands for.
    pub fn order(self) -> MoveOrder {
        match self {
            TiltMove::Together => MoveOrder::Together,
            TiltMove::OneAfterTheOther => MoveOrder::OneAfterTheOther,
        }
    }
}

/// `[tilt]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tilt {
    /// The driver.
    pub backend: TiltBackend,
    /// The lowest tilt the arm may be moved to, degrees.
    pub min_deg: f64,
    /// The highest tilt the arm may be moved to, degrees.
    pub max_deg: f64,
    /// How a move to a shot drives the table and the arm.
    #[serde(rename = "move")]
    pub moves: TiltMove,
    /// The simulator's settings.
    #[serde(default = "SimAxis::tilt_default")]
    pub sim: SimAxis,
    /// The stepper's settings.
    #[serde(default = "Stepper::tilt_default")]
    pub stepper: Stepper,
}

impl Default for Tilt {
    fn default() -> Self {
        Tilt {
            backend: TiltBackend::Sim,
            min_deg: -90.0,
            max_deg: 90.0,
            moves: TiltMove::Together,
            sim: SimAxis::tilt_default(),
            stepper: Stepper::tilt_default(),
        }
    }
}
