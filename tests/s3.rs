//! Whole scans to an S3 bucket served by moto, which the tests start on loopback: every photo once and intact through kills, a failing network and objects in the way, big photos in parts, and what is wrong told in words.

mod common;
mod s3_store;

use std::time::Duration;

use common::fault_proxy::{FaultProxy, Faults, Mode};
use common::{ring_profile, Rig};
use s3_store::{assert_delivered, key_file, s3_rig, scan, Moto, BUCKET, PREFIX, SECRET};

/// A scan with its photos captured and none sent: the store answered
/// nothing but 500 and 503 (the proxy's own, no request passed on) the
/// whole scan.
fn spooled(moto: &Moto, photos: u32, extra: &str) -> (Rig, FaultProxy, String, String) {
    let failing = Faults {
        error: 1.0,
        ..Faults::none()
    };
    let proxy = FaultProxy::start(moto.addr, Mode::Http, failing);
    let rig = s3_rig(&proxy.url(), extra);
    let profile = ring_profile(photos, 0);
    let summary = scan(&rig, &profile);
    assert_eq!(summary["captured"], photos, "{summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");
    let id = summary["scan"].as_str().expect("scan id").to_owned();
    proxy.set(Faults::none());
    (rig, proxy, id, profile)
}

#[test]
fn a_scan_arrives_whole_each_photo_once_with_its_sha256_recorded() {
    let Some(moto) = Moto::start() else { return };
    let rig = s3_rig(&moto.url, "");
    let profile = ring_profile(8, 0);
    let summary = scan(&rig, &profile);
    let id = common::assert_summary_complete(&summary, 8);
    assert_delivered(&rig, &moto, &id, &profile);
    rig.assert_retired(&id, "completed", 8);
    let place = &rig.retired(&id).expect("retired")["destination"];
    assert_eq!(place["kind"], "s3", "{place}");
    assert_eq!(place["bucket"], BUCKET, "{place}");
    assert_eq!(place["prefix"], PREFIX, "{place}");
}

#[test]
fn a_raw_sized_photo_goes_up_in_parts_and_none_is_left_open() {
    let Some(moto) = Moto::start() else { return };
    // 12 MB photos over the 5 MB limit: three parts of at most 5 MB.
    let rig = s3_rig(&moto.url, "[camera.sim]\nfile_size_kb = 12000\n");
    let profile = ring_profile(2, 0);
    let summary = scan(&rig, &profile);
    let id = common::assert_summary_complete(&summary, 2);
    assert_delivered(&rig, &moto, &id, &profile);
    for key in moto.keys(&format!("{PREFIX}/{id}/")) {
        let object = moto.object(&key);
        let etag = object.header("etag").expect("an ETag").trim_matches('"');
        // S3 marks an object put together from parts by "-<parts>".
        let parts = key.ends_with(".jpg").then_some("-3");
        assert_eq!(
            etag.strip_suffix("-3").is_some(),
            parts.is_some(),
            "{key}: {etag}"
        );
    }
}

#[test]
fn an_upload_left_open_by_a_run_killed_before_it_kept_the_id_is_aborted() {
    let Some(moto) = Moto::start() else { return };
    let (rig, _proxy, id, profile) = spooled(&moto, 2, "[camera.sim]\nfile_size_kb = 6000\n");
    for planned in common::plan("s3", &common::rings_of(&profile)) {
        moto.leave_upload_open(&format!("{PREFIX}/{id}/{}", planned.name));
    }
    assert_eq!(moto.open_uploads().len(), 2);
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &moto, &id, &profile);
}

