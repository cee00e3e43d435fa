//! HTTP/1.1 requests: reading the request line, headers and body.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;

use url::form_urlencoded;

use super::session::Chunk;

/// The largest request body accepted.
const MAX_BODY: u64 = 512 * 1024 * 1024;
/// The longest request line or header line accepted.
const MAX_LINE: u64 = 16 * 1024;
/// The most header (or trailer) lines accepted in a request.
const MAX_HEADERS: usize = 128;

pub(super) enum HttpError {
    /// The peer went away (or the connection broke).
    Closed,
    /// Not HTTP we accept: answer 400.
    Bad,
}

/// A request line and its headers.
pub(super) struct Head {
    pub(super) method: String,
    /// Percent-decoded path segments, without the leading `/`.
    pub(super) segments: Vec<String>,
    query: Vec<(String, String)>,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    http10: bool,
}

pub(super) struct Request<'a> {
    pub(super) head: &'a Head,
    pub(super) body: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Framing {
    Length(u64),
    Chunked,
}

/// A `Content-Range` header.
#[derive(Clone, Copy, Debug)]
pub(super) enum ContentRange {
    /// `bytes */T`.
    Query { total: Option<u64> },
    /// `bytes A-B/T`.
    Data(Chunk),
}

impl ContentRange {
    pub(super) fn chunk(self) -> Option<Chunk> {
        match self {
            ContentRange::Data(chunk) => Some(chunk),
            ContentRange::Query { .. } => None,
        }
    }
}

impl Head {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, header: &str, token: &str) -> bool {
        self.header(header)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    pub(super) fn wants_close(&self) -> bool {
        self.has_token("connection", "close")
            || (self.http10 && !self.has_token("connection", "keep-alive"))
    }

    /// How the body is delimited; `None` if that is malformed.
    pub(super) fn framing(&self) -> Option<Framing> {
        if let Some(te) = self.header("transfer-encoding") {
            return te
                .trim()
                .eq_ignore_ascii_case("chunked")
                .then_some(Framing::Chunked);
        }
        match self.header("content-length") {
            None => Some(Framing::Length(0)),
            Some(v) => parse_u64(v.trim())
                .filter(|n| *n <= MAX_BODY)
                .map(Framing::Length),
        }
    }

    pub(super) fn content_range(&self) -> Option<ContentRange> {
        parse_content_range(self.header("content-range")?)
    }

    pub(super) fn bearer(&self) -> Option<&str> {
        let (scheme, token) = self.header("authorization")?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

/// Reads one line (without its CRLF); `None` at a clean end of stream.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, HttpError> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut buf)
        .map_err(|_| HttpError::Closed)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n as u64 >= MAX_LINE {
            HttpError::Bad
        } else {
            HttpError::Closed
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf).map(Some).map_err(|_| HttpError::Bad)
}

/// Reads a request line and headers; `None` if the peer closed first.
pub(super) fn read_head(reader: &mut impl BufRead) -> Result<Option<Head>, HttpError> {
    let mut blanks = 0;
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() && blanks < 2 => blanks += 1,
            Some(line) => break line,
        }
    };
    let headers = read_header_lines(reader)?;
    parse_request_line(&request_line, headers)
        .map(Some)
        .ok_or(HttpError::Bad)
}

/// Header (or trailer) lines up to the blank line, names lower-cased.
fn read_header_lines(reader: &mut impl BufRead) -> Result<Vec<(String, String)>, HttpError> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or(HttpError::Closed)?;
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() >= MAX_HEADERS || line.starts_with([' ', '\t']) {
            return Err(HttpError::Bad);
        }
        let (name, value) = line.split_once(':').ok_or(HttpError::Bad)?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(HttpError::Bad);
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn parse_request_line(line: &str, headers: Vec<(String, String)>) -> Option<Head> {
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || !method.bytes().all(is_tchar) {
        return None;
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return None,
    };
    let target = strip_authority(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments = path
        .strip_prefix('/')?
        .split('/')
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()?;
    let query = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    Some(Head {
        method: method.to_owned(),
        segments,
        query,
        headers,
        http10,
    })
}

/// `http://host:port/path` → `/path` (absolute-form targets).
fn strip_authority(target: &str) -> &str {
    match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(super) fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `bytes */T`, `bytes A-B/T` (T may be `*`).
pub(super) fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(parse_u64(t)?),
    };
    let range = range.trim();
    if range == "*" {
        return Some(ContentRange::Query { total });
    }
    let (a, b) = range.split_once('-')?;
    let (start, end) = (parse_u64(a.trim())?, parse_u64(b.trim())?);
    (start <= end).then_some(ContentRange::Data(Chunk { start, end, total }))
}

/// Answers `Expect: 100-continue`.
pub(super) fn send_continue(head: &Head, mut stream: &TcpStream) -> io::Result<()> {
    if head.has_token("expect", "100-continue") {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    Ok(())
}

pub(super) fn read_body(
    head: &Head,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    framing: Framing,
) -> Result<Vec<u8>, HttpError> {
    if framing == Framing::Length(0) {
        return Ok(Vec::new());
    }
    send_continue(head, stream).map_err(|_| HttpError::Closed)?;
    match framing {
        Framing::Length(n) => read_exact_body(reader, n),
        Framing::Chunked => read_chunked(reader),
    }
}

pub(super) fn read_exact_body(reader: &mut impl BufRead, n: u64) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    reader
        .by_ref()
        .take(n)
        .read_to_end(&mut body)
        .map_err(|_| HttpError::Closed)?;
    if body.len() as u64 == n {
        Ok(body)
    } else {
        Err(HttpError::Closed)
    }
}

pub(super) fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or(HttpError::Closed)?;
        let size = line.split(';').next().unwrap_or("").trim();
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HttpError::Bad);
        }
        let size = u64::from_str_radix(size, 16).map_err(|_| HttpError::Bad)?;
        if size == 0 {
            read_header_lines(reader)?;
            return Ok(body);
        }
        if size > MAX_BODY - body.len() as u64 {
            return Err(HttpError::Bad);
        }
        body.extend(read_exact_body(reader, size)?);
        if read_line(reader)?.as_deref() != Some("") {
            return Err(HttpError::Bad);
        }
    }
}
