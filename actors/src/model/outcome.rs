//! How things went: the device a fault concerns, its class, and how a scan ended.

use serde::{Deserialize, Serialize};

/// The device a failure or a retry concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// Turntable and tilt axes.
    Table,
    /// The camera.
    Camera,
    /// The spool's disk: a photo the camera took could not be written to
    /// it (full, read-only). The camera is not at fault.
    Spool,
}

/// What kind of failure a device met; it decides what the scan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Retried with backoff, within the restart budget.
    Transient,
    /// The device refuses what the profile asks (a setting it does not
    /// have): retrying cannot help; the scan stops before any motor moves.
    Refused,
    /// Retrying cannot help until someone acts (an end-stop never found, a
    /// soft limit, no tilt axis, a spool that cannot take the photo): the
    /// scan pauses at once with the reason, spending no restart budget.
    Fatal,
    /// The device is gone (unplugged, switched off): the scan pauses and
    /// goes on by itself once the device answers again.
    Gone,
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every planned shot was captured.
    Completed,
    /// The operator stopped it.
    Stopped,
}
