//! The command line: subcommands, their arguments, and exit codes
//! (0 success, 2 bad configuration or usage, 1 runtime failure).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::bench::{self, BenchArgs};
use crate::camera::{self, CameraCommand};
use crate::config_error::{ConfigErrors, Problem};
use crate::drive::command::AuthCommand;
use crate::export::{self, ExportArgs};
use crate::hooks::HookRunner;
use crate::logging::logger;
use crate::motor::{self, MotorCommand};
use crate::mqtt::fleet::{self, FleetArgs};
use crate::profile::Profile;
use crate::runner::{self, Report, Start};
use crate::scans::{new_plan, SpoolState};
use crate::settings::{LoadOptions, LogLevel, Settings};
use crate::{daemon, drive, listing, rig};
use scanrig_actors::journal::ScanRecord;
use scanrig_actors::model::{Place, ScanId};
use scanrig_hardware::axis::AxisError;

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
    Scan {
        /// Profile name (see `scanrig profiles`) or a profile file;
        /// default: the daemon's profile from the configuration.
        #[arg(long, short)]
        profile: Option<String>,
        /// Put the photos in this folder instead of the configured destination.
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Continue an interrupted scan from its next uncaptured shot.
    Resume {
        /// The scan id (default: the latest interrupted scan).
        #[arg(long)]
        scan: Option<String>,
        /// The folder the scan goes to; it must be the one the scan
        /// started with, unless --move-dest is given too.
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Move the scan to --dest: the photos already sent are copied
        /// there from the spool or from the old folder (which keeps them).
        #[arg(long, requires = "dest")]
        move_dest: bool,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Wait for the Start button and run scans (the service).
    Daemon,
    /// List the scan profiles and check each one.
    Profiles,
    /// Check the configuration and the daemon's profile; exit 2 if broken.
    CheckConfig,
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
    /// Authorise Google Drive uploads, or show who is authorised.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// The daemon's web page: its access token and address.
    #[command(subcommand)]
    Web(WebCommand),
    /// Jog or home the motors.
    #[command(subcommand)]
    Motor(MotorCommand),
    /// Check the buttons.
    #[command(subcommand)]
    Buttons(ButtonsCommand),
    /// Measure the pipeline on the simulated rig.
    Bench(BenchArgs),
    /// Write a scan's camera poses for COLMAP, Metashape, RealityCapture
    /// or scripts (JSON).
    Export(ExportArgs),
    /// Every rig on the MQTT broker: status, start several together,
    /// watch their events.
    Fleet(FleetArgs),
}

/// What to do with the photos in the spool.
#[derive(Debug, Subcommand)]
enum UploadsCommand {
    /// Upload every photo still waiting (in the foreground, until done).
    Retry,
}

/// What to tell about the web page.
#[derive(Debug, Subcommand)]
enum WebCommand {
    /// Print the access token and the address to open on a phone (making
    /// the token if there is none yet).
    Token,
}

/// What to do with the buttons.
#[derive(Debug, Subcommand)]
enum ButtonsCommand {
    /// Print presses as they happen, until Ctrl-C.
    Test,
}

/// Why a command failed.
enum Failure {
    Config(ConfigErrors),
    /// The command asks for something that cannot be (exit 2).
    Usage(String),
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

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let settings = Settings::load(&LoadOptions {
        config_file: cli.config,
        ..LoadOptions::default()
    })?;
    // A foreground scan in a terminal shows a progress bar: only warnings
    // and errors are logged beside it.
    let bar = matches!(
        cli.command,
        Command::Scan { json: false, .. } | Command::Resume { json: false, .. }
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
        Command::Scan {
            profile,
            dest,
            json,
        } => {
            let profile = match profile {
                Some(name) => {
                    Profile::find(&name, &settings.profiles.dirs)?.for_rig(&settings.limits())?
                }
                None => daemon_profile(&settings)?,
            };
            let start = Start::New(Box::new(new_plan(&profile, &settings.spool_dir())?));
            let hooks = HookRunner::new(&settings.spool_dir(), &settings.hooks, &log)?;
            let report = runner::run(rig::build(&settings, dest, &log)?, start, !json, hooks, log)?;
            Ok(print_report(&report, json))
        }
        Command::Resume {
            scan,
            dest,
            move_dest,
            json,
        } => {
            let state = SpoolState::read(&settings.spool_dir())?;
            let Some(record) = state.resumable(scan.as_deref()) else {
                return Err(Failure::Runtime(anyhow::anyhow!(
                    "no interrupted scan{} in {}; start one with `scanrig scan`",
                    scan.map(|s| format!(" named {s}")).unwrap_or_default(),
                    settings.spool_dir().display()
                )));
            };
            let given = dest.is_some();
            let rig = rig::build(&settings, dest, &log)?;
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
            let hooks = HookRunner::new(&settings.spool_dir(), &settings.hooks, &log)?;
            let report = runner::run(rig, start, !json, hooks, log)?;
            Ok(print_report(&report, json))
        }
        Command::Daemon => {
            daemon_profile(&settings)?;
            daemon::run(settings, log)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Profiles => Ok(list_profiles(&settings)),
        Command::CheckConfig => {
            daemon_profile(&settings)?;
            println!("configuration OK");
            println!("  read: {}", settings.sources().join(", "));
            println!("  spool: {}", settings.spool_dir().display());
            println!(
                "  destination: {}",
                rig::destination(&settings, None, &log)?.describe()
            );
            println!("  daemon profile: {}", settings.daemon.profile);
            Ok(ExitCode::SUCCESS)
        }
        Command::Uploads { command: None } => {
            let state = SpoolState::read(&settings.spool_dir())?;
            listing::uploads(&state);
            Ok(ExitCode::SUCCESS)
        }
        Command::Scans { json } => {
            let spool = settings.spool_dir();
            let (state, history) = (SpoolState::read(&spool)?, SpoolState::history(&spool)?);
            listing::scans(&state, &history, &settings.retention(), json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Uploads {
            command: Some(UploadsCommand::Retry),
        } => {
            let spool = settings.spool_dir();
            let before: Vec<ScanId> = SpoolState::read(&spool)?
                .scans
                .iter()
                .map(|s| s.id().clone())
                .collect();
            let sent = runner::upload_pending(rig::build(&settings, None, &log)?, log)?;
            let state = SpoolState::read(&spool)?;
            let left: usize = state.scans.iter().map(|s| s.pending_uploads().len()).sum();
            // Photos that can never be sent, of the scans still in the
            // spool and of those this pass retired.
            let history = SpoolState::history(&spool)?;
            let retired = history.scans.iter().filter(|s| before.contains(&s.id));
            let lost: usize = state.scans.iter().map(|s| s.damaged.len()).sum::<usize>()
                + retired.map(|s| s.missing).sum::<usize>();
            println!("uploaded {sent} photos; {left} still waiting");
            if lost > 0 {
                println!("{lost} photos are damaged in the spool and cannot be sent (see `scanrig uploads`)");
            }
            Ok(if left == 0 && lost == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Auth(command) => {
            drive::command::run(&settings, command, &log)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Web(WebCommand::Token) => {
            web_token(&settings)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Motor(command) => match motor::motor(&settings, command) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            // A move past a limit, or of an axis the rig lacks, is bad input.
            Err(e)
                if e.downcast_ref::<AxisError>()
                    .is_some_and(AxisError::is_fatal) =>
            {
                Err(Failure::Usage(e.to_string()))
            }
            Err(e) => Err(e.into()),
        },
        Command::Buttons(ButtonsCommand::Test) => {
            motor::buttons_test(&settings)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Camera(command) => {
            camera::run(&settings, command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            bench::run(&settings, &args, log)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fleet(args) => Ok(if fleet::run(&settings, args, &log)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }),
        Command::Export(args) => {
            let written = export::run(&settings, &args)?;
            println!(
                "wrote {} files, in {}",
                written.len(),
                common_folder(&written)
            );
            Ok(ExitCode::SUCCESS)
        }
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

/// Finds and checks the daemon's profile. A profile that cannot be found is
/// blamed on the file or variable that set `daemon.profile`; problems
/// inside a profile file stay with that file.
fn daemon_profile(settings: &Settings) -> Result<Profile, ConfigErrors> {
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

/// Refuses to move a scan whose photos already sent are neither in the
/// spool nor in a folder they can be copied from.
fn check_movable(record: &ScanRecord, spool: &Path) -> Result<(), Failure> {
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

fn web_token(settings: &Settings) -> anyhow::Result<()> {
    let listen = &settings.web.listen;
    if listen.is_empty() {
        anyhow::bail!("the web page is off (web.listen is empty); set web.listen = \"0.0.0.0:8080\" to turn it on");
    }
    let token = crate::web::token(settings)?;
    let addr: std::net::SocketAddr = listen.parse()?;
    println!("{token}");
    if addr.ip().is_loopback() {
        println!(
            "the web page listens on {addr}, reachable from this machine only, and needs no token there; \
             to open it on a phone set web.listen = \"0.0.0.0:{}\"",
            addr.port()
        );
    } else {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "this-machine".into());
        println!("open http://{host}:{}/?token={token}", addr.port());
    }
    Ok(())
}

fn list_profiles(settings: &Settings) -> ExitCode {
    let mut broken = false;
    let limits = settings.limits();
    for (name, source, profile) in Profile::list(&settings.profiles.dirs) {
        let profile = profile.and_then(|p| p.for_rig(&limits));
        match profile {
            Ok(p) => println!(
                "{name:<16} {:>4} shots  {}  ({source})",
                p.shots().len(),
                p.description
            ),
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

fn print_report(report: &Report, json: bool) -> ExitCode {
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
        eprintln!("error: the profile asks for what the rig cannot do, so nothing moved: {why}; change the profile (`scanrig camera config` lists the camera's settings and their values)");
        return ExitCode::from(2);
    }
    if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The folder the written files share (their first one's, for one file).
fn common_folder(paths: &[PathBuf]) -> String {
    let Some(first) = paths.first() else {
        return String::new();
    };
    let mut common = first.parent().unwrap_or(first).to_path_buf();
    while !paths.iter().all(|p| p.starts_with(&common)) && common.pop() {}
    common.display().to_string()
}
