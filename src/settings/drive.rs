//! `[destination.drive]`: uploads to Google Drive, and its checks.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How scanrig signs in to Google Drive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriveAuth {
    /// A Google account, authorised once with `scanrig auth drive`.
    #[default]
    Oauth,
    /// A service account's key file (for a shared drive).
    ServiceAccount,
}

/// `[destination.drive]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Drive {
    /// The parent folder as a path from My Drive (created if missing).
    pub folder: String,
    /// The parent folder's id; wins over `folder` when set.
    pub folder_id: String,
    /// How scanrig signs in.
    pub auth: DriveAuth,
    /// The OAuth client's JSON file (for `auth = "oauth"`).
    pub client_secret: PathBuf,
    /// The service account's JSON key (for `auth = "service_account"`).
    pub service_account_key: PathBuf,
    /// Where the tokens are kept; unset: `<state dir>/drive-token.json`.
    pub token_file: Option<PathBuf>,
    /// Bytes per request of a resumable upload, in KiB (a multiple of 256).
    pub chunk_kb: u64,
    /// Photos up to this size (KiB) go in a single request.
    pub single_request_max_kb: u64,
    /// Longest wait for one request, in seconds.
    pub timeout_s: u64,
    /// Retries of one request that failed in a way worth retrying.
    pub retries: u32,
    /// Wait before the first retry, in milliseconds.
    pub retry_initial_ms: u64,
    /// Longest wait between retries, in milliseconds.
    pub retry_max_ms: u64,
    /// The Drive API's base URL.
    pub api_url: String,
    /// The root URL uploads go under (`upload/drive/v3/files`).
    pub upload_url: String,
    /// The OAuth token endpoint; empty: the one in the key or client file.
    pub token_uri: String,
    /// The OAuth device-code endpoint, for `scanrig auth drive`.
    pub device_code_url: String,
}

impl Default for Drive {
    fn default() -> Self {
        Drive {
            folder: "scanrig".into(),
            folder_id: String::new(),
            auth: DriveAuth::Oauth,
            client_secret: PathBuf::from("/etc/scanrig/drive-client.json"),
            service_account_key: PathBuf::from("/etc/scanrig/drive-service-account.json"),
            token_file: None,
            chunk_kb: 8192,
            single_request_max_kb: 1024,
            timeout_s: 120,
            retries: 6,
            retry_initial_ms: 1000,
            retry_max_ms: 32_000,
            api_url: "https://www.googleapis.com/drive/v3/".into(),
            upload_url: "https://www.googleapis.com/".into(),
            token_uri: String::new(),
            device_code_url: "https://oauth2.googleapis.com/device/code".into(),
        }
    }
}

impl Drive {
    /// The folder path's parts, without empty ones.
    pub fn folder_path(&self) -> Vec<String> {
        self.folder
            .split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Problems with `[destination.drive]` as `(key, reason)`; `used` says
/// whether Drive is the destination (only then are the files checked).
pub fn drive_problems(d: &Drive, used: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if d.chunk_kb == 0 || d.chunk_kb % 256 != 0 || d.chunk_kb > 256 * 1024 {
        out.push((
            "destination.drive.chunk_kb",
            format!(
                "must be a multiple of 256 from 256 to 262144 (Drive takes chunks in 256 KiB pieces), found {}",
                d.chunk_kb
            ),
        ));
    }
    if d.single_request_max_kb > 5120 {
        out.push((
            "destination.drive.single_request_max_kb",
            format!(
                "must be 0 to 5120 (a single request holds the photo in memory), found {}",
                d.single_request_max_kb
            ),
        ));
    }
    if !(1..=3600).contains(&d.timeout_s) {
        out.push((
            "destination.drive.timeout_s",
            format!("must be 1 to 3600 seconds, found {}", d.timeout_s),
        ));
    }
    if d.retries > 20 {
        out.push((
            "destination.drive.retries",
            format!("must be 0 to 20, found {}", d.retries),
        ));
    }
    if d.retry_initial_ms == 0 {
        out.push((
            "destination.drive.retry_initial_ms",
            "must be at least 1 millisecond, found 0".into(),
        ));
    }
    if d.retry_max_ms < d.retry_initial_ms {
        out.push((
            "destination.drive.retry_max_ms",
            format!(
                "must be at least destination.drive.retry_initial_ms ({}), found {}",
                d.retry_initial_ms, d.retry_max_ms
            ),
        ));
    }
    let urls = [
        ("destination.drive.api_url", &d.api_url, false),
        ("destination.drive.upload_url", &d.upload_url, false),
        ("destination.drive.token_uri", &d.token_uri, true),
        (
            "destination.drive.device_code_url",
            &d.device_code_url,
            false,
        ),
    ];
    for (key, url, may_be_empty) in urls {
        if url.is_empty() && may_be_empty {
            continue;
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            out.push((
                key,
                format!("must be an http:// or https:// address, found {url:?}"),
            ));
        }
    }
    if d.folder_id.trim().is_empty() && d.folder_path().is_empty() {
        out.push((
            "destination.drive.folder",
            "is empty; give a folder path (like \"scans/rig\") or set folder_id".into(),
        ));
    }
    if used {
        let (key, file, what) = match d.auth {
            DriveAuth::Oauth => (
                "destination.drive.client_secret",
                &d.client_secret,
                "the OAuth client file (download it from the Google Cloud console: an OAuth client of type \"TVs and Limited Input devices\"; see deploy/DRIVE.md)",
            ),
            DriveAuth::ServiceAccount => (
                "destination.drive.service_account_key",
                &d.service_account_key,
                "the service account's JSON key (see deploy/DRIVE.md)",
            ),
        };
        if let Err(e) = crate::drive::auth::check_key_file(d.auth, file) {
            out.push((key, format!("{}: {e}; it must be {what}", file.display())));
        }
    }
    out
}
