//! The lights and the Pi's health on the phone page, in headless Chromium:
//! the Rig view has a switch and (for a dimmable light) a slider per light
//! that set it, a light set elsewhere shows there, and the status shows
//! the Pi's health with its trouble (a screenshot goes to
//! `target/screenshots/lights.png`). Skips like `web_e2e` without
//! Chromium, unless `WEB_E2E_REQUIRED=1`.

mod common;
mod webdriver;

use common::http::{get, post};
use common::web::{stop, web_daemon};
use serde_json::json;
use webdriver::page::{screenshot_of, wait, PHONE};
use webdriver::Browser;

#[test]
fn the_page_switches_and_dims_the_lights_and_shows_the_pi_s_health() {
    if !webdriver::available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let flags = tmp
        .path()
        .join("sys/devices/platform/soc/soc:firmware/get_throttled");
    std::fs::create_dir_all(flags.parent().unwrap()).unwrap();
    std::fs::write(&flags, "50005\n").unwrap();
    let config = format!(
        "[health]\nroot = \"{}\"\nevery_s = 1\n\
         [[lights]]\nname = \"ring\"\npin = 18\npwm_hz = 1000\n\
         [[lights]]\nname = \"back\"\npin = 20\n",
        tmp.path().display()
    );
    let (_rig, daemon, base) = web_daemon("127.0.0.1:0", &config);
    let page = base.trim_end_matches("api/v1").to_owned();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser.phone(PHONE.0, PHONE.1).expect("a phone's viewport");
    browser
        .goto(&format!("{page}#/rig"))
        .expect("load the page");
    let brightness = |name: &str| {
        let lights = get(&format!("{base}/lights")).json();
        lights["lights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .unwrap()["brightness"]
            .clone()
    };

    // The switch of a light without PWM: full on; it has no slider. (A
    // tap on a row the page has just drawn again is lost, as a finger's
    // would be: tapped again while it shows off.)
    wait(&browser, "back switched on", || {
        if brightness("back") == 100 {
            return Ok(Some(()));
        }
        browser.execute(
            "const s = document.getElementById('light-back'); if (s && !s.checked) s.click();",
            json!([]),
        )?;
        Ok(None)
    });
    let sliders = browser
        .find_all("li[data-light=back] input[type=range]")
        .unwrap();
    assert!(sliders.is_empty(), "a light without PWM has no slider");

    // The ring's slider, moved as a finger leaves it at 35 %.
    wait(&browser, "the ring's slider", || {
        Ok(browser
            .find("li[data-light=ring] input[type=range]")
            .ok()
            .map(drop))
    });
    browser
        .execute(
            "const s = document.querySelector('li[data-light=ring] input[type=range]'); s.value = '35'; s.dispatchEvent(new Event('change'));",
            json!([]),
        )
        .expect("move the slider");
    wait(&browser, "ring at 35 %", || {
        Ok((brightness("ring") == 35).then_some(()))
    });

    // Set elsewhere (the API, MQTT, the idle timeout): the page follows.
    let r = post(&format!("{base}/lights/ring"), Some(r#"{"brightness": 0}"#));
    assert_eq!(r.status, 200);
    wait(&browser, "the ring's switch off on the page", || {
        let on = browser.execute(
            "const s = document.getElementById('light-ring'); return s ? s.checked : null;",
            json!([]),
        )?;
        Ok((on == json!(false)).then_some(()))
    });

    let health = wait(&browser, "the Pi's health shown", || {
        let text = browser.find("#health")?.text()?;
        Ok(text.contains("under-voltage now").then_some(text))
    });
    assert!(health.contains("throttled now"), "{health}");
    assert!(
        browser
            .find("#health")
            .unwrap()
            .attribute("class")
            .unwrap()
            .unwrap_or_default()
            .contains("bad"),
        "trouble stands out"
    );
    screenshot_of(&browser, "lights", "#lights-card");
    stop(daemon);
}
