//! `scanrig auth drive` and `scanrig auth status`.

use clap::Subcommand;
use slog::Logger;

use super::auth::{AuthConfig, SCOPE};
use crate::rig;
use crate::settings::{DestinationKind, DriveAuth, Settings};

/// What to do about the Google Drive authorisation.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Authorise scanrig to upload to Google Drive: shows a web address and
    /// a code to enter on a phone or computer, then keeps the tokens.
    Drive,
    /// Tell who scanrig is authorised as, and with which scope.
    Status,
}

/// Runs `scanrig auth ...`.
pub fn run(settings: &Settings, command: AuthCommand, log: &Logger) -> anyhow::Result<()> {
    let drive = &settings.destination.drive;
    let config = AuthConfig::new(drive, settings.drive_token_file());
    if settings.destination.kind != DestinationKind::Drive {
        eprintln!(
            "note: destination.kind is not \"drive\"; set it to upload the photos to Google Drive"
        );
    }
    if let AuthCommand::Drive = command {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(config.authorise())?;
    } else if drive.auth == DriveAuth::Oauth && !config.token_file.exists() {
        anyhow::bail!(
            "scanrig is not authorised for Google Drive yet ({} does not exist); run `scanrig auth drive`",
            config.token_file.display()
        );
    }
    let who = rig::drive_destination(settings, log)?
        .whoami()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("authorised as {who}");
    println!("  {}", config.describe());
    println!("  scope: {SCOPE} (only files and folders scanrig made)");
    Ok(())
}
