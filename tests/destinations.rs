//! Scans sent to several destinations at once (`[[destinations]]`), on
//! real servers the tests start on loopback: a destination down for the
//! whole scan holds up no other, both complete once it is back, every
//! photo once at each with the manifest's sha256, the scan retiring only
//! then; kills while both are sending; resume and retries going to the
//! destinations a scan was started with.

mod common;
// Each test binary uses a different part of the servers' helpers.
#[allow(dead_code)]
mod dav_server;
mod s3_store;
mod webdriver;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::fault_proxy::{FaultProxy, Faults, Mode};
use common::{plan, ring_profile, rings_of, sha256, Rig};
use dav_server::{Dav, PASSWORD, USER};
use s3_store::{key_file, Moto};
use webdriver::page::{wait, PHONE};
use webdriver::Browser;

/// The profile every scan here runs.
const PROFILE: &str = "two";

/// A proxy answering nothing but 500 and 503: the server behind is down.
fn down() -> Faults {
    Faults {
        error: 1.0,
        ..Faults::none()
    }
}

/// A `[[destinations]]` entry for a local folder.
fn local_entry(name: &str, dir: &Path) -> String {
    format!("[[destinations]]\nname = {name:?}\nkind = \"local\"\n[destinations.local]\ndir = {dir:?}\n")
}

/// A `[[destinations]]` entry for the WebDAV folder at `url`.
fn dav_entry(rig: &Rig, name: &str, url: &str) -> String {
    let file = rig.root().join("webdav-password");
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    format!("[[destinations]]\nname = {name:?}\nkind = \"webdav\"\n[destinations.webdav]\nurl = {url:?}\nuser = {USER:?}\npassword_file = {file:?}\ntimeout_s = 5\n")
}

/// A `[[destinations]]` entry for the test bucket at `endpoint`.
fn s3_entry(rig: &Rig, name: &str, endpoint: &str) -> String {
    let keys = key_file(rig, "AKIDSCANRIGTEST", s3_store::SECRET);
    format!(
        "[[destinations]]\nname = {name:?}\nkind = \"s3\"\n[destinations.s3]\nendpoint = {endpoint:?}\nbucket = {:?}\nprefix = {:?}\npath_style = true\ncredentials_file = {keys:?}\ntimeout_s = 5\nretries = 1\n",
        s3_store::BUCKET,
        s3_store::PREFIX
    )
}

/// Configures `rig` with `entries` and uploads retried fast.
fn configure(rig: &Rig, entries: &[String], extra: &str) {
    let text = format!(
        "{}\n[upload]\nmax_attempts = 2\nretry_max_ms = 50\n{extra}",
        entries.concat()
    );
    rig.configure(&text);
}

/// Runs a scan of `shots`; returns its summary.
fn scan(rig: &Rig, shots: u32) -> serde_json::Value {
    rig.profile(PROFILE, &ring_profile(shots, 0));
    rig.run(&["scan", "--profile", PROFILE, "--json"]).summary()
}

