//! Requests `object_store` signs but does not send: a photo or one of its parts streamed from the spool file (neither held in memory), and the listing of the uploads open under a key; sent with reqwest, tried again like `object_store`'s own.

use std::path::Path;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use object_store::path::Path as Key;
use object_store::signer::{HeaderMap, Method, SignedUrlOptions, Signer};
use reqwest::header::CONTENT_LENGTH;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{S3Destination, INIT_BACKOFF, MAX_BACKOFF};

/// How long a presigned request's URL is valid (each try signs anew).
const VALID: Duration = Duration::from_secs(300);

/// How much of a spool file is read at a time into a request's body.
pub(super) const CHUNK: usize = 64 * 1024;

/// A stretch of a spool file, sent as a request's body.
pub(super) struct Stretch<'a> {
    /// The spool file.
    pub(super) file: &'a Path,
    /// Where the stretch starts.
    pub(super) offset: u64,
    /// Its length.
    pub(super) len: u64,
}

impl Stretch<'_> {
    /// The stretch as a body read from the file as it is sent.
    async fn body(&self) -> std::io::Result<reqwest::Body> {
        let mut file = tokio::fs::File::open(self.file).await?;
        file.seek(std::io::SeekFrom::Start(self.offset)).await?;
        let chunks = futures_util::stream::try_unfold(file.take(self.len), |mut from| async {
            let mut chunk = BytesMut::with_capacity(CHUNK);
            let n = from.read_buf(&mut chunk).await?;
            Ok::<_, std::io::Error>((n > 0).then(|| (chunk.freeze(), from)))
        });
        Ok(reqwest::Body::wrap_stream(chunks))
    }
}

/// A store's answer.
pub(super) struct Answer {
    /// Its status.
    pub(super) status: StatusCode,
    /// Its headers.
    pub(super) headers: HeaderMap,
    /// Its body (an error's XML, a listing).
    pub(super) body: Bytes,
}

impl Answer {
    /// The answer if it is a success, else the error `object_store` gives
    /// for the same status: a conditional create refused (412, or 304 from
    /// some stores) as [`object_store::Error::Precondition`], a conflict
    /// (409) as `AlreadyExists`, 404 as `NotFound`, anything else with its
    /// status and body (where the store's code is).
    pub(super) fn success(self, key: &Key) -> Result<Answer, object_store::Error> {
        if self.status.is_success() {
            return Ok(self);
        }
        let source = format!(
            "{}: {}",
            self.status,
            String::from_utf8_lossy(&self.body).trim()
        )
        .into();
        let path = key.to_string();
        Err(match self.status {
            StatusCode::PRECONDITION_FAILED | StatusCode::NOT_MODIFIED => {
                object_store::Error::Precondition { path, source }
            }
            StatusCode::CONFLICT => object_store::Error::AlreadyExists { path, source },
            StatusCode::NOT_FOUND => object_store::Error::NotFound { path, source },
            _ => object_store::Error::Generic {
                store: "S3",
                source,
            },
        })
    }
}

/// Whether a try that came to `answer` is tried again: a broken
/// connection, a timeout, a busy or failing store (not one that does not
/// implement what was asked, 501).
fn again(answer: &Result<Answer, reqwest::Error>) -> bool {
    match answer {
        Ok(a) => a.status.is_server_error() && a.status != StatusCode::NOT_IMPLEMENTED,
        Err(_) => true,
    }
}

impl S3Destination {
    /// Sends `method` on `key` signed with `opts` (its signed headers sent
    /// along), with `body` streamed from its file; a broken connection, a
    /// timeout or a 5xx is tried again up to `retries` times with backoff.
    /// Any answer the store gives comes back; what is not an answer
    /// (connection, DNS, TLS, timeout) is an error.
    pub(super) async fn presigned(
        &self,
        method: Method,
        key: &Key,
        opts: &SignedUrlOptions,
        body: Option<&Stretch<'_>>,
    ) -> Result<Answer, object_store::Error> {
        let mut backoff = INIT_BACKOFF;
        let mut tries = 0;
        loop {
            let url = self
                .store
                .signed_url_opts(method.clone(), key, VALID, opts)
                .await?;
            let mut request = self
                .http
                .request(method.clone(), url)
                .headers(opts.signed_headers.clone());
            if let Some(stretch) = body {
                let read = stretch.body().await.map_err(|e| generic(e.into()))?;
                request = request.header(CONTENT_LENGTH, stretch.len).body(read);
            }
            let answer = async {
                let reply = request.send().await?;
                let (status, headers) = (reply.status(), reply.headers().clone());
                let body = reply.bytes().await?;
                Ok(Answer {
                    status,
                    headers,
                    body,
                })
            }
            .await;
            if tries >= self.settings.retries || !again(&answer) {
                // The URL stays out of the error: it carries a signature.
                return answer.map_err(|e| generic(e.without_url().into()));
            }
            tries += 1;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// A failure that is not the store's answer, worded by [`super::words`].
fn generic(source: Box<dyn std::error::Error + Send + Sync>) -> object_store::Error {
    object_store::Error::Generic {
        store: "S3",
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &'static str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn a_refused_create_is_told_apart_from_other_refusals() {
        let key = Key::from("rigs/a/0001.jpg");
        let error = |status, body| answer(status, body).success(&key).err();
        assert!(answer(200, "").success(&key).is_ok());
        for status in [412, 304] {
            let e = error(status, "<Code>PreconditionFailed</Code>");
            assert!(
                matches!(e, Some(object_store::Error::Precondition { .. })),
                "{status}: {e:?}"
            );
        }
        let e = error(409, "<Code>ConditionalRequestConflict</Code>");
        assert!(matches!(e, Some(object_store::Error::AlreadyExists { .. })));
        let e = error(404, "<Code>NoSuchUpload</Code>");
        assert!(matches!(e, Some(object_store::Error::NotFound { .. })));
        // The store's code reaches the words.
        let e = error(403, "<Code>RequestTimeTooSkewed</Code>").expect("an error");
        let text = crate::http::error_chain(&e);
        assert!(
            text.contains("403") && text.contains("RequestTimeTooSkewed"),
            "{text}"
        );
    }

    #[test]
    fn a_busy_or_failing_store_is_tried_again_one_that_refuses_is_not() {
        for status in [500, 502, 503, 504] {
            assert!(again(&Ok(answer(status, ""))), "{status}");
        }
        for status in [200, 400, 403, 404, 412, 501] {
            assert!(!again(&Ok(answer(status, ""))), "{status}");
        }
    }
}
