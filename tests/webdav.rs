//! Scans sent to a real WebDAV server (wsgidav, started on loopback by each
//! test): every photo once and intact, through kills and refusals; what
//! is there already never replaced; the probe's words.

mod common;
mod dav_server;
mod remote_rig;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use common::fault_proxy::{FaultProxy, Faults, Mode};
use common::{assert_summary_complete, Rig};
use dav_server::{Dav, PASSWORD, USER};
use remote_rig::{assert_delivered, assert_kept_waiting, profile, PROFILE};
use scanrig::webdav::{WebdavDestination, WebdavOptions};
use scanrig_actors::destination::Destination;

/// A rig sending to `url` as [`USER`] with `password` (in a 0600 file);
/// `extra` (TOML) on top.
fn dav_rig(url: &str, password: &str, extra: &str) -> Rig {
    let rig = Rig::new();
    let file = write_password(&rig, password);
    let config = format!(
        "[destination]\nkind = \"webdav\"\n[destination.webdav]\nurl = {url:?}\nuser = {USER:?}\npassword_file = {file:?}\ntimeout_s = 10\n"
    );
    remote_rig::configure(&rig, &config, extra);
    rig
}

fn write_password(rig: &Rig, password: &str) -> PathBuf {
    let file = rig.root().join("webdav-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

#[test]
fn a_scan_arrives_whole_each_photo_once_with_its_manifest() {
    let Some(dav) = Dav::start() else { return };
    let rig = dav_rig(&dav.url(), PASSWORD, "");
    profile(&rig, 6);
    let out = rig.run(&["scan", "--profile", PROFILE, "--json"]);
    out.expect_code(0);
    let scan = assert_summary_complete(&out.summary(), 6);
    assert_delivered(&dav.served(), &scan, 6);
    assert!(
        !out.stderr.contains(PASSWORD),
        "the password is never logged"
    );
    let summary = rig.assert_retired(&scan, "completed", 6);
    assert_eq!(
        summary["manifest"],
        format!("{}{scan}/manifest.json", dav.url()),
        "{summary}"
    );
}

#[test]
fn a_wrong_password_keeps_the_photos_waiting_and_says_what_to_do() {
    let Some(dav) = Dav::start() else { return };
    let rig = dav_rig(&dav.url(), "not-the-password", "");
    let scan = assert_kept_waiting(&rig, 4, "refused user `scanrig` (401 Unauthorized");
    let listed = rig.run(&["uploads"]);
    assert!(
        listed.stdout.contains("destination.webdav.password_file"),
        "{}",
        listed.stdout
    );
    assert!(
        !listed.stdout.contains("not-the-password"),
        "the password is never shown"
    );
    // The password corrected, the waiting photos go, once.
    write_password(&rig, PASSWORD);
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&dav.served(), &scan, 4);
}

#[test]
fn sigkill_at_random_instants_while_photos_go_loses_and_doubles_nothing() {
    let Some(dav) = Dav::start() else { return };
    // 48 photos of 1.5 MB, two at a time: a pass takes long enough for
    // the kills to land in the middle of uploads.
    let rig = dav_rig(
        &dav.url(),
        "wrong",
        "[camera.sim]\nfile_size_kb = 1500\n[upload]\nworkers = 2\n",
    );
    let scan = assert_kept_waiting(&rig, 48, "401 Unauthorized");
    write_password(&rig, PASSWORD);
    remote_rig::kill_while_sending(
        &rig,
        &dav.served(),
        &scan,
        48,
        12,
        Duration::from_millis(600),
    );
}

#[test]
fn a_file_already_there_with_other_bytes_is_refused_naming_both_checksums() {
    let Some(dav) = Dav::start() else { return };
    let rig = dav_rig(&dav.url(), "wrong", "[upload]\nmax_attempts = 2\n");
    let scan = assert_kept_waiting(&rig, 3, "401 Unauthorized");
    remote_rig::assert_other_bytes_refused(&rig, &dav.served(), &scan, || {
        write_password(&rig, PASSWORD);
    });
}

#[test]
fn a_fifth_of_requests_cut_stalled_or_failed_lose_and_double_nothing() {
    let Some(dav) = Dav::start() else { return };
    let faults = Faults::at(remote_rig::seed(), 0.2, Mode::Http, Duration::from_secs(3));
    let proxy = FaultProxy::start(dav.addr(), Mode::Http, faults);
    // Requests time out after a second (a stalled one sooner than it
    // answers); photos are tried often enough to get through.
    let rig = dav_rig(
        &format!("{}/dav/scans/", proxy.url()),
        PASSWORD,
        "[destination.webdav]\ntimeout_s = 1\n[upload]\nmax_attempts = 30\nretry_max_ms = 50\n",
    );
    profile(&rig, 16);
    let out = rig.run(&["scan", "--profile", PROFILE, "--json"]);
    let scan = assert_summary_complete(&out.summary(), 16);
    remote_rig::retry_until_sent(&rig, 5);
    assert_delivered(&dav.served(), &scan, 16);
    let tally = proxy.tally();
    eprintln!("faults: {tally:?}");
    assert!(
        tally.cuts > 0 && tally.stalls > 0 && tally.errors > 0,
        "every kind of fault happened: {tally:?}"
    );
}

/// Photos per second and peak RSS of `uploads retry` sending `shots`
/// photos of `size_kb` KiB with `workers` workers, through a proxy adding
/// 20 ms each way.
fn bench(shots: u32, size_kb: u32, workers: u32) -> (f64, u64) {
    let dav = Dav::start().expect("wsgidav");
    let proxy = FaultProxy::start(
        dav.addr(),
        Mode::Http,
        Faults::none().with_latency(Duration::from_millis(20)),
    );
    let rig = dav_rig(
        &format!("{}/dav/scans/", proxy.url()),
        "wrong",
        &format!("[camera.sim]\nfile_size_kb = {size_kb}\n"),
    );
    let scan = assert_kept_waiting(&rig, shots, "401 Unauthorized");
    write_password(&rig, PASSWORD);
    let (took, rss) = remote_rig::timed_retry(&rig, workers);
    assert_delivered(&dav.served(), &scan, shots);
    (f64::from(shots) / took.as_secs_f64(), rss)
}

#[test]
#[ignore = "benchmark: cargo test --release --test webdav -- --ignored --nocapture"]
fn bench_webdav_uploads() {
    for (shots, size_kb) in [(16, 6000), (6, 40_000)] {
        for workers in [1, 4] {
            let (rate, rss) = bench(shots, size_kb, workers);
            println!(
                "WebDAV, {shots} photos of {size_kb} KiB, {workers} worker(s), 20 ms each way: {rate:.2} photos/s, peak RSS {:.1} MB",
                rss as f64 / 1024.0
            );
        }
    }
}

fn destination(url: String, password: &str) -> WebdavDestination {
    WebdavDestination::new(WebdavOptions {
        collection: url,
        user: USER.into(),
        password: password.into(),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[test]
fn the_probe_writes_reads_back_and_deletes_and_says_what_is_wrong() {
    let Some(dav) = Dav::start() else { return };
    destination(dav.url(), PASSWORD).probe(false).unwrap();
    destination(dav.url(), PASSWORD).probe(true).unwrap();
    assert_eq!(
        common::entries(&dav.served()),
        Vec::<String>::new(),
        "the probe's file is deleted"
    );
    let e = destination(dav.url(), "wrong").probe(false).unwrap_err();
    assert!(e.to_string().contains("refused user `scanrig`"), "{e}");
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    let e = destination(dav.url_of("dav/nowhere"), PASSWORD)
        .probe(false)
        .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    // A folder the user may read but not write.
    let e = destination(dav.url_of("ro"), PASSWORD)
        .probe(true)
        .unwrap_err();
    assert!(e.to_string().contains("no write permission"), "{e}");
    assert!(!e.is_retryable(), "{e}");
    let e = destination("http://127.0.0.1:9/dav/".into(), PASSWORD)
        .probe(false)
        .unwrap_err();
    assert!(e.to_string().contains("cannot reach"), "{e}");
}
