//! A minimal HTTP/1.0 client for the tests of the daemon's web side:
//! one request per connection, the body read to the end (or, for a stream,
//! as it comes), so no chunked encoding is involved.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// An answer.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics, showing it, if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `host:port` and the path of `http://host:port/path`.
fn split(url: &str) -> (&str, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    }
}

/// Sends a request; returns the connection positioned after the headers.
fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, BufReader<TcpStream>) {
    let (host, path) = split(url);
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.0\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {host}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    match body {
        Some(b) => req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        )),
        // HTTP/1.0 needs the length of a body, even an empty one.
        None if method != "GET" => req.push_str("Content-Length: 0\r\n"),
        None => {}
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    stream.write_all(req.as_bytes()).expect("send");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    (status, headers, reader)
}

/// One request, the whole answer (kept for [`super::openapi::check`]).
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let (status, headers, mut reader) = send(method, url, headers, body);
    let mut body = Vec::new();
    reader.read_to_end(&mut body).expect("body");
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = unchunk(&body);
    }
    let reply = Reply {
        status,
        headers,
        body,
    };
    super::openapi::keep(method, &split(url).1, &reply);
    reply
}

/// A body sent in chunks (a stream answered to this HTTP/1.0 client), put
/// back together.
fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size = std::str::from_utf8(&raw[..end]).expect("a chunk size");
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
        raw = &raw[end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// GET, the whole answer.
pub fn get(url: &str) -> Reply {
    request("GET", url, &[], None)
}

/// POST with a JSON body (or none).
pub fn post(url: &str, body: Option<&str>) -> Reply {
    request("POST", url, &[], body)
}

/// A server-sent event stream being read.
pub struct Events {
    reader: BufReader<TcpStream>,
    /// The `id:` of the last event read.
    pub last_id: Option<String>,
}

impl Events {
    /// Opens `url` (status 200 expected).
    pub fn open(url: &str) -> Events {
        Events::open_with(url, &[])
    }

    /// Opens `url` with `headers` (a `Last-Event-ID`).
    pub fn open_with(url: &str, headers: &[(&str, &str)]) -> Events {
        let (status, _, reader) = send("GET", url, headers, None);
        assert_eq!(status, 200, "event stream {url}");
        Events {
            reader,
            last_id: None,
        }
    }

    /// The connection, to cut it.
    pub fn socket(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// The next event: its name and JSON data (keep-alive comments and
    /// `retry:` skipped). Every event must have an `id:`.
    pub fn next(&mut self) -> (String, Value) {
        let (mut kind, mut data, mut id) = (String::new(), String::new(), None);
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.reader.read_line(&mut line).expect("event stream");
            assert!(n > 0, "the event stream ended");
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() && !kind.is_empty() {
                let value = serde_json::from_str(&data).expect("event data is JSON");
                assert!(id.is_some(), "event {kind} has no id");
                self.last_id = id;
                return (kind, value);
            }
            if let Some(k) = l.strip_prefix("event: ") {
                kind = k.to_owned();
            } else if let Some(d) = l.strip_prefix("data: ") {
                data = d.to_owned();
            } else if let Some(i) = l.strip_prefix("id: ") {
                id = Some(i.to_owned());
            }
        }
    }

    /// Reads events until one named `kind` satisfies `pred`; returns it.
    /// Panics after a minute (the stream's keep-alives never end a read).
    pub fn until(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "no `{kind}` event as expected within a minute"
            );
            let (k, v) = self.next();
            if k == kind && pred(&v) {
                return v;
            }
        }
    }
}
