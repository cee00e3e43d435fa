//! Durable files: write to a temp file beside the target, fsync, rename into
//! place, fsync the folder. A reader never sees a half-written file, and after
//! a power cut a file is either whole or absent.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Size and sha256 of a file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// sha256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A file being written; it appears under its final name only on
/// [`DurableFile::commit`]. Dropped uncommitted, it leaves nothing behind.
#[derive(Debug)]
pub struct DurableFile {
    file: Option<File>,
    temp: PathBuf,
    target: PathBuf,
    hasher: Sha256,
    size: u64,
}

impl DurableFile {
    /// Starts writing `target` (its folder must exist).
    pub fn create(target: &Path) -> io::Result<Self> {
        Self::create_with_mode(target, 0o666)
    }

    /// Like [`DurableFile::create`], but only its owner may read or write it
    /// (mode 0600 from the start): for secrets.
    pub fn create_private(target: &Path) -> io::Result<Self> {
        Self::create_with_mode(target, 0o600)
    }

    fn create_with_mode(target: &Path, mode: u32) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let temp = temp_path(target)?;
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&temp)?;
        Ok(DurableFile {
            file: Some(file),
            temp,
            target: target.to_path_buf(),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Flushes to stable storage, renames into place and makes the rename
    /// durable. Returns the digest of everything written.
    pub fn commit(mut self) -> io::Result<FileDigest> {
        let file = self.file.take().expect("a DurableFile is committed once");
        file.sync_all()?;
        drop(file);
        fs::rename(&self.temp, &self.target)?;
        sync_parent(&self.target)?;
        Ok(FileDigest {
            sha256: hex(&std::mem::take(&mut self.hasher).finalize()),
            size: self.size,
        })
    }
}

impl Write for DurableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self.file.as_mut().expect("write after commit");
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl Drop for DurableFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The temp file beside `target` in which this process writes it before
/// it is committed: `.<name>.part-<pid>`.
pub fn temp_path(target: &Path) -> io::Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "target has no file name"))?;
    Ok(target.with_file_name(format!(
        ".{}{TEMP_MARK}{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Commits a file that another writer (a camera library, say) put at
/// [`temp_path`]`(target)`: fsync, rename into place, fsync the folder.
/// Returns its digest, read back from disk.
pub fn commit_written(target: &Path) -> io::Result<FileDigest> {
    let temp = temp_path(target)?;
    File::open(&temp)?.sync_all()?;
    let digest = digest_file(&temp)?;
    fs::rename(&temp, target)?;
    sync_parent(target)?;
    Ok(digest)
}

/// Temp files are named `.<name>.part-<pid>`, beside their target.
const TEMP_MARK: &str = ".part-";

/// Removes the temp files that [`DurableFile`]s of other processes left in
/// `dir`: a process killed in the middle of a write neither commits nor
/// removes its temp file. Call it when no other process writes in `dir`.
/// Returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    let own = std::process::id();
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid == own {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// The process id in a temp file's name (`.<name>.part-<pid>`), if it is one.
fn temp_owner(name: &str) -> Option<u32> {
    let (_, pid) = name.strip_prefix('.')?.rsplit_once(TEMP_MARK)?;
    pid.parse().ok()
}

/// Makes a rename or a new file in `path`'s folder durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// Reads a file once and returns its size and sha256.
pub fn digest_file(path: &Path) -> io::Result<FileDigest> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(FileDigest {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_file_appears_whole_with_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.jpg");
        let mut f = DurableFile::create(&target).unwrap();
        f.write_all(b"hello ").unwrap();
        assert!(!target.exists(), "visible before commit");
        f.write_all(b"world").unwrap();
        let digest = f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"hello world");
        assert_eq!(digest.size, 11);
        assert_eq!(
            digest.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(digest, digest_file(&target).unwrap());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );
    }

    #[test]
    fn stale_temps_of_other_processes_are_removed_and_ours_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ours = DurableFile::create(&dir.path().join("c.jpg")).unwrap();
        for name in [
            ".a.jpg.part-1",
            ".manifest.json.part-4194305",
            "b.jpg",
            ".b.jpg.part-x",
        ] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(dir.path()).unwrap(), 2);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let own = format!(".c.jpg.part-{}", std::process::id());
        assert_eq!(left, [".b.jpg.part-x", own.as_str(), "b.jpg"]);
        ours.commit().unwrap();
    }

    #[test]
    fn a_file_written_by_someone_else_is_committed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("c.nef");
        fs::write(temp_path(&target).unwrap(), b"raw bytes").unwrap();
        assert!(!target.exists());
        let digest = commit_written(&target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"raw bytes");
        assert_eq!(digest, digest_file(&target).unwrap());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );
        assert!(commit_written(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("b.jpg");
        let mut f = DurableFile::create(&target).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
