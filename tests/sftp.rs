//! Scans sent to a real SFTP server (OpenSSH's sshd, started on loopback by
//! each test as the test's user): every photo once and intact, through
//! kills and refusals; host keys never taken on trust; what is there
//! already never replaced; the probe's words.

mod common;
mod remote_rig;
mod sshd;

use std::path::Path;
use std::time::Duration;

use common::fault_proxy::{FaultProxy, Faults, Mode};
use common::{assert_summary_complete, Rig};
use remote_rig::{assert_delivered, assert_kept_waiting, profile, PROFILE};
use scanrig::settings::Sftp as SftpSettings;
use scanrig::sftp::SftpDestination;
use scanrig_actors::destination::Destination;
use sshd::Sshd;

/// The settings for `sshd` with the private key `key` and `known_hosts`.
fn settings(sshd: &Sshd, key: &Path, known_hosts: &Path) -> SftpSettings {
    SftpSettings {
        host: "127.0.0.1".into(),
        port: sshd.port,
        user: sshd.user.clone(),
        private_key: key.to_path_buf(),
        known_hosts: known_hosts.to_path_buf(),
        dir: sshd.served().display().to_string(),
        timeout_s: 10,
    }
}

/// A rig sending to `sshd` with `key`, its known_hosts file holding
/// `known_hosts`; `extra` (TOML) on top.
fn sftp_rig(sshd: &Sshd, key: &Path, known_hosts: &str, extra: &str) -> Rig {
    let rig = Rig::new();
    trust(&rig, known_hosts);
    configure(&rig, sshd, key, extra);
    rig
}

/// Configures `rig` to send to `sshd` with `key`; `extra` (TOML) on top.
fn configure(rig: &Rig, sshd: &Sshd, key: &Path, extra: &str) {
    let s = settings(sshd, key, &rig.root().join("known_hosts"));
    let config = format!(
        "[destination]\nkind = \"sftp\"\n[destination.sftp]\nhost = {:?}\nport = {}\nuser = {:?}\nprivate_key = {:?}\nknown_hosts = {:?}\ndir = {:?}\ntimeout_s = 10\n",
        s.host, s.port, s.user, s.private_key, s.known_hosts, s.dir
    );
    remote_rig::configure(rig, &config, extra);
}

/// Writes the rig's known_hosts file.
fn trust(rig: &Rig, known_hosts: &str) {
    std::fs::write(rig.root().join("known_hosts"), known_hosts).unwrap();
}

#[test]
fn a_scan_arrives_whole_each_photo_once_with_its_manifest() {
    let Some(sshd) = Sshd::start() else { return };
    let rig = sftp_rig(&sshd, &sshd.client_key(), &sshd.known_host(), "");
    profile(&rig, 6);
    let out = rig.run(&["scan", "--profile", PROFILE, "--json"]);
    out.expect_code(0);
    let scan = assert_summary_complete(&out.summary(), 6);
    assert_delivered(&sshd.served(), &scan, 6);
    rig.assert_retired(&scan, "completed", 6);
}

#[test]
fn an_unknown_or_changed_host_key_is_refused_naming_its_fingerprint() {
    let Some(sshd) = Sshd::start() else { return };
    let rig = sftp_rig(&sshd, &sshd.client_key(), "", "");
    let unknown = format!("does not know ({}); nothing was sent", sshd.fingerprint());
    let scan = assert_kept_waiting(&rig, 3, &unknown);
    // Another key for the same server: it has changed.
    let other = rig.root().join("other_host_key");
    sshd::keygen(&other);
    trust(
        &rig,
        &sshd::host_line(sshd.port, &other.with_extension("pub")),
    );
    let out = rig.run(&["uploads", "retry"]);
    out.expect_code(1);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains(&format!("has CHANGED: it shows {}", sshd.fingerprint())),
        "{said}"
    );
    assert!(common::entries(&sshd.served()).is_empty(), "nothing sent");
    // The right key trusted, the photos go, once.
    trust(&rig, &sshd.known_host());
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&sshd.served(), &scan, 3);
}

#[test]
fn a_key_the_server_does_not_take_keeps_the_photos_waiting() {
    let Some(sshd) = Sshd::start() else { return };
    let wrong = tempfile::tempdir().unwrap();
    let wrong_key = wrong.path().join("key");
    sshd::keygen(&wrong_key);
    let rig = sftp_rig(&sshd, &wrong_key, &sshd.known_host(), "");
    let refused = format!("refused user `{}` with the key", sshd.user);
    let scan = assert_kept_waiting(&rig, 3, &refused);
    configure(&rig, &sshd, &sshd.client_key(), "");
    rig.run(&["uploads", "retry"]).expect_code(0);
    assert_delivered(&sshd.served(), &scan, 3);
}

#[test]
fn sigkill_at_random_instants_while_photos_go_loses_and_doubles_nothing() {
    let Some(sshd) = Sshd::start() else { return };
    // 48 photos of 1.5 MB, two at a time, kept waiting (the host key not
    // yet trusted), then sent.
    let rig = sftp_rig(
        &sshd,
        &sshd.client_key(),
        "",
        "[camera.sim]\nfile_size_kb = 1500\n[upload]\nworkers = 2\n",
    );
    let scan = assert_kept_waiting(&rig, 48, "nothing was sent");
    trust(&rig, &sshd.known_host());
    remote_rig::kill_while_sending(
        &rig,
        &sshd.served(),
        &scan,
        48,
        12,
        Duration::from_millis(600),
    );
}

