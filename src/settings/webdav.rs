//! `[destination.webdav]`: uploads to a WebDAV server (Nextcloud, a NAS),
//! and its checks.

use std::path::PathBuf;

use google_drive3::hyper::Uri;
use serde::{Deserialize, Serialize};

/// `[destination.webdav]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Webdav {
    /// The collection the scans' folders go in, as an http(s) URL without
    /// a user or password.
    pub url: String,
    /// The user scanrig signs in as (HTTP basic authentication).
    pub user: String,
    /// The file holding the password (or app password), readable only by
    /// scanrig.
    pub password_file: PathBuf,
    /// Longest wait for one request, in seconds.
    pub timeout_s: u64,
}

impl Default for Webdav {
    fn default() -> Self {
        Webdav {
            url: String::new(),
            user: String::new(),
            password_file: PathBuf::from("/etc/scanrig/webdav-password"),
            timeout_s: 60,
        }
    }
}

impl Webdav {
    /// The password, read as [`crate::secret::read`] reads it.
    pub fn password(&self) -> Result<String, String> {
        let secret = crate::secret::read(&self.password_file).map_err(|e| e.to_string())?;
        String::from_utf8(secret).map_err(|_| {
            format!(
                "{} does not hold UTF-8 text; write the password in it as text",
                self.password_file.display()
            )
        })
    }

    /// The collection's URL ending in `/`, or what is wrong with `url`.
    pub fn collection(&self) -> Result<String, String> {
        let wrong = || {
            format!(
                "`{}` is not a WebDAV folder's address; write it as https://host/path/ (for Nextcloud: https://cloud.example.com/remote.php/dav/files/USER/scans/)",
                self.url
            )
        };
        let uri: Uri = self.url.parse().map_err(|_| wrong())?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(wrong());
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err("holds a user name or password, which would be shown in logs; write the URL without them, the user in destination.webdav.user and the password in destination.webdav.password_file".into());
        }
        if uri.query().is_some() {
            return Err(wrong());
        }
        Ok(if self.url.ends_with('/') {
            self.url.clone()
        } else {
            format!("{}/", self.url)
        })
    }
}

/// Problems with `[destination.webdav]` as `(key, reason)`; `used` says
/// whether it is the destination (only then is anything checked but the
/// ranges).
pub fn webdav_problems(w: &Webdav, used: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !(1..=3600).contains(&w.timeout_s) {
        out.push((
            "destination.webdav.timeout_s",
            format!("must be 1 to 3600 seconds, found {}", w.timeout_s),
        ));
    }
    if !used {
        return out;
    }
    if w.url.is_empty() {
        out.push((
            "destination.webdav.url",
            "is empty; give the WebDAV folder's address, like https://cloud.example.com/remote.php/dav/files/USER/scans/".into(),
        ));
    } else if let Err(e) = w.collection() {
        out.push(("destination.webdav.url", e));
    }
    if w.user.is_empty() {
        out.push((
            "destination.webdav.user",
            "is empty; give the user scanrig signs in as".into(),
        ));
    } else if w.user.contains(':') || w.user.chars().any(char::is_control) {
        out.push((
            "destination.webdav.user",
            "holds a `:` or a control character, which HTTP basic authentication cannot carry"
                .into(),
        ));
    }
    if let Err(e) = w.password() {
        out.push(("destination.webdav.password_file", e));
    }
    out
}
