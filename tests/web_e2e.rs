//! The daemon's web UI end to end: headless Chromium, driven through chromedriver, starts, pauses and resumes a scan on the simulated rig while the physical buttons (signals) act on the same scan. Without Chromium and chromedriver the tests say so and skip, unless `WEB_E2E_REQUIRED=1` (as in CI).
//!
//! `.ci/deps` installs Debian's `chromium` and `chromium-driver`. The
//! WebDriver client is in `webdriver/`; `webdriver_drives_chromium` checks
//! it on a page of its own, so a failure of the web UI test is the UI's.

mod common;
mod webdriver;

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use common::{assert_complete, plan, ring_profile, rings_of, Output, Rig, Running, DEADLINE};
use serde_json::json;
use webdriver::{poll, Browser};

/// The profile the web UI test scans, and its shots.
const PROFILE: &str = "e2e";
const SHOTS: u32 = 12;

/// The daemon serves the UI on a free loopback port; downloads slow enough
/// that the scan lasts a few seconds (12 × 250 ms), long enough to pause.
const WEB_RIG: &str = r#"
[web]
listen = "127.0.0.1:0"

[daemon]
profile = "e2e"

[camera.sim]
download_ms = 250
"#;

/// How often the test looks at the page.
const POLL: Duration = Duration::from_millis(100);

/// How long one step may take to show on the page.
const STEP: Duration = Duration::from_secs(20);

/// A press of the physical Pause button must show on the page within this.
const BUTTON_TO_PAGE: Duration = Duration::from_secs(1);

/// How long the page may show idle before `#scan-progress` shows the
/// finished scan's count.
const IDLE_SETTLE: Duration = Duration::from_secs(2);

/// Looked at more often while measuring [`BUTTON_TO_PAGE`], so the polling
/// adds little to what is measured.
const FINE_POLL: Duration = Duration::from_millis(20);

/// The thumbnails in `#thumbs` that really loaded.
const LOADED_THUMBS: &str =
    "return [...document.querySelectorAll('#thumbs img.thumb')].filter(i => i.naturalWidth > 0).length";

/// The `data-name` of every thumbnail, in page order.
const THUMB_NAMES: &str =
    "return [...document.querySelectorAll('#thumbs img.thumb')].map(i => i.getAttribute('data-name'))";

#[test]
fn webdriver_drives_chromium() {
    if !webdriver::available() {
        return;
    }
    let began = Instant::now();
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    browser
        .goto(&data_url(SELF_TEST_PAGE))
        .expect("load the page");
    assert_eq!(browser.title().expect("title"), "webdriver self-test");

    let out = browser.find("#out").expect("#out");
    assert_eq!(
        out.attribute("data-state").expect("attribute").as_deref(),
        Some("idle")
    );
    assert_eq!(out.attribute("data-nothing").expect("attribute"), None);
    assert_eq!(out.text().expect("text"), "ready");
    let missing = browser
        .find("#nothing")
        .err()
        .expect("#nothing is not there");
    assert!(missing.is("no such element"), "{missing}");

    // A <select> set by clicking its option, as a user would.
    browser
        .find("#pick option[value=\"b\"]")
        .expect("option b")
        .click()
        .expect("click option b");
    assert_eq!(
        browser
            .find("#pick")
            .expect("#pick")
            .property("value")
            .expect("value"),
        "b"
    );
    assert!(!browser
        .find("#off")
        .expect("#off")
        .enabled()
        .expect("enabled"));
    let go = browser.find("#go").expect("#go");
    assert!(go.enabled().expect("enabled"));
    go.click().expect("click #go");
    // The page changes 200 ms after the click: wait for it.
    let state = poll("data-state b", Duration::from_secs(5), POLL, || {
        let state = browser.find("#out")?.attribute("data-state")?;
        Ok(state.filter(|s| s == "b"))
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e}\n--- page:\n{}",
            browser.body_text().unwrap_or_default()
        )
    });
    assert_eq!(state, "b");
    assert_eq!(
        browser.find("#out").expect("#out").text().expect("text"),
        "picked b"
    );

    // Scripts, with arguments and returning JSON; images really decoded.
    let sum = browser
        .execute("return arguments[0] + arguments[1]", json!([2, 3]))
        .expect("script");
    assert_eq!(sum, 5);
    let loaded = browser.execute(LOADED_THUMBS, json!([])).expect("script");
    assert_eq!(loaded, 2, "both thumbnails decoded");
    let names = browser.execute(THUMB_NAMES, json!([])).expect("script");
    assert_eq!(names, json!(["b.jpg", "a.jpg"]));
    assert_eq!(
        browser.find_all("#thumbs img.thumb").expect("thumbs").len(),
        2
    );
    let text = browser.body_text().expect("body text");
    assert!(text.contains("picked b") && text.contains("Go"), "{text}");
    let thrown = browser
        .execute("throw new Error('boom')", json!([]))
        .expect_err("a thrown error");
    assert!(thrown.is("javascript error"), "{thrown}");

    drop(browser);
    eprintln!("webdriver_drives_chromium took {:?}", began.elapsed());
}

