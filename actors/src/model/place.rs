//! Where a scan's photos go.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where a scan's photos go, journaled in its plan: a resumed scan, and the
/// retried uploads of an old one, go to the same place whatever the
/// configuration or the command line says by then.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Place {
    /// A folder on this machine (an absolute path).
    Local {
        /// The folder the scan's own folder goes in.
        dir: PathBuf,
    },
    /// A Google Drive folder, by id or as a path from My Drive.
    Drive {
        /// The parent folder's id, if given by id.
        folder_id: Option<String>,
        /// The parent folder's path from My Drive, if given by path.
        folder: Option<String>,
    },
    /// A folder in an S3-compatible bucket (no credentials: they come
    /// from the configuration).
    S3 {
        /// The store's URL; empty: AWS.
        endpoint: String,
        /// The bucket.
        bucket: String,
        /// The folder in the bucket the scan's own folder goes in.
        prefix: String,
    },
    /// A WebDAV collection (Nextcloud, a NAS), by its URL (never with a
    /// user or password in it).
    Webdav {
        /// The collection the scan's own folder goes in.
        url: String,
    },
    /// A folder on an SFTP server.
    Sftp {
        /// The server's host name or address.
        host: String,
        /// Its SSH port.
        port: u16,
        /// The user scanrig signs in as.
        user: String,
        /// The folder the scan's own folder goes in (relative to the
        /// user's home folder unless absolute).
        dir: String,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Local { dir } => write!(f, "folder {}", dir.display()),
            Place::Drive {
                folder_id: Some(id),
                ..
            } => write!(f, "Google Drive folder id {id}"),
            Place::Drive { folder, .. } => {
                write!(f, "Google Drive folder {}", folder.as_deref().unwrap_or(""))
            }
            Place::S3 {
                endpoint,
                bucket,
                prefix,
            } => {
                write!(f, "s3://{bucket}/{prefix}")?;
                if !endpoint.is_empty() {
                    write!(f, " at {endpoint}")?;
                }
                Ok(())
            }
            Place::Webdav { url } => write!(f, "WebDAV folder {url}"),
            Place::Sftp {
                host,
                port,
                user,
                dir,
            } => write!(f, "SFTP folder {dir} of {user}@{host}:{port}"),
        }
    }
}

/// One of several destinations a scan's photos all go to, journaled in its
/// plan: its name in the configuration (`[[destinations]]`), and its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Its name, in journal records, listings and the status.
    pub name: String,
    /// Where it is.
    pub place: Place,
}

/// Where a scan sends each photo: one destination (`name` `None`, the
/// scan's only one; `place` `None`: the default, in journals from before
/// scans named their place), or one of several, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sent {
    /// The destination's name, for a scan sent to several.
    pub name: Option<String>,
    /// Its place.
    pub place: Option<Place>,
}
