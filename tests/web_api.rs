//! The daemon's REST API and event stream, over HTTP on loopback: every
//! endpoint, what each state refuses, bad input, and the access token.

mod common;

use std::time::{Duration, Instant};

use common::http::{get, post, request, Events};
use common::web::{error_of, serve, shot_states, stop, web_daemon};
use common::{ring_profile, rings_of};
use serde_json::Value;

#[test]
fn an_idle_rig_answers_and_refuses_what_it_cannot_do() {
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    let status = get(&format!("{base}/status"));
    assert_eq!(status.status, 200);
    let s = status.json();
    assert_eq!(s["state"], "idle");
    assert_eq!(s["scan"], Value::Null);
    assert_eq!(s["preview"], true);
    assert_eq!(s["devices"]["destination"]["ok"], true);

    let profiles = get(&format!("{base}/profiles")).json();
    let names: Vec<&str> = profiles
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"api") && names.contains(&"demo"),
        "{names:?}"
    );
    let one = get(&format!("{base}/profiles/api")).json();
    assert_eq!(one["shots"], 6);
    assert_eq!(one["rings"][0]["shots"], 6);
    assert_eq!(one["bracket"], Value::Null);
    // A bracketed profile shows its frames' settings.
    rig.profile(
        "hdr",
        "[[rings]]\ntilt = 0.0\nshots = 4\n[bracket]\nexposure = [\"-2\", \"0\", \"+2\"]\n",
    );
    let hdr = get(&format!("{base}/profiles/hdr")).json();
    assert_eq!(hdr["bracket"]["kind"], "exposure", "{hdr}");
    assert_eq!(
        hdr["bracket"]["frames"][2]["exposurecompensation"], "+2",
        "{hdr}"
    );
    assert_eq!(
        hdr["bracket"]["after"]["exposurecompensation"], "-2",
        "{hdr}"
    );

    // Refused: nothing is running.
    for action in ["pause", "resume", "stop"] {
        let r = post(&format!("{base}/scans/current/{action}"), None);
        assert_eq!(error_of(&r).0, 409, "{action}");
        assert_eq!(error_of(&r).1, "conflict");
    }
    // Bad input.
    let cases: &[(&str, &str, Option<&str>, u16)] = &[
        ("GET", "/profiles/nope", None, 404),
        ("GET", "/profiles/..%2Fetc%2Fpasswd", None, 400),
        ("POST", "/scans", Some("{\"profile\":"), 400),
        ("POST", "/scans", Some("{\"profile\":\"api\",\"x\":1}"), 400),
        ("POST", "/scans", Some("{}"), 400),
        ("POST", "/scans", Some("{\"profile\":\"nope\"}"), 404),
        ("POST", "/scans", Some("{\"profile\":\"/etc/passwd\"}"), 400),
        ("POST", "/scans/current/dance", None, 404),
        ("POST", "/scans/20990101T000000Z-none/resume", None, 404),
        ("GET", "/scans/20990101T000000Z-none", None, 404),
        ("GET", "/photos/x/.hidden/thumbnail", None, 400),
        ("GET", "/photos/x/y.jpg/thumbnail", None, 404),
        (
            "POST",
            "/motor/jog",
            Some("{\"axis\":\"turntable\",\"degrees\":5000}"),
            400,
        ),
        (
            "POST",
            "/motor/jog",
            Some("{\"axis\":\"arm\",\"degrees\":5}"),
            400,
        ),
        (
            "POST",
            "/motor/jog",
            Some("{\"axis\":\"turntable\",\"degrees\":\"5\"}"),
            400,
        ),
        ("GET", "/no/such/thing", None, 404),
    ];
    for (method, path, body, want) in cases {
        let r = request(method, &format!("{base}{path}"), &[], *body);
        let (status, code, error) = error_of(&r);
        assert_eq!(status, *want, "{method} {path}: {error}");
        assert!(!code.is_empty() && !error.is_empty(), "{method} {path}");
    }
    // Another web site cannot drive the rig through the browser.
    let host = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let forged = request(
        "POST",
        &format!("{base}/scans/current/stop"),
        &[("Origin", "http://evil.example")],
        None,
    );
    assert_eq!(error_of(&forged).0, 403, "a cross-site POST");
    let rebound = request(
        "GET",
        &format!("{base}/status"),
        &[("Host", "evil.example:8080")],
        None,
    );
    assert_eq!(error_of(&rebound).0, 403, "a DNS-rebinding host");
    let same = request(
        "POST",
        &format!("{base}/scans/current/stop"),
        &[("Origin", &format!("http://{host}"))],
        None,
    );
    assert_eq!(error_of(&same).0, 409, "the page's own POST gets through");

    // A tilt jog on a rig without a tilt motor says so.
    let r = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"tilt\",\"degrees\":5}"),
    );
    let (status, code, error) = error_of(&r);
    assert_eq!((status, code.as_str()), (409, "no_tilt_axis"), "{error}");
    assert!(error.contains("tilt"), "{error}");

    // Every path of the OpenAPI document is served.
    let doc = get(&format!("{base}/openapi.json")).json();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    assert_eq!(
        operations,
        30,
        "every route is documented: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, ops) in paths {
        let concrete = path
            .replace("{name}", "api")
            .replace("{action}", "dance")
            .replace("{id}", "none")
            .replace("{scan}", "none")
            .replace("{ring}", "1")
            .replace("{picture}", "photo");
        for method in ops.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if concrete.ends_with("/events") || concrete.ends_with("/preview") {
                continue; // streams, tested below
            }
            let r = request(&method, &format!("{base}{concrete}"), &[], Some("{}"));
            let generic = r.status == 404
                && r.json()["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such API endpoint");
            assert!(!generic, "{method} {path} is documented but not served");
        }
    }
    stop(daemon);
    common::openapi::check();
}