/// The photos of `captured` in `dir`, each asserted whole.
fn whole_photos(dir: &Path, captured: &BTreeMap<String, String>) -> Vec<String> {
    captured
        .iter()
        .filter(|(name, sha)| {
            std::fs::read(dir.join(name)).is_ok_and(|bytes| {
                assert_eq!(&&sha256(&bytes), sha, "{name} is there but not whole");
                true
            })
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Asserts the scan's folder `dir` holds every planned photo of a ring
/// of `shots` once, intact, with the manifest naming their sha256, and
/// nothing else.
fn assert_whole(dir: &Path, shots: u32) -> serde_json::Value {
    let planned = plan(PROFILE, &rings_of(&ring_profile(shots, 0)));
    common::assert_complete(dir, &planned)
}

/// The bucket's objects of the scan, fetched into a folder.
fn fetched(rig: &Rig, moto: &Moto, scan: &str) -> PathBuf {
    let folder = format!("{}/{scan}/", s3_store::PREFIX);
    let into = rig.root().join("fetched").join(scan);
    let _ = std::fs::remove_dir_all(&into);
    for key in moto.keys(&folder) {
        let name = key.strip_prefix(&folder).expect("under the scan's folder");
        let path = into.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, moto.object(&key).body).unwrap();
    }
    into
}

/// A rig sending to a local folder `here` and to a WebDAV folder `nas`
/// behind a proxy that is down: the server, the proxy, the rig, the
/// folder and the two destinations' entries.
fn here_and_nas_down() -> Option<(Dav, FaultProxy, Rig, PathBuf, [String; 2])> {
    let dav = Dav::start()?;
    let proxy = FaultProxy::start(dav.addr(), Mode::Http, down());
    let rig = Rig::new();
    let here = rig.root().join("here");
    let entries = [
        local_entry("here", &here),
        dav_entry(&rig, "nas", &format!("{}/dav/scans/", proxy.url())),
    ];
    Some((dav, proxy, rig, here, entries))
}

/// A WebDAV folder and an S3 bucket, each behind a proxy, both down
/// through a scan of `shots` photos of 1.5 MB; then back, a little way
/// off (`latency`).
struct TwoStores {
    dav: Dav,
    moto: Moto,
    /// In front of the servers, as long as they run.
    _proxies: (FaultProxy, FaultProxy),
    rig: Rig,
    scan: String,
    captured: BTreeMap<String, String>,
    shots: u32,
}

impl TwoStores {
    fn scanned_while_down(shots: u32, latency: Duration) -> Option<TwoStores> {
        let dav = Dav::start()?;
        let moto = Moto::start()?;
        let dav_proxy = FaultProxy::start(dav.addr(), Mode::Http, down());
        let s3_proxy = FaultProxy::start(moto.addr, Mode::Http, down());
        let rig = Rig::new();
        let entries = [
            s3_entry(&rig, "bucket", &s3_proxy.url()),
            dav_entry(&rig, "nas", &format!("{}/dav/scans/", dav_proxy.url())),
        ];
        configure(&rig, &entries, "[camera.sim]\nfile_size_kb = 1500\n");
        let summary = scan(&rig, shots);
        assert_eq!(summary["captured"], shots, "{summary}");
        assert_eq!(summary["uploaded"], 0, "{summary}");
        let scan = summary["scan"].as_str().expect("scan id").to_owned();
        let captured = rig.journal(&scan).captured();
        let back = Faults::none().with_latency(latency);
        dav_proxy.set(back);
        s3_proxy.set(back);
        Some(TwoStores {
            dav,
            moto,
            _proxies: (dav_proxy, s3_proxy),
            rig,
            scan,
            captured,
            shots,
        })
    }

    /// Whole photos at (the NAS, the bucket).
    fn tally(&self) -> (usize, usize) {
        let at_nas = whole_photos(&self.dav.served().join(&self.scan), &self.captured).len();
        let bucket = fetched(&self.rig, &self.moto, &self.scan);
        (at_nas, whole_photos(&bucket, &self.captured).len())
    }

    /// The first of the `tallies` after each kill was not yet complete.
    fn assert_killed_early(&self, tallies: &[(usize, usize)]) {
        let shots = self.shots as usize;
        assert!(
            tallies[0].0 < shots || tallies[0].1 < shots,
            "the first kill came after every upload: {tallies:?}"
        );
    }

    /// Every photo once and whole at each, no part upload left, retired.
    fn assert_complete(&self) {
        assert_whole(&self.dav.served().join(&self.scan), self.shots);
        assert_whole(&fetched(&self.rig, &self.moto, &self.scan), self.shots);
        assert_eq!(self.moto.open_uploads(), Vec::<String>::new());
        self.rig
            .assert_retired(&self.scan, "completed", self.shots as usize);
    }
}

#[test]
fn a_destination_down_for_the_whole_scan_holds_up_no_other_and_both_complete_once_it_is_back() {
    let Some((dav, proxy, rig, here, entries)) = here_and_nas_down() else {
        return;
    };
    configure(&rig, &entries, "");
    let summary = scan(&rig, 6);
    assert_eq!(summary["captured"], 6, "{summary}");
    assert_eq!(summary["uploaded"], 0, "no shot is at both: {summary}");
    let scan = summary["scan"].as_str().expect("scan id").to_owned();
    let captured = rig.journal(&scan).captured();
    // While the NAS was down, every photo reached the other destination.
    assert_eq!(
        whole_photos(&here.join(&scan), &captured).len(),
        6,
        "the local folder got every photo while the NAS was down"
    );
    assert!(
        !here.join(&scan).join("manifest.json").exists(),
        "no manifest before every destination has every photo"
    );
    assert!(common::entries(&dav.served().join(&scan)).is_empty());
    assert_eq!(
        whole_photos(&rig.spooled(&scan), &captured).len(),
        6,
        "the photos wait in the spool for the NAS"
    );
    assert!(rig.retired(&scan).is_none(), "the scan is not retired");
    // What waits, per destination.
    let listed = rig.run(&["uploads"]);
    listed.expect_code(0);
    assert!(
        listed.stdout.contains("to here (folder ")
            && listed.stdout.contains("): 0 waiting, manifest -")
            && listed.stdout.contains("): 6 waiting, manifest -")
            && listed.stdout.contains("to nas (WebDAV folder "),
        "{}",
        listed.stdout
    );
    let rows: serde_json::Value =
        serde_json::from_str(&rig.run(&["scans", "--json"]).stdout).expect("JSON");
    let row = rows
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == scan.as_str()))
        .expect("the scan is listed");
    let each: Vec<(&str, u64)> = row["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["waiting"].as_u64().unwrap()))
        .collect();
    assert_eq!(each, [("here", 0), ("nas", 6)], "{row}");

    // The NAS back: only it is sent to, and both complete.
    proxy.set(Faults::none());
    rig.run(&["uploads", "retry"]).expect_code(0);
    let at_nas = assert_whole(&dav.served().join(&scan), 6);
    let at_here = assert_whole(&here.join(&scan), 6);
    let shas = |m: &serde_json::Value| -> Vec<String> {
        let shots = m["shots"].as_array().expect("shots");
        shots
            .iter()
            .flat_map(|s| s["files"].as_array().expect("files").clone())
            .map(|f| f["sha256"].as_str().expect("sha256").to_owned())
            .collect()
    };
    assert_eq!(shas(&at_nas), shas(&at_here), "the same photos at both");
    assert_eq!(
        shas(&at_here),
        captured.values().cloned().collect::<Vec<_>>()
    );
    rig.assert_retired(&scan, "completed", 6);
    // Retired, it still says where its photos went.
    let rows: serde_json::Value =
        serde_json::from_str(&rig.run(&["scans", "--json"]).stdout).expect("JSON");
    let row = rows
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == scan.as_str()))
        .expect("the scan is listed");
    assert_eq!(row["retired"], true, "{row}");
    let names: Vec<&str> = row["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["here", "nas"], "{row}");
}

