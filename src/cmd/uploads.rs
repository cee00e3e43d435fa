//! `scanrig uploads`: the photos waiting in the spool; `retry` sends them now.

use std::process::ExitCode;

use slog::Logger;

use super::Failure;
use crate::scans::SpoolState;
use crate::settings::Settings;
use crate::{listing, rig, runner};
use scanrig_actors::model::ScanId;

/// What to do with the photos in the spool.
#[derive(Debug, clap::Subcommand)]
pub enum UploadsCommand {
    /// Upload every photo still waiting (in the foreground, until done).
    Retry,
}

/// Lists the waiting photos, or with `retry` uploads them.
pub fn run(
    settings: &Settings,
    command: Option<UploadsCommand>,
    log: Logger,
) -> Result<ExitCode, Failure> {
    match command {
        None => {
            let state = SpoolState::read(&settings.spool_dir())?;
            listing::uploads(&state);
            Ok(ExitCode::SUCCESS)
        }
        Some(UploadsCommand::Retry) => retry(settings, log),
    }
}

/// Uploads every photo still waiting; exit 1 if some are left or lost.
fn retry(settings: &Settings, log: Logger) -> Result<ExitCode, Failure> {
    let spool = settings.spool_dir();
    let before: Vec<ScanId> = SpoolState::read(&spool)?
        .scans
        .iter()
        .map(|s| s.id().clone())
        .collect();
    let sent = runner::upload_pending(rig::build(settings, None, &log)?, log)?;
    let state = SpoolState::read(&spool)?;
    let left: usize = state.scans.iter().map(|s| s.pending_uploads().len()).sum();
    // Photos that can never be sent, of the scans still in the
    // spool and of those this pass retired.
    let history = SpoolState::history(&spool)?;
    let retired = history.scans.iter().filter(|s| before.contains(&s.id));
    let lost: usize = state.scans.iter().map(|s| s.damaged.len()).sum::<usize>()
        + retired.map(|s| s.missing).sum::<usize>();
    println!("uploaded {sent} photos; {left} still waiting");
    if lost > 0 {
        println!(
            "{lost} photos are damaged in the spool and cannot be sent (see `scanrig uploads`)"
        );
    }
    Ok(if left == 0 && lost == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
