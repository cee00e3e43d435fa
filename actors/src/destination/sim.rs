//! A simulated remote destination: a local folder behind a network with a
//! set latency per upload and injected failures, for tests and the benchmark.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{Destination, DestinationError, LocalDir, Result, Upload};
use crate::model::{Place, ScanId};

/// A [`LocalDir`] that answers like a slow, flaky network.
#[derive(Debug)]
pub struct SimRemote {
    inner: LocalDir,
    latency: Duration,
    fail_every_nth: u32,
    attempts: AtomicU32,
}

impl SimRemote {
    /// Every upload takes `latency`; every `fail_every_nth`-th upload
    /// attempt (0 = never) fails with a retryable error after the wait.
    pub fn new(inner: LocalDir, latency: Duration, fail_every_nth: u32) -> SimRemote {
        SimRemote {
            inner,
            latency,
            fail_every_nth,
            attempts: AtomicU32::new(0),
        }
    }
}

impl Destination for SimRemote {
    fn describe(&self) -> String {
        format!("{} (simulated network)", self.inner.describe())
    }

    fn place(&self) -> Place {
        self.inner.place()
    }

    fn find(&self, upload: &Upload) -> Result<Option<String>> {
        self.inner.find(upload)
    }

    fn upload(&self, upload: &Upload) -> Result<String> {
        let n = self.attempts.fetch_add(1, Ordering::Relaxed) + 1;
        // The upload worker is a thread of its own: waiting here models the
        // time the bytes spend on the network.
        std::thread::sleep(self.latency);
        if self.fail_every_nth > 0 && n % self.fail_every_nth == 0 {
            return Err(DestinationError::Transient(format!(
                "simulated network failure (upload attempt {n})"
            )));
        }
        self.inner.upload(upload)
    }

    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String> {
        self.inner.put_file(scan, name, bytes)
    }

    fn probe(&self, write: bool) -> Result<()> {
        self.inner.probe(write)
    }

    fn put_files(&self, scan: &ScanId, files: &[(String, Vec<u8>)]) -> Vec<Result<String>> {
        self.inner.put_files(scan, files)
    }
}
