//! The setup check on the phone page (412×915, headless Chromium): the Rig
//! view's button checks the profile chosen on the Scan view; each pose's
//! photo shows with its sharpness heat map over it and its brightness
//! histogram along its foot, and its verdict in words. Skips like
//! `web_e2e` without Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use common::web::{stop, web_daemon};
use serde_json::{json, Value};
use webdriver::page::{click, screenshot_of, wait, PHONE};
use webdriver::Browser;

/// The simulated camera at the judges' size, on a tripod 0.5 m out and
/// 0.1 m up (the camera pivots in place).
const RIG: &str = "[camera.sim]\nwidth = 640\nheight = 480\n\
                   [geometry]\ndistance_m = 0.5\nheight_m = 0.1\n\
                   arm_out_m = 0.0\narm_up_m = 0.0\n\
                   [tilt]\nbackend = \"sim\"\n";

/// What the page shows of each pose's photo: loaded, where the photo and
/// the two drawings over it stand, the heat map's cells and how many
/// of the histogram's pixels are bars.
const DRAWN: &str = r#"
const rect = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round); };
return [...document.querySelectorAll('#check-poses li.check-pose')].map((li) => {
  const img = li.querySelector('img');
  const heat = li.querySelector('canvas.heat');
  const hist = li.querySelector('canvas.histogram');
  const g = heat.getContext('2d');
  const cells = [];
  for (let i = 0; i < 48; i++) {
    cells.push([...g.getImageData((i % 8) * 40 + 5, Math.floor(i / 8) * 40 + 5, 1, 1).data]);
  }
  const h = hist.getContext('2d').getImageData(0, 0, hist.width, hist.height).data;
  let bars = 0;
  for (let i = 0; i < h.length; i += 4) if (h[i] > 200 && h[i + 1] > 200 && h[i + 2] > 200) bars++;
  return {good: li.dataset.good, text: li.textContent, loaded: img.complete ? img.naturalWidth : 0,
          img: rect(img), heat: rect(heat), hist: rect(hist), cells, bars};
});
"#;

#[test]
fn the_check_button_shows_each_poses_photo_with_its_measures_and_verdict() {
    if !webdriver::available() {
        return;
    }
    let (rig, daemon, base) = web_daemon("127.0.0.1:0", RIG);
    rig.profile(
        "steep",
        "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 4\n[[rings]]\ntilt = 45.0\nshots = 4\n",
    );
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser.goto(&page).expect("load the page");
    wait(&browser, "the profile offered", || {
        browser.find("#profile option[value=\"steep\"]").map(Some)
    })
    .click()
    .expect("choose the profile");

    click(&browser, "#tab-rig");
    click(&browser, "#check");
    let poses: Vec<Value> = wait(&browser, "both poses drawn", || {
        let drawn = browser.execute(DRAWN, json!([]))?;
        let poses = drawn.as_array().cloned().unwrap_or_default();
        let loaded = poses.len() == 2 && poses.iter().all(|p| p["loaded"] == 640);
        Ok(loaded.then_some(poses))
    });
    let summary = browser.find("#check-summary").unwrap().text().unwrap();
    assert!(summary.contains("1 of 2 poses need a change"), "{summary}");

    let (level, top) = (&poses[0], &poses[1]);
    assert_eq!(level["good"], "yes", "{}", level["text"]);
    assert!(level["text"].as_str().unwrap().starts_with("Tilt 0°: good"));
    assert_eq!(top["good"], "no");
    let words = top["text"].as_str().unwrap();
    assert!(words.starts_with("Tilt +45°: needs a change"), "{words}");
    assert!(
        words.contains("at tilt +45°: the object is not in the frame")
            && words.contains("lower the top ring"),
        "{words}"
    );

    for pose in &poses {
        // The heat map lies over the whole photo, every cell shaded; the
        // histogram along its foot, with bars.
        assert_eq!(pose["heat"], pose["img"], "{pose}");
        let (img, hist) = (&pose["img"], &pose["hist"]);
        let bottom = |r: &Value| r[1].as_i64().unwrap() + r[3].as_i64().unwrap();
        assert_eq!(
            (hist[0].clone(), hist[2].clone()),
            (img[0].clone(), img[2].clone())
        );
        assert!((bottom(hist) - bottom(img)).abs() <= 1, "{pose}");
        let cells = pose["cells"].as_array().unwrap();
        assert!(cells.iter().all(|c| c[3].as_u64() > Some(0)), "{pose}");
        assert!(pose["bars"].as_u64() > Some(0), "{pose}");
    }
    // Level, the object is sharp where it stands and the backdrop soft:
    // some cells green, some red.
    let hues: Vec<(u64, u64)> = level["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_u64().unwrap(), c[1].as_u64().unwrap()))
        .collect();
    assert!(hues.iter().any(|(r, g)| g > r), "{hues:?}");
    assert!(hues.iter().any(|(r, g)| r > g), "{hues:?}");
    screenshot_of(&browser, "setup-check", "#check-poses");
    drop(browser);
    stop(daemon);
}
