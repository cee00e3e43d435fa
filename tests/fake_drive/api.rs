//! The Drive files API: list, generateIds, metadata-only create, get, delete, patch.

use serde_json::{json, Value};

use super::http::{parse_u64, Head, Request};
use super::meta::parse_meta;
use super::query::parse_query;
use super::replies::{bad_request, file_json, google_error, not_found};
use super::response::Response;
use super::state::Shared;
use super::upload::store_upload;

pub(super) fn list_files(shared: &Shared, head: &Head) -> Response {
    let clauses = match head.param("q").map(parse_query).transpose() {
        Ok(clauses) => clauses.unwrap_or_default(),
        Err(message) => {
            return google_error(400, "invalidQuery", &format!("Invalid Value: {message}"))
        }
    };
    let mut st = shared.lock();
    st.stats.list_queries += 1;
    let files: Vec<Value> = st
        .files
        .iter()
        .filter(|f| !f.deleted && clauses.iter().all(|c| c.matches(&f.file)))
        .map(|f| file_json(&f.file))
        .collect();
    Response::json(200, &json!({"kind": "drive#fileList", "files": files}))
}

/// `files.generateIds`: `count` (1 to 1000, default 10) ids for `space`
/// (`drive`, the default, or `appDataFolder`).
pub(super) fn generate_ids(shared: &Shared, head: &Head) -> Response {
    let count = match head.param("count") {
        None => 10,
        Some(v) => match parse_u64(v.trim()).filter(|n| (1..=1000).contains(n)) {
            Some(n) => n as usize,
            None => {
                return google_error(
                    400,
                    "invalid",
                    &format!("Invalid value for count: {v}; it must be 1 to 1000."),
                )
            }
        },
    };
    let space = head.param("space").unwrap_or("drive");
    if !matches!(space, "drive" | "appDataFolder") {
        return google_error(
            400,
            "invalid",
            &format!("Invalid value for space: {space}."),
        );
    }
    let ids = shared.lock().generate_ids(count);
    Response::json(
        200,
        &json!({"kind": "drive#generatedIds", "space": space, "ids": ids}),
    )
}

/// `POST files` with metadata only (a folder, an empty file).
pub(super) fn create_metadata_only(shared: &Shared, req: &Request<'_>) -> Response {
    let meta = match parse_meta(&req.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    store_upload(shared, None, &meta, None, Vec::new())
}

pub(super) fn get_file(shared: &Shared, head: &Head, id: &str) -> Response {
    let st = shared.lock();
    let Some(file) = st.file(id) else {
        return not_found(id);
    };
    if head.param("alt") == Some("media") {
        let mut response = Response::empty(200).with_header("Content-Type", &file.mime_type);
        response.body = file.content.clone();
        return response;
    }
    Response::json(200, &file_json(file))
}

pub(super) fn delete_file(shared: &Shared, id: &str) -> Response {
    let mut st = shared.lock();
    let Some(stored) = st.files.iter_mut().find(|f| !f.deleted && f.file.id == id) else {
        return not_found(id);
    };
    stored.deleted = true;
    st.stats.deletes += 1;
    Response::empty(204)
}

pub(super) fn patch_metadata(shared: &Shared, req: &Request<'_>, id: &str) -> Response {
    let meta = match parse_meta(&req.body) {
        Ok(meta) => meta,
        Err(message) => return bad_request(&message),
    };
    match shared.lock().update_file(id, &meta, None) {
        Some(file) => Response::json(200, &file_json(&file)),
        None => not_found(id),
    }
}
