//! Drive's JSON answers: errors, `308 Resume Incomplete`, a file.

use serde_json::{json, Map, Value};

use super::response::Response;
use super::FakeFile;

pub(super) fn google_error(code: u16, reason: &str, message: &str) -> Response {
    Response::json(
        code,
        &json!({"error": {
            "code": code,
            "message": message,
            "errors": [{"reason": reason, "message": message, "domain": "global"}],
        }}),
    )
}

pub(super) fn bad_request(message: &str) -> Response {
    google_error(400, "badRequest", message)
}

pub(super) fn not_found(id: &str) -> Response {
    google_error(404, "notFound", &format!("File not found: {id}."))
}

pub(super) fn session_not_found() -> Response {
    google_error(404, "notFound", "Upload session not found.")
}

pub(super) fn quota_exceeded() -> Response {
    google_error(
        403,
        "storageQuotaExceeded",
        "The user's Drive storage quota has been exceeded.",
    )
}

/// 308 with the `Range` received so far.
pub(super) fn resume_incomplete(received: u64) -> Response {
    let response = Response::empty(308);
    if received == 0 {
        response
    } else {
        response.with_header("Range", &format!("bytes=0-{}", received - 1))
    }
}

pub(super) fn file_json(file: &FakeFile) -> Value {
    let mut obj = Map::new();
    obj.insert("kind".into(), json!("drive#file"));
    obj.insert("id".into(), json!(file.id));
    obj.insert("name".into(), json!(file.name));
    obj.insert("mimeType".into(), json!(file.mime_type));
    obj.insert("parents".into(), json!(file.parents));
    if !file.app_properties.is_empty() {
        obj.insert("appProperties".into(), json!(file.app_properties));
    }
    obj.insert("md5Checksum".into(), json!(file.md5));
    obj.insert("size".into(), json!(file.content.len().to_string()));
    Value::Object(obj)
}
