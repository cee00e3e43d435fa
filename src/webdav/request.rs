//! WebDAV requests on hyper: each with the user's basic authentication and
//! a time limit, their failures told in words (DNS, TLS, refused
//! credentials, no write permission) and sorted into worth retrying or not.

use std::io;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use google_drive3::hyper::body::Incoming;
use google_drive3::hyper::header::{self, HeaderValue};
use google_drive3::hyper::{Method, Request, Response, StatusCode};
use google_drive3::hyper_util::client::legacy::Client as HyperClient;
use google_drive3::hyper_util::rt::TokioExecutor;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use scanrig_actors::destination::{DestinationError, Result, Upload};
use sha2::{Digest, Sha256};

use super::WebdavOptions;
use crate::drive::transfer::FileSlice;
use crate::http::{connector, error_chain, Connector};

/// A request's body: bytes in memory, or a spool file read as it is sent.
pub(super) type Body = BoxBody<Bytes, io::Error>;

/// A server's answer.
pub(super) type Answer = Response<Incoming>;

/// Sends the photo this many bytes a second at least: a request sending a
/// file may take its time limit and one second more per this many bytes.
const SLOWEST_BYTES_PER_S: u64 = 64 * 1024;

/// Requests to one WebDAV server as one user.
pub(super) struct Client {
    http: HyperClient<Connector, Body>,
    /// `Basic …`, marked sensitive (never shown).
    auth: HeaderValue,
    user: String,
    timeout: Duration,
}

impl Client {
    pub(super) fn new(opts: &WebdavOptions) -> anyhow::Result<Client> {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", opts.user, opts.password));
        let mut auth = HeaderValue::try_from(format!("Basic {token}"))?;
        auth.set_sensitive(true);
        Ok(Client {
            http: HyperClient::builder(TokioExecutor::new()).build(connector()?),
            auth,
            user: opts.user.clone(),
            timeout: opts.timeout,
        })
    }

