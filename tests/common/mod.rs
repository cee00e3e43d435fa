//! Shared helpers of the whole-scan tests: a rig in a temp dir with a fast simulated configuration, the real `scanrig` binary run against it, and checks of what arrived.
//!
//! Every test builds its own [`Rig`]: a temp dir holding the `--config` file,
//! the spool, the destination and a profile folder. The binary runs with no
//! `SCANRIG_*` variable of the test's environment, `HOME` set to the temp dir,
//! stdin closed and the temp dir as its working directory.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

pub mod broker;
pub mod fault_proxy;
pub mod http;
pub mod openapi;
pub mod proxy;
pub mod web;

mod delivered;
mod files;
mod journal;
mod manifest;
mod rig;
mod running;
mod shots;

// The helpers of the files below, by the paths they are used by; each
// test binary uses some of them.
#[allow(unused_imports)]
pub use {
    delivered::{assert_complete, assert_complete_pairs, assert_photos, assert_summary_complete},
    files::{contents, entries, folders, sha256, temp_files, zip_files, zip_sha256s},
    journal::Journal,
    manifest::{assert_manifest, capture_times, manifest_shas, names_in, read_manifest},
    rig::{in_process, merge, scan_in_process, Rig},
    running::{wait_for, Output, Running},
    shots::{plan, prior_files, raw_of, ring_profile, rings_of, Planned, Ring},
};

use std::process::Command;
use std::time::Duration;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_scanrig");

/// How long any one run of the binary may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Width and height of the simulated camera's photos in every test.
pub const PHOTO_SIZE: (u16, u16) = (160, 120);

/// Whether Debian's `programs` are installed (each answers `arg`); without
/// them a test says so and skips, unless `required` is set in the
/// environment (as in CI), where it fails. `package` names what installs
/// them.
pub fn tools_present(programs: &[&str], arg: &str, required: &str, package: &str) -> bool {
    let found = programs
        .iter()
        .all(|p| Command::new(p).arg(arg).output().is_ok());
    if !found {
        let names = programs.join(" and ");
        assert!(
            std::env::var_os(required).is_none(),
            "{required} is set but {names} is not installed: run .ci/deps"
        );
        eprintln!("skipped: {names} is not installed (Debian: apt install {package})");
    }
    found
}

/// Now, Unix milliseconds (as the journal counts time).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// Pseudo-random instants for killing a process at: a xorshift generator
/// seeded from the clock, its seed printed so that a failing run can be
/// told apart (the instants depend on timing anyway).
pub struct Instants(u64);

impl Instants {
    /// A generator seeded from the clock.
    pub fn new() -> Instants {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .subsec_nanos();
        let seed = u64::from(nanos) | 1;
        eprintln!("kill instants seeded with {seed}");
        Instants(seed)
    }

    /// A duration from zero up to `max`.
    pub fn up_to(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        max.mul_f64((self.0 % 1_000_001) as f64 / 1e6)
    }
}
