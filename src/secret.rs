//! Secrets kept in files (`mqtt.password_file`, `hooks.webhook_secret_file`):
//! a file only its owner may read, holding the secret; one trailing line
//! ending (`\n` or `\r\n`, as editors add) is not part of it.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a secret file cannot be used. Its words name the file and what to
/// do; the caller names the setting.
#[derive(Debug)]
pub enum SecretError {
    /// It cannot be read (missing, a folder, no permission).
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Its group or others may read it.
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// It holds nothing but perhaps a line ending.
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::Unreadable { path, error } => write!(
                f,
                "cannot read {}: {error}; write the secret alone in that file, readable only by scanrig (chmod 600)",
                path.display()
            ),
            SecretError::Exposed { path, mode } => write!(
                f,
                "{} can be read by others (mode {mode:o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            ),
            SecretError::Empty { path } => write!(
                f,
                "{} is empty; write the secret in it",
                path.display()
            ),
        }
    }
}

impl std::error::Error for SecretError {}

/// The secret in `path`, which only its owner may read, without one
/// trailing line ending.
pub fn read(path: &Path) -> Result<Vec<u8>, SecretError> {
    let unreadable = |error| SecretError::Unreadable {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut secret = std::fs::read(path).map_err(unreadable)?;
    if secret.ends_with(b"\n") {
        secret.pop();
        if secret.ends_with(b"\r") {
            secret.pop();
        }
    }
    if secret.is_empty() {
        return Err(SecretError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &[u8], mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn one_line_ending_is_dropped_and_the_rest_kept() {
        for (text, want) in [
            (&b"s3cret\n"[..], &b"s3cret"[..]),
            (b"s3cret\r\n", b"s3cret"),
            (b"s3cret", b"s3cret"),
            (b"s3cret\n\n", b"s3cret\n"),
            (b" s3cret ", b" s3cret "),
        ] {
            let (_dir, path) = file(text, 0o600);
            assert_eq!(read(&path).unwrap(), want, "{text:?}");
        }
    }

    #[test]
    fn a_file_others_can_read_an_empty_one_and_a_missing_one_are_refused() {
        let (_dir, path) = file(b"s3cret\n", 0o644);
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("mode 644") && e.contains("chmod 600"), "{e}");
        let (_dir, path) = file(b"s3cret\n", 0o640);
        assert!(matches!(read(&path), Err(SecretError::Exposed { .. })));
        for text in [&b""[..], b"\n", b"\r\n"] {
            let (_dir, path) = file(text, 0o600);
            let e = read(&path).unwrap_err().to_string();
            assert!(e.contains("is empty"), "{text:?}: {e}");
        }
        let e = read(Path::new("/nowhere/secret")).unwrap_err().to_string();
        assert!(e.contains("cannot read /nowhere/secret"), "{e}");
    }
}
