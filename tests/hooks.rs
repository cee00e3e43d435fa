//! The scan-done hand-off: a command with the scan in its environment and
//! a signed webhook, each delivered once a scan's photos, priors and
//! manifest are all at the destination; a failed one tried again by the
//! next run, one that succeeded never again. The webhook's receiver is a
//! server the test starts on loopback.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use common::{ring_profile, Rig};
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
    let secret = rig.root().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
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
