//! The scan-done hand-off: a command with the scan in its environment and
//! a signed webhook, each delivered once a scan's photos, priors and
//! manifest are all at the destination; a failed one tried again by the
//! next run, one that succeeded never again; a command never outlives the
//! daemon that started it; only the hooks configured when a scan finished
//! are owed it. The webhook's receiver is a server the test starts on
//! loopback.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ring_profile, Rig, DEADLINE};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Runs a 3-shot scan; its id.
fn scan(rig: &Rig) -> String {
    let out = rig.run(&["scan", "--profile", "quick", "--json"]);
    out.expect_code(0);
    common::assert_summary_complete(&out.summary(), 3)
}

/// Lines of `path` (none if it is missing).
fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn the_command_runs_once_per_scan_with_the_scan_in_its_environment_and_a_failure_is_retried() {
    let rig = Rig::new();
    let root = rig.root().to_path_buf();
    // Fails the first time it is run (no marker yet), then records its
    // environment, one line per run.
    let script = root.join("hook.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ -e {root}/marker ] || {{ touch {root}/marker; echo first run fails >&2; exit 3; }}\n\
             echo \"$SCANRIG_SCAN $SCANRIG_OUTCOME $SCANRIG_FOLDER $SCANRIG_MANIFEST\" >> {root}/runs\n\
             echo hook ran for $SCANRIG_SCAN\n",
            root = root.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    rig.configure(&format!(
        "[hooks]\ncommand = [{:?}, \"--from-test\"]\nretry_initial_ms = 1\n",
        script.display().to_string()
    ));
    rig.profile("quick", &ring_profile(3, 0));

    let first = scan(&rig);
    assert!(lines(&root.join("runs")).is_empty(), "the first run failed");
    let second = scan(&rig);
    // The next run tried the first scan's hook again, and ran the second's.
    let runs = lines(&root.join("runs"));
    let folder = |scan: &str| rig.delivered(scan).display().to_string();
    assert_eq!(
        runs,
        [first.as_str(), second.as_str()].map(|s| format!(
            "{s} completed {} {}/manifest.json",
            folder(s),
            folder(s)
        ))
    );
    // Their folders hold everything when the hook runs.
    assert!(rig.delivered(&first).join("manifest.json").is_file());
    let third = scan(&rig);
    let runs = lines(&root.join("runs"));
    assert_eq!(runs.len(), 3, "each scan's hook once: {runs:?}");
    assert!(runs[2].starts_with(&third));
}

/// What the receiver got: each request's headers and body.
type Received = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

/// A webhook receiver on loopback (port 0) answering the statuses given,
/// then 200; its URL and what it received.
fn receiver(mut statuses: Vec<u16>) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got: Received = Arc::default();
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                headers.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            keep.lock().unwrap().push((headers, body));
            let status = if statuses.is_empty() {
                200
            } else {
                statuses.remove(0)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, got)
}

