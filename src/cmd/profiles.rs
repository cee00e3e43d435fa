//! `scanrig profiles`: list the scan profiles and check each one.

use std::process::ExitCode;

use crate::profile::{aim, Profile};
use crate::settings::Settings;

/// Prints one line per profile (or its problems), and a warning under a
/// profile whose shots the rig's geometry points away from the object;
/// exit 2 if any is broken.
pub fn run(settings: &Settings) -> ExitCode {
    let mut broken = false;
    let limits = settings.limits();
    for (name, source, profile) in Profile::list(&settings.profiles.dirs) {
        let profile = profile.and_then(|p| p.for_rig(&limits));
        match profile {
            Ok(p) => {
                println!(
                    "{name:<16} {:>4} shots  {}  ({source})",
                    p.shots().len(),
                    p.description
                );
                if let Some(warning) = aim::warning(&settings.geometry, &name, &p) {
                    println!("  {warning}");
                }
            }
            Err(e) => {
                broken = true;
                println!("{name:<16} BROKEN ({source}):\n{e}");
            }
        }
    }
    if broken {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