    /// Sends one request and waits for the answer's head, within the time
    /// limit (and `extra` more, for a big body).
    pub(super) async fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Body,
        extra: Duration,
    ) -> Result<Answer> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(header::AUTHORIZATION, self.auth.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(body)
            .map_err(|e| DestinationError::Permanent(format!("cannot ask {method} {url}: {e}")))?;
        let limit = self.timeout + extra;
        match tokio::time::timeout(limit, self.http.request(request)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(unreachable(url, &error_chain(&e))),
            Err(_) => Err(DestinationError::Transient(format!(
                "no answer to {method} {url} within {} s",
                limit.as_secs()
            ))),
        }
    }

    /// Sends the spool file of `upload` to `url`, streamed.
    pub(super) async fn put_file(&self, url: &str, upload: &Upload) -> Result<()> {
        let file = tokio::fs::File::open(&upload.local).await.map_err(|e| {
            DestinationError::Transient(format!(
                "cannot read spool file {}: {e}",
                upload.local.display()
            ))
        })?;
        let body = FileSlice::new(file, upload.size).boxed();
        let extra = Duration::from_secs(upload.size / SLOWEST_BYTES_PER_S);
        self.put(url, body, upload.size, extra).await
    }

    /// Sends `bytes` to `url`.
    pub(super) async fn put_bytes(&self, url: &str, bytes: Vec<u8>) -> Result<()> {
        let len = bytes.len() as u64;
        self.put(url, bytes_body(bytes), len, Duration::ZERO).await
    }

    async fn put(&self, url: &str, body: Body, len: u64, extra: Duration) -> Result<()> {
        let len = len.to_string();
        let headers = [
            ("Content-Length", len.as_str()),
            ("Content-Type", "application/octet-stream"),
        ];
        let answer = self
            .request(Method::PUT, url, &headers, body, extra)
            .await?;
        if answer.status().is_success() {
            drain(answer).await;
            Ok(())
        } else {
            Err(self.refused("PUT", url, answer).await)
        }
    }

    /// Moves `from` to `to`, replacing what is there only with
    /// `overwrite`: `None` when moved, the answer when `to` is taken (412).
    pub(super) async fn move_to(
        &self,
        from: &str,
        to: &str,
        overwrite: bool,
    ) -> Result<Option<Answer>> {
        let headers = [
            ("Destination", to),
            ("Overwrite", if overwrite { "T" } else { "F" }),
        ];
        let method = Method::from_bytes(b"MOVE").expect("a method");
        let answer = self
            .request(method, from, &headers, empty(), Duration::ZERO)
            .await?;
        match answer.status() {
            StatusCode::PRECONDITION_FAILED => Ok(Some(answer)),
            s if s.is_success() => {
                drain(answer).await;
                Ok(None)
            }
            _ => Err(self.refused("MOVE", from, answer).await),
        }
    }

    /// Deletes `url`; one that is not there is gone already.
    pub(super) async fn delete(&self, url: &str) -> Result<()> {
        let answer = self
            .request(Method::DELETE, url, &[], empty(), Duration::ZERO)
            .await?;
        match answer.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => {
                drain(answer).await;
                Ok(())
            }
            _ => Err(self.refused("DELETE", url, answer).await),
        }
    }

    /// The sha256 and size of what is at `url`, read back; `None` when
    /// nothing is there.
    pub(super) async fn digest(&self, url: &str) -> Result<Option<(String, u64)>> {
        let answer = self
            .request(Method::GET, url, &[], empty(), Duration::ZERO)
            .await?;
        match answer.status() {
            StatusCode::NOT_FOUND => {
                drain(answer).await;
                return Ok(None);
            }
            s if s.is_success() => {}
            _ => return Err(self.refused("GET", url, answer).await),
        }
        let mut body = answer.into_body();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            let frame = tokio::time::timeout(self.timeout, body.frame())
                .await
                .map_err(|_| {
                    DestinationError::Transient(format!(
                        "{url} stopped coming for {} s while read back",
                        self.timeout.as_secs()
                    ))
                })?;
            match frame {
                None => break,
                Some(Err(e)) => return Err(unreachable(url, &error_chain(&e))),
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        hasher.update(data);
                        size += data.len() as u64;
                    }
                }
            }
        }
        Ok(Some((
            scanrig_hardware::fsutil::hex(&hasher.finalize()),
            size,
        )))
    }

    /// What a refusal of `method` on `url` means, in words; its body read.
    pub(super) async fn refused(
        &self,
        method: &str,
        url: &str,
        answer: Answer,
    ) -> DestinationError {
        let status = answer.status();
        drain(answer).await;
        let user = &self.user;
        match status {
            StatusCode::UNAUTHORIZED => DestinationError::Permanent(format!(
                "the WebDAV server refused user `{user}` (401 Unauthorized to {method} {url}): check destination.webdav.user and the password in destination.webdav.password_file (for Nextcloud, an app password)"
            )),
            StatusCode::FORBIDDEN => DestinationError::Permanent(format!(
                "no write permission: the WebDAV server forbids {method} {url} to user `{user}` (403); give the user write access to the folder, or choose another destination.webdav.url"
            )),
            StatusCode::INSUFFICIENT_STORAGE => DestinationError::Permanent(format!(
                "the WebDAV server's storage is full (507 to {method} {url}); make room there or raise the user's quota"
            )),
            StatusCode::PAYLOAD_TOO_LARGE => DestinationError::Permanent(format!(
                "the WebDAV server takes no file this big (413 to {method} {url}); raise its upload limit"
            )),
            s => DestinationError::Transient(format!(
                "the WebDAV server answered {s} to {method} {url}"
            )),
        }
    }
}

