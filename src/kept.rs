//! A destination's id kept durably in the spool beside what it is for
//! (written, fsynced, renamed, the folder fsynced), so that the next run
//! after a crash or a kill finds it: Google Drive's reserved file ids and
//! resumable sessions, an S3 multipart upload's id.

use std::io;
use std::path::{Path, PathBuf};

use scanrig_actors::destination::Upload;
use scanrig_hardware::fsutil::DurableFile;

/// Where one id is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptId {
    path: PathBuf,
}

/// `.<name>.<kind>` beside a photo's spool file.
pub fn beside(upload: &Upload, kind: &str) -> PathBuf {
    let name = upload
        .local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    upload.local.with_file_name(format!(".{name}.{kind}"))
}

impl KeptId {
    /// Kept in the file `path`.
    pub fn at(path: PathBuf) -> KeptId {
        KeptId { path }
    }

    /// Kept beside a photo's spool file, as `.<name>.<kind>`.
    pub fn beside(upload: &Upload, kind: &str) -> KeptId {
        KeptId::at(beside(upload, kind))
    }

    /// The id kept, if any.
    pub fn load(&self) -> Option<String> {
        let id = std::fs::read_to_string(&self.path).ok()?;
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_owned())
    }

    /// Keeps `id` durably.
    pub fn save(&self, id: &str) -> io::Result<()> {
        let mut file = DurableFile::create(&self.path)?;
        io::Write::write_all(&mut file, id.as_bytes())?;
        file.commit().map(drop)
    }

    /// Forgets it: what it was for is done.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// Where it is kept, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
