//! Routing a request to its endpoint, and authorising Drive requests.

use serde_json::json;

use super::api::{
    create_metadata_only, delete_file, generate_ids, get_file, list_files, patch_metadata,
};
use super::http::{Head, Request};
use super::oauth::{device_code, oauth_token};
use super::replies::google_error;
use super::response::Response;
use super::state::Shared;
use super::upload::{session_put, upload};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Route<'a> {
    Token,
    DeviceCode,
    Session(&'a str),
    List,
    GenerateIds,
    /// A new file from metadata alone.
    Create,
    Get(&'a str),
    Delete(&'a str),
    PatchMeta(&'a str),
    About,
    /// A new file (`None`) or new content for one.
    Upload(Option<&'a str>),
    Unknown,
}

pub(super) fn route<'a>(method: &str, segments: &'a [String]) -> Route<'a> {
    let segs: Vec<&'a str> = segments.iter().map(String::as_str).collect();
    match (method, segs.as_slice()) {
        ("POST", ["token"]) => Route::Token,
        ("POST", ["device", "code"]) => Route::DeviceCode,
        ("PUT" | "POST", ["upload-session", sid]) => Route::Session(sid),
        ("GET", ["drive", "v3", "files"]) => Route::List,
        ("POST", ["drive", "v3", "files"]) => Route::Create,
        ("GET", ["drive", "v3", "files", "generateIds"]) => Route::GenerateIds,
        ("GET", ["drive", "v3", "files", id]) => Route::Get(id),
        ("DELETE", ["drive", "v3", "files", id]) => Route::Delete(id),
        ("PATCH", ["drive", "v3", "files", id]) => Route::PatchMeta(id),
        ("GET", ["drive", "v3", "about"]) => Route::About,
        (
            "POST",
            ["upload", "drive", "v3", "files"] | ["resumable", "upload", "drive", "v3", "files"],
        ) => Route::Upload(None),
        (
            "PATCH",
            ["upload", "drive", "v3", "files", id]
            | ["resumable", "upload", "drive", "v3", "files", id],
        ) => Route::Upload(Some(id)),
        _ => Route::Unknown,
    }
}

pub(super) fn dispatch(
    shared: &Shared,
    req: &Request<'_>,
    route: Route<'_>,
    short: bool,
) -> Response {
    match route {
        Route::Token => oauth_token(shared, &req.body),
        Route::DeviceCode => device_code(shared),
        Route::Session(sid) => session_put(shared, req, sid, short),
        Route::Unknown => google_error(404, "notFound", "Not Found"),
        api => match authorize(shared, req.head) {
            Ok(()) => drive_api(shared, req, api),
            Err(response) => response,
        },
    }
}

fn drive_api(shared: &Shared, req: &Request<'_>, route: Route<'_>) -> Response {
    match route {
        Route::List => list_files(shared, req.head),
        Route::GenerateIds => generate_ids(shared, req.head),
        Route::Create => create_metadata_only(shared, req),
        Route::Get(id) => get_file(shared, req.head, id),
        Route::Delete(id) => delete_file(shared, id),
        Route::PatchMeta(id) => patch_metadata(shared, req, id),
        Route::About => Response::json(
            200,
            &json!({
                "kind": "drive#about",
                "user": {"displayName": "Fake User", "emailAddress": "rig@example.com"},
            }),
        ),
        Route::Upload(target) => upload(shared, req, target),
        _ => google_error(404, "notFound", "Not Found"),
    }
}

fn authorize(shared: &Shared, head: &Head) -> Result<(), Response> {
    let mut st = shared.lock();
    if head.bearer().is_some_and(|t| st.access_tokens.contains(t)) {
        return Ok(());
    }
    st.stats.unauthorized += 1;
    Err(Response::json(
        401,
        &json!({"error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "errors": [{"reason": "authError", "message": "Invalid Credentials", "domain": "global"}],
        }}),
    )
    .with_header("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\""))
}
