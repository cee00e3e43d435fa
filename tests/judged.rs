//! Every photo judged as it lands, on the simulated rig: the judgements in
//! the manifest, the sidecars, the priors, the API and the status; a photo
//! of an empty frame flagged, or pausing the scan; photos a crash left
//! unjudged judged at the next start; bad `[quality]` values refused.

mod common;
mod webdriver;

use std::collections::BTreeSet;

use common::http::{get, post, Events};
use common::web::{stop, web_daemon};
use common::Rig;
use serde_json::{json, Value};
use webdriver::page::{count, coverage, screenshot_of, wait, PHONE};
use webdriver::Browser;

/// The simulated camera at the size its limits were measured on, and a
/// tilt motor, on a tripod 0.5 m out and 0.1 m up: tilted, the camera
/// turns in place.
const CAMERA: &str = "[camera.sim]\nwidth = 640\nheight = 480\n[tilt]\nbackend = \"sim\"\n\
                      [geometry]\ndistance_m = 0.5\nheight_m = 0.1\narm_out_m = 0.0\narm_up_m = 0.0\n";

/// Level shots, which frame the objects, then shots 25° up, which see
/// nothing but the backdrop.
const LEVEL_THEN_UP: &str =
    "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 3\n[[rings]]\ntilt = -25.0\nshots = 2\n";

/// The files of a manifest, each with its `quality`.
fn files(manifest: &Value) -> Vec<&Value> {
    manifest["shots"]
        .as_array()
        .expect("shots")
        .iter()
        .flat_map(|s| s["files"].as_array().expect("files"))
        .collect()
}

