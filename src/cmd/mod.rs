//! One module per subcommand whose work is the app's own; [`crate::cli`]
//! parses the command line and dispatches each subcommand in one line, here
//! or straight to the module that already does its work.
//!
//! - `scan`: [`scan`] (`cmd/scan.rs`), one scan in the foreground, then its summary.
//! - `resume`: [`resume`] (`cmd/resume.rs`), an interrupted scan continued, or moved.
//! - `daemon`: [`daemon`] (`cmd/daemon.rs`), the daemon's profile checked, then
//!   [`crate::daemon`] run.
//! - `profiles`: [`profiles`] (`cmd/profiles.rs`), every scan profile listed and checked.
//! - `check-config`: [`check_config`] (`cmd/check_config.rs`), the configuration checked.
//! - `check`: [`check`] (`cmd/check.rs`), the setup check of a profile, run
//!   by [`crate::check`] on the manual actor, its verdicts printed.
//! - `camera`: [`crate::camera`] (`camera.rs`), called directly.
//! - `scans`: [`scans`] (`cmd/scans.rs`), the spool's scans and its history.
//! - `uploads`: [`uploads`] (`cmd/uploads.rs`), the waiting photos; `retry` sends them.
//! - `destination test`: [`destination`] (`cmd/destination.rs`), the
//!   destination written, read back and cleaned, what is wrong in words.
//! - `import`: [`import`] (`cmd/import.rs`), a wired camera's card matched
//!   to its scan's shots by [`crate::import`], confirmed, imported and sent.
//! - `auth`: [`crate::drive::command`] (`drive/command.rs`), called directly.
//! - `web token`: [`web`] (`cmd/web.rs`), the web page's token and address.
//! - `motor`: [`motor`] (`cmd/motor.rs`), [`crate::motor`] run, impossible moves as bad input.
//! - `buttons test`: [`buttons`] (`cmd/buttons.rs`), presses printed as they happen.
//! - `light`: [`light`] (`cmd/light.rs`), a light of the running daemon set
//!   through its REST API.
//! - `bench`: [`crate::bench`] (`bench/`), called directly.
//! - `export`: [`export`] (`cmd/export.rs`), [`crate::export`] run, and where the files went.
//! - `fleet`: [`crate::mqtt::fleet`] (`mqtt/fleet.rs`), called directly.

use std::path::PathBuf;

use crate::config_error::ConfigErrors;

pub mod buttons;
pub mod check;
pub mod check_config;
pub mod daemon;
pub mod destination;
pub mod export;
pub mod import;
pub mod light;
pub mod motor;
pub mod profiles;
pub mod resume;
pub mod scan;
pub mod scans;
pub mod uploads;
pub mod web;

/// Why a command failed.
pub enum Failure {
    /// The configuration is not valid (exit 2).
    Config(ConfigErrors),
    /// The command asks for something that cannot be (exit 2).
    Usage(String),
    /// The command failed while it ran (exit 1).
    Runtime(anyhow::Error),
}

impl From<ConfigErrors> for Failure {
    fn from(e: ConfigErrors) -> Failure {
        Failure::Config(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Runtime(e)
    }
}

/// A folder given on the command line (`--dest`): UTF-8, with no control
/// character, which would end up raw in the journal, the logs and the
/// terminal.
pub fn folder() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser;
    clap::builder::OsStringValueParser::new().try_map(|arg: std::ffi::OsString| match arg.into_string() {
        Ok(arg) => folder_name(&arg),
        Err(_) => Err(
            "the folder name is not valid UTF-8, which the journal and the destinations need; rename the folder"
                .to_owned(),
        ),
    })
}

fn folder_name(arg: &str) -> Result<PathBuf, String> {
    match arg.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "the folder name holds the control character {:?}; give a folder name without one",
            c
        )),
        None if arg.is_empty() => Err("the folder name is empty; give a folder".into()),
        None => Ok(PathBuf::from(arg)),
    }
}
