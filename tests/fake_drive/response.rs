//! HTTP responses and how they are written.

use std::io::{self, Write};
use std::net::TcpStream;

use serde_json::Value;

/// A response; always sent with `Content-Length` (none for 204).
pub(super) struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    /// Close the connection after answering.
    pub(super) close: bool,
}

impl Response {
    pub(super) fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        }
    }

    pub(super) fn json(status: u16, value: &Value) -> Response {
        Response {
            body: value.to_string().into_bytes(),
            ..Response::empty(status)
        }
        .with_header("Content-Type", "application/json; charset=UTF-8")
    }

    pub(super) fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(super) fn closing(mut self) -> Response {
        self.close = true;
        self
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        308 => "Resume Incomplete",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

pub(super) fn write_response(
    mut stream: &TcpStream,
    response: &Response,
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if response.status != 204 {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    head.push_str(if close {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    let mut out = head.into_bytes();
    out.extend_from_slice(&response.body);
    stream.write_all(&out)?;
    stream.flush()
}
