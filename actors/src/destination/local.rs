//! A local (or mounted network) folder: `<dir>/<scan-id>/<photo>`, each file
//! written to a temp name, fsync'd, checked and renamed into place.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use scanrig_hardware::fsutil::{digest_file, remove_stale_temps, temp_path, DurableFile};

use super::{Destination, DestinationError, Result, Upload, MANIFEST};
use crate::model::{Place, ScanId};

/// Photos go to a folder on this machine.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// A destination writing below `root` (created as needed); a relative
    /// `root` is taken from the current folder, once, here.
    pub fn new(root: impl Into<PathBuf>) -> LocalDir {
        let root = root.into();
        LocalDir {
            root: std::path::absolute(&root).unwrap_or(root),
        }
    }

    fn scan_dir(&self, scan: &ScanId) -> Result<PathBuf> {
        let dir = self.root.join(scan.as_str());
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        Ok(dir)
    }
}

fn io_error(path: &Path, e: io::Error) -> DestinationError {
    let msg = format!("cannot write {}: {e}", path.display());
    match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            DestinationError::Permanent(format!(
                "{msg}; make the destination folder writable or choose another"
            ))
        }
        _ => DestinationError::Transient(msg),
    }
}

impl Destination for LocalDir {
    fn describe(&self) -> String {
        self.place().to_string()
    }

    fn place(&self) -> Place {
        Place::Local {
            dir: self.root.clone(),
        }
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        let target = self.root.join(upload.scan.as_str()).join(&upload.name);
        match digest_file(&target) {
            Ok(d) if d.sha256 == upload.sha256 => Ok(Some(target.display().to_string())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&target, e)),
        }
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        let target = self.scan_dir(&upload.scan)?.join(&upload.name);
        let mut source = File::open(&upload.local).map_err(|e| {
            DestinationError::Permanent(format!(
                "cannot read spool file {}: {e}",
                upload.local.display()
            ))
        })?;
        let mut out = DurableFile::create(&target).map_err(|e| io_error(&target, e))?;
        io::copy(&mut source, &mut out).map_err(|e| io_error(&target, e))?;
        out.flush().map_err(|e| io_error(&target, e))?;
        // The digest is of the bytes written; the rename makes them visible
        // only when they match the spool file's checksum.
        let digest = out.commit().map_err(|e| io_error(&target, e))?;
        if digest.sha256 != upload.sha256 {
            let _ = fs::remove_file(&target);
            return Err(DestinationError::Mismatch {
                name: upload.name.clone(),
                got: digest.sha256,
                expected: upload.sha256.clone(),
            });
        }
        Ok(target.display().to_string())
    }

    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        let dir = self.scan_dir(scan)?;
        if name == MANIFEST {
            // The manifest comes last: tidy up what killed processes left
            // half written. Best effort; a leftover temp file harms no photo.
            let _ = remove_stale_temps(&dir);
        }
        let target = dir.join(super::relative(name)?);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        let mut out = DurableFile::create(&target).map_err(|e| io_error(&target, e))?;
        out.write_all(bytes).map_err(|e| io_error(&target, e))?;
        out.commit().map_err(|e| io_error(&target, e))?;
        Ok(target.display().to_string())
    }

    /// The folder exists (or can be made); with `write`, a small file is
    /// written durably in it, read back and removed.
    fn probe(&self, write: bool) -> Result<()> {
        if !write {
            return match fs::metadata(&self.root) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(DestinationError::Permanent(format!(
                    "{} is not a folder; remove what is there or choose another destination folder",
                    self.root.display()
                ))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_error(&self.root, e)),
            };
        }
        fs::create_dir_all(&self.root).map_err(|e| io_error(&self.root, e))?;
        let target = self
            .root
            .join(format!("{}-{}", super::PROBE, std::process::id()));
        let body = format!("scanrig destination test {}\n", target.display());
        let mut out = DurableFile::create(&target).map_err(|e| io_error(&target, e))?;
        out.write_all(body.as_bytes())
            .map_err(|e| io_error(&target, e))?;
        out.commit().map_err(|e| io_error(&target, e))?;
        let read = fs::read(&target);
        let removed = fs::remove_file(&target);
        match read {
            Ok(read) if read == body.as_bytes() => {}
            Ok(_) => {
                return Err(DestinationError::Permanent(format!(
                    "{} read back differs from what was written; check the disk",
                    target.display()
                )))
            }
            Err(e) => return Err(io_error(&target, e)),
        }
        removed.map_err(|e| io_error(&target, e))
    }

    /// Many small files made durable together: each written to its temp
    /// name and flushed, then all renamed into place and each folder
    /// synced once (not once per file). After a crash each is whole under
    /// its name, or absent.
    fn put_files(&self, scan: &ScanId, files: &[(String, Vec<u8>)]) -> Vec<Result<String>> {
        match self.write_together(scan, files) {
            Ok(paths) => paths.into_iter().map(Ok).collect(),
            Err(e) => files
                .iter()
                .map(|_| Err(DestinationError::Transient(e.to_string())))
                .collect(),
        }
    }
}

