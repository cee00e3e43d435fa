//! Resumable upload sessions: what one holds, how chunks and status queries change it.

use super::helpers::round_down;
use super::meta::Meta;
use super::replies::{
    bad_request, file_json, not_found, quota_exceeded, resume_incomplete, session_not_found,
};
use super::response::Response;
use super::state::State;

/// A resumable upload session.
#[derive(Default)]
pub(super) struct Session {
    pub(super) meta: Meta,
    /// `X-Upload-Content-Type`: the MIME type if the metadata has none.
    pub(super) content_type: Option<String>,
    /// `X-Upload-Content-Length`.
    pub(super) declared_total: Option<u64>,
    /// The file whose content the session replaces, if any.
    pub(super) target: Option<String>,
    pub(super) content: Vec<u8>,
    /// The file made when the session completed.
    pub(super) file_id: Option<String>,
}

/// A data-carrying `Content-Range`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Chunk {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) total: Option<u64>,
}

/// Validates a chunk against its session and body length.
fn check_chunk(session: &Session, chunk: &Chunk, body_len: usize) -> Result<(), String> {
    let len = (chunk.end - chunk.start).checked_add(1);
    if len != Some(body_len as u64) {
        return Err("Content-Range does not match the body's length.".into());
    }
    if let (Some(total), Some(declared)) = (chunk.total, session.declared_total) {
        if total != declared {
            return Err(format!(
                "Content-Range total {total} differs from X-Upload-Content-Length {declared}."
            ));
        }
    }
    if chunk.total.is_some_and(|t| chunk.end >= t) {
        return Err("Content-Range ends past the total.".into());
    }
    let received = session.content.len() as u64;
    if chunk.start > received {
        return Err(format!(
            "Chunk starts at {}, but only {received} bytes were received.",
            chunk.start
        ));
    }
    Ok(())
}

impl State {
    /// Status query of a session.
    pub(super) fn session_status(&mut self, sid: &str, total: Option<u64>) -> Response {
        let Some(session) = self.sessions.get(sid) else {
            return session_not_found();
        };
        if let Some(id) = session.file_id.clone() {
            return self.session_file_reply(&id);
        }
        let received = session.content.len() as u64;
        if total == Some(received) {
            // All bytes are there (an empty upload, or a completion that
            // failed on the quota): complete now.
            return self.finish_session(sid);
        }
        resume_incomplete(received)
    }

    /// A chunk of a session: `body` holds bytes `start..=end` of `total`.
    pub(super) fn session_chunk(
        &mut self,
        sid: &str,
        chunk: Chunk,
        body: &[u8],
        short: bool,
    ) -> Response {
        let Some(session) = self.sessions.get_mut(sid) else {
            return session_not_found();
        };
        if let Some(id) = session.file_id.clone() {
            return self.session_file_reply(&id);
        }
        if let Err(message) = check_chunk(session, &chunk, body.len()) {
            return bad_request(&message);
        }
        let received = session.content.len() as u64;
        let skip = usize::try_from(received - chunk.start).unwrap_or(usize::MAX);
        let fresh = body.get(skip..).unwrap_or(&[]);
        if short {
            if fresh.is_empty() {
                return self.server_error();
            }
            let keep = round_down(fresh.len() as u64 / 2) as usize;
            session.content.extend_from_slice(&fresh[..keep]);
            return resume_incomplete(session.content.len() as u64);
        }
        session.content.extend_from_slice(fresh);
        let received = session.content.len() as u64;
        if chunk.total == Some(received) {
            return self.finish_session(sid);
        }
        resume_incomplete(received)
    }

    /// Keeps the part of a reset chunk's bytes that ends on a 256 KiB
    /// boundary.
    pub(super) fn keep_partial_chunk(&mut self, sid: &str, start: u64, partial: &[u8]) {
        let Some(session) = self.sessions.get_mut(sid) else {
            return;
        };
        let received = session.content.len() as u64;
        if session.file_id.is_some() || start > received {
            return;
        }
        let end = round_down(start + partial.len() as u64);
        if end <= received {
            return;
        }
        let from = usize::try_from(received - start).unwrap_or(usize::MAX);
        let to = usize::try_from(end - start).unwrap_or(usize::MAX);
        if let Some(bytes) = partial.get(from..to) {
            session.content.extend_from_slice(bytes);
        }
    }

    /// Makes (or updates) the session's file from all its bytes.
    fn finish_session(&mut self, sid: &str) -> Response {
        if self.quota_exceeded {
            return quota_exceeded();
        }
        let Some(session) = self.sessions.get(sid) else {
            return session_not_found();
        };
        let (meta, mime, target) = (
            session.meta.clone(),
            session.content_type.clone(),
            session.target.clone(),
        );
        let content = session.content.clone();
        let file = match target {
            Some(id) => match self.update_file(&id, &meta, Some(content)) {
                Some(file) => file,
                None => return not_found(&id),
            },
            None => match self.create_file(&meta, mime.as_deref(), content) {
                Ok(file) => file,
                Err(refused) => return refused,
            },
        };
        if let Some(session) = self.sessions.get_mut(sid) {
            session.file_id = Some(file.id.clone());
        }
        Response::json(200, &file_json(&file))
    }

    /// The file a completed session made, even if deleted since.
    fn session_file_reply(&self, id: &str) -> Response {
        match self.files.iter().find(|f| f.file.id == id) {
            Some(stored) => Response::json(200, &file_json(&stored.file)),
            None => not_found(id),
        }
    }
}