/// The self-test's page: a select, buttons, text that changes after a
/// click, two 1×1 thumbnails.
const SELF_TEST_PAGE: &str = r#"<!doctype html>
<title>webdriver self-test</title>
<p id="out" data-state="idle">ready</p>
<select id="pick"><option value="a">A</option><option value="b">B</option></select>
<button id="go" onclick="go()">Go</button>
<button id="off" disabled>Off</button>
<div id="thumbs">
<img class="thumb" data-name="b.jpg" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">
<img class="thumb" data-name="a.jpg" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">
</div>
<script>
function go() {
  const value = document.getElementById('pick').value;
  setTimeout(() => {
    const out = document.getElementById('out');
    out.dataset.state = value;
    out.textContent = 'picked ' + value;
  }, 200);
}
</script>
"#;

/// `html` as a `data:` URL, every byte but letters and digits escaped.
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for b in html.bytes() {
        if b.is_ascii_alphanumeric() {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[test]
fn the_web_ui_runs_a_scan_in_step_with_the_rig_buttons() {
    if !webdriver::available() {
        return;
    }
    let began = Instant::now();
    let rig = Rig::with(WEB_RIG);
    let profile = ring_profile(SHOTS, 5);
    rig.profile(PROFILE, &profile);
    let daemon = rig.spawn(&["daemon"]);
    let browser = Browser::open().unwrap_or_else(|e| panic!("open Chromium: {e}"));
    let mut test = WebUiTest {
        rig: &rig,
        browser: &browser,
        daemon: Some(daemon),
        exited: None,
        trail: RefCell::new(Vec::new()),
    };
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| test.run(&profile))) {
        panic!("{}", test.report(panic.as_ref()));
    }
    eprintln!("the web UI test took {:?}", began.elapsed());
}

/// The web UI test's rig, browser and daemon, kept together so that any
/// failure can show the page and the daemon's log.
struct WebUiTest<'a> {
    rig: &'a Rig,
    browser: &'a Browser,
    /// The daemon while it runs.
    daemon: Option<Running>,
    /// How it ended.
    exited: Option<Output>,
    /// Every state and progress text the page showed, in order.
    trail: RefCell<Vec<String>>,
}

