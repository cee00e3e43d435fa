//! `scanrig check`: the setup check before a scan, on the rig a scan
//! would use (the spool taken as a scan takes it); each pose's verdict
//! printed, the exit code 1 when one has a problem.

use std::path::Path;
use std::process::ExitCode;

use actix::prelude::*;
use scanrig_actors::manual::check::{CheckReport, PoseCheck};
use scanrig_actors::supervisor::{Manual, StopMotors};
use slog::Logger;

use super::Failure;
use crate::check;
use crate::rig;
use crate::scans::SpoolLock;
use crate::session::{Input, Session, Signal};
use crate::settings::Settings;

/// Options of `scanrig check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Profile name (see `scanrig profiles`) or a profile file;
    /// default: the daemon's profile from the configuration.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Checks the set-up for the chosen profile and prints what it found.
/// Ctrl-C stops the motors (SIGTERM at once), which ends the check.
pub fn run(settings: &Settings, args: CheckArgs, log: Logger) -> Result<ExitCode, Failure> {
    if let Some(why) = check::refused(settings) {
        return Err(Failure::Usage(why));
    }
    let profile = super::scan::profile(settings, args.profile.as_deref())?;
    let spool = settings.spool_dir();
    let _lock = SpoolLock::take(&spool)?;
    let check = check::request(settings, &profile, "the command line".to_owned());
    let dir = check.dir.clone();
    // The check uploads nothing: its own folder stands in for the
    // destination, so that one not set up yet does not stop it.
    let rig = rig::build(settings, Some(dir.clone()), &log)?;
    let report = System::new().block_on(async move {
        let mut session = Session::start(rig, Vec::new(), log).await?;
        let manual = session.sup.send(Manual).await?;
        let checking = manual.send(check);
        tokio::pin!(checking);
        let report = loop {
            tokio::select! {
                report = &mut checking => break report,
                input = session.next(None) => if let Input::Signal(s @ (Signal::Interrupt | Signal::Terminate)) = input {
                    session.sup.do_send(StopMotors { emergency: s == Signal::Terminate });
                },
            }
        };
        session.end();
        Ok::<_, anyhow::Error>(report?)
    })?;
    // Said once: the error's own words already hold its cause's.
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    check::keep(settings, &report).map_err(|e| {
        anyhow::anyhow!(
            "cannot keep the settle time learned in {}: {e}",
            settings.settle_store().path().display()
        )
    })?;
    if args.json {
        println!("{}", check::report_json(&report));
    } else {
        print(&report, &dir);
    }
    Ok(if report.is_good() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The report, for a person.
fn print(report: &CheckReport, dir: &Path) {
    println!(
        "check of profile {} (its photos in {}):",
        report.profile,
        dir.display()
    );
    if let Some(learned) = &report.settle {
        println!("  {}", check::learned_text(learned));
    }
    for pose in &report.poses {
        if pose.is_good() {
            println!("  {}: good{}", place(pose), measures(pose));
        }
        for advice in &pose.advice {
            println!("  {advice}");
        }
    }
    let (azimuth, tilt) = report.returned_to;
    match report.homed {
        false => {
            println!("the rig is back where it stood: azimuth {azimuth:.1}°, tilt {tilt:+.1}°")
        }
        true => println!(
            "an axis had not been homed: the check homed it; the rig is back at azimuth {azimuth:.1}°, tilt {tilt:+.1}°"
        ),
    }
    if let Some(tilts) = tilts(&report.unchecked_tilts) {
        println!(
            "not checked: tilt {tilts} (the rig has no tilt motor: only the tilt a scan begins at was checked; set the arm to another tilt and check a profile that begins there)"
        );
    }
    if !report.is_good() {
        println!("change what is said above, then check again");
    }
}

/// Tilts in words (`+20°, +45°`); `None` for none.
fn tilts(tilts: &[f64]) -> Option<String> {
    let said: Vec<String> = tilts.iter().map(|t| format!("{t:+.0}°")).collect();
    (!said.is_empty()).then(|| said.join(", "))
}

/// Where a pose is, in words.
fn place(pose: &PoseCheck) -> String {
    let p = &pose.pose;
    let camera = match &p.camera {
        Some(c) => format!(", camera {c}"),
        None => String::new(),
    };
    format!(
        "at tilt {:+.0}°{camera} (azimuth {:.0}°)",
        p.tilt, p.azimuth
    )
}

/// What was measured at a good pose.
fn measures(pose: &PoseCheck) -> String {
    match &pose.judgement {
        Some(j) => format!(
            ": sharpness {:.0}, {:.0} % blown out, {:.0} % black, the object fills {:.0} % of the frame",
            j.sharpness.object,
            100.0 * j.exposure.clipped,
            100.0 * j.exposure.crushed,
            100.0 * j.framing.fill
        ),
        None => String::new(),
    }
}
