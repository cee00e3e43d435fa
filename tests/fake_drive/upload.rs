//! The upload endpoints: media, multipart, and resumable sessions started and fed.

use std::thread;
use std::time::Instant;

use serde_json::json;

use super::helpers::opaque_id;
use super::http::{parse_content_range, parse_u64, ContentRange, Request};
use super::meta::{parse_meta, Meta};
use super::multipart::{multipart_boundary, multipart_parts};
use super::replies::{bad_request, file_json, not_found, quota_exceeded, session_not_found};
use super::response::Response;
use super::session::{Chunk, Session};
use super::state::Shared;

/// `upload/drive/v3/files[/ID]`, by `uploadType`.
pub(super) fn upload(shared: &Shared, req: &Request<'_>, target: Option<&str>) -> Response {
    match req.head.param("uploadType") {
        Some("multipart") => upload_multipart(shared, req, target),
        Some("resumable") => start_session(shared, req, target),
        Some("media") => {
            let mime = req.head.header("content-type");
            store_upload(shared, target, &Meta::default(), mime, req.body.clone())
        }
        _ => bad_request("Unsupported or missing uploadType."),
    }
}

fn upload_multipart(shared: &Shared, req: &Request<'_>, target: Option<&str>) -> Response {
    let Some(boundary) = req.head.header("content-type").and_then(multipart_boundary) else {
        return bad_request("Expected a multipart Content-Type with a boundary.");
    };
    let Some(parts) = multipart_parts(&req.body, &boundary) else {
        return bad_request("Malformed multipart body.");
    };
    let [meta_part, content_part, ..] = parts.as_slice() else {
        return bad_request("A multipart upload needs a metadata part and a content part.");
    };
    let meta = match parse_meta(meta_part.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    let mime = content_part.header("content-type");
    let late = shared.lock().late_creates;
    if target.is_some() || late.is_zero() {
        return store_upload(shared, target, &meta, mime, content_part.body.to_vec());
    }
    // Drive working on it: the client sees nothing yet.
    let name = meta.name.clone().unwrap_or_default();
    shared.lock().creating.push(name.clone());
    shared.changed.notify_all();
    thread::sleep(late);
    let response = store_upload(shared, None, &meta, mime, content_part.body.to_vec());
    let mut st = shared.lock();
    if let Some(at) = st.creating.iter().position(|n| *n == name) {
        st.creating.remove(at);
    }
    shared.changed.notify_all();
    response
}

/// Creates a file, or replaces a file's content.
pub(super) fn store_upload(
    shared: &Shared,
    target: Option<&str>,
    meta: &Meta,
    mime: Option<&str>,
    content: Vec<u8>,
) -> Response {
    let mut st = shared.lock();
    if st.quota_exceeded {
        return quota_exceeded();
    }
    let file = match target {
        None => match st.create_file(meta, mime, content) {
            Ok(file) => file,
            Err(refused) => return refused,
        },
        Some(id) => match st.update_file(id, meta, Some(content)) {
            Some(file) => file,
            None => return not_found(id),
        },
    };
    Response::json(200, &file_json(&file))
}

fn start_session(shared: &Shared, req: &Request<'_>, target: Option<&str>) -> Response {
    let meta = match parse_meta(&req.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    let declared_total = match req.head.header("x-upload-content-length") {
        None => None,
        Some(v) => match parse_u64(v.trim()) {
            Some(n) => Some(n),
            None => return bad_request("Invalid X-Upload-Content-Length."),
        },
    };
    let mut st = shared.lock();
    if st.quota_exceeded {
        return quota_exceeded();
    }
    match (target, &meta.id) {
        (Some(id), _) if st.file(id).is_none() => return not_found(id),
        (None, Some(id)) => {
            if let Err(refused) = st.check_new_id(id) {
                return refused;
            }
        }
        _ => {}
    }
    st.next_session += 1;
    let sid = opaque_id('s', st.next_session, 0x5e55_1015);
    st.sessions.insert(
        sid.clone(),
        Session {
            meta,
            content_type: req.head.header("x-upload-content-type").map(str::to_owned),
            declared_total,
            target: target.map(str::to_owned),
            ..Session::default()
        },
    );
    st.stats.sessions_started += 1;
    st.stats.first_session_at.get_or_insert_with(Instant::now);
    Response::json(200, &json!({}))
        .with_header("Location", &format!("{}upload-session/{sid}", shared.root))
}

/// A chunk or status query on an upload session (no authorisation needed).
pub(super) fn session_put(shared: &Shared, req: &Request<'_>, sid: &str, short: bool) -> Response {
    let range = match req.head.header("content-range") {
        Some(v) => match parse_content_range(v) {
            Some(range) => range,
            None => return bad_request("Invalid Content-Range header."),
        },
        None if req.body.is_empty() => ContentRange::Query { total: None },
        None => {
            let len = req.body.len() as u64;
            ContentRange::Data(Chunk {
                start: 0,
                end: len - 1,
                total: Some(len),
            })
        }
    };
    let mut st = shared.lock();
    if !st.sessions.contains_key(sid) {
        return session_not_found();
    }
    match range {
        ContentRange::Query { total } => {
            st.stats.status_queries += 1;
            if !req.body.is_empty() {
                return bad_request("A status query has no body.");
            }
            st.session_status(sid, total)
        }
        ContentRange::Data(chunk) => {
            st.stats.chunk_requests += 1;
            let response = st.session_chunk(sid, chunk, &req.body, short);
            shared.changed.notify_all();
            while st.holds > 0 {
                st = shared.wait(st);
            }
            response
        }
    }
}