/// The names of the photos whose judgement found the object missing.
fn empty_ones(manifest: &Value) -> BTreeSet<String> {
    files(manifest)
        .into_iter()
        .filter(|f| {
            let problems = f["quality"]["problems"].as_array().expect("problems");
            problems.iter().any(|p| p["problem"] == "empty")
        })
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Every file of the manifest was measured; the level ones have no
/// problem and are sharp.
fn assert_all_measured(manifest: &Value, level: usize) {
    let files = files(manifest);
    for f in &files {
        let q = &f["quality"];
        assert_eq!(q["judged"], "measured", "{f}");
        let name = f["name"].as_str().unwrap();
        if name.contains("_t+00.0") {
            assert_eq!(q["problems"], Value::Array(vec![]), "{f}");
            let sharpness = q["judgement"]["sharpness"]["object"].as_f64().unwrap();
            assert!(sharpness > 20.0, "{name}: {sharpness}");
            assert_eq!(
                q["judgement"]["sharpness"]["grid"]
                    .as_array()
                    .unwrap()
                    .len(),
                48
            );
            assert_eq!(
                q["judgement"]["exposure"]["histogram"]
                    .as_array()
                    .unwrap()
                    .len(),
                32
            );
        }
    }
    let levels = files
        .iter()
        .filter(|f| f["name"].as_str().unwrap().contains("_t+00.0"))
        .count();
    assert_eq!(levels, level, "{manifest}");
}

#[test]
fn every_photo_is_judged_and_an_empty_frame_flagged_in_manifest_priors_api_and_status() {
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", CAMERA);
    rig.profile("judged", LEVEL_THEN_UP);
    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"judged\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    let finished = events.until("finished", |_| true);
    assert_eq!(finished["uploaded"], 5, "{finished}");

    // The status counts the scan's photos judged and flagged.
    let status = get(&format!("{base}/status")).json();
    assert_eq!(
        (&status["scan"]["judged"], &status["scan"]["flagged"]),
        (&Value::from(5), &Value::from(2)),
        "{status}"
    );

    // The API's scan holds the manifest with every photo's judgement.
    let detail = get(&format!("{base}/scans/{scan}")).json();
    let manifest = &detail["manifest"];
    assert_all_measured(manifest, 3);
    let up: BTreeSet<String> = [
        "judged_0004_r2_az000.0_t-25.0.jpg",
        "judged_0005_r2_az180.0_t-25.0.jpg",
    ]
    .map(String::from)
    .into();
    assert_eq!(empty_ones(manifest), up);
    let flagged: BTreeSet<String> = manifest["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let said = f["problems"][0].as_str().unwrap();
            assert!(said.starts_with("the object is not in the frame"), "{f}");
            f["photo"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(flagged, up);

    // The coverage picture's shots say which are flagged, and why.
    let shots = get(&format!("{base}/scans/{scan}/shots")).json();
    let marked: Vec<u64> = shots["shots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("flagged").is_some())
        .map(|s| s["shot"].as_u64().unwrap())
        .collect();
    assert_eq!(marked, [4, 5], "{shots}");
    stop(daemon);
    common::openapi::check();

    // The manifest at the destination says the same; the priors leave the
    // flagged photos out, or mark them.
    let folder = rig.delivered(&scan);
    let delivered = common::read_manifest(&folder);
    assert_eq!(empty_ones(&delivered), up);
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).expect(name);
    let images = read("colmap/images.txt");
    let reference = read("colmap/reference.txt");
    let metashape = read("metashape_reference.csv");
    for photo in files(&delivered) {
        let name = photo["name"].as_str().unwrap();
        let stem = name.trim_end_matches(".jpg");
        let sidecar: Value = serde_json::from_str(&read(&format!("{stem}.pose.json"))).unwrap();
        let xmp = read(&format!("{stem}.xmp"));
        let is_flagged = up.contains(name);
        assert_eq!(sidecar["flagged"], is_flagged, "{sidecar}");
        let posed = images
            .lines()
            .any(|l| !l.starts_with('#') && l.ends_with(name));
        assert_eq!(posed, !is_flagged, "{name} in\n{images}");
        assert_eq!(reference.contains(name), !is_flagged, "{reference}");
        assert_eq!(metashape.contains(name), !is_flagged, "{metashape}");
        let used = if is_flagged { "0" } else { "1" };
        assert!(xmp.contains(&format!("xcr:InMeshing=\"{used}\"")), "{xmp}");
    }
    // COLMAP's model names what it left out, and why.
    assert!(
        images.contains(
            "# judged_0004_r2_az000.0_t-25.0.jpg left out (flagged: the object is not in the frame"
        ),
        "{images}"
    );
}

#[test]
fn the_page_draws_a_flagged_shot_apart_and_says_why_on_a_tap() {
    if !webdriver::available() {
        return;
    }
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", CAMERA);
    rig.profile("judged", LEVEL_THEN_UP);
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser
        .goto(base.trim_end_matches("api/v1"))
        .expect("load the page");
    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"judged\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    events.until("finished", |_| true);

    let shots = wait(&browser, "two shots flagged in the picture", || {
        let shots = coverage(&browser, "coverage");
        let done = shots.len() == 5 && count(&shots, "uploaded") == 5;
        Ok((done && count(&shots, "flagged") == 2).then_some(shots))
    });
    let flagged: Vec<u64> = shots
        .iter()
        .filter(|(_, c)| c.split(' ').any(|x| x == "flagged"))
        .map(|(shot, _)| *shot)
        .collect();
    assert_eq!(flagged, [4, 5], "{shots:?}");
    let legend = browser.find("#coverage .legend").unwrap().text().unwrap();
    assert!(legend.contains("2 flagged"), "{legend}");
    let title = browser
        .execute(
            "return document.querySelector('#coverage circle.flagged title').textContent",
            json!([]),
        )
        .unwrap();
    let title = title.as_str().unwrap_or_default();
    assert!(
        title
            .contains("flagged: judged_0004_r2_az000.0_t-25.0.jpg: the object is not in the frame"),
        "{title}"
    );
    // A tap on it says why below the picture; a good shot says nothing.
    // (The picture is drawn anew as the status comes: tap what is there.)
    wait(&browser, "a tap on the flagged shot", || {
        Ok(browser
            .find("#coverage circle.flagged")
            .and_then(|c| c.click())
            .ok())
    });
    let note = wait(&browser, "the reason below the picture", || {
        let text = browser.find("#coverage-flag")?.text()?;
        Ok((!text.is_empty()).then_some(text))
    });
    assert_eq!(note, title);
    screenshot_of(&browser, "flagged-coverage", "#coverage-h");
    stop(daemon);
}

#[test]
fn with_on_problem_pause_an_empty_frame_pauses_the_scan_with_the_photo_and_why() {
    let extra = format!("{CAMERA}[quality]\non_problem = \"pause\"\n");
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", &extra);
    rig.profile(
        "paused",
        "settle_ms = 5\n[[rings]]\ntilt = -25.0\nshots = 1\n[[rings]]\ntilt = 0.0\nshots = 4\n",
    );
    let mut events = Events::open(&format!("{base}/events"));
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"paused\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    let paused = events.until("status", |s| s["state"] == "paused");
    let why = paused["scan"]["paused"].as_str().expect("a reason");
    assert!(
        why.starts_with("paused_0001_r1_az000.0_t-25.0.jpg: the object is not in the frame"),
        "{why}"
    );
    assert!(
        why.contains("point the camera at the table's middle"),
        "{why}"
    );
    // Paused before the scan went far: the photo after it at most.
    let captured = paused["scan"]["captured"].as_u64().unwrap();
    assert!(captured < 5, "{paused}");

    assert_eq!(
        post(&format!("{base}/scans/current/resume"), None).status,
        202
    );
    let finished = events.until("finished", |_| true);
    assert_eq!(finished["uploaded"], 5, "{finished}");
    stop(daemon);
    let manifest = common::read_manifest(&rig.delivered(&scan));
    assert_all_measured(&manifest, 4);
    assert_eq!(
        manifest["flagged"].as_array().unwrap().len(),
        1,
        "{manifest}"
    );
}

#[test]
fn photos_journaled_but_not_judged_before_a_crash_are_judged_at_the_next_start() {
    // Judging off, uploads blocked: photos land in the spool unjudged.
    // (The camera where it stands at the resume: the ring's check there
    // finds nothing moved.)
    let rig = Rig::with(&format!(
        "{CAMERA}[upload]\nretry_initial_ms = 60000\nretry_max_ms = 60000\n[quality]\nenabled = false\n"
    ));
    rig.profile("crash", "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 6\n");
    rig.block_destination();
    let mut running = rig.spawn(&["scan", "--profile", "crash", "--json"]);
    let scan = rig.wait_for_captures(&mut running, 2);
    running.kill();
    let journal = rig.journal(&scan);
    assert!(journal.count("shot_captured") >= 2);
    assert_eq!(journal.count("photo_judged"), 0, "judging is off");

    rig.unblock_destination();
    rig.configure(&format!(
        "{CAMERA}[upload]\nretry_initial_ms = 60000\nretry_max_ms = 60000\n"
    ));
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["judged"], 6, "{}", out.stdout);
    let manifest = common::read_manifest(&rig.delivered(&scan));
    assert_eq!(files(&manifest).len(), 6);
    assert_all_measured(&manifest, 6);
}

#[test]
fn bad_quality_values_are_refused_with_the_key_and_what_is_expected() {
    let rig = Rig::with(
        "[quality]\nqueue = 0\nmax_clipped = 5.0\non_problem = \"stop\"\n[quality.max_edge]\ntop = -1.0\n",
    );
    let out = rig.run(&["check-config"]);
    out.expect_code(2);
    let file = rig.config.display().to_string();
    for said in [
        "quality.on_problem: unknown value `stop`; expected pause or flag",
        "quality.queue: must be 1 to 64 photos, found 0",
        "quality.max_clipped: must be a share from 0 to 1 (0.05 is 5 %), found 5",
        "quality.max_edge.top: must be a share from 0 to 1 (0.05 is 5 %), found -1",
    ] {
        assert!(
            out.stderr.contains(&format!("{file}: {said}")),
            "{said}\n{}",
            out.stderr
        );
    }
}