#[test]
fn kills_while_two_destinations_are_sending_lose_and_double_nothing_at_either() {
    let Some(two) = TwoStores::scanned_while_down(24, Duration::ZERO) else {
        return;
    };
    // Both back, the photos go to both at once; killed at random instants.
    let mut instants = common::Instants::new();
    let mut there = Vec::new();
    for round in 0..8 {
        let running = two.rig.spawn(&["uploads", "retry"]);
        let limit = Duration::from_millis(if round == 0 { 300 } else { 1200 });
        std::thread::sleep(instants.up_to(limit));
        running.kill();
        there.push(two.tally());
    }
    eprintln!("photos at (nas, bucket) after each kill: {there:?}");
    two.assert_killed_early(&there);
    two.rig.run(&["uploads", "retry"]).expect_code(0);
    two.assert_complete();
}

#[test]
fn retries_keep_sending_to_the_destinations_a_scan_started_with_and_say_when_one_is_gone() {
    let Some(dav) = Dav::start() else { return };
    let proxy = FaultProxy::start(dav.addr(), Mode::Http, down());
    let rig = Rig::new();
    let here = rig.root().join("here");
    let nas = dav_entry(&rig, "nas", &format!("{}/dav/scans/", proxy.url()));
    configure(&rig, &[local_entry("here", &here), nas.clone()], "");
    let summary = scan(&rig, 3);
    let scan = summary["scan"].as_str().expect("scan id").to_owned();
    proxy.set(Faults::none());
    // The NAS taken out of the configuration, another folder put in.
    let elsewhere = rig.root().join("elsewhere");
    configure(
        &rig,
        &[
            local_entry("here", &here),
            local_entry("elsewhere", &elsewhere),
        ],
        "",
    );
    let retried = rig.run(&["uploads", "retry"]);
    assert!(
        retried.stderr.contains(
            "which is no longer configured: add a destination of its kind to [[destinations]]"
        ),
        "{}",
        retried.stderr
    );
    let listed = rig.run(&["uploads"]).stdout;
    assert!(listed.contains("no longer configured"), "{listed}");
    assert!(listed.contains("): 3 waiting, manifest -"), "{listed}");
    assert!(
        common::entries(&elsewhere).is_empty(),
        "a destination the scan was not started with gets nothing"
    );
    assert!(rig.retired(&scan).is_none());
    // Put back, the NAS gets the photos, and only it.
    configure(&rig, &[local_entry("here", &here), nas], "");
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_whole(&dav.served().join(&scan), 3);
    assert_whole(&here.join(&scan), 3);
    rig.assert_retired(&scan, "completed", 3);
}

