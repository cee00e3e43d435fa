//! The phone page (412×915, headless Chromium) when the check after a ring
//! finds the object moved: the reason, the ring's first photo and the view
//! from there now side by side, and Resume going on to the end. Skips like
//! `web_e2e` without Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use common::web::{stop, web_daemon};
use serde_json::json;
use webdriver::page::{click, screenshot_of, state, wait, PHONE};
use webdriver::Browser;

/// Two rings of four shots; the objects slip once 5 photos are taken.
const RINGS: &str = "settle_ms = 5\n\n\
    [[rings]]\ntilt = 0.0\nshots = 4\n\n\
    [[rings]]\ntilt = 10.0\nshots = 4\n";

#[test]
fn a_moved_object_shows_both_pictures_and_resume_finishes_the_scan() {
    if !webdriver::available() {
        return;
    }
    let (rig, daemon, base) = web_daemon(
        "127.0.0.1:0",
        "[camera.sim]\nslip_after_shots = 5\n[tilt]\nbackend = \"sim\"\n",
    );
    rig.profile("rings", RINGS);
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(&page).expect("load the page");
    wait(&browser, "the profile offered", || {
        browser.find("#profile option[value=\"rings\"]").map(Some)
    })
    .click()
    .expect("choose the profile");
    click(&browser, "#start");

    // Both pictures shown, loaded, side by side.
    let loaded = "return ['#moved-photo', '#moved-frame'].map(s => { \
        const i = document.querySelector(s); const r = i.getBoundingClientRect(); \
        return [i.complete && i.naturalWidth > 0, r.left, r.top, r.width]; })";
    let pictures = wait(&browser, "both pictures of the check", || {
        if browser.find("#moved")?.attribute("hidden")?.is_some() {
            return Ok(None);
        }
        let seen = browser.execute(loaded, json!([]))?;
        let both = seen
            .as_array()
            .is_some_and(|a| a.iter().all(|p| p[0] == true));
        Ok(both.then_some(seen))
    });
    let (photo, frame) = (&pictures[0], &pictures[1]);
    assert_eq!(photo[2], frame[2], "one beside the other: {pictures}");
    assert!(
        frame[1].as_f64() >= photo[1].as_f64().map(|l| l + photo[3].as_f64().unwrap()),
        "{pictures}"
    );
    assert_eq!(state(&browser).unwrap(), "paused");
    let reason = browser.find("#pause-reason").unwrap().text().unwrap();
    assert!(
        reason.contains("the object moved during ring 2"),
        "{reason}"
    );
    screenshot_of(&browser, "moved-object", "#moved");

    click(&browser, "#resume");
    wait(&browser, "the scan over", || {
        let text = browser.find("#scan-progress")?.text()?;
        let done = state(&browser)? == "idle" && text.contains("completed: 8 / 8");
        Ok(done.then_some(()))
    });
    assert!(browser
        .find("#moved")
        .unwrap()
        .attribute("hidden")
        .unwrap()
        .is_some());
    drop(browser);
    stop(daemon);
}