#[test]
fn a_scan_through_the_api_with_live_events() {
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", "[camera.sim]\ndownload_ms = 80\n");
    let mut events = Events::open(&format!("{base}/events"));
    let (kind, first) = events.next();
    assert_eq!(
        (kind.as_str(), first["state"].as_str()),
        ("status", Some("idle"))
    );

    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    assert_eq!(
        error_of(&post(
            &format!("{base}/scans"),
            Some("{\"profile\":\"api\"}")
        ))
        .0,
        409
    );
    // The scan owns the devices.
    for (method, path, body) in [
        (
            "POST",
            "/motor/jog",
            Some("{\"axis\":\"turntable\",\"degrees\":5}"),
        ),
        ("POST", "/motor/home", None),
        ("GET", "/camera/settings", None),
        ("POST", "/camera/capture", None),
        ("GET", "/preview", None),
    ] {
        let r = request(method, &format!("{base}{path}"), &[], body);
        assert_eq!(error_of(&r).0, 409, "{method} {path} during a scan");
    }
    let photo = events.until("photo", |_| true);
    assert_eq!(photo["scan"], scan.as_str());
    let thumb = get(&format!(
        "http://{}{}",
        base.trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap(),
        photo["thumbnail"].as_str().expect("a thumbnail")
    ));
    assert_eq!(thumb.status, 200);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    let mut decoder = jpeg_decoder::Decoder::new(&thumb.body[..]);
    decoder.decode().expect("the thumbnail decodes");
    let info = decoder.info().unwrap();
    assert!(info.width <= 240 && info.height <= 240, "{info:?}");

    assert_eq!(
        post(&format!("{base}/scans/current/pause"), None).status,
        202
    );
    events.until("status", |s| s["state"] == "paused");
    assert_eq!(
        error_of(&post(&format!("{base}/scans/current/pause"), None)).0,
        409
    );
    let paused = get(&format!("{base}/status")).json();
    assert_eq!(paused["scan"]["paused"], "paused by the operator");
    // The physical button and the page drive the same scan: the Pause
    // button resumes it, and the page hears of the press within a second.
    let pressed = Instant::now();
    daemon.signal(libc::SIGUSR2);
    let button = events.until("button", |_| true);
    assert!(
        pressed.elapsed() < Duration::from_secs(1),
        "{:?}",
        pressed.elapsed()
    );
    assert_eq!(button["button"], "pause");
    events.until("status", |s| s["state"] == "scanning");

    let finished = events.until("finished", |_| true);
    assert_eq!(finished["scan"], scan.as_str());
    assert_eq!(finished["uploaded"], 6);
    events.until("status", |s| s["state"] == "idle");

    let rows = get(&format!("{base}/scans")).json();
    assert_eq!(rows[0]["id"], scan.as_str());
    assert_eq!(rows[0]["state"], "completed");
    let detail = get(&format!("{base}/scans/{scan}")).json();
    assert_eq!(detail["manifest"]["shots"].as_array().unwrap().len(), 6);
    assert_eq!(
        get(&format!("{base}/uploads")).json()["scans"],
        Value::Array(vec![])
    );
    assert_eq!(post(&format!("{base}/uploads/retry"), None).status, 202);
    let recent = get(&format!("{base}/photos")).json();
    assert_eq!(recent.as_array().unwrap().len(), 6);
    stop(daemon);
    common::openapi::check();
    let text = ring_profile(6, 5);
    common::assert_complete(
        &rig.delivered(&scan),
        &common::plan("api", &rings_of(&text)),
    );
}

