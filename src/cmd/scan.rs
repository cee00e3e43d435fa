//! `scanrig scan`: one scan in the foreground, then its summary.

use std::path::PathBuf;
use std::process::ExitCode;

use slog::Logger;

use super::Failure;
use crate::config_error::ConfigErrors;
use crate::hooks::HookRunner;
use crate::profile::Profile;
use crate::rig;
use crate::runner::{self, Report, Start};
use crate::scans::new_plan;
use crate::settings::Settings;

/// Options of `scanrig scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Profile name (see `scanrig profiles`) or a profile file;
    /// default: the daemon's profile from the configuration.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Put the photos in this folder instead of the configured destination.
    #[arg(long, value_name = "DIR", value_parser = super::folder())]
    pub dest: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs one scan with the chosen profile (or the daemon's) and prints its
/// summary; the exit code says how it went.
pub fn run(settings: &Settings, args: ScanArgs, log: Logger) -> Result<ExitCode, Failure> {
    let ScanArgs {
        profile,
        dest,
        json,
    } = args;
    let profile = self::profile(settings, profile.as_deref())?;
    let plan = new_plan(
        &profile,
        &settings.spool_dir(),
        &settings.settle_store(),
        settings.quality.auto_settle_safe_ms,
    )?;
    let start = Start::New(Box::new(plan));
    let hooks = HookRunner::new(&settings.spool_dir(), &settings.hooks, &log)?;
    let report = runner::run(rig::build(settings, dest, &log)?, start, !json, hooks, log)?;
    Ok(print_report(&report, json, &profile.origin()))
}

/// The profile named (a name from `scanrig profiles` or a file), or the
/// daemon's, checked for this rig; also `scanrig check`'s.
pub(super) fn profile(settings: &Settings, name: Option<&str>) -> Result<Profile, ConfigErrors> {
    match name {
        Some(name) => Profile::find(name, &settings.profiles.dirs)?.for_rig(&settings.limits()),
        None => super::daemon::profile(settings),
    }
}

/// Prints a foreground scan's summary (as JSON, or as lines for a person)
/// and gives the exit code it calls for; also `scanrig resume`'s.
/// `profile` names where the scan's profile came from.
pub(super) fn print_report(report: &Report, json: bool, profile: &str) -> ExitCode {
    let s = &report.summary;
    if json {
        let mut value = serde_json::to_value(s).expect("a summary always serialises");
        value["peak_rss_kib"] = serde_json::json!(report.peak_rss_kib);
        println!("{value}");
    } else {
        let state = match (&s.outcome, &s.paused, report.interrupted) {
            (Some(o), _, _) => format!("{o:?}").to_lowercase(),
            (None, Some(why), _) => format!("paused: {why}"),
            (None, None, _) => "interrupted".to_owned(),
        };
        println!("scan {}: {state}", s.scan);
        println!(
            "  shots: {} planned, {} captured, {} uploaded, {} upload failures",
            s.planned, s.captured, s.uploaded, s.upload_failed
        );
        println!("  photos: {}", s.destination);
        let t = &s.stages;
        println!(
            "  time: {:.1} s wall; moving {:.1} s, settling {:.1} s, exposing {:.1} s, downloading {:.1} s, uploading {:.1} s",
            s.wall.as_secs_f64(),
            t.moving.as_secs_f64(),
            t.settling.as_secs_f64(),
            t.exposing.as_secs_f64(),
            t.downloading.as_secs_f64(),
            t.uploading.as_secs_f64()
        );
        if let Some(kib) = report.peak_rss_kib {
            println!("  memory: {:.1} MB at most", kib as f64 / 1024.0);
        }
        if s.outcome.is_none() {
            println!("  continue it with: scanrig resume --scan {}", s.scan);
        }
    }
    if let Some(why) = &report.refused {
        eprintln!("error: {profile}: the profile asks for what the rig cannot do, so nothing moved: {why}; change the profile (`scanrig camera config` lists the camera's settings and their values)");
        return ExitCode::from(2);
    }
    if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