/// A failure to reach the server, in words: a name that does not resolve
/// or a certificate that is not trusted needs someone to act; a refused
/// or broken connection may pass.
fn unreachable(url: &str, chain: &str) -> DestinationError {
    let lower = chain.to_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup") {
        DestinationError::Transient(format!(
            "cannot find the WebDAV server of {url} (DNS: {chain}); check the host name in destination.webdav.url and the rig's network"
        ))
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        DestinationError::Permanent(format!(
            "TLS with the WebDAV server of {url} failed ({chain}); the server's certificate must be valid for its name and signed by an authority the rig trusts (ca-certificates)"
        ))
    } else {
        DestinationError::Transient(format!("cannot reach the WebDAV server at {url}: {chain}"))
    }
}

/// Reads and drops an answer's body, so its connection can be used again.
pub(super) async fn drain(answer: Answer) {
    let _ = answer.into_body().collect().await;
}

/// No body.
pub(super) fn empty() -> Body {
    bytes_body(Vec::new())
}

/// `bytes` as a body.
fn bytes_body(bytes: Vec<u8>) -> Body {
    Full::new(Bytes::from(bytes))
        .map_err(|never| match never {})
        .boxed()
}

/// An answer's body as text (a listing: small).
pub(super) async fn text(answer: Answer) -> Result<String> {
    let bytes = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| DestinationError::Transient(format!("a listing broke off: {e}")))?
        .to_bytes();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The `href`s of a `PROPFIND` answer (whatever prefix its XML namespace
/// has), as written.
pub(super) fn hrefs(listing: &str) -> Vec<String> {
    listing
        .split("href>")
        .skip(1)
        .filter_map(|rest| rest.split_once('<').map(|(href, _)| href.trim()))
        .filter(|href| !href.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `href` (a path, or a whole URL) as a URL on the server of `base`.
pub(super) fn resolve(base: &str, href: &str) -> String {
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{href}", &base[..origin_end])
}

/// Undoes [`encode`] (and any other percent-encoding).
pub(super) fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The lower-case hex sha256 of `bytes`.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    scanrig_hardware::fsutil::hex(&Sha256::digest(bytes))
}

/// One part of a URL's path, percent-encoded (all but RFC 3986's
/// unreserved characters).
pub(super) fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_part_keeps_unreserved_characters_and_encodes_the_rest() {
        assert_eq!(encode("20261207T100000Z-demo"), "20261207T100000Z-demo");
        assert_eq!(encode("a b/c%.jpg"), "a%20b%2Fc%25.jpg");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn a_listing_gives_its_hrefs_resolved_on_the_server() {
        let listing = r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/dav/s/</d:href></d:response><d:response><d:href>/dav/s/.a%20b.jpg.part-0123456789abcdef</d:href></d:response><ns0:response><ns0:href>https://nas/dav/s/c.jpg</ns0:href></ns0:response></d:multistatus>"#;
        let hrefs = hrefs(listing);
        assert_eq!(
            hrefs,
            [
                "/dav/s/",
                "/dav/s/.a%20b.jpg.part-0123456789abcdef",
                "https://nas/dav/s/c.jpg"
            ]
        );
        assert_eq!(
            resolve("http://127.0.0.1:8080/dav/s/", &hrefs[1]),
            "http://127.0.0.1:8080/dav/s/.a%20b.jpg.part-0123456789abcdef"
        );
        assert_eq!(resolve("http://x/dav/", &hrefs[2]), hrefs[2]);
        assert_eq!(decode("a%20b%2Fc%25.jpg"), "a b/c%.jpg");
        assert_eq!(decode(&encode("é %")), "é %");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn a_name_that_does_not_resolve_waits_and_a_bad_certificate_stops() {
        let dns = unreachable(
            "https://nas.invalid/dav/",
            "client error (Connect): dns error: failed to lookup address information",
        );
        assert!(
            dns.is_retryable() && dns.to_string().contains("DNS"),
            "{dns}"
        );
        let tls = unreachable(
            "https://nas/dav/",
            "client error (Connect): invalid peer certificate: UnknownIssuer",
        );
        assert!(
            !tls.is_retryable() && tls.to_string().contains("TLS"),
            "{tls}"
        );
    }
}
