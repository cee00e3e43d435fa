//! Where photos go in Drive: the parent folder (by id, or a path made as
//! needed), one folder per scan and the folders inside it (the COLMAP
//! model's), each found or made once and cached; a scan's folders are made
//! with ids kept in its spool folder, as its files are.

use std::collections::HashMap;
use std::io;

use google_drive3::api::{File as DriveFile, Scope};
use scanrig_actors::destination::{DestinationError, Result};
use scanrig_actors::model::ScanId;

use super::reserved::ReservedId;
use super::{id_of, DriveDestination, ReadSeekSend, KEY_SCAN};

/// Drive's folder type.
pub(super) const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// Where the parent folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    /// An existing folder's id.
    Id(String),
    /// A path of folder names from My Drive, created as needed.
    Path(Vec<String>),
}

/// The folder ids found or made so far.
#[derive(Debug, Default)]
pub(super) struct Folders {
    parent: Option<String>,
    scans: HashMap<String, String>,
}

impl DriveDestination {
    /// The parent folder's id, found or made once.
    pub(super) async fn parent(&self, folders: &mut Folders) -> Result<String> {
        if let Some(id) = &folders.parent {
            return Ok(id.clone());
        }
        let id = match &self.opts.parent {
            Parent::Id(id) => {
                self.call("open the folder destination.drive.folder_id", || async {
                    recorded!(|rec| self
                        .hub
                        .files()
                        .get(id)
                        .supports_all_drives(true)
                        .param("fields", "id,mimeType")
                        .add_scope(Scope::File)
                        .delegate(rec)
                        .doit())
                })
                .await
                .map_err(|e| match e {
                    DestinationError::Permanent(m) => DestinationError::Permanent(format!(
                        "{m}; check destination.drive.folder_id (scanrig sees only folders it made, or any folder with a service account it is shared with)"
                    )),
                    other => other,
                })?;
                id.clone()
            }
            Parent::Path(names) => {
                let mut parent = "root".to_owned();
                for name in names {
                    parent = self.folder(&parent, name, None, None).await?;
                }
                parent
            }
        };
        folders.parent = Some(id.clone());
        Ok(id)
    }

    /// The folder `name` in `parent` (tagged with the scan, if any), made
    /// if missing, with the id kept in `reserved` if given (see
    /// `create_once`).
    async fn folder(
        &self,
        parent: &str,
        name: &str,
        scan: Option<&ScanId>,
        reserved: Option<&ReservedId>,
    ) -> Result<String> {
        let what = format!("make the folder {name}");
        let q = match scan {
            Some(scan) => format!(
                "{} and mimeType = '{FOLDER_MIME}' and '{}' in parents",
                has(KEY_SCAN, scan.as_str()),
                quote(parent)
            ),
            None => format!(
                "name = '{}' and mimeType = '{FOLDER_MIME}' and '{}' in parents",
                quote(name),
                quote(parent)
            ),
        };
        let find = || async { Ok(self.list(&what, &q).await?.into_iter().next()) };
        if let Some(found) = find().await? {
            if let Some(reserved) = reserved {
                reserved.forget();
            }
            return id_of(found, &what);
        }
        let meta = DriveFile {
            name: Some(name.to_owned()),
            mime_type: Some(FOLDER_MIME.to_owned()),
            parents: Some(vec![parent.to_owned()]),
            app_properties: scan.map(|s| HashMap::from([(KEY_SCAN.to_owned(), s.to_string())])),
            ..Default::default()
        };
        let empty = || Ok(Box::new(io::Cursor::new(Vec::new())) as Box<dyn ReadSeekSend>);
        let made = self
            .create_once(&what, meta, empty, FOLDER_MIME, find, reserved)
            .await?;
        if let Some(reserved) = reserved {
            reserved.forget();
        }
        id_of(made, &what)
    }

    /// The scan's folder id, cached.
    pub(super) async fn scan_folder(&self, scan: &ScanId) -> Result<String> {
        let mut folders = self.folders.lock().await;
        if let Some(id) = folders.scans.get(scan.as_str()) {
            return Ok(id.clone());
        }
        let parent = self.parent(&mut folders).await?;
        let reserved = ReservedId::of_folder(&self.opts.spool.join(scan.as_str()), &[]);
        let id = self
            .folder(&parent, scan.as_str(), Some(scan), Some(&reserved))
            .await?;
        folders.scans.insert(scan.as_str().to_owned(), id.clone());
        Ok(id)
    }
}

impl DriveDestination {
    /// The folder `path` (names from the scan's folder down, none for the
    /// scan's own folder), each found or made once and cached.
    pub(super) async fn scan_subfolder(&self, scan: &ScanId, path: &[&str]) -> Result<String> {
        let mut id = self.scan_folder(scan).await?;
        // Held while finding or making them: files sent at once share one.
        let mut folders = self.folders.lock().await;
        for (i, name) in path.iter().enumerate() {
            let key = format!("{scan}/{}", path[..=i].join("/"));
            id = match folders.scans.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let dir = self.opts.spool.join(scan.as_str());
                    let reserved = ReservedId::of_folder(&dir, &path[..=i]);
                    let made = self.folder(&id, name, None, Some(&reserved)).await?;
                    folders.scans.insert(key, made.clone());
                    made
                }
            };
        }
        Ok(id)
    }
}

/// A Drive query string literal's inside.
pub(super) fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The query clause for an `appProperties` entry.
pub(super) fn has(key: &str, value: &str) -> String {
    format!(
        "appProperties has {{ key='{}' and value='{}' }}",
        quote(key),
        quote(value)
    )
}
