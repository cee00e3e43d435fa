//! Where photos go. A destination receives each photo streamed from its spool
//! file, under an idempotency key (scan, shot, sha256), and can say whether it
//! already holds a photo, so a retry after a crash never makes a second copy.
//!
//! Ships [`LocalDir`] and [`SimRemote`] (a simulated network); remote ones (Google Drive) implement the same trait,
//! with resumable uploads kept inside the implementation.

mod local;
mod sim;

use std::path::PathBuf;

pub use local::LocalDir;
pub use sim::SimRemote;

use crate::plan::{ScanId, ShotId};

/// What went wrong at a destination.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// Worth retrying later (network down, server busy, disk briefly full).
    #[error("{0}; will retry")]
    Transient(String),
    /// Retrying cannot help until someone acts (authorisation revoked,
    /// quota spent, folder not writable); the message says what to do.
    #[error("{0}")]
    Permanent(String),
    /// What arrived differs from what was sent.
    #[error("{name} arrived damaged at the destination (sha256 {got}, expected {expected}); it will be sent again")]
    Mismatch {
        /// The file.
        name: String,
        /// Checksum of what arrived.
        got: String,
        /// Checksum of the spool file.
        expected: String,
    },
}

impl DestinationError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, DestinationError::Permanent(_))
    }
}

/// Result of destination calls.
pub type Result<T, E = DestinationError> = std::result::Result<T, E>;

/// One file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The scan it belongs to (names the folder at the destination).
    pub scan: ScanId,
    /// The shot (with `sha256`, the idempotency key).
    pub shot: ShotId,
    /// The spool file to stream from.
    pub local: PathBuf,
    /// Its name at the destination.
    pub name: String,
    /// sha256 of the spool file, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A place photos are uploaded to. Calls block; the uploader runs them on
/// worker threads, several at once, so implementations are `Sync`.
pub trait Destination: Send + Sync {
    /// Where the photos go, for logs and summaries.
    fn describe(&self) -> String;

    /// The remote id of this exact photo (same key and contents) if the
    /// destination already holds it intact.
    fn find(&self, upload: &Upload) -> Result<Option<String>>;

    /// Sends the photo, streaming it from disk; returns its remote id. A
    /// half-sent photo never shows up as a finished one.
    fn upload(&self, upload: &Upload) -> Result<String>;

    /// Writes (or replaces) the scan's `manifest.json`; returns its id.
    fn put_manifest(&self, scan: &ScanId, json: &[u8]) -> Result<String>;
}