#[test]
fn an_idle_rig_can_be_handled_from_the_page() {
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    let settings = get(&format!("{base}/camera/settings")).json();
    assert!(
        settings
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "iso"),
        "{settings}"
    );
    let shot = post(&format!("{base}/camera/capture"), None);
    assert_eq!(shot.status, 200, "{:?}", shot.json());
    let file = &shot.json()["files"][0];
    assert!(file["size"].as_u64().unwrap() > 0);
    let thumb = get(&format!(
        "{}{}",
        base.trim_end_matches("/api/v1"),
        file["thumbnail"].as_str().unwrap()
    ));
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    let jog = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"turntable\",\"degrees\":30}"),
    );
    assert_eq!(jog.json()["position"], 30.0);
    let jog = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"turntable\",\"degrees\":-45}"),
    );
    assert_eq!(
        jog.json()["position"],
        345.0,
        "relative to where it stood, as an angle of the table"
    );
    assert_eq!(post(&format!("{base}/motor/home"), None).status, 200);

    // Two frames of the live preview, each a JPEG.
    let (host, path) = base.trim_start_matches("http://").split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET /{path}/preview HTTP/1.0\r\nHost: {host}\r\n\r\n"
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    while seen.windows(7).filter(|w| w == b"--frame").count() < 3 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the preview stream ended");
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(
        text.contains("multipart/x-mixed-replace; boundary=frame"),
        "{text:.200}"
    );
    assert!(text.matches("Content-Type: image/jpeg").count() >= 2);
    stop(daemon);
    common::openapi::check();
}

