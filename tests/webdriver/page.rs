//! The phone page's parts as the browser tests look at them: the rig's
//! state, the coverage picture, buttons pressed once enabled, screenshots
//! under `target/screenshots/`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::{poll, Browser, Result};

/// A phone's viewport, in CSS pixels.
pub const PHONE: (u32, u32) = (412, 915);

/// How long the page may take to show something.
pub const STEP: Duration = Duration::from_secs(20);

/// A screenshot of the page scrolled to `selector`'s top, then back.
pub fn screenshot_of(browser: &Browser, name: &str, selector: &str) {
    let script =
        "document.querySelector(arguments[0]).scrollIntoView({block: \"center\"}); return null";
    browser.execute(script, json!([selector])).expect("scroll");
    screenshot(browser, name);
    browser
        .execute("window.scrollTo(0, 0); return null", json!([]))
        .expect("scroll back");
}

/// Saves the viewport as `target/screenshots/<name>.png`.
pub fn screenshot(browser: &Browser, name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/screenshots")
        .join(format!("{name}.png"));
    browser
        .screenshot(&path)
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
}

/// Polls the page until `probe` yields; on timeout, panics with the page.
pub fn wait<T>(browser: &Browser, what: &str, probe: impl FnMut() -> Result<Option<T>>) -> T {
    poll(what, STEP, Duration::from_millis(100), probe).unwrap_or_else(|e| {
        panic!(
            "{e}\n--- page:\n{}",
            browser.body_text().unwrap_or_default()
        )
    })
}

/// The coverage picture's shots in `box_id`: (shot, classes).
pub fn coverage(browser: &Browser, box_id: &str) -> Vec<(u64, String)> {
    let script = format!(
        "return [...document.querySelectorAll('#{box_id} circle.shot')].map(c => [Number(c.dataset.shot), c.getAttribute('class')])"
    );
    let found = browser.execute(&script, json!([])).expect("coverage");
    serde_json::from_value(found).expect("pairs")
}

pub fn count(shots: &[(u64, String)], class: &str) -> usize {
    shots
        .iter()
        .filter(|(_, c)| c.split(' ').any(|x| x == class))
        .count()
}

pub fn state(browser: &Browser) -> Result<String> {
    Ok(browser
        .find("#state")?
        .attribute("data-state")?
        .unwrap_or_default())
}

pub fn click(browser: &Browser, selector: &str) {
    let button = wait(browser, &format!("{selector} enabled"), || {
        let b = browser.find(selector)?;
        Ok(b.enabled()?.then_some(b))
    });
    button
        .click()
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}
