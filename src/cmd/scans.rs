//! `scanrig scans`: the scans in the spool, and those it retired.

use std::process::ExitCode;

use super::Failure;
use crate::listing;
use crate::scans::SpoolState;
use crate::settings::Settings;

/// Prints the spool's scans and its history, as a table or as JSON.
pub fn run(settings: &Settings, json: bool) -> Result<ExitCode, Failure> {
    let spool = settings.spool_dir();
    let (state, history) = (SpoolState::read(&spool)?, SpoolState::history(&spool)?);
    listing::scans(&state, &history, &settings.retention(), json);
    Ok(ExitCode::SUCCESS)
}