impl WebUiTest<'_> {
    /// The whole scenario; panics at the first thing that is not as it
    /// should be.
    fn run(&mut self, profile: &str) {
        // The daemon serves the page.
        let daemon = self.daemon.as_mut().expect("daemon");
        daemon.wait_for_stderr("web UI listening", DEADLINE);
        let url =
            ui_url(&daemon.stderr()).expect("the web UI's http://127.0.0.1:<port>/ on stderr");
        self.browser
            .goto(&url)
            .unwrap_or_else(|e| panic!("load {url}: {e}"));

        // Choose the profile and press Start on the page.
        let option = format!("#profile option[value=\"{PROFILE}\"]");
        self.wait(
            &format!("profile {PROFILE} offered in #profile"),
            STEP,
            || self.browser.find(&option).map(|_| Some(())),
        );
        self.browser
            .find(&option)
            .and_then(|o| o.click())
            .expect("choose the profile");
        let chosen = self
            .browser
            .find("#profile")
            .and_then(|s| s.property("value"));
        assert_eq!(chosen.expect("#profile's value"), PROFILE, "#profile");
        self.press("#start");

        // Scanning, with photos and thumbnails that really load.
        self.wait("scanning with a photo taken", STEP, || {
            let (state, progress) = self.look()?;
            let taken = progress.is_some_and(|(done, _)| done >= 1);
            Ok((state == "scanning" && taken).then_some(()))
        });
        self.wait("2 thumbnails loaded", STEP, || {
            let loaded = self.browser.execute(LOADED_THUMBS, json!([]))?;
            Ok((loaded.as_u64().unwrap_or(0) >= 2).then_some(()))
        });
        self.check_thumbnail_names(profile);

        // Pause and resume from the page.
        self.press("#pause");
        self.wait_for_state("paused", STEP);
        self.press("#resume");
        self.wait_for_state("scanning", STEP);

        // The physical Pause button shows on the page within a second.
        let events_before = self
            .events()
            .unwrap_or_else(|e| panic!("read #events: {e}"));
        let progress = self.look().ok().and_then(|(_, progress)| progress);
        let pressed = Instant::now();
        self.daemon.as_ref().expect("daemon").signal(libc::SIGUSR2);
        let seen = poll(
            "the Pause button on the page",
            Duration::from_secs(5),
            FINE_POLL,
            || {
                let paused = self.look()?.0 == "paused";
                let told = new_lines(&events_before, &self.events()?)
                    .iter()
                    .any(|l| l.contains("Pause"));
                Ok((paused && told).then(|| pressed.elapsed()))
            },
        )
        .unwrap_or_else(|e| {
            panic!("{e} (progress when pressed: {progress:?}; events before: {events_before:?})")
        });
        assert!(
            seen <= BUTTON_TO_PAGE,
            "the Pause button took {seen:?} to show on the page (at most {BUTTON_TO_PAGE:?})"
        );
        eprintln!("the Pause button showed on the page after {seen:?}");
        self.press("#resume");

        // The scan ends, everything uploaded.
        let mut idle_since = None;
        self.wait(
            &format!("idle with {SHOTS} / {SHOTS} photos"),
            DEADLINE,
            || {
                let (state, progress) = self.look()?;
                if state != "idle" {
                    idle_since = None;
                    return Ok(None);
                }
                if progress == Some((SHOTS, SHOTS)) {
                    return Ok(Some(()));
                }
                // Idle is where a scan ends: give the progress text a
                // moment to catch up, not the whole deadline.
                let since = *idle_since.get_or_insert_with(Instant::now);
                assert!(
                    since.elapsed() < IDLE_SETTLE,
                    "the page is idle but #scan-progress does not show {SHOTS} / {SHOTS}: {:?}",
                    self.trail.borrow().last()
                );
                Ok(None)
            },
        );

        // The daemon stops cleanly; every photo arrived once, intact.
        let daemon = self.daemon.take().expect("daemon");
        daemon.signal(libc::SIGTERM);
        let out = self.exited.insert(daemon.wait(DEADLINE));
        out.expect_code(0);
        let scan = self.rig.only_scan();
        assert_complete(
            &self.rig.delivered(&scan),
            &plan(PROFILE, &rings_of(profile)),
        );
    }

    /// `#state`'s `data-state`, and `#scan-progress` read as (photos
    /// taken, planned) from `3 / 12 photos`. Each new sight goes on the
    /// trail.
    fn look(&self) -> webdriver::Result<(String, Option<(u32, u32)>)> {
        let state = self.browser.find("#state")?.attribute("data-state")?;
        let state = state.unwrap_or_default();
        let text = self.browser.find("#scan-progress")?.text()?;
        let seen = format!("{state}: {text}");
        let mut trail = self.trail.borrow_mut();
        if trail.last() != Some(&seen) {
            trail.push(seen);
        }
        Ok((state, parse_progress(&text)))
    }

    /// The lines of `#events`.
    fn events(&self) -> webdriver::Result<Vec<String>> {
        let text = self.browser.find("#events")?.text()?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Clicks the button `selector` once the page enables it.
    fn press(&self, selector: &str) {
        let button = self.wait(&format!("{selector} enabled"), STEP, || {
            let button = self.browser.find(selector)?;
            Ok(button.enabled()?.then_some(button))
        });
        button
            .click()
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
    }

    fn wait_for_state(&self, state: &str, within: Duration) {
        self.wait(&format!("data-state {state}"), within, || {
            Ok((self.look()?.0 == state).then_some(()))
        });
    }

    /// Polls the page every [`POLL`] until `probe` yields; panics after
    /// `within`.
    fn wait<T>(
        &self,
        what: &str,
        within: Duration,
        probe: impl FnMut() -> webdriver::Result<Option<T>>,
    ) -> T {
        poll(what, within, POLL, probe).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The thumbnails name planned photos, newest first.
    fn check_thumbnail_names(&self, profile: &str) {
        let names = self
            .browser
            .execute(THUMB_NAMES, json!([]))
            .expect("thumbnail names");
        let names: Vec<String> =
            serde_json::from_value(names).expect("thumbnail names are strings");
        let planned: Vec<String> = plan(PROFILE, &rings_of(profile))
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert!(
            names.iter().all(|n| planned.contains(n)),
            "thumbnails {names:?} must be named as the photos {planned:?}"
        );
        assert!(
            names.windows(2).all(|w| w[0] > w[1]) && names.len() <= 12,
            "thumbnails must be at most 12, newest first: {names:?}"
        );
    }

    /// A failure's message with what the page showed and the daemon logged.
    fn report(&self, panic: &(dyn Any + Send)) -> String {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(a panic without a message)");
        let page = self
            .browser
            .body_text()
            .unwrap_or_else(|e| format!("(cannot read the page: {e})"));
        let stderr = match (&self.daemon, &self.exited) {
            (Some(daemon), _) => daemon.stderr(),
            (None, Some(out)) => out.stderr.clone(),
            (None, None) => "(none)".to_owned(),
        };
        let trail = self.trail.borrow().join("\n");
        format!(
            "{message}\n--- the page's #state and #scan-progress, as they changed:\n{trail}\n\
             --- the page (document.body.innerText):\n{page}\n--- the daemon's stderr:\n{stderr}"
        )
    }
}

/// The web UI's address in the daemon's log: `http://127.0.0.1:<port>/`
/// on the line that says it listens.
fn ui_url(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|l| l.contains("web UI listening"))?;
    let rest = line.split("http://127.0.0.1:").nth(1)?;
    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let port: u16 = port.parse().ok()?;
    rest[port.to_string().len()..]
        .starts_with('/')
        .then(|| format!("http://127.0.0.1:{port}/"))
}

