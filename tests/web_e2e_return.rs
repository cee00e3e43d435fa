//! The phone page coming back: to a rig whose daemon restarted while the
//! phone was away (its events' ids are of the old daemon, so the rig tells
//! the page to read everything again, and the scan taken meanwhile shows
//! whole), and to a rig that wants its access token (the page asks for
//! it). Skips like `web_e2e` without Chromium, unless
//! `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use std::net::SocketAddr;
use std::time::Duration;

use common::http::{get, post};
use common::proxy::Proxy;
use common::web::{serve, stop, web_daemon};
use common::{plan, ring_profile, rings_of};
use serde_json::json;
use webdriver::page::{screenshot, state, wait, PHONE, STEP};
use webdriver::{poll, Browser};

/// The web side's address in an API base URL.
fn address(base: &str) -> SocketAddr {
    base.trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .parse()
        .expect("host:port")
}

/// Whether the page shows itself connected.
fn live(browser: &Browser) -> webdriver::Result<bool> {
    Ok(browser.find("#conn")?.attribute("data-conn")?.as_deref() == Some("up"))
}

#[test]
fn a_phone_away_while_the_daemon_restarted_and_scanned_reads_everything_again() {
    if !webdriver::available() {
        return;
    }
    let (rig, first, base) = web_daemon("127.0.0.1:0", "");
    let proxy = Proxy::to(address(&base));
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser
        .goto(&format!("http://{}/", proxy.addr))
        .expect("load the page");
    wait(&browser, "the page live and idle", || {
        Ok((live(&browser)? && state(&browser)? == "idle").then_some(()))
    });

    // The phone loses the rig; meanwhile the daemon restarts (a new
    // process: the page's last event id means nothing to it) and takes a
    // whole scan.
    proxy.cut();
    wait(&browser, "the page to say it is not connected", || {
        Ok((!live(&browser)?).then_some(()))
    });
    stop(first);
    let (second, base) = serve(&rig);
    let started = post(&format!("{base}/scans"), Some("{\"profile\":\"api\"}"));
    assert_eq!(started.status, 202, "{:?}", started.json());
    poll(
        "the scan uploaded",
        STEP,
        Duration::from_millis(100),
        || {
            let s = get(&format!("{base}/status")).json();
            let done = s["state"] == "idle" && s["scan"]["uploaded"] == 6;
            Ok(done.then_some(()))
        },
    )
    .unwrap();
    proxy.retarget(address(&base));
    proxy.restore();

    // Back: told so, and every photo of that scan shows, uploaded.
    wait(&browser, "the page told to read everything again", || {
        let told = browser.find("#events")?.text()?.contains("read again");
        Ok((told && live(&browser)?).then_some(()))
    });
    let planned: Vec<String> = plan("api", &rings_of(&ring_profile(6, 5)))
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut names = wait(&browser, "every photo of the scan, uploaded", || {
        let names = browser.execute(
            "return [...document.querySelectorAll('#thumbs img.thumb.uploaded')].filter(i => i.naturalWidth > 0).map(i => i.dataset.name)",
            json!([]),
        )?;
        let names: Vec<String> = serde_json::from_value(names).unwrap_or_default();
        Ok((names.len() == planned.len()).then_some(names))
    });
    names.sort();
    assert_eq!(names, planned, "every photo once");
    let progress = browser.find("#scan-progress").unwrap().text().unwrap();
    assert!(progress.contains("6 / 6"), "{progress}");
    drop(browser);
    stop(second);
}

#[test]
fn without_its_token_the_page_asks_for_it() {
    if !webdriver::available() {
        return;
    }
    let (rig, daemon, base) = web_daemon("0.0.0.0:0", "");
    let token = rig
        .run(&["web", "token"])
        .stdout
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(&page).expect("load the page");
    wait(&browser, "the token prompt", || {
        let card = browser.find("#token-card")?;
        Ok(card.attribute("hidden")?.is_none().then_some(()))
    });
    let progress = browser.find("#scan-progress").unwrap().text().unwrap();
    assert!(
        !progress.contains("No scan running"),
        "it does not know: {progress}"
    );
    assert!(
        browser
            .find("#conn-text")
            .unwrap()
            .text()
            .unwrap()
            .contains("token"),
        "the header says what is missing"
    );
    assert!(!browser.find("#start").unwrap().enabled().unwrap());
    screenshot(&browser, "token");

    let field = browser.find("#token-input").unwrap();
    field.send_keys("not-the-token").expect("type");
    browser.find("#token-save").and_then(|b| b.click()).unwrap();
    wait(&browser, "a wrong token refused", || {
        let wrong = browser.find("#token-wrong")?;
        Ok(wrong.attribute("hidden")?.is_none().then_some(()))
    });
    field.clear().expect("clear");
    field.send_keys(&token).expect("type");
    browser.find("#token-save").and_then(|b| b.click()).unwrap();
    wait(&browser, "the rig's state with the token", || {
        let idle = state(&browser)? == "idle";
        let gone = browser.find("#token-card")?.attribute("hidden")?.is_some();
        let live = browser.find("#conn")?.attribute("data-conn")?.as_deref() == Some("up");
        Ok((idle && gone && live).then_some(()))
    });
    // Kept: a reload needs no prompt.
    browser.goto(&page).expect("reload");
    wait(&browser, "live again without a prompt", || {
        let live = browser.find("#conn")?.attribute("data-conn")?.as_deref() == Some("up");
        Ok(live.then_some(()))
    });
    assert!(browser
        .find("#token-card")
        .unwrap()
        .attribute("hidden")
        .unwrap()
        .is_some());
    drop(browser);
    stop(daemon);
}
