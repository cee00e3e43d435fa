//! The page as an operator uses it from a phone (412×915, headless
//! Chromium): the coverage picture through a scan, the Wi-Fi dropping
//! mid-scan (a proxy the test cuts) and every photo shown after it comes
//! back, a fault told once, a past scan with its photos and its ZIP (each
//! file's sha256 as the manifest says). Screenshots of each state go to
//! `target/screenshots/` for people to look at. Skips like `web_e2e`
//! without Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use std::net::SocketAddr;
use std::time::Duration;

use common::http::get;
use common::proxy::Proxy;
use common::web::{stop, web_daemon};
use common::{plan, ring_profile, rings_of};
use serde_json::{json, Value};
use webdriver::page::{
    click, count, coverage, screenshot, screenshot_of, state, wait, PHONE, STEP,
};
use webdriver::{poll, Browser};

/// The scan of the test: 12 shots, slow enough downloads to watch.
const SHOTS: u32 = 12;

/// The camera goes away (for ten minutes) at its 20th shot: in the
/// second scan, a fault.
const RIG: &str = r#"
[log]
level = "debug"
[camera.sim]
download_ms = 400
unplug_after_shots = 20
unplug_ms = 600000
"#;

/// The daemon's status, asked directly (not through the proxy).
fn rig_status(base: &str) -> Value {
    get(&format!("{base}/status")).json()
}