#[test]
fn a_bad_list_of_destinations_is_refused_before_anything_moves() {
    let rig = Rig::new();
    let here = rig.root().join("here");
    configure(
        &rig,
        &[local_entry("here", &here), local_entry("Here", &here)],
        "",
    );
    let out = rig.run(&["check-config"]);
    assert_ne!(out.code, Some(0), "{}", out.stdout);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("destinations[2].name")
            && said.contains("\"Here\" names two destinations")
            && said.contains("config.toml"),
        "{said}"
    );
}

#[test]
fn the_status_the_api_and_the_page_show_what_waits_for_each_destination() {
    let Some((_dav, _proxy, rig, _here, entries)) = here_and_nas_down() else {
        return;
    };
    let web = format!("[web]\nlisten = \"127.0.0.1:0\"\n[daemon]\nprofile = {PROFILE:?}\n");
    configure(&rig, &entries, &web);
    let scan = scan(&rig, 3)["scan"].as_str().expect("scan id").to_owned();
    let (daemon, base) = common::web::serve(&rig);
    let status = common::http::get(&format!("{base}/status")).json();
    assert_eq!(status["backlog"], 3, "{status}");
    assert_eq!(
        status["backlog_at"],
        serde_json::json!({"here": 0, "nas": 3}),
        "{status}"
    );
    let uploads = common::http::get(&format!("{base}/uploads")).json();
    let row = &uploads["scans"][0];
    assert_eq!(row["id"], scan.as_str(), "{uploads}");
    let waiting: Vec<(&str, u64)> = row["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["waiting"].as_u64().unwrap()))
        .collect();
    assert_eq!(waiting, [("here", 0), ("nas", 3)], "{uploads}");
    if webdriver::available() {
        let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
        browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
        let page = base.trim_end_matches("/api/v1");
        browser.goto(&format!("{page}/")).expect("load the page");
        let shown = |selector: &str, said: &str| {
            let text = browser.find(selector)?.text()?;
            Ok(text.contains(said).then_some(()))
        };
        wait(&browser, "the status line's backlog of each", || {
            shown("#backlog", "3 waiting to upload (here 0, nas 3)")
        });
        wait(&browser, "the uploads table's row of each", || {
            shown("#uploads", "here: 0")?;
            shown("#uploads", "nas: 3")
        });
    }
    common::web::stop(daemon);
}

#[test]
fn a_scan_killed_half_way_resumes_to_the_destinations_it_started_with() {
    let Some(dav) = Dav::start() else { return };
    let rig = Rig::new();
    let here = rig.root().join("here");
    let started_with = [
        local_entry("here", &here),
        dav_entry(&rig, "nas", &dav.url()),
    ];
    configure(&rig, &started_with, "[camera.sim]\ndownload_ms = 100\n");
    rig.profile(PROFILE, &ring_profile(12, 0));
    let mut running = rig.spawn(&["scan", "--profile", PROFILE, "--json"]);
    let scan = rig.wait_for_captures(&mut running, 3);
    running.kill();
    assert_eq!(rig.journal(&scan).outcome(), None, "killed before its end");
    // A third destination configured since: the scan does not go there.
    let elsewhere = rig.root().join("elsewhere");
    let mut now = started_with.to_vec();
    now.push(local_entry("elsewhere", &elsewhere));
    configure(&rig, &now, "");
    let moved = rig.run(&["resume", "--dest", "/tmp", "--move-dest"]);
    assert!(
        moved
            .stderr
            .contains("goes to several destinations (here, nas) and cannot be moved"),
        "{}",
        moved.stderr
    );
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["scan"], scan.as_str());
    assert_whole(&here.join(&scan), 12);
    assert_whole(&dav.served().join(&scan), 12);
    assert!(common::entries(&elsewhere).is_empty(), "nothing elsewhere");
    rig.assert_retired(&scan, "completed", 12);
}

