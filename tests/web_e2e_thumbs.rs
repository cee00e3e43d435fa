//! A thumbnail that does not load the first time (the Wi-Fi dropped as it
//! was asked for) is asked for again on the page, and shows once the rig
//! can be reached, in headless Chromium. Skips like `web_e2e` without
//! Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use std::net::SocketAddr;
use std::time::Duration;

use common::http::post;
use common::proxy::Proxy;
use common::web::{stop, web_daemon};
use serde_json::json;
use webdriver::page::{wait, STEP};
use webdriver::{poll, Browser};

#[test]
fn a_thumbnail_that_did_not_load_is_asked_for_again_and_shows() {
    if !webdriver::available() {
        return;
    }
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", "");
    let target: SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .parse()
        .unwrap();
    let proxy = Proxy::to(target);
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser
        .goto(&format!("http://{}/", proxy.addr))
        .expect("load the page");
    wait(&browser, "the page connected", || {
        let conn = browser.find("#conn")?.attribute("data-conn")?;
        Ok((conn.as_deref() == Some("up")).then_some(()))
    });
    // A test shot, asked for directly: its thumbnail is on the rig.
    let shot = post(&format!("{base}/camera/capture"), None);
    assert_eq!(shot.status, 200, "{:?}", shot.json());
    let thumbnail = shot.json()["files"][0]["thumbnail"]
        .as_str()
        .expect("a thumbnail")
        .to_owned();

    // The Wi-Fi drops as the page asks for it: the image fails to load.
    proxy.cut();
    let tile = "const img = photoTile({ name: 'shot', shot: 1, thumbnail: arguments[0] }).querySelector('img'); \
                img.id = 'retried'; document.body.append(img.closest('figure'));";
    browser
        .execute(tile, json!([thumbnail]))
        .expect("a tile made");
    let tries = "return document.getElementById('retried').dataset.tries || '0'";
    wait(&browser, "the thumbnail to fail once", || {
        let tries = browser.execute(tries, json!([]))?;
        Ok((tries != "0").then_some(()))
    });
    let width = "return document.getElementById('retried').naturalWidth";
    assert_eq!(browser.execute(width, json!([])).unwrap(), 0);

    // Back: the page asks again, and the thumbnail shows.
    proxy.restore();
    let shown = poll(
        "the thumbnail shown",
        STEP,
        Duration::from_millis(100),
        || {
            let w = browser.execute(width, json!([]))?.as_u64().unwrap_or(0);
            Ok((w > 0).then_some(w))
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(shown <= 160, "a thumbnail, not the photo: {shown} px wide");
    stop(daemon);
}
