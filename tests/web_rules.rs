//! What the web side holds every request to, over HTTP on loopback:
//! security headers, 405 with `Allow`, 413 read no further, capped event
//! streams that let a vanished client go within seconds, refused requests
//! in the log (never the token), events with ids in the order they
//! happened, a reconnect that replays what was missed, and no server path
//! shown.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::http::{get, post, request, Events};
use common::web::{assert_rules, error_of, stop, web_daemon};
use serde_json::Value;

/// The host and port of an API base URL.
fn host(base: &str) -> &str {
    base.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
}

#[test]
fn every_answer_carries_the_rules_and_refusals_are_logged() {
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    let page = base.trim_end_matches("api/v1").to_owned();
    for reply in [
        get(&page),
        get(&format!("{base}/status")),
        get(&format!("{base}/nope")),
    ] {
        assert_rules(&reply);
    }
    // The page's icon is there.
    let html = String::from_utf8(get(&page).body).unwrap();
    let icon = html
        .split("<link rel=\"icon\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no icon in the page:\n{html}"));
    let icon = get(&format!("{}{}", page.trim_end_matches('/'), icon));
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
    assert!(String::from_utf8_lossy(&icon.body).starts_with("<svg"));
    let head = request("HEAD", &page, &[], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );

    for (method, path, allow) in [
        ("DELETE", "/status", "GET"),
        ("GET", "/scans/current/pause", "POST"),
        ("PUT", "/scans", "GET, POST"),
        ("GET", "/motor/home", "POST"),
    ] {
        let r = request(method, &format!("{base}{path}"), &[], None);
        let (status, code, error) = error_of(&r);
        assert_eq!(
            (status, code.as_str()),
            (405, "method_not_allowed"),
            "{method} {path}: {error}"
        );
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
    assert_eq!(
        request("POST", &page, &[], None).header("allow"),
        Some("GET, HEAD")
    );

    // Too large: refused from its length, unread.
    let big = format!("{{\"profile\":\"{}\"}}", "x".repeat(20_000));
    let r = post(&format!("{base}/scans"), Some(&big));
    assert_eq!(error_of(&r).0, 413);
    assert_eq!(error_of(&r).1, "too_large");

    // A call that takes no body answers at once when sent one that never
    // ends, and closes the connection.
    let began = Instant::now();
    let mut s = TcpStream::connect(host(&base)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /api/v1/motor/home HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n{}",
        host(&base),
        "y".repeat(1024)
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(&s).read_line(&mut status).unwrap();
    assert!(status.contains(" 413 "), "{status:?}");
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );

    // Refusals in the log, the token never.
    let r = get(&format!("{base}/nothing?token=sekrit-token-value"));
    assert_eq!(r.status, 404);
    // What a client sent is logged on its line, never as lines of its own
    // or bytes the log cannot hold.
    let forged = "Jan 01 00:00:00.000 INFO scan finished, forged";
    for path in [
        "/scans/x%0AJan%2001%2000:00:00.000%20INFO%20scan%20finished,%20forged/photos",
        "/scans/x%00y/photos",
    ] {
        assert_eq!(get(&format!("{base}{path}")).status, 404, "{path}");
    }
    stop_and_check_log(daemon, |log| {
        assert!(
            !log.lines().any(|l| l.starts_with(forged)),
            "a forged line:\n{log}"
        );
        assert!(!log.contains('\0'), "a NUL in the log:\n{log:?}");
        assert!(log.contains(&format!("x\\n{forged}")), "{log}");
        assert!(log.contains("x\\u{0}y"), "{log}");
        assert!(log.contains("request refused"), "{log}");
        for want in [
            "method: DELETE",
            "path: /api/v1/status",
            "status: 405",
            "path: /api/v1/nothing",
            "status: 413",
        ] {
            assert!(log.contains(want), "{want} in\n{log}");
        }
        assert!(!log.contains("sekrit"), "the token is never logged:\n{log}");
    });
    common::openapi::check();
}

fn stop_and_check_log(daemon: common::Running, check: impl Fn(&str)) {
    daemon.signal(libc::SIGTERM);
    let out = daemon.wait(common::DEADLINE);
    out.expect_code(0);
    check(&out.stderr);
}