#[test]
fn a_scan_from_the_phone_through_a_dropped_connection_a_fault_and_a_past_scan() {
    if !webdriver::available() {
        return;
    }
    let (rig, mut daemon, base) = web_daemon("127.0.0.1:0", RIG);
    let profile = ring_profile(SHOTS, 5);
    rig.profile("phone", &profile);
    let target: SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .parse()
        .unwrap();
    let proxy = Proxy::to(target);
    let page = format!("http://{}/", proxy.addr);
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(&page).expect("load the page");

    // Idle: the profile's picture before it starts, every shot to take.
    let option = "#profile option[value=\"phone\"]";
    wait(&browser, "the profile offered", || {
        browser.find(option).map(Some)
    })
    .click()
    .expect("choose the profile");
    let shots = wait(&browser, "the profile's picture", || {
        let shots = coverage(&browser, "coverage");
        Ok((shots.len() == SHOTS as usize).then_some(shots))
    });
    assert_eq!(count(&shots, "pending"), SHOTS as usize, "{shots:?}");
    let caption = browser.find("#coverage-caption").unwrap().text().unwrap();
    assert!(
        caption.contains("What phone will shoot: 12 shots"),
        "{caption}"
    );
    screenshot(&browser, "idle");
    screenshot_of(&browser, "idle-coverage", "#coverage-h");

    // Scanning: shots change colour, the current one is marked, time left
    // is told.
    click(&browser, "#start");
    let shots = wait(&browser, "a shot uploaded in the picture", || {
        let shots = coverage(&browser, "coverage");
        let done = count(&shots, "uploaded") >= 1 && count(&shots, "current") == 1;
        Ok((done && state(&browser)? == "scanning").then_some(shots))
    });
    assert_eq!(shots.len(), SHOTS as usize);
    assert!(count(&shots, "pending") >= 1, "{shots:?}");
    let timing = wait(&browser, "time left", || {
        let t = browser.find("#timing")?.text()?;
        Ok(t.contains("left").then_some(t))
    });
    assert!(timing.contains("elapsed"), "{timing}");
    screenshot(&browser, "scanning");
    screenshot_of(&browser, "scanning-coverage", "#coverage-h");

    click(&browser, "#pause");
    wait(&browser, "paused", || {
        Ok((state(&browser)? == "paused").then_some(()))
    });
    screenshot(&browser, "paused");
    click(&browser, "#resume");
    wait(&browser, "scanning again", || {
        Ok((state(&browser)? == "scanning").then_some(()))
    });

    // The Wi-Fi drops: the page says so and turns its controls off while
    // the rig scans on.
    let before = rig_status(&base)["scan"]["captured"].as_u64().unwrap();
    proxy.cut();
    wait(&browser, "the page to say it is not connected", || {
        let conn = browser.find("#conn")?.attribute("data-conn")?;
        let text = browser.find("#conn-text")?.text()?;
        let pause = browser.find("#pause")?.enabled()?;
        Ok((conn.as_deref() == Some("down") && !pause).then_some(text))
    });
    assert!(
        browser
            .find("#offline-note")
            .unwrap()
            .attribute("hidden")
            .unwrap()
            .is_none(),
        "the page says plainly that it is not connected"
    );
    let gap = poll(
        "photos taken while the page is cut off",
        STEP,
        Duration::from_millis(100),
        || {
            let now = rig_status(&base)["scan"]["captured"].as_u64().unwrap_or(0);
            Ok((now >= before + 3).then_some(now - before))
        },
    )
    .unwrap();
    eprintln!("{gap} photos taken while the page was cut off");
    proxy.restore();

    // Back: every photo of the scan shows, each marked uploaded.
    wait(&browser, "the scan finished on the page", || {
        let text = browser.find("#scan-progress")?.text()?;
        let idle = state(&browser)? == "idle";
        Ok((idle && text.contains(&format!("{SHOTS} / {SHOTS}"))).then_some(()))
    });
    let planned: Vec<String> = plan("phone", &rings_of(&profile))
        .into_iter()
        .map(|p| p.name)
        .collect();
    let thumbs = "return [...document.querySelectorAll('#thumbs img.thumb')].map(i => [i.dataset.name, i.className, i.naturalWidth])";
    let names = poll("every photo shown, uploaded", STEP, Duration::from_millis(100), || {
        let names = browser.execute(
            "return [...document.querySelectorAll('#thumbs img.thumb.uploaded')].filter(i => i.naturalWidth > 0).map(i => i.dataset.name)",
            json!([]),
        )?;
        let names: Vec<String> = serde_json::from_value(names).unwrap_or_default();
        Ok((names.len() == SHOTS as usize).then_some(names))
    })
    .unwrap_or_else(|e| panic!("{e}: {}", browser.execute(thumbs, json!([])).unwrap()));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, planned, "every photo once, the gap's too");
    let scan = rig.only_scan();

    // The past scan: its picture, its photos, its ZIP.
    browser
        .find("#tab-scans")
        .and_then(|t| t.click())
        .expect("Past scans");
    let link = format!("#history a[href=\"#/scans/{scan}\"]");
    wait(&browser, "the scan listed", || {
        browser.find(&link).map(Some)
    })
    .click()
    .expect("open the scan");
    let shots = wait(&browser, "the past scan's picture", || {
        let shots = coverage(&browser, "past-coverage");
        Ok((shots.len() == SHOTS as usize).then_some(shots))
    });
    assert_eq!(count(&shots, "uploaded"), SHOTS as usize, "{shots:?}");
    wait(&browser, "the past scan's thumbnails", || {
        let n = browser.execute(
            "return [...document.querySelectorAll('#past-photos img.thumb')].filter(i => i.naturalWidth > 0).length",
            json!([]),
        )?;
        Ok((n == SHOTS).then_some(()))
    });
    screenshot(&browser, "past-scan");
    let href = browser
        .find("#past-zip")
        .and_then(|a| a.property("href"))
        .expect("the ZIP link");
    let href = href
        .as_str()
        .unwrap()
        .replace(&proxy.addr.to_string(), &target.to_string());
    let zip = get(&href);
    assert_eq!(zip.status, 200, "{href}");
    let manifest = get(&format!("{base}/scans/{scan}")).json()["manifest"].clone();
    let in_zip = common::zip_sha256s(&zip.body, &scan);
    let mut photos = 0;
    for shot in manifest["shots"].as_array().unwrap() {
        for f in shot["files"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            assert_eq!(
                in_zip.get(name).map(String::as_str),
                f["sha256"].as_str(),
                "{name}"
            );
            photos += 1;
        }
    }
    assert_eq!(photos, SHOTS);

    // A fault (the camera gone at the 8th shot of a second scan): told
    // once, in words, the controls to go on.
    browser
        .find("#tab-scan")
        .and_then(|t| t.click())
        .expect("back to the scan");
    click(&browser, "#start");
    wait(&browser, "a fault", || {
        Ok((state(&browser)? == "fault").then_some(()))
    });
    let reason = wait(&browser, "the fault's reason", || {
        let r = browser.find("#pause-reason")?;
        r.attribute("hidden")?
            .is_none()
            .then(|| r.text())
            .transpose()
    });
    assert!(reason.contains("plug it back in"), "{reason}");
    // Once the rig has looked for the camera a few times, it is still
    // told once.
    let looking = "looking for the gone device";
    let before = daemon.stderr().matches(looking).count();
    daemon.wait_for_stderr_times(looking, before + 3, common::DEADLINE);
    let text = browser.body_text().unwrap();
    assert_eq!(
        text.matches("plug it back in").count(),
        1,
        "the fault is told once:\n{text}"
    );
    assert!(
        text.matches("simulated unplug").count() <= 1,
        "the fault is told once:\n{text}"
    );
    let raw = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[1] == "ms" && w[0].parse::<u64>().is_ok_and(|n| n >= 1000));
    assert!(!raw, "durations in words, not thousands of ms:\n{text}");
    screenshot(&browser, "fault");
    click(&browser, "#stop");
    click(&browser, "#stop");
    wait(&browser, "idle after stopping", || {
        Ok((state(&browser)? == "idle").then_some(()))
    });
    drop(browser);
    stop(daemon);
}
