//! `scanrig destination test [NAME]`: the destination reached, a small object written, read back and deleted, and what is wrong said in words.

use std::process::ExitCode;

use clap::Subcommand;
use slog::Logger;

use super::Failure;
use crate::rig;
use crate::settings::Settings;

/// `scanrig destination …`.
#[derive(Debug, Subcommand)]
pub enum DestinationCommand {
    /// Write, read back and delete a small object at the destination, and
    /// say what is wrong if that fails (exit 1).
    Test {
        /// The destination: its kind as configured (`local`, `drive`,
        /// `s3`, `webdav`, `sftp`); the one of `[destination]` if left out.
        name: Option<String>,
    },
}

/// Runs `destination test`.
pub fn run(
    settings: &Settings,
    command: DestinationCommand,
    log: &Logger,
) -> Result<ExitCode, Failure> {
    let DestinationCommand::Test { name } = command;
    let kind = settings.destination.kind;
    let configured = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if let Some(name) = name.filter(|n| *n != configured) {
        return Err(Failure::Usage(format!(
            "there is no destination `{name}`: the configuration has one, [destination] with kind = \"{configured}\"; name it `{configured}` or leave the name out"
        )));
    }
    let destination = rig::destination(settings, None, log)?;
    println!("destination: {}", destination.describe());
    let probed = destination
        .probe(false)
        .and_then(|()| destination.probe(true));
    match probed {
        Ok(()) => {
            println!("  OK: reached; a test object was written, read back and deleted");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("  FAILED: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
