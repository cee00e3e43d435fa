//! The id of a photo's multipart upload, kept durably beside its spool file (`.<name>.s3-upload`: written, fsynced, renamed, the folder fsynced) while its parts go up, so that the next run aborts it and no upload is left open at the store after a crash.

use std::io;
use std::path::PathBuf;

use scanrig_actors::destination::Upload;
use scanrig_hardware::fsutil::DurableFile;

/// Where the upload id of one photo is kept.
pub(super) struct KeptUpload {
    path: PathBuf,
}

impl KeptUpload {
    /// Beside the photo's spool file.
    pub(super) fn of(upload: &Upload) -> KeptUpload {
        let name = upload
            .local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        KeptUpload {
            path: upload.local.with_file_name(format!(".{name}.s3-upload")),
        }
    }

    /// The id kept, if any.
    pub(super) fn load(&self) -> Option<String> {
        let id = std::fs::read_to_string(&self.path).ok()?;
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_owned())
    }

    /// Keeps `id` durably.
    pub(super) fn save(&self, id: &str) -> io::Result<()> {
        let mut file = DurableFile::create(&self.path)?;
        io::Write::write_all(&mut file, id.as_bytes())?;
        file.commit().map(drop)
    }

    /// Forgets it: the upload is completed or aborted.
    pub(super) fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// Where it is kept, for messages.
    pub(super) fn path(&self) -> &std::path::Path {
        &self.path
    }
}
