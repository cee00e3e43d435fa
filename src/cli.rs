//! The command line: subcommands, their arguments, and exit codes
//! (0 success, 2 bad configuration or usage, 1 runtime failure); each
//! subcommand's work is in [`crate::cmd`] or its own module.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::bench::{self, BenchArgs};
use crate::camera::{self, CameraCommand};
use crate::cmd::buttons::ButtonsCommand;
use crate::cmd::check::CheckArgs;
use crate::cmd::destination::DestinationCommand;
use crate::cmd::import::ImportArgs;
use crate::cmd::resume::ResumeArgs;
use crate::cmd::scan::ScanArgs;
use crate::cmd::uploads::UploadsCommand;
use crate::cmd::web::WebCommand;
use crate::cmd::{self, Failure};
use crate::drive;
use crate::drive::command::AuthCommand;
use crate::export::ExportArgs;
use crate::logging::logger;
use crate::motor::MotorCommand;
use crate::mqtt::fleet::{self, FleetArgs};
use crate::settings::{LoadOptions, LogLevel, Settings};

/// Controller for do-it-yourself photogrammetry rigs: turns the table, fires
/// the camera, and uploads every photo exactly once.
#[derive(Debug, Parser)]
#[command(name = "scanrig", version)]
pub struct Cli {
    /// Rig configuration file, read instead of /etc/scanrig/config.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one scan in the foreground and print a summary.
    Scan(ScanArgs),
    /// Continue an interrupted scan from its next uncaptured shot.
    Resume(ResumeArgs),
    /// Wait for the Start button and run scans (the service).
    Daemon,
    /// List the scan profiles and check each one.
    Profiles,
    /// Check the configuration and the daemon's profile; exit 2 if broken.
    CheckConfig,
    /// Before a scan: a photo judged at the profile's lowest and highest
    /// tilt (each camera of a column), what to change where; exit 1 if
    /// a pose has a problem.
    Check(CheckArgs),
    /// Find the camera, show its settings, take a test shot.
    #[command(subcommand)]
    Camera(CameraCommand),
    /// The scans in the spool: state, counts, where their photos go.
    Scans {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the photos waiting in the spool, by scan; `retry` uploads them now.
    Uploads {
        #[command(subcommand)]
        command: Option<UploadsCommand>,
    },
    /// Bring a wired camera's photos in from its card: matched to the
    /// scan's shots by their capture times, shown, then sent.
    Import(ImportArgs),
    /// Authorise Google Drive uploads, or show who is authorised.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Test the destination: write, read back and delete a small object.
    #[command(subcommand)]
    Destination(DestinationCommand),
    /// The daemon's web page: its access token and address.
    #[command(subcommand)]
    Web(WebCommand),
    /// Jog or home the motors.
    #[command(subcommand)]
    Motor(MotorCommand),
    /// Check the buttons.
    #[command(subcommand)]
    Buttons(ButtonsCommand),
    /// Set a light of the running daemon: on, off or a brightness in
    /// percent.
    Light {
        /// The light's name, as `[[lights]]` gives it.
        name: String,
        /// on, off, or a percent from 0 to 100.
        level: String,
    },
    /// Measure the pipeline on the simulated rig.
    Bench(BenchArgs),
    /// Write a scan's camera poses for COLMAP, Metashape, RealityCapture
    /// or scripts (JSON).
    Export(ExportArgs),
    /// Every rig on the MQTT broker: status, start several together,
    /// watch their events.
    Fleet(FleetArgs),
}

/// Parses the command line, runs the command, and maps the outcome to an
/// exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Failure::Config(e)) => {
            eprintln!("error: the configuration is not valid:\n{e}");
            ExitCode::from(2)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Loads the settings, sets up logging, and runs the subcommand.
fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let settings = Settings::load(&LoadOptions {
        config_file: cli.config,
        ..LoadOptions::default()
    })?;
    // A foreground scan in a terminal shows a progress bar: only warnings
    // and errors are logged beside it.
    let bar = matches!(
        cli.command,
        Command::Scan(ScanArgs { json: false, .. })
            | Command::Resume(ResumeArgs { json: false, .. })
    ) && std::io::stderr().is_terminal();
    // So does `scanrig fleet`, which prints what it found.
    let terse = bar || matches!(cli.command, Command::Fleet(_));
    let level = match settings.log.level {
        LogLevel::Info | LogLevel::Debug | LogLevel::Trace if terse => LogLevel::Warn,
        level => level,
    };
    let log = logger(level);
    let _libraries = crate::logging::with_libraries(&log, level);
    if matches!(
        cli.command,
        Command::Profiles
            | Command::CheckConfig
            | Command::Uploads { command: None }
            | Command::Scans { .. }
            | Command::Web(_)
    ) {
        quiet_on_closed_pipe();
    }
    match cli.command {
        Command::Scan(args) => cmd::scan::run(&settings, args, log),
        Command::Resume(args) => cmd::resume::run(&settings, args, log),
        Command::Daemon => cmd::daemon::run(settings, log),
        Command::Profiles => Ok(cmd::profiles::run(&settings)),
        Command::CheckConfig => cmd::check_config::run(&settings, &log),
        Command::Check(args) => cmd::check::run(&settings, args, log),
        Command::Camera(command) => done(camera::run(&settings, command)),
        Command::Scans { json } => cmd::scans::run(&settings, json),
        Command::Uploads { command } => cmd::uploads::run(&settings, command, log),
        Command::Import(args) => cmd::import::run(&settings, args, log),
        Command::Auth(command) => done(drive::command::run(&settings, command, &log)),
        Command::Destination(command) => cmd::destination::run(&settings, command, &log),
        Command::Web(command) => cmd::web::run(&settings, command),
        Command::Motor(command) => cmd::motor::run(&settings, command),
        Command::Buttons(command) => cmd::buttons::run(&settings, command),
        Command::Light { name, level } => cmd::light::run(&settings, &name, &level),
        Command::Bench(args) => done(bench::run(&settings, &args, log)),
        Command::Export(args) => cmd::export::run(&settings, &args),
        Command::Fleet(args) => Ok(passed(fleet::run(&settings, args, &log)?)),
    }
}

/// The exit code of a command that succeeds unless it returns an error.
fn done(result: anyhow::Result<()>) -> Result<ExitCode, Failure> {
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The exit code of a command that tells whether everything went well.
fn passed(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// For commands that only print: a reader that stops early (`scanrig
/// uploads | head`) ends the command quietly, as it does other Unix tools,
/// instead of a failed write to stdout. (Commands that talk to a network
/// keep Rust's default, under which a closed socket is an error, not a
/// signal.)
fn quiet_on_closed_pipe() {
    // SAFETY: restores the default disposition of one signal, before any
    // thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