#[test]
fn sigkill_at_random_instants_during_uploads_loses_doubles_and_leaves_open_nothing() {
    let Some(moto) = Moto::start() else { return };
    // 6 MB photos go up in two parts each, two photos at a time, 20 ms
    // late each way: a pass takes long enough for each kill to land in the
    // middle of uploads.
    let extra = "[camera.sim]\nfile_size_kb = 6000\n[upload]\nworkers = 2\n";
    let (rig, proxy, id, profile) = spooled(&moto, 16, extra);
    proxy.set(Faults::none().with_latency(Duration::from_millis(20)));
    let mut instants = common::Instants::new();
    let mut arrived = Vec::new();
    for round in 0..12 {
        let running = rig.spawn(&["uploads", "retry"]);
        let within = if round == 0 { 400 } else { 700 };
        std::thread::sleep(instants.up_to(Duration::from_millis(within)));
        running.kill();
        let keys = moto.keys(&format!("{PREFIX}/{id}/"));
        arrived.push(keys.iter().filter(|k| k.ends_with(".jpg")).count());
    }
    eprintln!("photos in the bucket after each kill: {arrived:?}");
    assert!(
        arrived[0] < 16,
        "the first kill came after every upload: {arrived:?}"
    );
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &moto, &id, &profile);
}

#[test]
fn a_fifth_of_requests_failing_loses_and_doubles_nothing() {
    // 300 KB photos, each in one request.
    through_a_failing_network(16, 300);
}

#[test]
fn a_fifth_of_requests_failing_loses_and_doubles_no_photo_sent_in_parts() {
    // 6 MB photos, each in two parts.
    through_a_failing_network(4, 6000);
}

/// A scan of `photos` photos of `size_kb` KiB through the proxy failing a
/// fifth of the requests (cut, stalled past the client's timeout, or
/// answered 500/503), then, for what gave up, a pass without faults:
/// every photo once, intact, no upload left open.
fn through_a_failing_network(photos: u32, size_kb: u32) {
    let Some(moto) = Moto::start() else { return };
    let faults = Faults::at(
        common::unix_ms(),
        0.2,
        Mode::Http,
        Duration::from_millis(2500),
    );
    let proxy = FaultProxy::start(moto.addr, Mode::Http, faults);
    let rig = s3_rig(
        &proxy.url(),
        &format!("[camera.sim]\nfile_size_kb = {size_kb}\n"),
    );
    let profile = ring_profile(photos, 0);
    let summary = scan(&rig, &profile);
    let id = summary["scan"].as_str().expect("scan id").to_owned();
    // Whatever gave up (a photo, a pose prior, hence the manifest) waits
    // in the spool; the next pass sends it.
    if !rig.is_retired(&id) {
        proxy.set(Faults::none());
        rig.run(&["uploads", "retry"]).expect_code(0);
    }
    let tally = proxy.tally();
    eprintln!("{tally:?}");
    assert!(tally.cuts + tally.stalls + tally.errors >= 3, "{tally:?}");
    assert_delivered(&rig, &moto, &id, &profile);
}

#[test]
fn a_store_refusing_conditional_creates_gets_a_look_before_each_photo() {
    let Some(moto) = Moto::start() else { return };
    let refusing = Faults {
        refuse_header: Some(("if-none-match", 501)),
        ..Faults::none()
    };
    let proxy = FaultProxy::start(moto.addr, Mode::Http, refusing);
    let rig = s3_rig(&proxy.url(), "");
    let profile = ring_profile(4, 0);
    let summary = scan(&rig, &profile);
    let id = summary["scan"].as_str().expect("scan id").to_owned();
    if !rig.is_retired(&id) {
        rig.run(&["uploads", "retry"]).expect_code(0);
    }
    assert!(proxy.tally().refused >= 1, "{:?}", proxy.tally());
    assert_delivered(&rig, &moto, &id, &profile);
}

#[test]
fn an_object_already_there_with_other_bytes_is_refused_naming_both_checksums() {
    let Some(moto) = Moto::start() else { return };
    let (rig, _proxy, id, profile) = spooled(&moto, 4, "");
    let names = common::plan("s3", &common::rings_of(&profile));
    let taken = &names[1].name;
    let key = format!("{PREFIX}/{id}/{taken}");
    moto.put(&key, "somebody else's photo");
    let theirs = common::sha256(b"somebody else's photo");
    let ours = common::sha256(&std::fs::read(rig.spooled(&id).join(taken)).expect("spooled"));
    let out = rig.run(&["uploads", "retry"]);
    let told = format!("{}{}", out.stdout, out.stderr);
    assert!(
        told.contains(&theirs) && told.contains(&ours) && told.contains(&key),
        "both checksums and the key are named:\n{told}"
    );
    assert_eq!(
        moto.object(&key).body,
        b"somebody else's photo",
        "never replaced"
    );
    let others = moto.keys(&format!("{PREFIX}/{id}/"));
    assert!(
        names
            .iter()
            .filter(|p| &p.name != taken)
            .all(|p| others.contains(&format!("{PREFIX}/{id}/{}", p.name))),
        "the other photos arrived: {others:?}"
    );
    let waiting = rig.run(&["uploads"]);
    assert!(
        waiting.stdout.contains(taken.as_str()),
        "{}",
        waiting.stdout
    );
    assert!(!told.contains(SECRET) && !waiting.stdout.contains(SECRET));
}