#[test]
fn on_the_network_every_call_needs_the_token() {
    let (rig, daemon, base) = web_daemon("0.0.0.0:0", "");
    let token_out = rig.run(&["web", "token"]);
    token_out.expect_code(0);
    let token = token_out.stdout.lines().next().unwrap().trim().to_owned();
    assert!(token.len() >= 32, "{token}");
    assert!(
        token_out.stdout.contains(&format!("?token={token}")),
        "{}",
        token_out.stdout
    );
    let file = rig.root().join("web-token");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The address to open names a host a phone finds: an address, or an
    // mDNS name.
    let url = token_out
        .stdout
        .lines()
        .find(|l| l.contains("http://"))
        .unwrap();
    let host = url
        .split("http://")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    let ip = host.parse::<std::net::IpAddr>();
    assert!(
        host.ends_with(".local") || ip.is_ok_and(|ip| !ip.is_loopback() && !ip.is_unspecified()),
        "{url}"
    );

    for path in ["/status", "/events", "/profiles", "/openapi.json"] {
        let r = get(&format!("{base}{path}"));
        assert_eq!(error_of(&r).0, 401, "{path} without the token");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"scanrig\"")
        );
        common::web::assert_rules(&r);
        let r = request(
            "GET",
            &format!("{base}{path}"),
            &[(
                "Authorization",
                "Bearer wrong-token-wrong-token-wrong-token",
            )],
            None,
        );
        assert_eq!(r.status, 401, "{path} with a wrong token");
        assert!(
            r.header("www-authenticate")
                .is_some_and(|c| c.starts_with("Bearer ") && c.contains("invalid_token")),
            "{:?}",
            r.headers
        );
        common::web::assert_rules(&r);
    }
    let r = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(r.status, 401, "no scan without the token");
    let bearer = format!("Bearer {token}");
    let ok = request(
        "GET",
        &format!("{base}/status"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(ok.status, 200);
    assert!(
        !String::from_utf8_lossy(&ok.body).contains(&token),
        "the token is not served"
    );
    assert_eq!(get(&format!("{base}/status?token={token}")).status, 200);
    // The scheme's name in any case (RFC 7235).
    for scheme in ["bearer", "BEARER"] {
        let r = request(
            "GET",
            &format!("{base}/status"),
            &[("Authorization", &format!("{scheme} {token}"))],
            None,
        );
        assert_eq!(r.status, 200, "{scheme}");
    }
    // Another web site's request, token or not: refused, with the rules.
    let r = request(
        "POST",
        &format!("{base}/uploads/retry"),
        &[
            ("Authorization", &bearer),
            ("Origin", "http://evil.example"),
        ],
        None,
    );
    assert_eq!(error_of(&r).0, 403);
    common::web::assert_rules(&r);
    // The page holds no secret and needs no token.
    let page = get(&base.replace("/api/v1", "/"));
    assert_eq!(page.status, 200);
    assert!(!String::from_utf8_lossy(&page.body).contains(&token));
    stop(daemon);
    common::openapi::check();
}

#[test]
fn an_interrupted_scan_is_resumed_through_the_api() {
    let (rig, mut daemon, base) = web_daemon("127.0.0.1:0", "[camera.sim]\ndownload_ms = 200\n");
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    assert_eq!(rig.wait_for_captures(&mut daemon, 2), scan);
    // The rig loses power.
    daemon.kill();
    let (daemon, base) = serve(&rig);
    let rows = get(&format!("{base}/scans")).json();
    assert_eq!(rows[0]["state"], "interrupted", "{rows}");

    let mut events = Events::open(&format!("{base}/events"));
    let r = post(&format!("{base}/scans/{scan}/resume"), None);
    assert_eq!(r.status, 202, "{:?}", r.json());
    assert_eq!(r.json()["scan"], scan.as_str());
    // Only once: a scan runs now.
    let again = post(&format!("{base}/scans/{scan}/resume"), None);
    assert_eq!(error_of(&again).0, 409, "{:?}", again.json());
    let finished = events.until("finished", |_| true);
    assert_eq!(finished["outcome"], "completed", "{finished}");
    events.until("status", |s| s["state"] == "idle");
    assert_eq!(shot_states(&base, &scan), ["uploaded"; 6]);
    let done = post(&format!("{base}/scans/{scan}/resume"), None);
    assert_eq!(error_of(&done).0, 404, "a finished scan is not resumed");
    stop(daemon);
    common::openapi::check();
}

#[test]
fn the_lights_are_listed_and_set_by_hand_and_bad_requests_are_refused() {
    let lights = "[[lights]]\nname = \"ring\"\npin = 18\npwm_hz = 1000\n[[lights]]\nname = \"back\"\npin = 20\n";
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", lights);
    let listed = get(&format!("{base}/lights"));
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.json(),
        serde_json::json!({"lights": [
            {"name": "ring", "brightness": 0, "dimmable": true},
            {"name": "back", "brightness": 0, "dimmable": false},
        ]})
    );
    let set = post(
        &format!("{base}/lights/ring"),
        Some(r#"{"brightness": 40}"#),
    );
    assert_eq!(set.status, 200, "{}", String::from_utf8_lossy(&set.body));
    assert_eq!(set.json()["lights"][0]["brightness"], 40);
    let back = post(
        &format!("{base}/lights/back"),
        Some(r#"{"brightness": 100}"#),
    );
    assert_eq!(back.json()["lights"][1]["brightness"], 100);
    assert_eq!(
        get(&format!("{base}/lights")).json()["lights"][0]["brightness"],
        40
    );

    let cases: &[(&str, Option<&str>, u16, &str)] = &[
        (
            "/lights/ring",
            Some(r#"{"brightness": 150}"#),
            400,
            "from 0 (off) to 100, found 150",
        ),
        (
            "/lights/ring",
            Some(r#"{"brightness": -5}"#),
            400,
            "found -5",
        ),
        ("/lights/ring", Some(r#"{"brightness": "full"}"#), 400, ""),
        ("/lights/ring", Some("{}"), 400, ""),
        (
            "/lights/spot",
            Some(r#"{"brightness": 10}"#),
            404,
            "no light named `spot`; the lights are: ring, back",
        ),
    ];
    for (path, body, status, words) in cases {
        let r = post(&format!("{base}{path}"), *body);
        let (got, _, error) = error_of(&r);
        assert_eq!(got, *status, "{path} {body:?}: {error}");
        assert!(error.contains(words), "{path} {body:?}: {error}");
    }
    common::openapi::check();
    stop(daemon);

    // `scanrig light` asks the daemon on the port it listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (rig, daemon, _) = web_daemon(&format!("127.0.0.1:{port}"), lights);
    let on = rig.run(&["light", "ring", "60"]);
    on.expect_code(0);
    assert!(on.stdout.contains("ring: 60 %"), "{}", on.stdout);
    let off = rig.run(&["light", "back", "on"]);
    off.expect_code(0);
    assert!(off.stdout.contains("back: 100 %\n"), "{}", off.stdout);
    for (args, words) in [
        (["light", "spot", "on"], "no light named `spot`"),
        (["light", "ring", "120"], "from 0 (off) to 100, found 120"),
        (["light", "ring", "bright"], "`bright` is no brightness"),
    ] {
        let out = rig.run(&args);
        out.expect_code(2);
        assert!(out.stderr.contains(words), "{args:?}: {}", out.stderr);
    }
    stop(daemon);
}
