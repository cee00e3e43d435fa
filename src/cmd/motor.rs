//! `scanrig motor`: jog or home, with moves the rig cannot make as bad input.

use std::process::ExitCode;

use scanrig_hardware::axis::AxisError;

use super::Failure;
use crate::motor::{self, MotorCommand};
use crate::settings::Settings;

/// Runs [`motor::motor`]; a move past a limit, or of an axis the rig
/// lacks, is a usage failure (exit 2).
pub fn run(settings: &Settings, command: MotorCommand) -> Result<ExitCode, Failure> {
    match motor::motor(settings, command) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A move past a limit, or of an axis the rig lacks, is bad input.
        Err(e)
            if e.downcast_ref::<AxisError>()
                .is_some_and(AxisError::is_fatal) =>
        {
            Err(Failure::Usage(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
