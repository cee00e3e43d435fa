//! `[export]` and `[hooks]`: the pose priors written beside every scan's
//! manifest, and what is told when a scan is done.

use std::path::PathBuf;

use scanrig_actors::hooks::HookKind;
use scanrig_actors::model::Format;
use serde::{Deserialize, Serialize};

/// `[export]`: which reconstruction tools' pose priors every scan writes
/// beside its manifest, from `[geometry]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Export {
    /// The formats (`[]`: none; `scanrig export` writes any of them later).
    pub formats: Vec<Format>,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            formats: Format::ALL.to_vec(),
        }
    }
}

/// `[hooks]`: the scan-done hand-off, once every photo, the pose priors and
/// the manifest are at the destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hooks {
    /// A program and its arguments (no shell); empty: none.
    pub command: Vec<String>,
    /// Longest run of the command before it is killed, seconds.
    pub command_timeout_s: u64,
    /// Runs of a failing command before it is given up.
    pub command_attempts: u32,
    /// Where to POST the scan's summary (http:// or https://); empty: none.
    pub webhook_url: String,
    /// A file holding the secret the POST is signed with (HMAC-SHA256).
    pub webhook_secret_file: Option<PathBuf>,
    /// Longest wait for the webhook's answer, seconds.
    pub webhook_timeout_s: u64,
    /// First wait before a failed hook is tried again, milliseconds; it
    /// doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest wait between tries, milliseconds.
    pub retry_max_ms: u64,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            command: Vec::new(),
            command_timeout_s: 3600,
            command_attempts: 3,
            webhook_url: String::new(),
            webhook_secret_file: None,
            webhook_timeout_s: 10,
            retry_initial_ms: 10_000,
            retry_max_ms: 3_600_000,
        }
    }
}

impl Hooks {
    /// The hooks configured.
    pub fn kinds(&self) -> Vec<HookKind> {
        let mut kinds = Vec::new();
        if !self.command.is_empty() {
            kinds.push(HookKind::Command);
        }
        if !self.webhook_url.is_empty() {
            kinds.push(HookKind::Webhook);
        }
        kinds
    }

    /// The webhook's signing key, read from its secret file (only its
    /// owner may read it; one trailing line ending is not part of the
    /// key); `None` without a webhook or without a file.
    pub fn webhook_secret(&self) -> Option<Result<Vec<u8>, crate::secret::SecretError>> {
        if self.webhook_url.is_empty() {
            return None;
        }
        self.webhook_secret_file.as_deref().map(crate::secret::read)
    }
}
