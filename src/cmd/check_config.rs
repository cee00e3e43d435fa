//! `scanrig check-config`: check the configuration and the daemon's profile.

use std::process::ExitCode;

use slog::Logger;

use super::Failure;
use crate::config_error::{ConfigErrors, Problem};
use crate::profile::aim;
use crate::rig;
use crate::settings::Settings;

/// Prints what was read and where scans go, once the daemon's profile and
/// the webhook's secret file are known to be usable (a broken one is a
/// configuration failure, exit 2), and a warning when the rig's geometry
/// points the daemon profile's shots away from the object.
pub fn run(settings: &Settings, log: &Logger) -> Result<ExitCode, Failure> {
    let profile = super::daemon::profile(settings)?;
    if let Some(Err(e)) = settings.hooks.webhook_secret() {
        let key = "hooks.webhook_secret_file";
        let problem = Problem::new(settings.origin(key), key, e.to_string());
        return Err(ConfigErrors::single(problem).into());
    }
    println!("configuration OK");
    println!("  read: {}", settings.sources().join(", "));
    println!("  spool: {}", settings.spool_dir().display());
    println!(
        "  destination: {}",
        rig::destination(settings, None, log)?.describe()
    );
    println!("  daemon profile: {}", settings.daemon.profile);
    let name = &settings.daemon.profile;
    if let Some(warning) = aim::warning(&settings.geometry, name, &profile) {
        println!("{warning}");
    }
    Ok(ExitCode::SUCCESS)
}
