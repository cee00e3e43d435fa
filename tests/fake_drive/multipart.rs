//! Multipart bodies (RFC 2046).

pub(super) struct Part<'a> {
    headers: Vec<(String, String)>,
    pub(super) body: &'a [u8],
}

impl Part<'_> {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The boundary of a `multipart/...; boundary=...` Content-Type.
pub(super) fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim().to_ascii_lowercase();
    if !mime.starts_with("multipart/") {
        return None;
    }
    params
        .find_map(|p| {
            let (key, value) = p.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a multipart body; `None` if malformed.
pub(super) fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let separator = [b"\r\n".as_slice(), &delimiter].concat();
    let mut pos = if body.starts_with(&delimiter) {
        0
    } else {
        find(body, &separator)? + 2
    };
    let mut parts = Vec::new();
    loop {
        pos += delimiter.len();
        let rest = body.get(pos..)?;
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        let line_end = find(rest, b"\r\n")?;
        if !rest[..line_end].iter().all(|b| *b == b' ' || *b == b'\t') {
            return None;
        }
        let start = pos + line_end + 2;
        let len = find(body.get(start..)?, &separator)?;
        parts.push(parse_part(body.get(start..start + len)?)?);
        pos = start + len + 2;
    }
}

fn parse_part(raw: &[u8]) -> Option<Part<'_>> {
    let (head, body) = if let Some(body) = raw.strip_prefix(b"\r\n") {
        (&raw[..0], body)
    } else {
        let i = find(raw, b"\r\n\r\n")?;
        (&raw[..i], &raw[i + 4..])
    };
    let headers = std::str::from_utf8(head)
        .ok()?
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Part { headers, body })
}
