//! Whole scans to Google Drive, played by a fake Drive and OAuth server this
//! test starts on loopback: the real binary signs in, makes its folders,
//! uploads through resumable sessions and single requests, and asks Drive
//! about photos after a crash, while the fake fails requests on purpose.

mod common;
mod drive_rig;
mod fake_drive;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{ring_profile, Rig, DEADLINE};
use drive_rig::{assert_delivered, drive_rig, scan, token_file, write_token, FOLDER, SCOPE};
use fake_drive::{FakeDrive, Fault, Faults};
use serde_json::Value;

#[test]
fn scan_uploads_every_photo_once_through_a_flaky_network() {
    let fake = FakeDrive::start();
    fake.set_faults(Faults {
        fail_ratio: 0.2,
        seed: 7,
        kinds: vec![
            Fault::ServerError,
            Fault::TooManyRequests,
            Fault::RateLimited,
            Fault::ResetMidBody,
            Fault::ShortConfirm,
        ],
    });
    // 600 KiB photos: three 256 KiB pieces each, through resumable sessions.
    let rig = drive_rig(&fake, "[camera.sim]\nfile_size_kb = 600\n");
    let profile = ring_profile(10, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    let stats = fake.stats();
    assert!(
        stats.faults_injected >= 5,
        "faults were injected: {stats:?}"
    );
    assert!(
        stats.sessions_started >= 10,
        "resumable sessions: {stats:?}"
    );
    assert!(
        stats.token_refreshes >= 1,
        "the expired token was refreshed: {stats:?}"
    );
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(token_file(&rig)).unwrap()).unwrap();
    assert_ne!(
        stored["token"]["access_token"], "expired-at-start",
        "the new token is kept"
    );
    let mode = std::fs::metadata(token_file(&rig))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn small_photos_go_in_one_request_and_survive_faults_too() {
    let fake = FakeDrive::start();
    fake.set_faults(Faults {
        fail_ratio: 0.2,
        seed: 11,
        kinds: vec![Fault::ServerError, Fault::ResetMidBody, Fault::RateLimited],
    });
    let rig = drive_rig(&fake, "");
    let profile = ring_profile(12, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    assert_eq!(
        fake.stats().sessions_started,
        0,
        "small photos need no session"
    );
}

#[test]
fn folder_ids_are_cached_not_looked_up_per_photo() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    let profile = ring_profile(12, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    // rigs, bench, the scan folder, colmap/ in it, the manifest and each
    // pose prior: one query each; none per photo.
    // COLMAP's 4 files, Metashape's CSV, an XMP and a JSON per photo.
    let priors = 4 + 1 + 2 * 12;
    let lists = fake.stats().list_queries;
    assert!(lists <= 5 + priors, "{lists} list queries for 12 photos");
}

#[test]
fn a_copy_damaged_on_the_way_is_removed_and_sent_again() {
    let fake = FakeDrive::start();
    fake.corrupt_next_uploads(2);
    let rig = drive_rig(&fake, "[camera.sim]\nfile_size_kb = 300\n");
    let profile = ring_profile(6, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    assert!(
        fake.stats().deletes >= 2,
        "damaged copies deleted: {:?}",
        fake.stats()
    );
}

#[test]
fn server_side_expiry_is_met_with_a_refresh() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    // An access token the client still believes in, which Drive refuses.
    write_token(&rig, &fake, "revoked-by-server", false);
    let profile = ring_profile(4, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    let stats = fake.stats();
    assert!(
        stats.unauthorized >= 1 && stats.token_refreshes >= 1,
        "{stats:?}"
    );
}

#[test]
fn a_revoked_authorisation_keeps_the_photos_and_says_what_to_do() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    fake.revoke();
    rig.profile("drive", &ring_profile(4, 0));
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    let summary = out.summary();
    assert_eq!(summary["captured"], 4, "{summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");
    assert!(out.stderr.contains("scanrig auth drive"), "{}", out.stderr);
    let scan = summary["scan"].as_str().unwrap().to_owned();
    assert_eq!(
        rig.journal(&scan).captured().len(),
        4,
        "the photos are kept"
    );
    assert!(fake
        .files()
        .iter()
        .all(|f| f.mime_type == FOLDER || f.name.is_empty()));
    // Authorised again, the waiting photos go up.
    let auth = rig.run(&["auth", "drive"]);
    auth.expect_code(0);
    assert!(auth.stdout.contains("ABCD-EFGH"), "{}", auth.stdout);
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &fake, &scan, &ring_profile(4, 0));
}

#[test]
fn auth_drive_runs_the_device_flow_and_keeps_tokens_private() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    std::fs::remove_file(token_file(&rig)).unwrap();
    let status = rig.run(&["auth", "status"]);
    status.expect_code(1);
    assert!(
        status.stderr.contains("run `scanrig auth drive`"),
        "{}",
        status.stderr
    );
    let out = rig.run(&["auth", "drive"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("https://www.google.com/device"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("ABCD-EFGH"), "{}", out.stdout);
    let mode = std::fs::metadata(token_file(&rig))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let stored = std::fs::read_to_string(token_file(&rig)).unwrap();
    let token: Value = serde_json::from_str(&stored).unwrap();
    let access = token["token"]["access_token"].as_str().unwrap().to_owned();
    let status = rig.run(&["auth", "status"]);
    status.expect_code(0);
    assert!(
        status.stdout.contains("Fake User <rig@example.com>"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains(SCOPE), "{}", status.stdout);
    for text in [&out.stdout, &out.stderr, &status.stdout, &status.stderr] {
        assert!(!text.contains(&access), "a token was printed: {text}");
        assert!(
            !text.contains(&fake.valid_refresh_token()),
            "a token was printed: {text}"
        );
    }
}

#[test]
fn quota_exceeded_stops_retrying_and_says_so() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    fake.set_quota_exceeded(true);
    rig.profile("drive", &ring_profile(3, 0));
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    let summary = out.summary();
    assert_eq!(summary["uploaded"], 0, "{summary}");
    assert_eq!(summary["upload_failed"], 3, "{summary}");
    assert!(
        out.stderr.contains("storageQuotaExceeded"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("scanrig uploads retry"),
        "{}",
        out.stderr
    );
    let requests = fake.stats().requests;
    assert!(
        requests < 40,
        "{requests} requests: retried what cannot succeed"
    );
    fake.set_quota_exceeded(false);
    rig.run(&["uploads", "retry"]).expect_code(0);
    let scan = summary["scan"].as_str().unwrap();
    assert_delivered(&rig, &fake, scan, &ring_profile(3, 0));
}

#[test]
fn offline_the_scan_goes_on_and_the_photos_wait() {
    let fake = FakeDrive::start();
    // Every request is cut off, as with no network at all.
    fake.set_faults(Faults {
        fail_ratio: 1.0,
        seed: 1,
        kinds: vec![Fault::ResetMidBody],
    });
    let rig = drive_rig(&fake, "[destination.drive]\nretries = 1\n");
    let profile = ring_profile(5, 0);
    rig.profile("drive", &profile);
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    let summary = out.summary();
    assert_eq!(summary["captured"], 5, "the scan went on: {summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");
    let scan = summary["scan"].as_str().unwrap().to_owned();
    // `scanrig uploads` says what waits and why.
    let listing = rig.run(&["uploads"]);
    let row = listing
        .stdout
        .lines()
        .find(|l| l.starts_with(&scan))
        .unwrap_or_else(|| panic!("{scan} not listed:\n{}", listing.stdout));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cols[1..],
        ["completed", "5", "5", "0", "5", "5", "-"],
        "{row}"
    );
    assert!(
        listing
            .stdout
            .contains("last failure (shot 5): Google Drive: cannot"),
        "{}",
        listing.stdout
    );
    fake.set_faults(Faults::default());
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &fake, &scan, &profile);
}

#[test]
fn killed_mid_upload_it_resumes_the_session_without_a_second_copy() {
    let fake = FakeDrive::start();
    // 1.5 MiB photos in 256 KiB pieces, one upload at a time.
    let rig = drive_rig(
        &fake,
        "[camera.sim]\nfile_size_kb = 1500\n[upload]\nworkers = 1\n",
    );
    let profile = ring_profile(3, 0);
    rig.profile("drive", &profile);
    let hold = fake.hold_uploads();
    let running = rig.spawn(&["scan", "--profile", "drive", "--json"]);
    assert!(
        fake.wait_for_session_bytes(512 * 1024, DEADLINE),
        "no upload got going\n{}",
        running.stderr()
    );
    running.kill();
    drop(hold);
    let before: BTreeMap<String, usize> = count_names(&fake);
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    let scan = common::assert_summary_complete(&out.summary(), 3);
    assert_delivered(&rig, &fake, &scan, &profile);
    let stats = fake.stats();
    assert!(
        stats.status_queries >= 1,
        "the saved session was asked where it stood: {stats:?}"
    );
    assert!(before.values().all(|&n| n <= 1), "{before:?}");
}

#[test]
fn sigkill_at_random_instants_during_a_burst_of_uploads_loses_and_doubles_nothing() {
    let fake = FakeDrive::start();
    let (rig, scan) = spooled_rig(&fake, 24, 16, "");
    // Every request 20 ms late: a pass over the 24 photos takes about
    // half a second, so the kills land in the middle of it.
    fake.set_latency(Duration::from_millis(20));
    let mut instants = common::Instants::new();
    // Each `uploads retry` sends the waiting photos, four at a time: their
    // records come back together and are committed in groups.
    let mut sent = Vec::new();
    for round in 0..6 {
        let running = rig.spawn(&["uploads", "retry"]);
        // The first kill early, before the pass could be over.
        let within = if round == 0 { 100 } else { 250 };
        std::thread::sleep(instants.up_to(Duration::from_millis(within)));
        running.kill();
        let copies = count_names(&fake);
        assert!(
            copies.values().all(|&n| n == 1),
            "a second copy: {copies:?}"
        );
        sent.push(copies.keys().filter(|n| n.ends_with(".jpg")).count());
    }
    assert!(
        sent[0] < 24,
        "the first kill came after every upload: {sent:?}"
    );
    eprintln!("photos at Drive after each kill: {sent:?}");
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &fake, &scan, &ring_profile(24, 0));
}

