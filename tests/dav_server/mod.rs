//! A real WebDAV server for the tests: wsgidav (PyPI) started on loopback
//! at a port the system picks, serving a temp folder to one user.
//!
//! wsgidav lives in a virtual environment: `$WEBDAV_PYTHON`, else
//! `target/webdav/bin/python` (`.ci/deps` makes it). Without it a test says
//! so and skips, unless `WEBDAV_REQUIRED` is set (as in CI).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dav_server/server.py");

/// The user the server knows, and its password.
pub const USER: &str = "scanrig";
pub const PASSWORD: &str = "dav-pass-7f3a";

/// A running server; stopped when dropped.
pub struct Dav {
    child: Child,
    port: u16,
    root: TempDir,
}

impl Dav {
    /// Starts a server, or `None` (and a line saying why) when wsgidav is
    /// not installed and `WEBDAV_REQUIRED` is not set.
    pub fn start() -> Option<Dav> {
        let python = std::env::var_os("WEBDAV_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/webdav/bin/python")
            });
        if !python.is_file() {
            assert!(
                std::env::var_os("WEBDAV_REQUIRED").is_none(),
                "WEBDAV_REQUIRED is set but {} is missing: run .ci/deps",
                python.display()
            );
            eprintln!(
                "skipped: no WebDAV server ({} is missing; .ci/deps installs wsgidav there)",
                python.display()
            );
            return None;
        }
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("scans")).expect("the collection");
        let mut child = Command::new(&python)
            .arg(SCRIPT)
            .arg(root.path())
            .args([USER, PASSWORD])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start wsgidav");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the port");
        let port = line
            .strip_prefix("port ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("wsgidav did not say its port: {line:?}"));
        Some(Dav { child, port, root })
    }

    /// Its address on loopback.
    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// The collection the rig's scans go in.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/dav/scans/", self.port)
    }

    /// Where the server keeps what is sent to [`Dav::url`].
    pub fn served(&self) -> PathBuf {
        self.root.path().join("scans")
    }

    /// The address of `path` on the server (`dav/…` read and written,
    /// `ro/…` read only).
    pub fn url_of(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}/", self.port)
    }
}

impl Drop for Dav {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
