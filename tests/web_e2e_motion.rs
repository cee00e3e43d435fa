//! The web page's Stop stops a jog, in headless Chromium: while the
//! motors turn by hand the page shows the motion, its Stop button stops
//! it at the first tap, and the jog ends short with its position known;
//! then a jog started from the page's Rig view (a screenshot of it goes
//! to `target/screenshots/rig.png`), stopped by its Stop motors.
//! Skips like `web_e2e` without Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use std::thread;
use std::time::Duration;

use common::http::post;
use common::web::{stop, web_daemon};
use webdriver::page::{screenshot, wait, PHONE};
use webdriver::{poll, Browser};

#[test]
fn the_pages_stop_button_stops_a_jog() {
    if !webdriver::available() {
        return;
    }
    let slow = "[turntable.sim]\nmax_speed_dps = 30.0\naccel_dps2 = 60.0\nhome_ms = 10\n";
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", slow);
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(&page).expect("load the page");
    // Homed by a small jog, then one of 12 s.
    let r = post(
        &format!("{base}/motor/jog"),
        Some("{\"axis\":\"turntable\",\"degrees\":1}"),
    );
    assert_eq!(r.status, 200);
    let url = format!("{base}/motor/jog");
    let jog = thread::spawn(move || post(&url, Some("{\"axis\":\"turntable\",\"degrees\":360}")));

    let seen = wait(&browser, "the motion on the page", || {
        let motion = browser.find("#motion")?;
        let shown = motion.attribute("hidden")?.is_none();
        let text = motion.text()?;
        let stop = browser.find("#stop")?;
        let ready = shown && stop.enabled()? && stop.text()? == "Stop motors";
        Ok(ready.then_some(text))
    });
    assert!(seen.contains("Turning the turntable by +360.0°"), "{seen}");
    browser
        .find("#stop")
        .and_then(|b| b.click())
        .expect("tap Stop");

    let answer = jog.join().unwrap().json();
    assert_eq!(answer["stopped"], "controlled", "{answer}");
    assert!(
        answer["position"]
            .as_f64()
            .is_some_and(|p| (0.0..360.0).contains(&p)),
        "{answer}"
    );
    poll(
        "the motion gone from the page",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || Ok(browser.find("#motion")?.attribute("hidden")?.map(drop)),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // A jog from the page's Rig view, stopped there.
    browser.goto(&format!("{page}#/rig")).expect("the Rig view");
    let jog = "button.jog[data-axis=\"turntable\"][data-degrees=\"90\"]";
    wait(&browser, "the jog buttons enabled", || {
        Ok(browser.find(jog)?.enabled()?.then_some(()))
    });
    screenshot(&browser, "rig");
    browser.find(jog).and_then(|b| b.click()).expect("tap +90°");
    let seen = poll(
        "the page's jog under way",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            let motion = browser.find("#motion")?;
            let shown = motion.attribute("hidden")?.is_none();
            shown.then(|| motion.text()).transpose()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(seen.contains("+90.0°"), "{seen}");
    browser
        .find("#motor-stop")
        .and_then(|b| b.click())
        .expect("tap Stop motors");
    let position = wait(&browser, "where the jog stopped", || {
        let text = browser.find("#position")?.text()?;
        Ok(text.contains("stopped").then_some(text))
    });
    assert!(position.contains("stopped: controlled"), "{position}");
    drop(browser);
    stop(daemon);
}
