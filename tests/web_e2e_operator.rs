//! What an operator meets on the phone page beyond a scan that goes well
//! (412×915, headless Chromium): the Rig view opened first shows the
//! camera's settings, a range setting is a number field that takes a
//! number, a sphere's picture has one ring per band with plain labels, the
//! badge says the table moves while it is jogged; a live connection the
//! rig refuses says why and comes back; a stopped scan stays in the
//! picture, says it was stopped, and its past photos are marked uploaded
//! and shown whole; an interrupted scan is resumed from its page; a fault
//! the scan got over leaves no error behind. Skips like `web_e2e` without
//! Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use std::thread;

use common::http::{get, post, Events};
use common::ring_profile;
use common::web::{serve, shot_states, stop, web_daemon};
use serde_json::json;
use webdriver::page::{click, count, coverage, screenshot, screenshot_of, state, wait, PHONE};
use webdriver::Browser;

/// A tilt arm, and a turntable slow enough to watch a jog.
const RIG: &str = r#"
[tilt]
backend = "sim"
min_deg = -30.0
max_deg = 60.0
[tilt.sim]
home_ms = 10
[turntable.sim]
max_speed_dps = 30.0
accel_dps2 = 60.0
home_ms = 10
"#;

/// 130 shots over a sphere, in six bands.
const SPHERE: &str =
    "path = \"sphere\"\n[sphere]\npoints = 130\ntilt_min = -30.0\ntilt_max = 60.0\n";

fn open(page: &str) -> Browser {
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(page).expect("load the page");
    browser
}

/// Whether the page shows itself connected.
fn live(browser: &Browser) -> webdriver::Result<bool> {
    Ok(browser.find("#conn")?.attribute("data-conn")?.as_deref() == Some("up"))
}

#[test]
fn the_rig_view_a_spheres_picture_and_a_jog_read_plainly() {
    if !webdriver::available() {
        return;
    }
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", RIG);
    rig.profile("sphere", SPHERE);
    let page = base.trim_end_matches("api/v1").to_owned();

    // The Rig view first: the camera's settings once the page is live.
    let browser = open(&format!("{page}#/rig"));
    let rows = wait(&browser, "the camera's settings", || {
        let n = browser.find_all("#settings li")?.len();
        Ok((n > 0).then_some(n))
    });
    assert!(rows >= 3, "{rows} settings");

    // A range is a number field within its bounds, and takes a number.
    let field = browser
        .find("#setting-manualfocusdrive")
        .expect("focus drive");
    let kind = (
        field.property("tagName").unwrap(),
        field.attribute("type").unwrap(),
        field.attribute("min").unwrap(),
        field.attribute("max").unwrap(),
    );
    assert_eq!(
        kind,
        (
            json!("INPUT"),
            Some("number".to_owned()),
            Some("-32767".to_owned()),
            Some("32767".to_owned())
        )
    );
    wait(&browser, "the field enabled", || {
        Ok(field.enabled()?.then_some(()))
    });
    browser
        .execute(
            "const f = document.getElementById('setting-manualfocusdrive'); f.value = '25'; \
             f.dispatchEvent(new Event('change')); return null",
            json!([]),
        )
        .unwrap();
    wait(&browser, "the setting changed", || {
        // The list of what happened is on the Scan view, hidden here.
        let text = browser.execute(
            "return document.getElementById('events').textContent",
            json!([]),
        )?;
        let set = text
            .as_str()
            .is_some_and(|t| t.contains("Manual focus drive set to"));
        Ok(set.then_some(()))
    });
    assert!(
        browser
            .find("#error")
            .unwrap()
            .attribute("hidden")
            .unwrap()
            .is_some(),
        "{}",
        browser.find("#error-text").unwrap().text().unwrap()
    );
    screenshot(&browser, "rig-settings");

    // A sphere: one ring per band, labelled in whole or tenth degrees.
    browser
        .find("#tab-scan")
        .and_then(|t| t.click())
        .expect("Scan");
    wait(&browser, "the sphere offered", || {
        browser.find("#profile option[value=\"sphere\"]").map(Some)
    })
    .click()
    .expect("choose the sphere");
    wait(&browser, "the sphere's picture", || {
        Ok((coverage(&browser, "coverage").len() == 130).then_some(()))
    });
    let caption = browser.find("#coverage-caption").unwrap().text().unwrap();
    assert!(caption.contains("130 shots in 6 rings"), "{caption}");
    let labels = browser
        .execute(
            "return [...document.querySelectorAll('#coverage text, #coverage li')].map(t => t.textContent).filter(t => t.includes('tilt'))",
            json!([]),
        )
        .unwrap();
    let labels: Vec<String> = serde_json::from_value(labels).unwrap();
    assert_eq!(labels.len(), 6, "{labels:?}");
    for label in &labels {
        let long = label
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .any(|n| n.split_once('.').is_some_and(|(_, frac)| frac.len() > 1));
        assert!(!long && label.chars().count() < 40, "{label:?}");
    }
    screenshot_of(&browser, "sphere-coverage", "#coverage");

    // A jog by hand: the badge says the table moves.
    let url = format!("{base}/motor/jog");
    let jog = thread::spawn(move || post(&url, Some("{\"axis\":\"turntable\",\"degrees\":60}")));
    let badge = wait(&browser, "the badge during the jog", || {
        let text = browser.find("#state")?.text()?;
        Ok(
            (text != "Idle" && browser.find("#motion")?.attribute("hidden")?.is_none())
                .then_some(text),
        )
    });
    assert_eq!(badge, "Moving");
    assert_eq!(jog.join().unwrap().status, 200);
    wait(&browser, "idle again", || {
        Ok((browser.find("#state")?.text()? == "Idle").then_some(()))
    });
    drop(browser);
    stop(daemon);
}

