//! Drive's resumable upload protocol, streamed from the spool file.
//!
//! A session is opened with the photo's metadata; its URL is kept beside the
//! spool file so a restarted scanrig carries on where the server says it
//! is. Chunks are sent straight from the file, 64 KiB at a time, so memory
//! does not grow with the photo or the chunk size. Every 308 answer's
//! `Range` says where to go on (the server may keep less than was sent),
//! and after any failure the session is asked before more bytes go out.
//!
//! google-drive3's own resumable helper does not fit: it reads each chunk
//! into memory, takes every 308 as confirming the whole chunk, moves past a
//! chunk whose request failed when it retries, and panics when the file
//! cannot be read. The session is therefore driven here, on the same hyper
//! stack, and google-drive3 does the rest (folders, queries, metadata, small
//! photos, deletes).

use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use google_drive3::api::File as DriveFile;
use google_drive3::common;
use google_drive3::hyper::{self, header, Method, Request, StatusCode};
use google_drive3::hyper_util::client::legacy::Client;
use google_drive3::hyper_util::rt::TokioExecutor;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use scanrig_actors::destination::Upload;
use scanrig_hardware::fsutil::DurableFile;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

use super::retry::Failed;
use crate::http::{error_chain, Connector};

/// The client that sends chunks with a streamed body.
pub(super) type ChunkClient = Client<Connector, FileSlice>;

/// A client for chunk uploads on `connector`.
pub(super) fn chunk_client(connector: Connector) -> ChunkClient {
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Fields asked of Drive for every uploaded file.
pub(super) const FILE_FIELDS: &str = "id,name,md5Checksum,size,appProperties";

/// Where a session stands.
#[derive(Debug)]
pub(super) enum Progress {
    /// The server holds the first this many bytes.
    Received(u64),
    /// The upload is complete: the file Drive made.
    Done(Box<DriveFile>),
}

/// Opens a session for `upload` with its metadata; returns its URL.
pub(super) async fn start(
    client: &common::Client<Connector>,
    token: &str,
    upload_root: &str,
    meta: &DriveFile,
    upload: &Upload,
    mime: &str,
) -> Result<String, Failed> {
    let url = format!(
        "{upload_root}upload/drive/v3/files?uploadType=resumable&supportsAllDrives=true&fields={FILE_FIELDS}"
    );
    let json = serde_json::to_vec(meta).map_err(|e| Failed::network(e.to_string()))?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .header("X-Upload-Content-Type", mime)
        .header("X-Upload-Content-Length", upload.size)
        .body(common::to_body(Some(json)))
        .map_err(|e| Failed::network(e.to_string()))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| Failed::network(error_chain(&e)))?;
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        return Err(failure(parts, body).await);
    }
    parts
        .headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| Failed::network("Drive opened an upload session without saying where"))
}

/// Asks the session how many bytes it holds.
pub(super) async fn status(
    client: &common::Client<Connector>,
    url: &str,
    size: u64,
) -> Result<Progress, Failed> {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(url)
        .header(header::CONTENT_RANGE, format!("bytes */{size}"))
        .header(header::CONTENT_LENGTH, 0)
        .body(common::to_body::<Bytes>(None))
        .map_err(|e| Failed::network(e.to_string()))?;
    exchange(client, request).await
}

/// Sends bytes `from..to` of the file at `path`.
pub(super) async fn send(
    client: &ChunkClient,
    url: &str,
    path: &Path,
    (from, to): (u64, u64),
    size: u64,
) -> Result<Progress, Failed> {
    let body = FileSlice::open(path, from, to - from).await?;
    let request = Request::builder()
        .method(Method::PUT)
        .uri(url)
        .header(
            header::CONTENT_RANGE,
            format!("bytes {from}-{}/{size}", to - 1),
        )
        .header(header::CONTENT_LENGTH, to - from)
        .body(body)
        .map_err(|e| Failed::network(e.to_string()))?;
    exchange(client, request).await
}

/// Sends a request to the session and reads where it stands.
async fn exchange<B>(client: &Client<Connector, B>, request: Request<B>) -> Result<Progress, Failed>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = client
        .request(request)
        .await
        .map_err(|e| Failed::network(error_chain(&e)))?;
    progress(response).await
}

