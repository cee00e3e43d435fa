//! `scanrig destination test [NAME]`: the destination reached, a small object written, read back and deleted, and what is wrong said in words.

use std::process::ExitCode;

use clap::Subcommand;
use slog::Logger;

use super::Failure;
use crate::rig;
use crate::settings::{self, Settings};

/// `scanrig destination …`.
#[derive(Debug, Subcommand)]
pub enum DestinationCommand {
    /// Write, read back and delete a small object at the destination (at
    /// each one), and say what is wrong if that fails (exit 1).
    Test {
        /// The destination: its name in `[[destinations]]`, or the kind
        /// of `[destination]` (`local`, `drive`, `s3`, `webdav`, `sftp`);
        /// every one configured if left out.
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
    let chosen = chosen(settings, name)?;
    let mut failed = false;
    for (name, d) in chosen {
        let destination = rig::configured_destination(settings, d, log)?;
        match name {
            Some(name) => println!("destination {name}: {}", destination.describe()),
            None => println!("destination: {}", destination.describe()),
        }
        let probed = destination
            .probe(false)
            .and_then(|()| destination.probe(true));
        match probed {
            Ok(()) => println!("  OK: reached; a test object was written, read back and deleted"),
            Err(e) => {
                println!("  FAILED: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The destinations to test: the one named, or every one configured.
fn chosen(
    settings: &Settings,
    name: Option<String>,
) -> Result<Vec<(Option<&str>, &settings::Destination)>, Failure> {
    let all = settings::configured(settings);
    let Some(name) = name else {
        return Ok(all);
    };
    if settings.destinations.is_empty() {
        let configured = serde_json::to_value(settings.destination.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if name != configured {
            return Err(Failure::Usage(format!(
                "there is no destination `{name}`: the configuration has one, [destination] with kind = \"{configured}\"; name it `{configured}` or leave the name out"
            )));
        }
        return Ok(all);
    }
    let names: Vec<&str> = all.iter().filter_map(|(n, _)| *n).collect();
    let found: Vec<_> = all
        .iter()
        .filter(|(n, _)| *n == Some(name.as_str()))
        .copied()
        .collect();
    if found.is_empty() {
        return Err(Failure::Usage(format!(
            "there is no destination `{name}`: [[destinations]] names {}; give one of those, or leave the name out to test them all",
            names.join(", ")
        )));
    }
    Ok(found)
}
