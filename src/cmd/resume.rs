//! `scanrig resume`: continue an interrupted scan, possibly in a new folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use slog::Logger;

use super::Failure;
use crate::hooks::HookRunner;
use crate::rig;
use crate::runner::{self, Start};
use crate::scans::SpoolState;
use crate::settings::Settings;
use scanrig_actors::journal::ScanRecord;
use scanrig_actors::model::Place;

/// Options of `scanrig resume`.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The scan id (default: the latest interrupted scan).
    #[arg(long)]
    pub scan: Option<String>,
    /// The folder the scan goes to; it must be the one the scan
    /// started with, unless --move-dest is given too.
    #[arg(long, value_name = "DIR", value_parser = super::folder())]
    pub dest: Option<PathBuf>,
    /// Move the scan to --dest: the photos already sent are copied
    /// there from the spool or from the old folder (which keeps them).
    #[arg(long, requires = "dest")]
    pub move_dest: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Continues the chosen (or latest) interrupted scan from its next
/// uncaptured shot and prints its summary, as `scanrig scan` does.
pub fn run(settings: &Settings, args: ResumeArgs, log: Logger) -> Result<ExitCode, Failure> {
    let ResumeArgs {
        scan,
        dest,
        move_dest,
        json,
    } = args;
    let state = SpoolState::read(&settings.spool_dir())?;
    let Some(record) = state.resumable(scan.as_deref()) else {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "no interrupted scan{} in {}; start one with `scanrig scan`",
            scan.map(|s| format!(" named {s}")).unwrap_or_default(),
            settings.spool_dir().display()
        )));
    };
    let given = dest.is_some();
    let rig = rig::build(settings, dest, &log)?;
    let here = rig.destinations.default().place();
    let move_to = match &record.plan.destination {
        Some(there) if given && *there != here => {
            if !move_dest {
                return Err(Failure::Usage(format!(
                    "scan {} goes to {there}, where it started, not to {here}; resume it without --dest, or add --move-dest to move it there",
                    record.id()
                )));
            }
            check_movable(record, &settings.spool_dir())?;
            Some(here)
        }
        _ => None,
    };
    let start = Start::Resume {
        record: Box::new(record.clone()),
        move_to,
    };
    let profile = format!("profile {}", record.plan.profile);
    let hooks = HookRunner::new(&settings.spool_dir(), &settings.hooks, &log)?;
    let report = runner::run(rig, start, !json, hooks, log)?;
    Ok(super::scan::print_report(&report, json, &profile))
}

/// Refuses to move a scan sent to several destinations, or one whose
/// photos already sent are neither in the spool nor in a folder they can
/// be copied from.
fn check_movable(record: &ScanRecord, spool: &Path) -> Result<(), Failure> {
    let several: Vec<&str> = record
        .plan
        .destinations
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    if !several.is_empty() {
        return Err(Failure::Usage(format!(
            "scan {} goes to several destinations ({}) and cannot be moved; resume it without --dest to finish it where it started",
            record.id(),
            several.join(", ")
        )));
    }
    let dir = spool.join(record.id().as_str());
    let folder = match &record.plan.destination {
        Some(Place::Local { dir }) => Some(dir.join(record.id().as_str())),
        _ => None,
    };
    let readable = |name: &str| {
        dir.join(name).is_file() || folder.as_ref().is_some_and(|f| f.join(name).is_file())
    };
    let lost = record
        .uploaded
        .keys()
        .filter_map(|shot| record.captured.get(shot))
        .filter(|(_, files)| !files.iter().all(|f| readable(&f.name)))
        .count();
    if lost == 0 {
        return Ok(());
    }
    let there = record
        .plan
        .destination
        .as_ref()
        .map_or("its destination".to_owned(), Place::to_string);
    Err(Failure::Usage(format!(
        "scan {} cannot be moved: {lost} photos already at {there} are no longer in the spool and cannot be copied from there; resume it without --dest to finish it where it started",
        record.id()
    )))
}