#[test]
fn the_webhook_is_signed_retried_after_a_server_error_and_never_repeated_once_delivered() {
    let (url, got) = receiver(vec![503]);
    let rig = Rig::new();
    let secret = secret_file(rig.root(), "s3cret\n", 0o600);
    rig.configure(&format!(
        "[hooks]\nwebhook_url = {url:?}\nwebhook_secret_file = {:?}\nretry_initial_ms = 1\n",
        secret.display().to_string()
    ));
    rig.profile("quick", &ring_profile(3, 0));
    let first = scan(&rig);
    let second = scan(&rig);
    let _third = scan(&rig);
    let received = got.lock().unwrap().clone();
    let scans: Vec<String> = received
        .iter()
        .map(|(_, body)| {
            let summary: Value = serde_json::from_slice(body).unwrap();
            summary["scan"].as_str().unwrap().to_owned()
        })
        .collect();
    // The first try of the first scan's hook met a 503; the next run sent
    // it again, and each scan's once more.
    assert_eq!(scans[..3], [first.clone(), first.clone(), second.clone()]);
    assert_eq!(scans.len(), 4, "{scans:?}");
    for (headers, body) in &received {
        let header = |name: &str| {
            headers
                .iter()
                .find_map(|h| {
                    let (k, v) = h.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
                .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(header("x-scanrig-signature-256"), format!("sha256={want}"));
        let summary: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            header("x-scanrig-delivery"),
            summary["scan"].as_str().unwrap()
        );
        assert_eq!(summary["event"], "scan.finished");
        assert_eq!(summary["outcome"], "completed");
        assert_eq!(
            (summary["captured"].as_u64(), summary["uploaded"].as_u64()),
            (Some(3), Some(3))
        );
    }
    let folder = rig.delivered(&first);
    let summary: Value = serde_json::from_slice(&received[0].1).unwrap();
    assert_eq!(summary["folder"], folder.display().to_string());
    assert_eq!(
        summary["manifest"],
        folder.join("manifest.json").display().to_string()
    );
}

#[test]
fn a_webhook_without_a_secret_or_with_a_bad_url_is_refused_before_anything_runs() {
    let rig = Rig::with("[hooks]\nwebhook_url = \"ftp://example\"\n");
    rig.profile("quick", &ring_profile(3, 0));
    let out = rig.run(&["scan", "--profile", "quick"]);
    assert_ne!(out.code, Some(0));
    for needle in [
        "hooks.webhook_url",
        "not an http:// or https:// URL",
        "hooks.webhook_secret_file",
    ] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
    assert!(!rig.spool.join("hooks.jsonl").exists());
}

/// Writes `text` to `<dir>/secret` with `mode`; its path.
fn secret_file(dir: &Path, text: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join("secret");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// An executable `<dir>/hook.sh` holding `body`; its path, as TOML.
fn hook_script(dir: &Path, body: &str) -> String {
    let script = dir.join("hook.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    toml::Value::String(script.display().to_string()).to_string()
}

/// Whether process `pid` ends within `within`: waits on a pidfd.
fn ends_within(pid: i32, within: Duration) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        // It is gone already.
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    // SAFETY: a descriptor just returned to this function, owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut poll = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(&fd),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd, valid for the call.
    unsafe { libc::poll(&mut poll, 1, within.as_millis() as i32) == 1 }
}

#[test]
fn a_hook_command_ends_with_a_killed_daemon_and_is_run_again_alone_once() {
    let rig = Rig::new();
    let root = rig.root().to_path_buf();
    let runs = root.join("runs");
    // Each run notes its process and delivery; the first one starts a
    // process in the background and hangs (its shell becomes `sleep`, same
    // process), the others end at once, saying whether that one still runs.
    let script = hook_script(
        &root,
        &format!(
            "echo \"start $$ $SCANRIG_DELIVERY\" >> {runs}\n\
             [ -e {root}/hung ] || {{ touch {root}/hung; sleep 600 & echo $! > {root}/child; exec sleep 600; }}\n\
             state=$(cut -d' ' -f3 /proc/$(cat {root}/child)/stat 2>/dev/null)\n\
             [ -n \"$state\" ] && [ \"$state\" != Z ] && echo \"beside $$ $SCANRIG_DELIVERY\" >> {runs}\n\
             echo \"end $$ $SCANRIG_DELIVERY\" >> {runs}\n",
            runs = runs.display(),
            root = root.display()
        ),
    );
    rig.configure(&format!(
        "[hooks]\ncommand = [{script}]\n[daemon]\nprofile = \"quick\"\n"
    ));
    rig.profile("quick", &ring_profile(3, 0));

    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("ready; press Start", DEADLINE);
    daemon.signal(libc::SIGUSR1);
    let child = root.join("child");
    let started = || {
        std::fs::read_to_string(&child)
            .ok()?
            .trim()
            .parse::<i32>()
            .ok()
    };
    daemon.wait_until("the hook to start", DEADLINE, || started().is_some());
    let first = rig.only_scan();
    let hung: i32 = lines(&runs)[0].split(' ').nth(1).unwrap().parse().unwrap();
    let background = started().unwrap();
    daemon.kill();
    if !ends_within(hung, Duration::from_secs(5)) {
        // SAFETY: kill() has no memory effects; the pid is the hook's.
        unsafe { libc::kill(hung, libc::SIGKILL) };
        panic!("the hook command ran on after the daemon was killed");
    }
    assert!(
        !ends_within(background, Duration::ZERO),
        "the background process runs on"
    );

    // The restarted daemon runs the delivery again, alone, to its end.
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("scan-done hook delivered", DEADLINE);
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    if !ends_within(background, Duration::ZERO) {
        // SAFETY: as above, for the background process.
        unsafe { libc::kill(background, libc::SIGKILL) };
        panic!("what the first try left running was not ended");
    }
    // The next run delivers its own scan's, not the first's again.
    let second = scan(&rig);
    let runs: Vec<Vec<String>> = lines(&runs)
        .iter()
        .map(|l| l.split(' ').map(String::from).collect())
        .collect();
    let seen: Vec<(&str, &str)> = runs.iter().map(|r| (&*r[0], &*r[2])).collect();
    assert_eq!(
        seen,
        [
            ("start", first.as_str()),
            ("start", &first),
            ("end", &first),
            ("start", &second),
            ("end", &second)
        ],
        "{runs:?}"
    );
    // The second run of the first scan's hook was a new process.
    assert_ne!(runs[1][1], hung.to_string());
}

#[test]
fn a_webhook_added_later_is_not_sent_for_scans_finished_before() {
    let (url, got) = receiver(Vec::new());
    let rig = Rig::new();
    rig.configure("[hooks]\ncommand = [\"true\"]\n");
    rig.profile("quick", &ring_profile(3, 0));
    let before = scan(&rig);
    let secret = secret_file(rig.root(), "s3cret\n", 0o600);
    rig.configure(&format!(
        "[hooks]\ncommand = [\"true\"]\nwebhook_url = {url:?}\nwebhook_secret_file = {:?}\n\
         [daemon]\nprofile = \"quick\"\n",
        secret.display().to_string()
    ));
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("ready; press Start", DEADLINE);
    daemon.signal(libc::SIGUSR1);
    daemon.wait_until("a POST", DEADLINE, || !got.lock().unwrap().is_empty());
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
    let received = got.lock().unwrap().clone();
    let scans: Vec<String> = received
        .iter()
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap()["scan"].to_string())
        .collect();
    assert_eq!(scans.len(), 1, "{scans:?}");
    assert!(
        !scans[0].contains(&before),
        "sent for {before}, finished before"
    );
}

#[test]
fn a_webhook_secret_file_others_can_read_missing_or_empty_is_refused_naming_the_key() {
    for (case, text, mode, needle) in [
        (
            "others can read it",
            Some("s3cret\n"),
            0o644,
            "can be read by others (mode 644); run `chmod 600",
        ),
        ("missing", None, 0o600, "cannot read"),
        (
            "empty",
            Some("\n"),
            0o600,
            "is empty; write the secret in it",
        ),
    ] {
        let rig = Rig::new();
        let path = rig.root().join("secret");
        if let Some(text) = text {
            secret_file(rig.root(), text, mode);
        }
        rig.configure(&format!(
            "[hooks]\nwebhook_url = \"http://127.0.0.1:9/hook\"\nwebhook_secret_file = {:?}\n",
            path.display().to_string()
        ));
        rig.profile("quick", &ring_profile(3, 0));
        let out = rig.run(&["check-config"]);
        out.expect_code(2);
        let problem = format!("{}: hooks.webhook_secret_file: ", rig.config.display());
        let path_shown = path.display().to_string();
        for want in [problem.as_str(), &path_shown, needle] {
            assert!(out.stderr.contains(want), "{case}: {want}: {}", out.stderr);
        }
        // A scan is refused before anything runs.
        let out = rig.run(&["scan", "--profile", "quick"]);
        assert_ne!(out.code, Some(0), "{case}");
        assert!(
            out.stderr.contains("hooks.webhook_secret_file"),
            "{case}: {}",
            out.stderr
        );
        assert!(rig.known_scans().is_empty(), "{case}");
        // Mended, it passes.
        secret_file(rig.root(), "s3cret\n", 0o600);
        rig.run(&["check-config"]).expect_code(0);
    }
}
