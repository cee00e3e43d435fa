//! Past scans and the rig's controls through the API, over HTTP on
//! loopback: a finished scan's shots, photos at full size and as
//! thumbnails, the whole scan as one ZIP whose files match the manifest
//! (and a large one sent without the daemon's memory growing with it),
//! what a profile would shoot, and camera settings changed by hand except
//! those the profile sets.

mod common;

use std::collections::BTreeMap;

use common::http::{get, post, request, Events};
use common::sha256;
use common::web::{error_of, shot_states, stop, web_daemon};

/// The origin of an API base URL (`http://host:port`).
fn origin(base: &str) -> &str {
    base.trim_end_matches("/api/v1")
}

#[test]
fn a_past_scan_its_photos_and_its_archive() {
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    let shots = get(&format!("{base}/profiles/api/shots")).json();
    let planned: Vec<(f64, &str)> = shots["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["azimuth"].as_f64().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        planned,
        [0.0, 60.0, 120.0, 180.0, 240.0, 300.0].map(|a| (a, "pending"))
    );

    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    events.until("finished", |_| true);
    events.until("status", |s| s["state"] == "idle");

    assert_eq!(shot_states(&base, &scan), ["uploaded"; 6]);

    let manifest = get(&format!("{base}/scans/{scan}")).json()["manifest"].clone();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for shot in manifest["shots"].as_array().unwrap() {
        for f in shot["files"].as_array().unwrap() {
            want.insert(
                f["name"].as_str().unwrap().to_owned(),
                f["sha256"].as_str().unwrap().to_owned(),
            );
        }
    }
    assert_eq!(want.len(), 6);

    let photos = get(&format!("{base}/scans/{scan}/photos")).json();
    let photos = photos.as_array().unwrap();
    assert_eq!(photos.len(), 6);
    for p in photos {
        let name = p["name"].as_str().unwrap();
        let full = get(&format!("{}{}", origin(&base), p["url"].as_str().unwrap()));
        assert_eq!(full.status, 200, "{name}");
        assert_eq!(full.header("content-type"), Some("image/jpeg"));
        assert_eq!(sha256(&full.body), want[name], "{name} at full size");
        let thumb = get(&format!(
            "{}{}",
            origin(&base),
            p["thumbnail"].as_str().unwrap()
        ));
        let mut decoder = jpeg_decoder::Decoder::new(&thumb.body[..]);
        decoder.decode().expect("the thumbnail decodes");
        assert!(p["azimuth"].is_number() && p["shot"].is_number(), "{p}");
    }

    // The whole scan in one ZIP, in a folder named by the scan: every
    // photo intact, once; the manifest and the pose priors with them; no
    // journal; each file dated as on the rig; no path of the rig.
    let zip = get(&format!("{base}/scans/{scan}/archive.zip"));
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    let got = common::zip_sha256s(&zip.body, &scan);
    for (name, sha) in &want {
        assert_eq!(&got[name], sha, "{name} in the ZIP");
    }
    assert!(got.contains_key("manifest.json"), "{:?}", got.keys());
    assert!(got.contains_key("colmap/images.txt"), "{:?}", got.keys());
    assert!(
        !got.keys().any(|n| n.contains("journal")),
        "{:?}",
        got.keys()
    );
    let today = time::OffsetDateTime::now_utc();
    let root = rig.root().display().to_string();
    for (name, (bytes, date)) in common::zip_files(&zip.body, &scan) {
        let day = (date.year(), date.month(), date.day());
        let yesterday = today - time::Duration::days(1);
        assert!(
            [today, yesterday]
                .iter()
                .any(|d| day == (d.year() as u16, d.month().into(), d.day())),
            "{name} dated {date:?}, not today"
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&root), "{name} names {root}:\n{text}");
    }

    for path in [
        "/scans/nope/shots".to_owned(),
        "/scans/nope/photos".to_owned(),
        "/scans/nope/archive.zip".to_owned(),
        format!("/photos/{scan}/nope.jpg"),
        "/profiles/nope/shots".to_owned(),
    ] {
        assert_eq!(error_of(&get(&format!("{base}{path}"))).0, 404, "{path}");
    }
    assert_eq!(
        error_of(&get(&format!("{base}/photos/{scan}/.journal"))).0,
        400
    );

    // A scan still going: its photos are served, and nothing else of its
    // folder (its journal, its backlog), in a photo's place or in its ZIP.
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    let going = started.json()["scan"].as_str().unwrap().to_owned();
    let photo = events.until("photo", |p| p["scan"] == going.as_str());
    let paused = post(&format!("{base}/scans/current/pause"), None);
    assert_eq!(paused.status, 202);
    events.until("status", |s| s["state"] == "paused");
    let name = photo["name"].as_str().unwrap();
    let full = get(&format!("{base}/photos/{going}/{name}"));
    assert_eq!(full.status, 200, "{name}");
    let others: Vec<String> = std::fs::read_dir(rig.spooled(&going))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".jpg") && !n.starts_with('.'))
        .collect();
    assert!(others.iter().any(|n| n == "journal.jsonl"), "{others:?}");
    for other in others {
        let r = get(&format!("{base}/photos/{going}/{other}"));
        let (status, _, error) = error_of(&r);
        assert_eq!(status, 404, "{other} is not served");
        assert!(error.contains("no photo"), "{error}");
    }
    let zip = get(&format!("{base}/scans/{going}/archive.zip"));
    assert_eq!(zip.status, 200);
    let got = common::zip_sha256s(&zip.body, &going);
    assert!(
        got.keys().all(|n| n.ends_with(".jpg")),
        "only photos: {:?}",
        got.keys()
    );
    assert!(got.contains_key(name), "{:?}", got.keys());
    let stopped = post(&format!("{base}/scans/current/stop"), None);
    assert_eq!(stopped.status, 202);
    events.until("status", |s| s["state"] == "idle");
    stop(daemon);
    common::openapi::check();
}

