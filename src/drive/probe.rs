//! `Destination::probe` for Google Drive: the authorisation and the parent folder are checked; with `write`, a small file is created in the parent folder, its checksum read back and the file deleted.

use std::io;

use google_drive3::api::File as DriveFile;
use md5::{Digest, Md5};
use scanrig_actors::destination::{DestinationError, Result, PROBE};
use scanrig_hardware::fsutil::hex;

use super::folders::Parent;
use super::{DriveDestination, ReadSeekSend};

impl DriveDestination {
    pub(super) async fn probe_async(&self, write: bool) -> Result<()> {
        if !write {
            // Reached without writing: the folder given by id is there;
            // one given by path is made at the first upload.
            if let Parent::Path(_) = self.opts.parent {
                return self.whoami_async().await.map(drop);
            }
        }
        let parent = self.parent(&mut *self.folders.lock().await).await?;
        if !write {
            return Ok(());
        }
        let body = format!("scanrig destination test {}\n", std::process::id()).into_bytes();
        let name = format!("{PROBE}-{}", std::process::id());
        let what = format!("write the test file {name}");
        let meta = DriveFile {
            name: Some(name),
            parents: Some(vec![parent]),
            ..Default::default()
        };
        let content = || Ok(Box::new(io::Cursor::new(body.clone())) as Box<dyn ReadSeekSend>);
        let none = || async { Ok(None) };
        let made = self
            .create_once(&what, meta, content, "text/plain", none, None)
            .await?;
        let id = super::id_of(made, &what)?;
        let read = self.get_by_id("read the test file back", &id).await;
        let deleted = self.delete(&id).await;
        let read = read?.and_then(|f| f.md5_checksum);
        let sent = hex(&Md5::digest(&body));
        if read.as_deref() != Some(sent.as_str()) {
            return Err(DestinationError::Permanent(format!(
                "Google Drive: the test file read back has md5 {}, not the {sent} written",
                read.as_deref().unwrap_or("(none)")
            )));
        }
        deleted
    }
}
