//! A camera column on the phone page, in headless Chromium: the page lists
//! each camera of the column with its health, and the one that is gone
//! stands out with its reason (a screenshot goes to
//! `target/screenshots/column-fault.png`). Skips like `web_e2e` without
//! Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use common::http::post;
use common::web::{stop, web_daemon};
use webdriver::page::{screenshot_of, wait, PHONE};
use webdriver::Browser;

#[test]
fn the_page_shows_each_camera_of_the_column_and_the_one_gone() {
    if !webdriver::available() {
        return;
    }
    let (_rig, daemon, base) = web_daemon(
        "127.0.0.1:0",
        "[[cameras]]\nname = \"low\"\n\
         [[cameras]]\nname = \"high\"\n[cameras.sim]\nunplug_after_shots = 2\nunplug_ms = 600000\n",
    );
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(&page).expect("load the page");
    wait(&browser, "both cameras listed", || {
        let text = browser.find("#devices")?.text()?;
        Ok((text.contains("Camera low") && text.contains("Camera high")).then_some(()))
    });
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(started.status, 202);
    let bad = wait(&browser, "the high camera shown gone", || {
        let bad: Vec<String> = browser
            .find_all("#devices li.bad")?
            .iter()
            .map(|li| li.text())
            .collect::<webdriver::Result<_>>()?;
        Ok((!bad.is_empty()).then_some(bad))
    });
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("Camera high"), "{bad:?}");
    screenshot_of(&browser, "column-fault", "#devices");
    stop(daemon);
}
