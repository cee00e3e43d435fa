//! The `scanrig` program: command line, configuration, and the wiring of the
//! actors to the devices the configuration names.
//!
//! # Layout
//! - [`cli`]: the command line (clap) and exit codes; it parses, then
//!   dispatches each subcommand in one line.
//! - [`cmd`]: one module per subcommand whose work is the app's own
//!   (`scan`, `resume`, `profiles`, `check-config`, `scans`, `uploads`,
//!   `web token`, ...); its map names where every subcommand goes.
//! - [`settings`], [`profile`], [`config_error`]: the rig configuration and
//!   scan profiles, layered and validated.
//! - [`rig`]: builds the devices and destination from the settings.
//! - [`scans`]: journals in the spool at start-up; new scan plans.
//! - [`listing`]: `scanrig scans` and `scanrig uploads`.
//! - [`session`]: one run of the actors, and when it ends ([`session::Shutdown`]).
//! - [`runner`]: one scan in the foreground; [`keyboard`] steers it.
//! - [`daemon`]: waits for buttons and runs scans; [`notify`] speaks
//!   systemd's notification protocol (ready, status, watchdog).
//! - [`camera`]: `scanrig camera` (list, settings, test shot).
//! - [`check`]: the setup check before a scan, for `scanrig check` and the
//!   web API.
//! - [`motor`]: `scanrig motor` (jog, home) and `scanrig buttons test`.
//! - [`drive`]: Google Drive as a destination (sign-in, resumable uploads).
//! - [`s3`]: an S3-compatible bucket as a destination (conditional
//!   creates, multipart uploads kept in the spool).
//! - [`webdav`]: a WebDAV server (Nextcloud, a NAS) as a destination.
//! - [`kept`]: a destination's id kept in the spool beside what it is for.
//! - [`sftp`]: a folder on an SFTP server as a destination.
//! - [`remote`]: what a remote client may ask of the rig (start, pause,
//!   resume, stop, home, a profile by name) and its status as JSON, shared
//!   by the REST API and MQTT, with typed refusals each maps to its answers.
//! - [`secret`]: secrets kept in files (the MQTT password, the webhook's
//!   key), refused when others can read them.
//! - [`http`]: the HTTP connector and error chains of Drive and the webhook.
//! - [`web`]: the daemon's web page and REST API.
//! - [`mqtt`]: the rig on a studio's MQTT broker, and `scanrig fleet`.
//! - [`import`]: `scanrig import`, a wired camera's photos matched to
//!   the shots by their EXIF capture times and brought into the spool.
//! - [`export`]: `scanrig export`, a scan's camera poses for
//!   reconstruction tools.
//! - [`bench`]: the pipeline benchmark.
//! - [`logging`]: slog to stderr.

#![warn(missing_docs, unreachable_pub)]

pub mod bench;
pub mod camera;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod config_error;
pub mod daemon;
pub mod drive;
pub mod export;
pub mod hooks;
pub mod http;
pub mod import;
pub mod kept;
pub mod keyboard;
pub mod listing;
pub mod logging;
pub mod motor;
pub mod mqtt;
pub mod notify;
pub mod profile;
pub mod remote;
pub mod rig;
pub mod runner;
pub mod s3;
pub mod scans;
pub mod secret;
pub mod session;
pub mod settings;
pub mod sftp;
pub mod web;
pub mod webdav;