/// A field of the daemon's /proc/<pid>/status, in KiB.
fn memory_kib(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

#[test]
fn a_large_scans_zip_is_streamed_in_constant_memory() {
    // Six photos of 8 MiB: a 48 MiB ZIP.
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", "[camera.sim]\nfile_size_kb = 8192\n");
    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    events.until("finished", |_| true);
    events.until("status", |s| s["state"] == "idle");
    drop(events);

    // The peak is measured from here ("5" resets the kernel's VmHWM).
    let pid = daemon.pid();
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak");
    let before = memory_kib(pid, "VmRSS:");
    let zip = get(&format!("{base}/scans/{scan}/archive.zip"));
    let peak = memory_kib(pid, "VmHWM:");
    assert_eq!(zip.status, 200);
    let files = common::zip_sha256s(&zip.body, &scan);
    assert_eq!(files.keys().filter(|n| n.ends_with(".jpg")).count(), 6);
    let size_kib = zip.body.len() as u64 / 1024;
    eprintln!(
        "a {size_kib} KiB ZIP: the daemon's memory {before} KiB before, at most {peak} KiB while sending it"
    );
    assert!(size_kib > 48 * 1024, "{size_kib} KiB");
    assert!(
        peak < before + 8 * 1024,
        "sending a {size_kib} KiB ZIP took the daemon from {before} KiB to {peak} KiB"
    );
    stop(daemon);
}

#[test]
fn camera_settings_change_by_hand_but_not_those_the_profile_sets() {
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    rig.profile(
        "iso200",
        "[camera]\niso = \"200\"\n\n[[rings]]\ntilt = 0.0\nshots = 4\n",
    );
    let settings = get(&format!("{base}/camera/settings?profile=iso200")).json();
    let iso = settings
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "iso")
        .unwrap()
        .clone();
    assert_eq!(iso["set_by_profile"], "200", "{iso}");
    let other = iso["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| **c != iso["value"])
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();

    let change =
        |body: String| request("POST", &format!("{base}/camera/settings"), &[], Some(&body));
    let refused = change(format!(
        "{{\"name\":\"iso\",\"value\":\"{other}\",\"profile\":\"iso200\"}}"
    ));
    let (status, code, error) = error_of(&refused);
    assert_eq!((status, code.as_str()), (409, "set_by_profile"), "{error}");
    assert!(error.contains("iso200"), "{error}");

    let changed = change(format!(
        "{{\"name\":\"iso\",\"value\":\"{other}\",\"profile\":\"api\"}}"
    ));
    assert_eq!(changed.status, 200, "{:?}", changed.json());
    assert_eq!(changed.json()["value"], other.as_str());
    let now = get(&format!("{base}/camera/settings")).json();
    assert!(
        now.as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "iso" && s["value"] == other.as_str()),
        "{now}"
    );
    let bad = change("{\"name\":\"iso\",\"value\":\"banana\"}".to_owned());
    let (status, code, error) = error_of(&bad);
    assert_eq!((status, code.as_str()), (400, "bad_setting"), "{error}");
    assert!(error.contains(&other), "the choices are listed: {error}");
    let bad = change("{\"name\":\"warp\",\"value\":\"9\"}".to_owned());
    assert_eq!(error_of(&bad).1, "bad_setting");
    assert_eq!(
        error_of(&get(&format!("{base}/camera/settings?x=1"))).0,
        400
    );
    stop(daemon);
    common::openapi::check();
}