#[test]
fn a_refused_stream_a_stopped_scan_and_an_interrupted_one() {
    if !webdriver::available() {
        return;
    }
    let slow = "[camera.sim]\ndownload_ms = 300\n";
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", slow);
    rig.profile("eight", &ring_profile(8, 5));
    let page = base.trim_end_matches("api/v1").to_owned();

    // Every stream this client may have is taken: the page says why, and
    // comes back once they close.
    let streams: Vec<Events> = (0..4)
        .map(|_| Events::open(&format!("{base}/events")))
        .collect();
    let browser = open(&page);
    let note = wait(&browser, "the reason told", || {
        let note = browser.find("#offline-note")?;
        let shown = note.attribute("hidden")?.is_none();
        shown.then(|| note.text()).transpose()
    });
    assert!(note.contains("close a tab"), "{note}");
    let conn = browser.find("#conn-text").unwrap().text().unwrap();
    assert!(conn.contains("Refused"), "{conn}");
    screenshot(&browser, "stream-refused");
    drop(streams);
    wait(&browser, "the page live", || {
        Ok(live(&browser)?.then_some(()))
    });

    // A scan stopped after a few shots: it stays in the picture and says
    // it was stopped, until another profile is chosen.
    wait(&browser, "the profile offered", || {
        browser.find("#profile option[value=\"eight\"]").map(Some)
    })
    .click()
    .expect("choose the profile");
    click(&browser, "#start");
    wait(&browser, "two shots taken", || {
        let shots = coverage(&browser, "coverage");
        Ok((count(&shots, "uploaded") >= 2).then_some(()))
    });
    click(&browser, "#stop");
    click(&browser, "#stop");
    let progress = wait(&browser, "the scan stopped", || {
        let text = browser.find("#scan-progress")?.text()?;
        Ok((state(&browser)? == "idle" && text.contains("stopped")).then_some(text))
    });
    let scan = rig.only_scan();
    let caption = browser.find("#coverage-caption").unwrap().text().unwrap();
    assert!(
        caption.contains(&format!("Scan {scan} (stopped)")),
        "{caption}"
    );
    let shots = coverage(&browser, "coverage");
    assert!(count(&shots, "uploaded") >= 2, "{progress}: {shots:?}");
    screenshot(&browser, "stopped");

    // Its page: every photo marked uploaded, shown whole.
    browser
        .goto(&format!("{page}#/scans/{scan}"))
        .expect("the scan's page");
    let tiles = wait(&browser, "the photos marked uploaded", || {
        let all = browser.find_all("#past-photos .tile")?.len();
        let marked = browser.find_all("#past-photos .tile.uploaded")?.len();
        Ok((all >= 2 && marked == all).then_some(all))
    });
    let fit = browser
        .execute(
            "return getComputedStyle(document.querySelector('#past-photos img.thumb')).objectFit",
            json!([]),
        )
        .unwrap();
    assert_eq!(fit, "contain", "{tiles} photos shown whole");

    // An interrupted scan (the rig lost power): resumed from its page.
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"eight\"}"));
    let scan = started.json()["scan"].as_str().unwrap().to_owned();
    let mut daemon = daemon;
    assert_eq!(rig.wait_for_captures(&mut daemon, 2), scan);
    daemon.kill();
    let (daemon, base) = serve(&rig);
    let page = base.trim_end_matches("api/v1").to_owned();
    browser
        .goto(&format!("{page}#/scans/{scan}"))
        .expect("the interrupted scan's page");
    click(&browser, "#past-resume");
    wait(&browser, "the scan resumed and done", || {
        let s = get(&format!("{base}/status")).json();
        let done = s["scan"]["id"] == scan.as_str() && s["scan"]["outcome"] == "completed";
        Ok((done && s["state"] == "idle").then_some(()))
    });
    assert_eq!(shot_states(&base, &scan), ["uploaded"; 8]);
    drop(browser);
    stop(daemon);
}

#[test]
fn a_fault_the_scan_got_over_leaves_no_error_behind() {
    if !webdriver::available() {
        return;
    }
    // The camera is gone for two seconds after its second shot.
    let flaky = "[camera.sim]\ndownload_ms = 200\nunplug_after_shots = 2\nunplug_ms = 2000\n";
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", flaky);
    rig.profile("eight", &ring_profile(8, 5));
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = open(&page);
    wait(&browser, "the profile offered", || {
        browser.find("#profile option[value=\"eight\"]").map(Some)
    })
    .click()
    .expect("choose the profile");
    click(&browser, "#start");
    wait(&browser, "the fault", || {
        Ok((state(&browser)? == "fault").then_some(()))
    });
    let told = wait(&browser, "the scan over, every photo taken", || {
        let text = browser.find("#scan-progress")?.text()?;
        let done = state(&browser)? == "idle" && text.contains("completed: 8 / 8");
        done.then(|| browser.body_text()).transpose()
    });
    // The page opened again later: the fault is past, nothing tells it.
    browser.goto(&page).expect("the page again");
    wait(&browser, "the page live", || {
        Ok(live(&browser)?.then_some(()))
    });
    let status = get(&format!("{base}/status")).json();
    assert!(status["last_error"].is_object(), "{status}");
    assert!(
        browser
            .find("#error")
            .unwrap()
            .attribute("hidden")
            .unwrap()
            .is_some(),
        "the fault's box is gone: {}",
        browser.find("#error-text").unwrap().text().unwrap()
    );
    assert!(
        browser
            .find("#pause-reason")
            .unwrap()
            .attribute("hidden")
            .unwrap()
            .is_some(),
        "{told}"
    );
    drop(browser);
    stop(daemon);
}
