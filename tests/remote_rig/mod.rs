//! Helpers of the tests of destinations on a server the test starts
//! (WebDAV, SFTP) whose files land in a folder the test reads: a scan sent
//! there, photos kept waiting while the server refuses them, SIGKILL at
//! random instants while they go, and the check that a scan arrived whole.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::common::{self, plan, ring_profile, rings_of, sha256, Rig};

/// The profile every scan here runs.
pub const PROFILE: &str = "remote";

/// Configures `rig` with `config` (TOML), then `extra` merged on top.
pub fn configure(rig: &Rig, config: &str, extra: &str) {
    let mut table: toml::Table = config.parse().expect("config");
    common::merge(&mut table, &extra.parse().expect("extra TOML"));
    rig.configure(&table.to_string());
}

/// Writes the profile of `shots` shots in one ring.
pub fn profile(rig: &Rig, shots: u32) -> String {
    let text = ring_profile(shots, 0);
    rig.profile(PROFILE, &text);
    text
}

/// Asserts the scan's folder on the server holds every planned photo of
/// a ring of `shots` once, intact, with the manifest and nothing else (no
/// temporary file); returns the manifest.
pub fn assert_delivered(served: &Path, scan: &str, shots: u32) -> Value {
    let planned = plan(PROFILE, &rings_of(&ring_profile(shots, 0)));
    common::assert_complete(&served.join(scan), &planned)
}

/// Runs a scan of `shots` while the server refuses the photos: every one
/// is captured and none sent, the run says `why` on stderr and `scanrig
/// uploads` lists each as waiting, with `why` as the last failure. Returns
/// the scan id.
pub fn assert_kept_waiting(rig: &Rig, shots: u32, why: &str) -> String {
    profile(rig, shots);
    let out = rig.run(&["scan", "--profile", PROFILE, "--json"]);
    let summary = out.summary();
    assert_eq!(summary["captured"], shots, "{summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");
    assert!(out.stderr.contains(why), "{why:?} not in:\n{}", out.stderr);
    let scan = summary["scan"].as_str().expect("scan id").to_owned();
    assert_eq!(
        rig.journal(&scan).captured().len(),
        shots as usize,
        "the photos are kept in the spool"
    );
    let listed = rig.run(&["uploads"]);
    listed.expect_code(0);
    let row = listed
        .stdout
        .lines()
        .find(|l| l.starts_with(&scan))
        .unwrap_or_else(|| panic!("{scan} not listed:\n{}", listed.stdout));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[5], shots.to_string(), "every photo waits: {row}");
    assert!(
        listed.stdout.contains(why),
        "the listing says why: {}",
        listed.stdout
    );
    scan
}

/// Kills `scanrig uploads retry` (SIGKILL) at a random instant within
/// `within` of its start, `rounds` times; after each kill every photo
/// under its own name on the server is whole (its sha256 the one
/// captured). Then one more run sends the rest: the scan is delivered
/// whole, no temporary file left. Returns how many photos were there after
/// each kill.
pub fn kill_while_sending(
    rig: &Rig,
    served: &Path,
    scan: &str,
    shots: u32,
    rounds: usize,
    within: Duration,
) -> Vec<usize> {
    let captured = rig.journal(scan).captured();
    let mut instants = common::Instants::new();
    let mut there = Vec::new();
    for round in 0..rounds {
        let running = rig.spawn(&["uploads", "retry"]);
        // The first kill early, before the pass could be over.
        let limit = if round == 0 { within / 4 } else { within };
        std::thread::sleep(instants.up_to(limit));
        running.kill();
        let arrived = whole_photos(&served.join(scan), &captured);
        there.push(arrived);
    }
    assert!(
        there[0] < shots as usize,
        "the first kill came after every upload: {there:?}"
    );
    eprintln!("photos on the server after each kill: {there:?}");
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(served, scan, shots);
    there
}

/// How many photos of `captured` are in `dir` under their names, each
/// asserted whole (a photo is never seen half-sent).
fn whole_photos(dir: &Path, captured: &BTreeMap<String, String>) -> usize {
    let mut n = 0;
    for (name, sha) in captured {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            assert_eq!(&sha256(&bytes), sha, "{name} is there but not whole");
            n += 1;
        }
    }
    n
}

/// Puts other bytes on the server under the first photo's name of a scan
/// kept waiting, then lets the rig send: that photo is refused naming both
/// checksums and the file there is left as it was; the others arrive, and
/// the refused one still waits. `unblock` lets the server take photos.
pub fn assert_other_bytes_refused(rig: &Rig, served: &Path, scan: &str, unblock: impl FnOnce()) {
    let captured = rig.journal(scan).captured();
    let (name, sha) = captured.iter().next().expect("a photo");
    let theirs = b"a file the studio put there".to_vec();
    std::fs::create_dir_all(served.join(scan)).expect("scan folder");
    std::fs::write(served.join(scan).join(name), &theirs).expect("their file");
    unblock();
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(1);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains(sha.as_str()) && said.contains(&sha256(&theirs)),
        "both checksums are named:\n{said}"
    );
    assert_eq!(
        std::fs::read(served.join(scan).join(name)).expect("their file"),
        theirs,
        "the file there is never replaced"
    );
    for (other, sha) in captured.iter().skip(1) {
        let bytes = std::fs::read(served.join(scan).join(other)).expect("the others arrive");
        assert_eq!(&sha256(&bytes), sha, "{other}");
    }
    let listed = rig.run(&["uploads"]);
    assert!(
        listed.stdout.contains(sha.as_str()),
        "the refused photo waits, and the listing says why:\n{}",
        listed.stdout
    );
}

/// A seed for the fault proxy's dice, from the clock, told so that a
/// failing run can be repeated.
pub fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    eprintln!("fault proxy seeded with {nanos}");
    u64::from(nanos)
}

/// `scanrig uploads retry` sending the photos waiting in `rig`'s spool with
/// `workers` workers: its wall time and peak RSS (KiB), as GNU time
/// reports them (the rusage of this test's children would count this
/// process's own memory, shared until the child's exec).
pub fn timed_retry(rig: &Rig, workers: u32) -> (Duration, u64) {
    let cmd = rig.command(&["uploads", "retry"]);
    let mut timed = std::process::Command::new("/usr/bin/time");
    timed
        .args(["-f", "maxrss_kib=%M", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env("SCANRIG_UPLOAD__WORKERS", workers.to_string())
        .current_dir(rig.root())
        .stdin(std::process::Stdio::null());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let start = std::time::Instant::now();
    let out = timed.output().expect("GNU time (apt install time)");
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "uploads retry failed: {stderr}");
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss from GNU time: {stderr}"));
    (took, rss)
}

/// Runs `scanrig uploads retry` until it has nothing left to send (a file
/// of the scan's own that failed all its tries waits for the next start,
/// as photos do), at most `runs` times.
pub fn retry_until_sent(rig: &Rig, runs: usize) {
    for _ in 0..runs {
        if rig.run(&["uploads", "retry"]).code == Some(0) {
            return;
        }
    }
    panic!("uploads still waiting after {runs} runs of `scanrig uploads retry`");
}
