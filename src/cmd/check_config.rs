//! `scanrig check-config`: check the configuration and the daemon's profile.

use std::process::ExitCode;

use slog::Logger;

use super::Failure;
use crate::rig;
use crate::settings::Settings;

/// Prints what was read and where scans go, once the daemon's profile is
/// known to be usable (a broken one is a configuration failure, exit 2).
pub fn run(settings: &Settings, log: &Logger) -> Result<ExitCode, Failure> {
    super::daemon::profile(settings)?;
    println!("configuration OK");
    println!("  read: {}", settings.sources().join(", "));
    println!("  spool: {}", settings.spool_dir().display());
    println!(
        "  destination: {}",
        rig::destination(settings, None, log)?.describe()
    );
    println!("  daemon profile: {}", settings.daemon.profile);
    Ok(ExitCode::SUCCESS)
}