#[test]
fn a_file_already_there_with_other_bytes_is_refused_naming_both_checksums() {
    let Some(sshd) = Sshd::start() else { return };
    let rig = sftp_rig(
        &sshd,
        &sshd.client_key(),
        "",
        "[upload]\nmax_attempts = 2\n",
    );
    let scan = assert_kept_waiting(&rig, 3, "nothing was sent");
    remote_rig::assert_other_bytes_refused(&rig, &sshd.served(), &scan, || {
        trust(&rig, &sshd.known_host());
    });
}

#[test]
fn a_fifth_of_connections_cut_or_stalled_lose_and_double_nothing() {
    let Some(sshd) = Sshd::start() else { return };
    let faults = Faults::at(remote_rig::seed(), 0.2, Mode::Tcp, Duration::from_secs(3));
    let proxy = FaultProxy::start(([127, 0, 0, 1], sshd.port).into(), Mode::Tcp, faults);
    // Through the proxy, which the server's host key is trusted at.
    let port = proxy.addr.port();
    let rig = Rig::new();
    trust(&rig, &sshd.known_host_at(port));
    configure(
        &rig,
        &sshd,
        &sshd.client_key(),
        &format!("[destination.sftp]\nport = {port}\ntimeout_s = 1\n[upload]\nmax_attempts = 30\nretry_max_ms = 50\n[camera.sim]\nfile_size_kb = 600\n"),
    );
    profile(&rig, 3);
    // The proxy's faults come per connection, and one that works carries
    // a whole scan: scans until connections were both cut and stalled,
    // each delivered whole.
    let mut scans = 0;
    while proxy.tally().cuts == 0 || proxy.tally().stalls == 0 {
        assert!(
            scans < 80,
            "no cut or no stall in 80 scans: {:?}",
            proxy.tally()
        );
        let out = rig.run(&["scan", "--profile", PROFILE, "--json"]);
        let scan = assert_summary_complete(&out.summary(), 3);
        remote_rig::retry_until_sent(&rig, 5);
        assert_delivered(&sshd.served(), &scan, 3);
        scans += 1;
    }
    eprintln!("{scans} scans, faults: {:?}", proxy.tally());
}

/// Photos per second and peak RSS of `uploads retry` sending `shots`
/// photos of `size_kb` KiB with `workers` workers, through a proxy adding
/// 20 ms each way.
fn bench(shots: u32, size_kb: u32, workers: u32) -> (f64, u64) {
    let sshd = Sshd::start().expect("sshd");
    let proxy = FaultProxy::start(
        ([127, 0, 0, 1], sshd.port).into(),
        Mode::Tcp,
        Faults::none().with_latency(Duration::from_millis(20)),
    );
    let port = proxy.addr.port();
    let rig = Rig::new();
    trust(&rig, "");
    configure(
        &rig,
        &sshd,
        &sshd.client_key(),
        &format!("[destination.sftp]\nport = {port}\n[camera.sim]\nfile_size_kb = {size_kb}\n"),
    );
    let scan = assert_kept_waiting(&rig, shots, "nothing was sent");
    trust(&rig, &sshd.known_host_at(port));
    let (took, rss) = remote_rig::timed_retry(&rig, workers);
    assert_delivered(&sshd.served(), &scan, shots);
    (f64::from(shots) / took.as_secs_f64(), rss)
}

#[test]
#[ignore = "benchmark: cargo test --release --test sftp -- --ignored --nocapture"]
fn bench_sftp_uploads() {
    for (shots, size_kb) in [(16, 6000), (6, 40_000)] {
        for workers in [1, 4] {
            let (rate, rss) = bench(shots, size_kb, workers);
            println!(
                "SFTP, {shots} photos of {size_kb} KiB, {workers} worker(s), 20 ms each way: {rate:.2} photos/s, peak RSS {:.1} MB",
                rss as f64 / 1024.0
            );
        }
    }
}

#[test]
fn the_probe_writes_reads_back_and_deletes_and_says_what_is_wrong() {
    let Some(sshd) = Sshd::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    std::fs::write(&known, sshd.known_host()).unwrap();
    let s = settings(&sshd, &sshd.client_key(), &known);
    SftpDestination::new(&s).probe(false).unwrap();
    SftpDestination::new(&s).probe(true).unwrap();
    assert_eq!(
        common::entries(&sshd.served()),
        Vec::<String>::new(),
        "the probe's file is deleted"
    );
    let missing = SftpSettings {
        dir: sshd.served().join("nowhere").display().to_string(),
        ..s.clone()
    };
    let e = SftpDestination::new(&missing).probe(false).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let unknown = dir.path().join("empty");
    std::fs::write(&unknown, "").unwrap();
    let e = SftpDestination::new(&SftpSettings {
        known_hosts: unknown,
        ..s.clone()
    })
    .probe(false)
    .unwrap_err();
    assert!(e.to_string().contains(&sshd.fingerprint()), "{e}");
    let e = SftpDestination::new(&SftpSettings { port: 9, ..s })
        .probe(false)
        .unwrap_err();
    assert!(e.to_string().contains("cannot reach"), "{e}");
}
