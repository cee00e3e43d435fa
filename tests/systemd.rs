//! Running under systemd: the notification protocol (READY, STATUS, the
//! watchdog, STOPPING), journal priorities on stderr, and the unit file's
//! validity and hardening.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ring_profile, Rig, Running, DEADLINE};

/// Everything the daemon sent to the notify socket within `within`.
fn drain(socket: &UnixDatagram, within: Duration) -> Vec<String> {
    let end = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match socket.recv(&mut buf) {
            // Assignments end with a newline, or the message does.
            Ok(n) => got.push(String::from_utf8_lossy(&buf[..n]).trim_end().to_owned()),
            Err(_) => break,
        }
    }
    got
}

/// Waits until a message containing `needle` arrives; returns all seen.
fn wait_for(socket: &UnixDatagram, needle: &str) -> Vec<String> {
    let end = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    while Instant::now() < end {
        let got = drain(socket, Duration::from_millis(200));
        let found = got.iter().any(|m| m.contains(needle));
        seen.extend(got);
        if found {
            return seen;
        }
    }
    panic!("no `{needle}` from the daemon; got {seen:?}");
}

#[test]
fn the_daemon_reports_ready_status_and_pings_the_watchdog_while_it_runs() {
    let rig = Rig::new();
    let path = rig.profile("tiny", &ring_profile(3, 0));
    rig.configure(&format!(
        "[daemon]\nprofile = {}\n",
        toml::Value::String(path.display().to_string())
    ));
    let socket_path = rig.root().join("notify");
    let socket = UnixDatagram::bind(&socket_path).expect("notify socket");
    let mut cmd = rig.command(&["daemon"]);
    cmd.env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .env("JOURNAL_STREAM", "8:1234");
    let daemon = Running::start(cmd);

    let first = wait_for(&socket, "READY=1");
    let ready = first.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(ready.contains("STATUS=idle: press Start"), "{ready}");
    // Pings come every 100 ms (half of WATCHDOG_USEC).
    let pings = drain(&socket, Duration::from_millis(600));
    let n = pings.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!(n >= 3, "{pings:?}");

    // A scan shows in STATUS.
    daemon.signal(libc::SIGUSR1);
    let seen = wait_for(&socket, "STATUS=idle: scan ");
    assert!(
        seen.iter()
            .any(|m| m.starts_with("STATUS=scanning ") && m.contains("of 3 captured")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|m| m.contains("completed, 3 of 3 uploaded")),
        "{seen:?}"
    );

    // A frozen process sends nothing; thawed, it pings again.
    daemon.signal(libc::SIGSTOP);
    drain(&socket, Duration::from_millis(50));
    let frozen = drain(&socket, Duration::from_millis(500));
    assert!(!frozen.iter().any(|m| m == "WATCHDOG=1"), "{frozen:?}");
    daemon.signal(libc::SIGCONT);
    wait_for(&socket, "WATCHDOG=1");

    daemon.signal(libc::SIGTERM);
    wait_for(&socket, "STOPPING=1");
    let out = daemon.wait(DEADLINE);
    out.expect_code(0);
    // Under systemd every log line carries its journal priority.
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let ok = line.len() > 3
            && line.starts_with('<')
            && line.as_bytes()[1].is_ascii_digit()
            && line.as_bytes()[2] == b'>';
        assert!(ok, "not a journal line: {line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>shot captured;") && l.contains("scan=")),
        "{lines:?}"
    );
}

/// `systemd-analyze`, or `None` (with the reason printed) where it is
/// missing, unless `SYSTEMD_REQUIRED=1` (as in CI).
fn systemd_analyze() -> Option<Command> {
    common::tools_present(
        &["systemd-analyze"],
        "--version",
        "SYSTEMD_REQUIRED",
        "systemd",
    )
    .then(|| Command::new("systemd-analyze"))
}

#[test]
fn the_unit_file_verifies_and_its_exposure_is_at_most_2_5() {
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/scanrig.service");
    let Some(mut verify) = systemd_analyze() else {
        return;
    };
    // Verify checks that the binary exists: point the unit at this build.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&unit).unwrap();
    let local = dir.path().join("scanrig.service");
    std::fs::write(
        &local,
        text.replace("/usr/bin/scanrig", env!("CARGO_BIN_EXE_scanrig")),
    )
    .unwrap();
    let out = verify.arg("verify").arg(&local).output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for key in [
        "Type=notify",
        "WatchdogSec=",
        "ExecStartPre=/usr/bin/scanrig check-config",
    ] {
        assert!(text.contains(key), "{key} missing from the unit");
    }

    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&unit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let level: f64 = report
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for scanrig.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{report}"));
    assert!(level <= 2.5, "exposure {level} > 2.5:\n{report}");
}