#[test]
fn fifty_scans_behind_a_refusing_drive_are_each_uploaded_once_when_it_takes_them() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    fake.set_quota_exceeded(true);
    let profile = ring_profile(2, 0);
    rig.profile("drive", &profile);
    let mut scans = Vec::new();
    for _ in 0..50 {
        let out = rig.run(&["scan", "--profile", "drive", "--json"]);
        let summary = out.summary();
        assert_eq!(
            (&summary["captured"], &summary["uploaded"]),
            (&Value::from(2), &Value::from(0)),
            "{summary}"
        );
        scans.push(summary["scan"].as_str().unwrap().to_owned());
    }
    // Each scan's start tried only what was due: no photo went twice to a
    // Drive that refused it, and the journals did not grow per pass (each
    // holds its start, two captures, two judgements, the failed uploads
    // and the end).
    let lines: usize = scans.iter().map(|s| rig.journal(s).records.len()).sum();
    assert!(
        lines <= 50 * 7,
        "{lines} journal lines for 50 scans of 2 photos"
    );
    fake.set_quota_exceeded(false);
    rig.run(&["uploads", "retry"]).expect_code(0);
    // Every photo once in its scan's folder, with its manifest.
    for scan in &scans {
        assert_delivered(&rig, &fake, scan, &profile);
    }
    let photos = fake
        .files()
        .iter()
        .filter(|f| f.name.ends_with(".jpg"))
        .count();
    assert_eq!(photos, 100);
}

