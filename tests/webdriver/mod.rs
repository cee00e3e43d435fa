//! A minimal blocking W3C WebDriver client for the browser tests: starts chromedriver, opens headless Chromium through it and speaks WebDriver's JSON over HTTP/1.1 on a plain `TcpStream`.
//!
//! [`available`] says whether Chromium and chromedriver are installed (and
//! fails when `WEB_E2E_REQUIRED` is set but they are not). [`Browser::open`]
//! starts chromedriver on a free port and a session in a fresh profile;
//! dropping the [`Browser`] — also when a test panics — ends the session
//! (Chromium quits) and kills chromedriver.

// Each test uses a different part of the client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless, and nothing that reaches out to Google's services: without the
/// background-networking flags Chromium tries to and fails in a sandbox.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
];

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long chromedriver may take to say which port it listens on.
const DRIVER_START: Duration = Duration::from_secs(15);

/// How long one WebDriver command may take (a new session: Chromium starts).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// Page loads and scripts fail after this, well inside [`COMMAND_TIMEOUT`].
const PAGE_LOAD_MS: u64 = 20_000;
const SCRIPT_MS: u64 = 10_000;

/// What went wrong talking to chromedriver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// chromedriver could not be started or reached.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// chromedriver answered with a WebDriver error.
    #[error("{command}: HTTP {status}, {error}: {message}")]
    WebDriver {
        command: String,
        status: u16,
        error: String,
        message: String,
    },
    /// An answer that is not WebDriver's JSON, or chromedriver's log when it
    /// did not start.
    #[error("{0}")]
    Protocol(String),
    /// A [`poll`] ran out of time.
    #[error("timed out after {within:?} waiting for {what}{}", last.as_deref().map(|l| format!(" (last: {l})")).unwrap_or_default())]
    Timeout {
        what: String,
        within: Duration,
        last: Option<String>,
    },
}

/// Result of a WebDriver command.
pub type Result<T> = std::result::Result<T, Error>;

pub mod page;

impl Error {
    /// Whether this is the WebDriver error `code` (`"no such element"`, ...).
    pub fn is(&self, code: &str) -> bool {
        matches!(self, Error::WebDriver { error, .. } if error == code)
    }

    /// An element that is not there (yet) or was replaced: worth asking again.
    fn is_transient(&self) -> bool {
        self.is("no such element") || self.is("stale element reference")
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// chromedriver on `PATH`, else where Debian's `chromium-driver` puts it.
pub fn chromedriver() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .map(|dir| dir.join("chromedriver"))
        .chain([PathBuf::from("/usr/bin/chromedriver")])
        .find(|p| p.is_file())
}

/// Why the browser tests cannot run here, if they cannot.
pub fn missing() -> Option<String> {
    let mut why = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        why.push(format!("{CHROMIUM} is missing"));
    }
    if chromedriver().is_none() {
        why.push("chromedriver is not on PATH".to_owned());
    }
    (!why.is_empty()).then(|| why.join(" and "))
}

/// Whether the browser tests can run. When they cannot: fails if
/// `WEB_E2E_REQUIRED` is set (as in CI), else says on stderr why they skip.
pub fn available() -> bool {
    let Some(why) = missing() else {
        return true;
    };
    assert!(
        std::env::var_os("WEB_E2E_REQUIRED").is_none(),
        "WEB_E2E_REQUIRED is set but {why}: install Debian's chromium and chromium-driver (.ci/deps)"
    );
    // Straight to stderr, so the reason shows without --nocapture.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {why} (install Debian's chromium and chromium-driver: .ci/deps)"
    );
    false
}

/// Polls `probe` every `every` until it yields a value. A transient
/// WebDriver error (an element missing or replaced) counts as "not yet";
/// any other error ends the wait at once.
pub fn poll<T>(
    what: &str,
    within: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + within;
    let mut last = None;
    loop {
        match probe() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) if e.is_transient() => last = Some(e.to_string()),
            Err(e) => return Err(e),
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: what.to_owned(),
                within,
                last,
            });
        }
        std::thread::sleep(every);
    }
}

/// chromedriver, running; killed on drop.
struct Driver {
    child: Child,
    port: u16,
    /// Everything it printed, for error messages.
    log: Arc<Mutex<String>>,
}

impl Driver {
    /// Starts chromedriver on a port of its choosing (`--port=0`), or, if
    /// this chromedriver cannot, on a port that was free a moment ago.
    fn start() -> Result<Driver> {
        let exe = chromedriver().ok_or_else(|| Error::Protocol("no chromedriver".into()))?;
        if let Ok(driver) = Driver::spawn(&exe, 0) {
            return Ok(driver);
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("a free port"))?;
        let port = listener.local_addr().map_err(io("a free port"))?.port();
        drop(listener);
        Driver::spawn(&exe, port)
    }