/// `3 / 12 photos` → (3, 12).
fn parse_progress(text: &str) -> Option<(u32, u32)> {
    let (done, planned) = text.split_once('/')?;
    let done: String = done
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    let done = done.chars().rev().collect::<String>().parse().ok()?;
    let planned: String = planned
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((done, planned.parse().ok()?))
}

/// Lines of `after` not in `before` (counting repeats): what was added.
fn new_lines(before: &[String], after: &[String]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for line in before {
        *seen.entry(line).or_default() += 1;
    }
    after
        .iter()
        .filter(|line| match seen.get_mut(line.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

#[test]
fn the_helpers_read_the_log_progress_and_events() {
    let log = "Nov 22 INFO web UI listening, url: http://127.0.0.1:40123/\n";
    assert_eq!(ui_url(log).as_deref(), Some("http://127.0.0.1:40123/"));
    assert_eq!(ui_url("web UI listening on http://127.0.0.1:/"), None);
    assert_eq!(parse_progress("3 / 12 photos"), Some((3, 12)));
    assert_eq!(parse_progress("12/12"), Some((12, 12)));
    assert_eq!(parse_progress("no scan"), None);
    let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let before = lines(&["Pause pressed", "photo 3"]);
    let after = lines(&["Pause button pressed", "Pause pressed", "photo 3"]);
    assert_eq!(new_lines(&before, &after), ["Pause button pressed"]);
    assert!(new_lines(&after, &before).is_empty());
}
