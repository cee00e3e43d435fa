//! `scanrig daemon`: check the daemon's profile, then hand over to [`crate::daemon`].

use std::path::Path;
use std::process::ExitCode;

use slog::Logger;

use super::Failure;
use crate::config_error::{ConfigErrors, Problem};
use crate::profile::Profile;
use crate::settings::Settings;

/// Runs the service (waits for the Start button and runs scans), once its
/// profile is known to be usable.
pub fn run(settings: Settings, log: Logger) -> Result<ExitCode, Failure> {
    profile(&settings)?;
    crate::daemon::run(settings, log)?;
    Ok(ExitCode::SUCCESS)
}

/// Finds and checks the daemon's profile. A profile that cannot be found is
/// blamed on the file or variable that set `daemon.profile`; problems
/// inside a profile file stay with that file.
pub(super) fn profile(settings: &Settings) -> Result<Profile, ConfigErrors> {
    let name = &settings.daemon.profile;
    let found = Profile::find(name, &settings.profiles.dirs);
    found.and_then(|p| p.for_rig(&settings.limits())).map_err(|mut e| {
        let origin = settings.origin("daemon.profile");
        if let [p] = e.problems.as_mut_slice() {
            if p.origin == *name && p.key == "profile" && !Path::new(name).is_file() {
                p.origin = origin;
                p.key = "daemon.profile".to_owned();
                return e;
            }
        }
        // A file that is there but is no usable profile: the problems are
        // the file's, and the setting that chose it is named first.
        let reason = format!(
            "{name} is not a usable scan profile (its problems follow); give a name from `scanrig profiles` or the path of a profile file"
        );
        e.problems
            .insert(0, Problem::new(origin, "daemon.profile", reason));
        e
    })
}