    /// Starts `exe --port=<port>` and waits until it says it listens.
    fn spawn(exe: &Path, port: u16) -> Result<Driver> {
        let mut child = Command::new(exe)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io(format!("start {}", exe.display())))?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        drain(child.stdout.take().expect("stdout"), log.clone(), Some(tx));
        drain(child.stderr.take().expect("stderr"), log.clone(), None);
        let mut driver = Driver { child, port, log };
        match rx.recv_timeout(DRIVER_START) {
            Ok(told) if told != 0 => {
                driver.port = told;
                Ok(driver)
            }
            _ => Err(Error::Protocol(format!(
                "{} --port={port} did not say it listens; it printed:\n{}",
                exe.display(),
                driver.log()
            ))),
        }
    }

    fn log(&self) -> String {
        self.log.lock().expect("chromedriver log").clone()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a pipe of chromedriver's into `log` to its end (so chromedriver
/// never blocks on a full pipe), sending the port it announces to `port`.
fn drain(
    pipe: impl Read + Send + 'static,
    log: Arc<Mutex<String>>,
    port: Option<mpsc::Sender<u16>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            if let (Some(tx), Some(rest)) =
                (&port, text.split("started successfully on port ").nth(1))
            {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(digits.parse().unwrap_or(0));
            }
            log.lock().expect("chromedriver log").push_str(&text);
            line.clear();
        }
    });
}

