//! `[health]`: where the Pi's health is read from (the kernel's files
//! under a root: `/`, or a fake one for tests) and how often.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[health]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthSettings {
    /// The folder the kernel's files are read under.
    pub root: PathBuf,
    /// Read them this often, seconds.
    pub every_s: u64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            root: PathBuf::from("/"),
            every_s: 5,
        }
    }
}