#[test]
fn refused_keys_a_missing_bucket_no_permission_dns_and_tls_are_told_in_words() {
    let Some((moto, keys)) = Moto::with_keys() else {
        return;
    };
    let (writer, secret) = &keys["writer"];
    let (nobody, nobody_secret) = &keys["nobody"];
    let rig = s3_rig(&moto.url, "");
    key_file(&rig, writer, secret);
    let out = rig.run(&["destination", "test", "s3"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("OK: reached; a test object was written, read back and deleted"),
        "{}",
        out.stdout
    );
    assert!(
        moto.keys_signed(writer, secret).is_empty(),
        "the test object is gone"
    );

    let tls = format!("[destination.s3]\nendpoint = \"https://{}\"\n", moto.addr);
    let cases = [
        (
            "AKIDNOSUCHKEY0000000",
            SECRET,
            "",
            "does not know the access key id AKIDNOSUCHKEY0000000 (InvalidAccessKeyId)",
        ),
        (
            writer.as_str(),
            SECRET,
            "",
            "refused the secret of access key",
        ),
        (
            nobody.as_str(),
            nobody_secret.as_str(),
            "",
            "(AccessDenied)",
        ),
        (
            writer,
            secret,
            "[destination.s3]\nbucket = \"no-such-bucket\"\n",
            "there is no bucket no-such-bucket",
        ),
        (
            writer,
            secret,
            "[destination.s3]\nendpoint = \"http://scanrig-test.invalid:9\"\n",
            "does not resolve (DNS)",
        ),
        (writer, secret, &tls, "the TLS connection to https://"),
    ];
    for (id, key, extra, words) in cases {
        let rig = s3_rig(&moto.url, extra);
        key_file(&rig, id, key);
        let out = rig.run(&["destination", "test"]);
        out.expect_code(1);
        assert!(
            out.stdout.contains(words),
            "{words}:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        for secret in [SECRET, secret.as_str(), nobody_secret.as_str()] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "a secret shown:\n{}{}",
                out.stdout,
                out.stderr
            );
        }
    }
    let out = rig.run(&["destination", "test", "drive"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("there is no destination `drive`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_manifest_key_holding_an_object_scanrig_did_not_write_is_left_alone() {
    let Some(moto) = Moto::start() else { return };
    let (rig, _proxy, id, profile) = spooled(&moto, 3, "");
    let key = format!("{PREFIX}/{id}/manifest.json");
    moto.put(&key, "{\"someone\": \"else\"}");
    let out = rig.run(&["uploads", "retry"]);
    let told = format!("{}{}", out.stdout, out.stderr);
    assert!(
        told.contains(&format!("{key} holds an object scanrig did not write")),
        "{told}"
    );
    assert_eq!(moto.object(&key).body, b"{\"someone\": \"else\"}");
    assert!(!rig.is_retired(&id), "the scan waits for its manifest");
    let photos = moto.keys(&format!("{PREFIX}/{id}/"));
    let jpegs = photos.iter().filter(|k| k.ends_with(".jpg")).count();
    assert_eq!(jpegs, 3, "the photos arrived: {photos:?}");
    // Moved away, the manifest goes.
    moto.request("DELETE", &format!("/{BUCKET}/{key}"), None);
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &moto, &id, &profile);
}

#[test]
fn photos_wait_in_the_spool_while_the_bucket_is_missing_and_go_once_it_is_made() {
    let Some(moto) = Moto::without_bucket() else {
        return;
    };
    let rig = s3_rig(&moto.url, "");
    let profile = ring_profile(3, 0);
    let summary = scan(&rig, &profile);
    let counts = (&summary["captured"], &summary["uploaded"]);
    assert_eq!(counts, (&3.into(), &0.into()), "{summary}");
    let id = summary["scan"].as_str().expect("scan id").to_owned();
    let out = rig.run(&["destination", "test"]);
    out.expect_code(1);
    assert!(
        out.stdout.contains("there is no bucket studio-scans"),
        "{}",
        out.stdout
    );
    let waiting = rig.run(&["uploads"]);
    let row = waiting
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("the scan's row");
    let numbers: Vec<&str> = row.split_whitespace().skip(2).take(4).collect();
    assert_eq!(
        numbers,
        ["3", "3", "0", "3"],
        "planned, captured, uploaded, waiting: {row}"
    );
    let told = format!(
        "there is no bucket studio-scans at {} (NoSuchBucket)",
        moto.url
    );
    assert!(waiting.stdout.contains(&told), "{}", waiting.stdout);
    moto.make_bucket();
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&rig, &moto, &id, &profile);
}

#[test]
fn the_daemon_starts_with_its_bucket_missing_and_says_what_is_wrong() {
    let Some(moto) = Moto::start() else { return };
    let rig = s3_rig(
        &moto.url,
        "[daemon]\nprofile = \"s3\"\n[destination.s3]\nbucket = \"no-such-bucket\"\n",
    );
    rig.profile("s3", &ring_profile(2, 0));
    let out = daemon_started_unreached(&rig);
    assert!(
        out.stderr.contains("there is no bucket no-such-bucket"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
}

#[test]
fn the_start_up_check_tells_a_key_that_may_not_list_the_bucket_from_one_that_may_not_read() {
    let Some((moto, keys)) = Moto::with_keys() else {
        return;
    };
    let cases = [
        (
            "nobody",
            "may not list bucket studio-scans (s3:ListBucket), so the store answers AccessDenied",
        ),
        (
            "lister",
            "may list bucket studio-scans but not read its objects (AccessDenied); give it s3:GetObject",
        ),
    ];
    for (user, words) in cases {
        // moto's signature check fails on a `/` in a query's value (the
        // listing's prefix): a prefix without one.
        let extra = "[daemon]\nprofile = \"s3\"\n[destination.s3]\nprefix = \"studio\"\n";
        let rig = s3_rig(&moto.url, extra);
        let (id, secret) = &keys[user];
        key_file(&rig, id, secret);
        rig.profile("s3", &ring_profile(2, 0));
        let out = daemon_started_unreached(&rig);
        assert!(out.stderr.contains(words), "{user}: {}", out.stderr);
        assert!(!out.stderr.contains(secret.as_str()), "{}", out.stderr);
    }
}

/// Starts the daemon, which finds its destination cannot be reached and
/// is ready all the same, stops it with SIGTERM; what it said.
fn daemon_started_unreached(rig: &Rig) -> common::Output {
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("the destination cannot be reached", common::DEADLINE);
    daemon.wait_for_stderr("ready; press Start", common::DEADLINE);
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(common::DEADLINE);
    out.expect_code(0);
    out
}

/// What S3 answers a request signed more than 15 minutes from its clock.
const SKEWED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><RequestTime>20261207T101500Z</RequestTime><ServerTime>2026-12-07T22:15:00Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>4442587FB7D0A2F9</RequestId></Error>";

#[test]
fn a_clock_too_far_off_is_told_as_such_by_the_test_the_daemon_and_the_waiting_photos() {
    // moto does not look at a request's time: the proxy answers every
    // request as S3 answers one signed more than 15 minutes off its clock.
    let Some(moto) = Moto::start() else { return };
    let skewed = Faults {
        answer_all: Some((403, SKEWED)),
        ..Faults::none()
    };
    let proxy = FaultProxy::start(moto.addr, Mode::Http, skewed);
    let rig = s3_rig(
        &proxy.url(),
        "[daemon]\nprofile = \"s3\"\n[upload]\nmax_attempts = 2\n",
    );
    let told = "this machine's clock is too far from";
    let fix = "(RequestTimeTooSkewed); set the time (timedatectl set-ntp true)";

    let out = rig.run(&["destination", "test"]);
    out.expect_code(1);
    assert!(
        out.stdout.contains(told) && out.stdout.contains(fix),
        "{}\n{}",
        out.stdout,
        out.stderr
    );

    let profile = ring_profile(2, 0);
    let summary = scan(&rig, &profile);
    assert_eq!(summary["captured"], 2, "{summary}");
    assert_eq!(summary["uploaded"], 0, "{summary}");
    let waiting = rig.run(&["uploads"]);
    assert!(
        waiting.stdout.contains(told) && waiting.stdout.contains(fix),
        "the photos wait, saying why:\n{}",
        waiting.stdout
    );

    let started = daemon_started_unreached(&rig);
    assert!(
        started.stderr.contains(told) && started.stderr.contains(fix),
        "{}",
        started.stderr
    );

    assert!(proxy.tally().refused >= 3, "{:?}", proxy.tally());
    assert!(moto.keys("").is_empty(), "nothing reached the bucket");
    for text in [&out.stdout, &out.stderr, &waiting.stdout, &started.stderr] {
        assert!(!text.contains(SECRET), "a secret shown:\n{text}");
        assert!(
            !text.contains("X-Amz-Signature"),
            "a signed URL shown:\n{text}"
        );
    }
}

/// `scanrig uploads retry` sending `photos` spooled photos of `size_kb`
/// KiB with `workers` workers through the proxy, 20 ms late each way, with
/// the shipped part sizes (parts of 8 MiB above 16 MiB): photos per
/// second over the whole run (start-up, lookups, the manifest included),
/// and its peak RSS in KiB as GNU time reports it.
fn upload_run(moto: &Moto, photos: u32, size_kb: u32, workers: u32) -> (f64, u64) {
    let extra = format!(
        "[camera.sim]\nfile_size_kb = {size_kb}\n[destination.s3]\nmultipart_above_mb = 16\npart_mb = 8\ntimeout_s = 60\n"
    );
    let (rig, proxy, id, profile) = spooled(moto, photos, &extra);
    proxy.set(Faults::none().with_latency(Duration::from_millis(20)));
    let mut cmd = rig.command(&["uploads", "retry"]);
    cmd.env("SCANRIG_UPLOAD__WORKERS", workers.to_string());
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
    let started = std::time::Instant::now();
    let out = timed.output().expect("GNU time (apt install time)");
    let rate = f64::from(photos) / started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "uploads retry failed: {stderr}");
    assert_delivered(&rig, moto, &id, &profile);
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss from GNU time: {stderr}"));
    (rate, rss)
}

#[test]
fn photos_are_streamed_from_the_spool_never_held_in_memory() {
    let Some(moto) = Moto::start() else { return };
    // Four workers sending four photos each time: of 100 KB, of 12 MB (in
    // one PUT, below multipart_above_mb = 16) and of 20 MB (in parts of
    // 8 MiB). Held in memory, the photos would add 48 MB, the parts 32 MB.
    let (_, small) = upload_run(&moto, 4, 100, 4);
    for size_kb in [12 * 1024, 20 * 1024] {
        let (_, big) = upload_run(&moto, 4, size_kb, 4);
        eprintln!("peak RSS: {small} KiB with 100 KB photos, {big} KiB with {size_kb} KiB photos");
        assert!(
            big < small + 8 * 1024,
            "{size_kb} KiB photos: peak RSS {big} KiB against {small} KiB with 100 KB photos"
        );
    }
}

#[test]
#[ignore = "benchmark: cargo test --test s3 -- --ignored --nocapture"]
fn bench_s3_uploads() {
    let Some(moto) = Moto::start() else { return };
    for (what, photos, size_kb) in [("6 MB JPEGs", 12, 6 * 1024), ("40 MB RAWs", 6, 40 * 1024)] {
        let (one, rss_one) = upload_run(&moto, photos, size_kb, 1);
        let (four, rss_four) = upload_run(&moto, photos, size_kb, 4);
        println!(
            "{what}, 20 ms each way: 1 worker {one:.2} photos/s (peak RSS {:.1} MB), 4 workers {four:.2} photos/s (peak RSS {:.1} MB), speed-up {:.2}x",
            rss_one as f64 / 1024.0,
            rss_four as f64 / 1024.0,
            four / one
        );
    }
}
