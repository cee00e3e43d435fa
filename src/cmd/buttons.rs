//! `scanrig buttons test`: print button presses, to check the wiring.

use std::process::ExitCode;

use super::Failure;
use crate::motor;
use crate::settings::Settings;

/// What to do with the buttons.
#[derive(Debug, clap::Subcommand)]
pub enum ButtonsCommand {
    /// Print presses as they happen, until Ctrl-C.
    Test,
}

/// Carries out `command` on the rig's buttons.
pub fn run(settings: &Settings, command: ButtonsCommand) -> Result<ExitCode, Failure> {
    match command {
        ButtonsCommand::Test => motor::buttons_test(settings)?,
    }
    Ok(ExitCode::SUCCESS)
}