#[test]
fn event_streams_are_capped_and_a_vanished_client_is_let_go() {
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    let url = format!("{base}/events");
    let mut open: Vec<Events> = (0..4).map(|_| Events::open(&url)).collect();
    for e in &mut open {
        assert_eq!(e.next().0, "status");
    }
    let refused = get(&url);
    assert_eq!(error_of(&refused).0, 429, "a fifth stream from one client");
    assert_eq!(error_of(&refused).1, "too_many_streams");
    // The clients vanish without a word to the server.
    let cut = Instant::now();
    for e in &open {
        e.socket().shutdown(Shutdown::Both).unwrap();
    }
    drop(open);
    let again = loop {
        let r = request("GET", &format!("{base}/status"), &[], None);
        assert_eq!(r.status, 200);
        if try_open(&url) == 200 {
            break cut.elapsed();
        }
        assert!(
            cut.elapsed() < Duration::from_secs(20),
            "the dead streams were never let go"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(again < Duration::from_secs(10), "let go after {again:?}");
    eprintln!("dead streams let go within {again:?}");
    stop(daemon);
}

/// Opens a stream and closes it at once: its status.
fn try_open(url: &str) -> u16 {
    let r = TcpStream::connect(host(url)).unwrap();
    let path = url.splitn(4, '/').nth(3).unwrap();
    let mut r2 = r.try_clone().unwrap();
    write!(r2, "GET /{path} HTTP/1.0\r\nHost: {}\r\n\r\n", host(url)).unwrap();
    let mut line = String::new();
    BufReader::new(&r).read_line(&mut line).unwrap();
    let _ = r.shutdown(Shutdown::Both);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn events_come_in_order_with_ids_and_a_reconnect_gets_what_it_missed() {
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", "[camera.sim]\ndownload_ms = 60\n");
    let mut a = Events::open(&format!("{base}/events"));
    let (kind, _) = a.next();
    assert_eq!(kind, "status");
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(started.status, 202);
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    let mut seen: Vec<(String, String, Value)> = Vec::new();
    let mut finished = false;
    let mut current = Vec::new();
    loop {
        let (kind, data) = a.next();
        if kind == "status" && data["state"] == "scanning" {
            current.push(data["scan"]["current_shot"].clone());
        }
        let end = finished && kind == "status" && data["state"] == "idle";
        finished |= kind == "finished";
        seen.push((a.last_id.clone().unwrap(), kind, data));
        if end {
            break;
        }
    }
    // In the order they happened: each photo captured before it is
    // uploaded, under the same name; all of them before the end.
    let names = |k: &str| -> Vec<String> {
        seen.iter()
            .filter(|(_, kind, _)| kind == k)
            .map(|(_, _, d)| d["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (photos, uploads) = (names("photo"), names("uploaded"));
    assert_eq!(photos.len(), 6, "{photos:?}");
    let mut sorted = uploads.clone();
    sorted.sort();
    assert_eq!(
        sorted, photos,
        "every photo uploaded, under its captured name"
    );
    assert!(photos.iter().all(|n| n.ends_with(".jpg")), "{photos:?}");
    let at = |k: &str, name: &str| {
        seen.iter()
            .position(|(_, kind, d)| kind == k && d["name"] == name)
            .unwrap()
    };
    let end = seen.iter().position(|(_, k, _)| k == "finished").unwrap();
    for n in &photos {
        assert!(
            at("photo", n) < at("uploaded", n),
            "{n} uploaded before captured"
        );
        assert!(at("uploaded", n) < end, "{n} after the scan finished");
    }
    let shots: Vec<u64> = seen
        .iter()
        .filter(|(_, k, _)| k == "photo")
        .map(|(_, _, d)| d["shot"].as_u64().unwrap())
        .collect();
    assert_eq!(shots, [1, 2, 3, 4, 5, 6]);
    assert!(
        current
            .iter()
            .any(|c| c.as_u64().is_some_and(|c| (1..=6).contains(&c))),
        "the current shot shows while scanning: {current:?}"
    );
    let ids: Vec<&String> = seen.iter().map(|(id, _, _)| id).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "ids are unique");

    // Back after missing everything from the third event on: the same
    // events, in the same order.
    let from = seen[1].0.clone();
    let mut b = Events::open_with(&format!("{base}/events"), &[("Last-Event-ID", &from)]);
    for (id, kind, data) in &seen[2..] {
        let (k, d) = b.next();
        assert_eq!((&k, &d, b.last_id.as_ref().unwrap()), (kind, data, id));
    }
    // Ids of another run of the daemon: read everything again.
    let mut c = Events::open_with(&format!("{base}/events"), &[("Last-Event-ID", "1-1")]);
    assert_eq!(c.next().0, "resync");
    assert_eq!(c.next().0, "status");

    // No path of the rig in what the page is shown.
    let root = rig.root().to_string_lossy().into_owned();
    let mut shown: Vec<String> = seen.iter().map(|(_, _, d)| d.to_string()).collect();
    for path in [
        "/status",
        "/scans",
        &format!("/scans/{scan}"),
        "/profiles",
        "/profiles/api",
    ] {
        shown.push(String::from_utf8_lossy(&get(&format!("{base}{path}")).body).into_owned());
    }
    for text in &shown {
        assert!(!text.contains(&root), "{root} shown: {text}");
    }
    assert!(
        shown.iter().any(|t| t.contains("…/")),
        "paths are shown by their last part"
    );
    stop(daemon);
    common::openapi::check();
}