fn count_names(fake: &FakeDrive) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in fake.files() {
        *out.entry(f.name).or_insert(0) += 1;
    }
    out
}

/// Spools `photos` photos of `size_kb` KiB for the fake to receive later: a
/// scan while Drive refuses everything (its quota is full).
fn spooled_rig(fake: &FakeDrive, photos: u32, size_kb: u32, extra: &str) -> (Rig, String) {
    let rig = drive_rig(
        fake,
        &format!("[camera.sim]\nfile_size_kb = {size_kb}\n{extra}"),
    );
    fake.set_quota_exceeded(true);
    rig.profile("drive", &ring_profile(photos, 0));
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    let summary = out.summary();
    assert_eq!(summary["captured"], photos, "{summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");
    fake.set_quota_exceeded(false);
    (rig, summary["scan"].as_str().unwrap().to_owned())
}

/// Photos per second `scanrig uploads retry` sends to the fake, which
/// answers every request 50 ms late: 16 photos of 1 MiB, each a session
/// and four 256 KiB pieces, timed from the first session to the last photo
/// (the folders before and the manifest after are the same either way).
fn upload_rate(workers: u32) -> f64 {
    let fake = FakeDrive::start();
    let (rig, scan) = spooled_rig(&fake, 16, 1024, "");
    fake.set_latency(Duration::from_millis(50));
    let mut cmd = rig.command(&["uploads", "retry"]);
    cmd.env("SCANRIG_UPLOAD__WORKERS", workers.to_string());
    common::Running::start(cmd)
        .wait(Duration::from_secs(300))
        .expect_code(0);
    assert_delivered(&rig, &fake, &scan, &ring_profile(16, 0));
    let first = fake.stats().first_session_at.expect("sessions");
    let last = fake
        .files()
        .iter()
        .filter(|f| f.name.ends_with(".jpg"))
        .map(|f| f.created_at)
        .max()
        .expect("photos");
    16.0 / (last - first).as_secs_f64()
}

