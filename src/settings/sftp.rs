//! `[destination.sftp]`: uploads to a folder on an SFTP server, and its
//! checks.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[destination.sftp]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sftp {
    /// The server's host name or address.
    pub host: String,
    /// Its SSH port.
    pub port: u16,
    /// The user scanrig signs in as.
    pub user: String,
    /// The private key scanrig signs in with, readable only by scanrig.
    pub private_key: PathBuf,
    /// The server's host key in OpenSSH's known_hosts format: an unknown
    /// or changed key is refused.
    pub known_hosts: PathBuf,
    /// The folder the scans' folders go in (relative to the user's home
    /// folder unless absolute); it must exist.
    pub dir: String,
    /// Longest wait for the server, in seconds.
    pub timeout_s: u64,
}

impl Default for Sftp {
    fn default() -> Self {
        Sftp {
            host: String::new(),
            port: 22,
            user: String::new(),
            private_key: PathBuf::from("/etc/scanrig/sftp-key"),
            known_hosts: PathBuf::from("/etc/scanrig/sftp-known_hosts"),
            dir: "scans".into(),
            timeout_s: 60,
        }
    }
}

/// Problems with `[destination.sftp]` as `(key, reason)`; `used` says
/// whether it is the destination (only then is anything checked but the
/// ranges).
pub fn sftp_problems(s: &Sftp, used: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !(1..=3600).contains(&s.timeout_s) {
        out.push((
            "destination.sftp.timeout_s",
            format!("must be 1 to 3600 seconds, found {}", s.timeout_s),
        ));
    }
    if !used {
        return out;
    }
    let empty = [
        (
            "destination.sftp.host",
            &s.host,
            "the server's host name or address",
        ),
        (
            "destination.sftp.user",
            &s.user,
            "the user scanrig signs in as",
        ),
        (
            "destination.sftp.dir",
            &s.dir,
            "the folder the scans go in, like \"scans\"",
        ),
    ];
    for (key, value, what) in empty {
        if value.trim().is_empty() {
            out.push((key, format!("is empty; give {what}")));
        } else if value.chars().any(char::is_control) {
            out.push((key, "holds a control character; remove it".into()));
        }
    }
    if s.port == 0 {
        out.push((
            "destination.sftp.port",
            "must be 1 to 65535 (22 is SSH's own), found 0".into(),
        ));
    }
    if let Err(e) = crate::secret::read(&s.private_key) {
        out.push((
            "destination.sftp.private_key",
            format!("{e} (the private key scanrig signs in with; make one with `ssh-keygen -t ed25519 -N '' -f FILE`)"),
        ));
    }
    if let Err(e) = std::fs::File::open(&s.known_hosts) {
        out.push((
            "destination.sftp.known_hosts",
            format!(
                "cannot read {}: {e}; write the server's host key in it, checked against its fingerprint: `ssh-keyscan -p {} {} > {}`",
                s.known_hosts.display(),
                s.port,
                s.host,
                s.known_hosts.display()
            ),
        ));
    }
    out
}