/// One headless Chromium, driven through its own chromedriver. Dropped, it
/// ends the session and kills chromedriver.
pub struct Browser {
    driver: Driver,
    session: String,
    /// Chromium's process, killed if the session cannot be ended.
    chromium_pid: Option<i32>,
    /// Chromium's profile; removed after chromedriver and Chromium are gone.
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium in a fresh profile.
    pub fn open() -> Result<Browser> {
        let driver = Driver::start()?;
        let profile = tempfile::tempdir().map_err(io("a temp dir for Chromium's profile"))?;
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|&a| a.to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        }}});
        let answer = call(
            driver.port,
            "POST",
            "/session",
            Some(&capabilities),
            SESSION_TIMEOUT,
        )
        .map_err(|e| Error::Protocol(format!("{e}\n--- chromedriver:\n{}", driver.log())))?;
        let session = answer["sessionId"]
            .as_str()
            .ok_or_else(|| Error::Protocol(format!("a new session without an id: {answer}")))?
            .to_owned();
        let chromium_pid = answer["capabilities"]["goog:processID"]
            .as_i64()
            .and_then(|pid| i32::try_from(pid).ok());
        let browser = Browser {
            driver,
            session,
            chromium_pid,
            _profile: profile,
        };
        browser.command(
            "POST",
            "timeouts",
            json!({ "implicit": 0, "pageLoad": PAGE_LOAD_MS, "script": SCRIPT_MS }),
        )?;
        Ok(browser)
    }

    /// `method /session/<id>/<path>` with a JSON body; the answer's `value`.
    fn command(&self, method: &str, path: &str, body: Value) -> Result<Value> {
        let path = format!("/session/{}/{path}", self.session);
        let body = (method == "POST").then_some(&body);
        call(self.driver.port, method, &path, body, COMMAND_TIMEOUT)
    }

    /// Loads `url` and waits for the page's load event.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.command("POST", "url", json!({ "url": url })).map(drop)
    }

    /// The page's title.
    pub fn title(&self) -> Result<String> {
        let title = self.command("GET", "title", Value::Null)?;
        Ok(title.as_str().unwrap_or_default().to_owned())
    }

    /// The first element matching the CSS `selector`.
    pub fn find(&self, selector: &str) -> Result<Element<'_>> {
        let found = self.command(
            "POST",
            "element",
            json!({ "using": "css selector", "value": selector }),
        )?;
        self.element(&found, selector)
    }

    /// Every element matching the CSS `selector`, in document order.
    pub fn find_all(&self, selector: &str) -> Result<Vec<Element<'_>>> {
        let found = self.command(
            "POST",
            "elements",
            json!({ "using": "css selector", "value": selector }),
        )?;
        let list = found.as_array().cloned().unwrap_or_default();
        list.iter().map(|e| self.element(e, selector)).collect()
    }

    fn element(&self, reference: &Value, selector: &str) -> Result<Element<'_>> {
        let id = reference[ELEMENT]
            .as_str()
            .ok_or_else(|| Error::Protocol(format!("not an element reference: {reference}")))?;
        Ok(Element {
            browser: self,
            id: id.to_owned(),
            selector: selector.to_owned(),
        })
    }

    /// Runs `script` (a function body: `return ...`) in the page with
    /// `arguments`; its result as JSON.
    pub fn execute(&self, script: &str, arguments: Value) -> Result<Value> {
        self.command(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": arguments }),
        )
    }

    /// `document.body.innerText`: what a user reads on the page.
    pub fn body_text(&self) -> Result<String> {
        let text = self.execute(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Makes the viewport a phone's: `width`×`height` CSS pixels, touch,
    /// the mobile layout (Chrome DevTools' device emulation).
    pub fn phone(&self, width: u32, height: u32) -> Result<()> {
        self.command(
            "POST",
            "goog/cdp/execute",
            json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": true,
            }}),
        )
        .map(drop)
    }

    /// Saves what the viewport shows as a PNG file.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        use base64::Engine as _;
        let png = self.command("GET", "screenshot", Value::Null)?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .map_err(|e| Error::Protocol(format!("a screenshot that is not base64: {e}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
        }
        std::fs::write(path, png).map_err(io(format!("write {}", path.display())))
    }

    /// Everything chromedriver printed so far.
    pub fn driver_log(&self) -> String {
        self.driver.log()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let ended = call(
            self.driver.port,
            "DELETE",
            &path,
            None,
            Duration::from_secs(10),
        );
        // Killing chromedriver leaves Chromium running: if the session did
        // not end, end Chromium by its id (if that process is still it).
        if let (Err(_), Some(pid)) = (ended, self.chromium_pid) {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "chromium" {
                // SAFETY: kill() has no memory effects; the pid is the
                // browser this session started, checked by name just now.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        // Then the fields drop: chromedriver is killed, the profile removed.
    }
}

/// An element of the page, found by [`Browser::find`].
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// How it was found, for messages.
    pub selector: String,
}

impl Element<'_> {
    fn get(&self, what: &str) -> Result<Value> {
        let path = format!("element/{}/{what}", self.id);
        self.browser.command("GET", &path, Value::Null)
    }

    /// The HTML attribute `name`; `None` if the element lacks it.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .get(&format!("attribute/{name}"))?
            .as_str()
            .map(str::to_owned))
    }

    /// The DOM property `name` (`value`, `naturalWidth`, ...).
    pub fn property(&self, name: &str) -> Result<Value> {
        self.get(&format!("property/{name}"))
    }

    /// The text as rendered (hidden text left out).
    pub fn text(&self) -> Result<String> {
        Ok(self.get("text")?.as_str().unwrap_or_default().to_owned())
    }

    /// Whether a form control is enabled (not `disabled`).
    pub fn enabled(&self) -> Result<bool> {
        Ok(self.get("enabled")?.as_bool().unwrap_or(false))
    }

    /// Clicks it as a user would (scrolled into view; an `<option>` is
    /// selected in its `<select>`).
    pub fn click(&self) -> Result<()> {
        let path = format!("element/{}/click", self.id);
        self.browser.command("POST", &path, json!({})).map(drop)
    }

    /// Types `text` into it, as a user would.
    pub fn send_keys(&self, text: &str) -> Result<()> {
        let path = format!("element/{}/value", self.id);
        self.browser
            .command("POST", &path, json!({ "text": text }))
            .map(drop)
    }

    /// Empties a field.
    pub fn clear(&self) -> Result<()> {
        let path = format!("element/{}/clear", self.id);
        self.browser.command("POST", &path, json!({})).map(drop)
    }
}

/// One WebDriver request on a connection of its own: `method path` with
/// `body` as JSON; the answer's `value`, or its WebDriver error.
fn call(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<Value> {
    let command = format!("{method} {path}");
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(io(
        format!("{command}: connect to chromedriver on port {port}"),
    ))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(io(&command))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(io(&command))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(format!("{head}{body}").as_bytes())
        .map_err(io(format!("{command}: send")))?;
    let (status, bytes) =
        read_response(stream).map_err(io(format!("{command}: read the answer")))?;
    let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Protocol(format!(
            "{command}: HTTP {status} with a body that is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status == 200 {
        return Ok(value);
    }
    Err(Error::WebDriver {
        command,
        status,
        error: value["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_owned(),
        message: value["message"].as_str().unwrap_or_default().to_owned(),
    })
}

/// Reads an HTTP/1.1 response: its status and its body (by Content-Length,
/// chunked, or to the end of the connection).
fn read_response(stream: TcpStream) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("not an HTTP status line: {line:?}")))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("the connection closed inside the headers".into()));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = Some(
                    value
                        .parse()
                        .map_err(|_| bad(format!("Content-Length: {value}")))?,
                );
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or_default();
            let size =
                usize::from_str_radix(size, 16).map_err(|_| bad(format!("chunk size {line:?}")))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok((status, body))
}
