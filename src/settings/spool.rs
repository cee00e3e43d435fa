//! `[spool]`: the folder where photos wait until they are uploaded, and
//! the folder used when `spool.dir` is unset.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[spool]`: the folder where photos wait until they are uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spool {
    /// The folder; unset means the systemd / XDG state folder (see [`Settings::spool_dir`](super::Settings::spool_dir)).
    pub dir: Option<PathBuf>,
    /// Keep photos after a successful upload instead of deleting them.
    pub keep_uploaded: bool,
    /// Pause the scan when the spool's disk has less free than this, in MB.
    pub min_free_mb: u64,
    /// Finished scans whose photos are all sent are remembered (in the
    /// scans index, for `scanrig scans` and the web page): at most this many...
    pub history_scans: usize,
    /// ...for at most this many days.
    pub history_days: u64,
    /// An upload or fault record of the journal waits up to this many
    /// milliseconds for others to be committed with it (one fdatasync for
    /// all); a capture record never waits.
    pub commit_delay_ms: u64,
}

impl Default for Spool {
    fn default() -> Self {
        Spool {
            dir: None,
            keep_uploaded: false,
            min_free_mb: 500,
            history_scans: 1000,
            history_days: 365,
            commit_delay_ms: 3,
        }
    }
}

/// The spool folder to use when `spool.dir` is unset, and where it came from.
pub(super) fn fallback_spool(env: &[(String, String)]) -> (PathBuf, &'static str) {
    let get = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    if let Some(dirs) = get("STATE_DIRECTORY") {
        // systemd separates several StateDirectory= entries with ':'.
        let first = dirs.split(':').next().unwrap_or(dirs);
        return (Path::new(first).join("spool"), "$STATE_DIRECTORY/spool");
    }
    if let Some(xdg) = get("XDG_STATE_HOME").filter(|p| Path::new(p).is_absolute()) {
        return (
            Path::new(xdg).join("scanrig/spool"),
            "$XDG_STATE_HOME/scanrig/spool",
        );
    }
    if let Some(home) = get("HOME") {
        return (
            Path::new(home).join(".local/state/scanrig/spool"),
            "$HOME/.local/state/scanrig/spool",
        );
    }
    (
        PathBuf::from("/var/lib/scanrig/spool"),
        "the last resort: none of $STATE_DIRECTORY, $XDG_STATE_HOME, $HOME is set",
    )
}
