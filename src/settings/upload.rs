//! `[destination]` and `[upload]`: where every photo is uploaded to, and
//! the upload workers and their retries.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Drive, Sftp, Webdav, S3};

/// Where photos are uploaded to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// A folder on this machine, `[destination.local]`.
    #[default]
    Local,
    /// Google Drive, `[destination.drive]`.
    Drive,
    /// An S3-compatible bucket, `[destination.s3]`.
    S3,
    /// A WebDAV server (Nextcloud, a NAS), `[destination.webdav]`.
    Webdav,
    /// An SFTP server, `[destination.sftp]`.
    Sftp,
}

/// `[destination]`: where every photo ends up, chosen by `kind`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Destination {
    /// Its name, in `[[destinations]]` (unused in `[destination]`).
    pub name: String,
    /// Which destination.
    pub kind: DestinationKind,
    /// The local folder's settings.
    pub local: LocalDestination,
    /// Google Drive's settings.
    pub drive: Drive,
    /// An S3-compatible bucket's settings.
    pub s3: S3,
    /// The WebDAV server's settings.
    pub webdav: Webdav,
    /// The SFTP server's settings.
    pub sftp: Sftp,
}

/// `[destination.local]`: a folder on this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalDestination {
    /// The folder, relative to the working directory unless absolute.
    pub dir: PathBuf,
}

impl Default for LocalDestination {
    fn default() -> Self {
        LocalDestination {
            dir: PathBuf::from("photos"),
        }
    }
}

/// `[upload]`: the upload workers and their retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Upload {
    /// Photos uploaded at the same time, 1..=16.
    pub workers: u32,
    /// Photos captured but not yet uploaded before capture waits, 1..=1000.
    pub queue: u32,
    /// Tries per photo, 1..=100.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds.
    pub retry_initial_ms: u64,
    /// Longest wait between retries, in milliseconds (>= `retry_initial_ms`).
    pub retry_max_ms: u64,
    /// The idle daemon sends photos still waiting this often, in seconds;
    /// 0 never.
    pub retry_every_s: u64,
    /// A photo that a run gave up on is not tried by the next passes for
    /// this long, in seconds; doubled with each run that gives up on it...
    pub backlog_wait_s: u64,
    /// ...up to this many seconds.
    pub backlog_wait_max_s: u64,
}

impl Default for Upload {
    fn default() -> Self {
        Upload {
            workers: 4,
            queue: 16,
            max_attempts: 5,
            retry_initial_ms: 500,
            retry_max_ms: 30_000,
            retry_every_s: 300,
            backlog_wait_s: 60,
            backlog_wait_max_s: 3600,
        }
    }
}