impl LocalDir {
    fn write_together(&self, scan: &ScanId, files: &[(String, Vec<u8>)]) -> Result<Vec<String>> {
        let dir = self.scan_dir(scan)?;
        let mut paths = Vec::with_capacity(files.len());
        for (name, bytes) in files {
            let target = dir.join(super::relative(name)?);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            let temp = temp_path(&target).map_err(|e| io_error(&target, e))?;
            paths.push((temp, target, bytes.as_slice()));
        }
        // Written and flushed by a few threads at once: the file system
        // commits flushes that come together as one.
        let per_thread = paths.len().div_ceil(WRITERS).max(1);
        let written: Vec<Result<()>> = std::thread::scope(|s| {
            let writers: Vec<_> = paths
                .chunks(per_thread)
                .map(|chunk| {
                    s.spawn(move || -> Result<()> {
                        for (temp, _, bytes) in chunk {
                            let mut file = File::create(temp).map_err(|e| io_error(temp, e))?;
                            file.write_all(bytes)
                                .and_then(|()| file.sync_data())
                                .map_err(|e| io_error(temp, e))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            writers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|_| {
                        Err(DestinationError::Transient("a writer thread failed".into()))
                    })
                })
                .collect()
        });
        let renamed = written.into_iter().collect::<Result<()>>().and_then(|()| {
            let mut folders = BTreeSet::new();
            for (temp, target, _) in &paths {
                fs::rename(temp, target).map_err(|e| io_error(target, e))?;
                folders.insert(target.parent().unwrap_or(&dir).to_path_buf());
            }
            for folder in folders {
                File::open(&folder)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| io_error(&folder, e))?;
            }
            Ok(())
        });
        if let Err(e) = renamed {
            for (temp, _, _) in &paths {
                let _ = fs::remove_file(temp);
            }
            return Err(e);
        }
        Ok(paths
            .iter()
            .map(|(_, t, _)| t.display().to_string())
            .collect())
    }
}

/// Threads that write a batch of small files.
const WRITERS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ShotId;

    fn spool_file(dir: &Path, name: &str, body: &[u8]) -> Upload {
        let local = dir.join(name);
        fs::write(&local, body).unwrap();
        let d = digest_file(&local).unwrap();
        Upload {
            scan: ScanId::from_existing("20260101T000000Z-t"),
            shot: ShotId(1),
            local,
            name: name.to_owned(),
            sha256: d.sha256,
            size: d.size,
        }
    }

    #[test]
    fn probe_writes_reads_back_and_removes_a_file_and_names_a_blocked_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("photos");
        let dest = LocalDir::new(&root);
        dest.probe(false).unwrap();
        dest.probe(true).unwrap();
        assert!(root.is_dir());
        assert_eq!(
            fs::read_dir(&root).unwrap().count(),
            0,
            "the test file is gone"
        );

        fs::remove_dir(&root).unwrap();
        fs::write(&root, b"not a folder").unwrap();
        let e = dest.probe(false).unwrap_err();
        assert!(!e.is_retryable(), "{e}");
        assert!(e.to_string().contains("is not a folder"), "{e}");
        assert!(dest.probe(true).is_err());
    }

    #[test]
    fn upload_then_find_and_no_second_copy() {
        let spool = tempfile::tempdir().unwrap();
        let dest_dir = tempfile::tempdir().unwrap();
        let dest = LocalDir::new(dest_dir.path());
        let up = spool_file(spool.path(), "a.jpg", b"photo bytes");
        assert_eq!(dest.find(&up).unwrap(), None);
        let id = dest.upload(&up).unwrap();
        assert_eq!(dest.find(&up).unwrap(), Some(id.clone()));
        // Uploading again replaces the file atomically: still one copy.
        dest.upload(&up).unwrap();
        let scan_dir = dest_dir.path().join("20260101T000000Z-t");
        let names: Vec<_> = fs::read_dir(&scan_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.jpg"]);
        assert_eq!(fs::read(scan_dir.join("a.jpg")).unwrap(), b"photo bytes");
    }

    #[test]
    fn a_different_file_under_the_name_is_not_found() {
        let spool = tempfile::tempdir().unwrap();
        let dest_dir = tempfile::tempdir().unwrap();
        let dest = LocalDir::new(dest_dir.path());
        let up = spool_file(spool.path(), "a.jpg", b"new");
        let scan_dir = dest_dir.path().join(up.scan.as_str());
        fs::create_dir_all(&scan_dir).unwrap();
        fs::write(scan_dir.join("a.jpg"), b"old, half-written").unwrap();
        assert_eq!(dest.find(&up).unwrap(), None);
    }

    #[test]
    fn a_changed_spool_file_is_refused_and_leaves_nothing() {
        let spool = tempfile::tempdir().unwrap();
        let dest_dir = tempfile::tempdir().unwrap();
        let dest = LocalDir::new(dest_dir.path());
        let mut up = spool_file(spool.path(), "a.jpg", b"bytes");
        up.sha256 = "00".repeat(32);
        let err = dest.upload(&up).unwrap_err();
        assert!(matches!(err, DestinationError::Mismatch { .. }), "{err}");
        assert!(err.is_retryable());
        assert!(!dest_dir
            .path()
            .join(up.scan.as_str())
            .join("a.jpg")
            .exists());
    }

    #[test]
    fn an_unwritable_destination_is_a_permanent_error() {
        let spool = tempfile::tempdir().unwrap();
        let up = spool_file(spool.path(), "a.jpg", b"x");
        // A folder below a regular file can never be created, even as root.
        let blocker = spool.path().join("blocker");
        fs::write(&blocker, b"").unwrap();
        let err = LocalDir::new(blocker.join("dest")).upload(&up).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
    }
}