/// Peak RSS (KiB) of `scanrig uploads retry` sending `photos` photos of
/// 25 MB in 8 MiB pieces with 4 workers, as GNU time reports it. (The
/// rusage of a child of this test would count this process's own memory,
/// shared until the child's exec.)
fn upload_peak_rss_kib(photos: u32) -> u64 {
    let fake = FakeDrive::start();
    let (rig, scan) = spooled_rig(
        &fake,
        photos,
        25 * 1024,
        "[destination.drive]\nchunk_kb = 8192\n",
    );
    let cmd = rig.command(&["uploads", "retry"]);
    let mut timed = std::process::Command::new("/usr/bin/time");
    timed
        .args(["-f", "maxrss_kib=%M", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    timed
        .current_dir(rig.root())
        .stdin(std::process::Stdio::null());
    let out = timed.output().expect("GNU time (apt install time)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "uploads retry failed: {stderr}");
    assert_delivered(&rig, &fake, &scan, &ring_profile(photos, 0));
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss from GNU time: {stderr}"))
}

#[test]
#[ignore = "benchmark: cargo test --release --test drive -- --ignored --nocapture"]
fn bench_drive_uploads() {
    let one = upload_rate(1);
    let four = upload_rate(4);
    let speedup = four / one;
    println!("photos of 1 MiB, 50 ms per request: 1 worker {one:.2} photos/s, 4 workers {four:.2} photos/s, speed-up {speedup:.2}x (target >= 3.5x)");
    let small = upload_peak_rss_kib(2);
    let big = upload_peak_rss_kib(8);
    println!(
        "peak RSS of `uploads retry` with 25 MB photos: 2 photos {:.1} MB, 8 photos {:.1} MB (target: flat, < 40 MB)",
        small as f64 / 1024.0,
        big as f64 / 1024.0
    );
    assert!(speedup >= 3.5, "speed-up {speedup:.2}");
    assert!(big < 40 * 1024, "peak RSS {big} KiB");
}

#[test]
fn the_idle_daemon_sends_waiting_photos_when_the_network_returns() {
    let fake = FakeDrive::start();
    fake.set_faults(Faults {
        fail_ratio: 1.0,
        seed: 3,
        kinds: vec![Fault::ResetMidBody],
    });
    let profile = ring_profile(3, 0);
    let rig = drive_rig(
        &fake,
        // Photos a run gave up on are due again a second later.
        "[destination.drive]\nretries = 1\n[upload]\nretry_every_s = 1\nbacklog_wait_s = 1\nbacklog_wait_max_s = 1\n[daemon]\nprofile = \"drive\"\n",
    );
    rig.profile("drive", &profile);
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("ready; press Start", DEADLINE);
    daemon.signal(libc::SIGUSR1);
    daemon.wait_for_stderr("scan summary", DEADLINE);
    let scan = rig.only_scan();
    assert_eq!(
        rig.journal(&scan).captured().len(),
        3,
        "the scan went on offline"
    );
    assert!(fake.files().iter().all(|f| !f.name.ends_with(".jpg")));
    // The network is back: no command needed.
    fake.set_faults(Faults::default());
    // Retired once the manifest is at Drive.
    daemon.wait_until("the scan retired", DEADLINE, || rig.is_retired(&scan));
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    assert_delivered(&rig, &fake, &scan, &profile);
}

#[test]
fn a_second_sigterm_stops_the_daemon_at_once_and_the_photo_on_its_way_waits() {
    let fake = FakeDrive::start();
    // 1.5 MiB photos in 256 KiB pieces, one upload at a time; the fake
    // holds every piece: the upload in flight never ends by itself.
    let rig = drive_rig(
        &fake,
        "[camera.sim]\nfile_size_kb = 1500\n[upload]\nworkers = 1\n[daemon]\nprofile = \"drive\"\n",
    );
    let profile = ring_profile(2, 0);
    rig.profile("drive", &profile);
    let hold = fake.hold_uploads();
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("ready; press Start", DEADLINE);
    daemon.signal(libc::SIGUSR1);
    assert!(
        fake.wait_for_session_bytes(256 * 1024, DEADLINE),
        "no upload got going\n{}",
        daemon.stderr()
    );
    // The first stops the scan and waits for the upload in flight...
    daemon.signal(libc::SIGTERM);
    daemon.wait_for_stderr("stopping:", DEADLINE);
    // ...the second does not.
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(Duration::from_secs(20));
    out.expect_code(0);
    drop(hold);
    let scan = rig.only_scan();
    let captured = rig.journal(&scan).captured();
    assert!(!captured.is_empty());
    assert!(
        fake.files().iter().all(|f| !f.name.ends_with(".jpg")),
        "no photo arrived while held"
    );
    // Nothing was lost: the next run sends every photo captured, once.
    rig.run(&["uploads", "retry"]).expect_code(0);
    let copies = count_names(&fake);
    for name in captured.keys() {
        assert_eq!(copies.get(name), Some(&1), "{name}: {copies:?}");
    }
}

/// How the next run's own creates go, once the killed one's is on its way.
#[derive(Clone, Copy)]
enum NextRun {
    /// At once: they land first, and the late one is refused.
    Fast,
    /// Late as well: the killed run's create lands first, and the next
    /// run's is refused (409), yet finds the file by its id.
    Late,
}

/// Scans until the fake Drive has the create of the file `name` gives
/// (from the scan's id) in hand, kills scanrig there (SIGKILL) and runs
/// `then` at once, while that create is still to land; then checks the
/// scan arrived whole, each file and folder once.
fn killed_while_a_create_is_on_its_way(
    name: impl Fn(&str) -> String,
    then: &[&str],
    workers: u32,
    next: NextRun,
) {
    let fake = FakeDrive::start();
    let rig = drive_rig(
        &fake,
        &format!("[camera.sim]\nfile_size_kb = 16\n[upload]\nworkers = {workers}\n"),
    );
    let profile = ring_profile(3, 0);
    rig.profile("drive", &profile);
    // Drive finishes a create 3 s after its body came, client or not.
    fake.complete_creates_late(Duration::from_secs(3));
    let mut running = rig.spawn(&["scan", "--profile", "drive", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 0);
    let name = name(&scan);
    assert!(
        fake.wait_for_late_create(&name, DEADLINE),
        "no create of {name}\n{}",
        running.stderr()
    );
    running.kill();
    assert!(
        !fake.files().iter().any(|f| f.name == name),
        "{name} landed before the kill"
    );
    // The next run looks for it before it lands, and sends it again.
    if let NextRun::Fast = next {
        fake.complete_creates_late(Duration::ZERO);
    }
    rig.run(then).expect_code(0);
    assert!(fake.wait_for_late_creates_to_land(DEADLINE));
    assert!(
        fake.stats().id_conflicts >= 1,
        "Drive refused the second create by its id: {:?}",
        fake.stats()
    );
    assert_delivered(&rig, &fake, &scan, &profile);
    let copies = count_names(&fake);
    assert!(copies.values().all(|&n| n == 1), "{copies:?}");
}

#[test]
fn a_photo_created_after_a_kill_is_not_stored_twice() {
    let first = common::plan("drive", &common::rings_of(&ring_profile(3, 0)))[0]
        .name
        .clone();
    killed_while_a_create_is_on_its_way(|_| first.clone(), &["resume", "--json"], 1, NextRun::Fast);
}

#[test]
fn a_manifest_created_after_a_kill_is_not_stored_twice() {
    killed_while_a_create_is_on_its_way(
        |_| "manifest.json".into(),
        &["uploads", "retry"],
        4,
        NextRun::Late,
    );
}

#[test]
fn a_scan_folder_created_after_a_kill_is_not_made_twice() {
    killed_while_a_create_is_on_its_way(
        |scan| scan.to_owned(),
        &["resume", "--json"],
        1,
        NextRun::Fast,
    );
}

#[test]
fn a_kept_file_id_that_drive_no_longer_takes_is_replaced() {
    let fake = FakeDrive::start();
    let (rig, scan) = spooled_rig(&fake, 2, 16, "");
    // The ids kept beside the waiting photos are ones Drive refuses (never
    // handed out, or handed out too long ago).
    for name in rig.journal(&scan).captured().keys() {
        let kept = rig.spooled(&scan).join(format!(".{name}.drive-id"));
        std::fs::write(kept, "not-an-id-drive-gave").unwrap();
    }
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &fake, &scan, &ring_profile(2, 0));
}

#[test]
fn a_service_account_uploads_into_a_shared_folder_by_id() {
    let fake = FakeDrive::start();
    let shared = fake.add_folder("Team scans", "shared-drive-1");
    let rig = drive_rig::service_account_rig(&fake, &shared);
    let profile = ring_profile(3, 0);
    let (scan, _) = scan(&rig, &profile);
    let files = fake.files();
    let folder = files
        .iter()
        .find(|f| f.name == scan && f.mime_type == FOLDER)
        .expect("the scan's folder");
    assert_eq!(
        folder.parents,
        std::slice::from_ref(&shared),
        "in the shared folder"
    );
    let photos = files
        .iter()
        .filter(|f| f.parents == [folder.id.clone()])
        .count();
    // And the pose priors: an XMP and a JSON per photo, the Metashape CSV
    // and the COLMAP folder.
    assert_eq!(photos, 4 + 2 * 3 + 2, "3 photos, the manifest, the priors");
    let status = rig.run(&["auth", "status"]);
    status.expect_code(0);
    assert!(
        status
            .stdout
            .contains("service account rig@scanrig-test.iam.gserviceaccount.com"),
        "{}",
        status.stdout
    );
}

#[test]
fn requests_that_time_out_are_retried_without_a_second_copy() {
    let fake = FakeDrive::start();
    // Slow answers come after the client gave up, yet the server acted on
    // the request: exactly what makes a retried create dangerous.
    fake.set_faults(Faults {
        fail_ratio: 0.25,
        seed: 5,
        kinds: vec![Fault::Slow],
    });
    let rig = drive_rig(
        &fake,
        "[destination.drive]\ntimeout_s = 1\n[camera.sim]\nfile_size_kb = 40\n",
    );
    let profile = ring_profile(8, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    assert!(fake.stats().faults_injected >= 2, "{:?}", fake.stats());
}