/// Reads a session's answer: 308 with the bytes it holds, or the file.
async fn progress<B>(response: hyper::Response<B>) -> Result<Progress, Failed>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = response.into_parts();
    if parts.status == StatusCode::PERMANENT_REDIRECT {
        return Ok(Progress::Received(received(
            parts.headers.get(header::RANGE),
        )));
    }
    if !parts.status.is_success() {
        return Err(failure(parts, body).await);
    }
    let bytes = body
        .collect()
        .await
        .map_err(|e| Failed::network(format!("answer cut short: {}", error_chain(&e))))?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map(|f| Progress::Done(Box::new(f)))
        .map_err(|e| Failed::network(format!("garbled answer from Drive: {e}")))
}

/// The bytes a 308's `Range: bytes=0-N` confirms: N + 1, or none.
fn received(range: Option<&header::HeaderValue>) -> u64 {
    range
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.trim().strip_prefix("bytes=0-"))
        .and_then(|last| last.parse::<u64>().ok())
        .map_or(0, |last| last + 1)
}

/// A failed answer, described from its status, headers and JSON body.
async fn failure<B>(parts: hyper::http::response::Parts, body: B) -> Failed
where
    B: hyper::body::Body<Data = Bytes>,
{
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
    Failed::from_answer(parts.status, &parts.headers, json.as_ref())
}

/// A slice of a file as a request body, read as it is sent.
pub(crate) struct FileSlice {
    file: tokio::fs::File,
    left: u64,
    buf: Vec<u8>,
}

impl FileSlice {
    const PIECE: usize = 64 * 1024;

    async fn open(path: &Path, from: u64, len: u64) -> Result<FileSlice, Failed> {
        let local = |e: io::Error| Failed {
            kind: super::retry::FailKind::Local,
            reason: None,
            message: format!("cannot read spool file {}: {e}", path.display()),
            retry_after: None,
        };
        let mut file = tokio::fs::File::open(path).await.map_err(local)?;
        file.seek(SeekFrom::Start(from)).await.map_err(local)?;
        Ok(FileSlice::new(file, len))
    }

    /// The next `len` bytes of `file`, from where it stands.
    pub(crate) fn new(file: tokio::fs::File, len: u64) -> FileSlice {
        FileSlice {
            file,
            left: len,
            buf: vec![0; Self::PIECE],
        }
    }
}

impl http_body::Body for FileSlice {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let want = this.left.min(Self::PIECE as u64) as usize;
        let mut buf = ReadBuf::new(&mut this.buf[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the spool file is shorter than when it was queued",
                ))))
            }
            Poll::Ready(Ok(())) => {
                let data = Bytes::copy_from_slice(buf.filled());
                this.left -= data.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// A session kept beside its spool file, so that it outlives a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SavedSession {
    /// The session's URL (it needs no token: a secret, so the file is 0600).
    pub url: String,
    /// The photo it is for.
    pub sha256: String,
}

/// Where the session of `upload` is kept: `.<name>.drive-session`.
pub(super) fn session_path(upload: &Upload) -> PathBuf {
    crate::kept::beside(upload, "drive-session")
}

impl SavedSession {
    /// The session kept for `upload`, if it is for the same photo.
    pub(super) fn load(upload: &Upload) -> Option<SavedSession> {
        let bytes = std::fs::read(session_path(upload)).ok()?;
        let saved: SavedSession = serde_json::from_slice(&bytes).ok()?;
        (saved.sha256 == upload.sha256).then_some(saved)
    }

    /// Keeps it durably (0600).
    pub(super) fn save(&self, upload: &Upload) -> io::Result<()> {
        let mut file = DurableFile::create_private(&session_path(upload))?;
        io::Write::write_all(&mut file, &serde_json::to_vec(self)?)?;
        file.commit().map(drop)
    }

    /// Forgets the session of `upload` (done, or expired).
    pub(super) fn forget(upload: &Upload) {
        let _ = std::fs::remove_file(session_path(upload));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_header_gives_the_next_byte() {
        let v = |s: &str| header::HeaderValue::from_str(s).unwrap();
        assert_eq!(received(None), 0);
        assert_eq!(received(Some(&v("bytes=0-262143"))), 262_144);
        assert_eq!(received(Some(&v("bytes=0-0"))), 1);
        assert_eq!(received(Some(&v("nonsense"))), 0);
    }
}