#[test]
fn the_mqtt_status_shows_what_waits_for_each_destination() {
    let Some(broker) = common::broker::Broker::start(&["rig-a"]) else {
        return;
    };
    let Some((_dav, _proxy, rig, _here, entries)) = here_and_nas_down() else {
        return;
    };
    configure(&rig, &entries, &broker.rig_config("rig-a", rig.root(), ""));
    scan(&rig, 3);
    let watch = broker.client(common::broker::VIEWER, &["scanrig/rig-a/status"]);
    let running = rig.spawn(&["daemon"]);
    let status = watch.wait(
        "a status with the backlog of each destination",
        common::DEADLINE,
        |m| m.json()["backlog_at"] == serde_json::json!({"here": 0, "nas": 3}),
    );
    assert_eq!(status.json()["backlog"], 3, "{}", status.text);
    running.kill();
}

#[test]
fn the_daemon_killed_while_sending_to_two_destinations_then_restarted_delivers_each_photo_once_at_each(
) {
    // Both back, a little way off.
    let Some(two) = TwoStores::scanned_while_down(16, Duration::from_millis(5)) else {
        return;
    };
    // The photos due at once (the backlog only schedules retries: without
    // it every waiting photo is due).
    std::fs::remove_file(two.rig.spooled(&two.scan).join("backlog.json")).expect("a backlog");
    let mut instants = common::Instants::new();
    let mut there = Vec::new();
    for round in 0..4 {
        let mut daemon = two.rig.spawn(&["daemon"]);
        daemon.wait_for_stderr("ready; press Start", common::DEADLINE);
        // The first kill early, before the photos could all be sent.
        let limit = Duration::from_millis(if round == 0 { 200 } else { 800 });
        std::thread::sleep(instants.up_to(limit));
        daemon.kill();
        there.push(two.tally());
    }
    eprintln!("photos at (nas, bucket) after each kill of the daemon: {there:?}");
    two.assert_killed_early(&there);
    let mut daemon = two.rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("scan retired", common::DEADLINE);
    daemon.signal(libc::SIGTERM);
    daemon.wait(common::DEADLINE).expect_code(0);
    two.assert_complete();
}

#[test]
fn destination_test_checks_each_destination_or_the_one_named() {
    let rig = Rig::new();
    let here = rig.root().join("here");
    std::fs::create_dir_all(&here).unwrap();
    // The USB stick is not mounted: its folder's parent is a file.
    std::fs::write(rig.root().join("not-a-folder"), b"").unwrap();
    let usb_missing = rig.root().join("not-a-folder").join("usb");
    configure(
        &rig,
        &[local_entry("here", &here), local_entry("usb", &usb_missing)],
        "",
    );
    let all = rig.run(&["destination", "test"]);
    assert_eq!(all.code, Some(1), "{}", all.stdout);
    assert!(
        all.stdout.contains("destination here: folder "),
        "{}",
        all.stdout
    );
    assert!(
        all.stdout.contains("destination usb: folder "),
        "{}",
        all.stdout
    );
    assert_eq!(
        all.stdout.matches("  OK: reached").count(),
        1,
        "{}",
        all.stdout
    );
    assert_eq!(
        all.stdout.matches("  FAILED: ").count(),
        1,
        "{}",
        all.stdout
    );
    rig.run(&["destination", "test", "here"]).expect_code(0);
    let unknown = rig.run(&["destination", "test", "nas"]);
    assert_ne!(unknown.code, Some(0));
    assert!(
        unknown
            .stderr
            .contains("there is no destination `nas`: [[destinations]] names here, usb"),
        "{}",
        unknown.stderr
    );
}
