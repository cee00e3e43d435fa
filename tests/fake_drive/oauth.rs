//! The OAuth endpoints: token grants and device codes.

use std::collections::HashMap;

use serde_json::json;
use url::form_urlencoded;

use super::response::Response;
use super::state::Shared;

/// The one refresh token the fake accepts.
pub(super) const VALID_REFRESH: &str = "fake-refresh-1";
const DEVICE_GRANT_OLD: &str = "http://oauth.net/grant_type/device/1.0";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SCOPE: &str = "https://www.googleapis.com/auth/drive.file";

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

pub(super) fn oauth_token(shared: &Shared, body: &[u8]) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    match field("grant_type") {
        Some("refresh_token") => refresh(shared, field("refresh_token")),
        Some(DEVICE_GRANT_OLD | DEVICE_GRANT) => match field("code").or(field("device_code")) {
            Some(code) => device_poll(shared, code),
            None => oauth_error(400, "invalid_request", "Missing required parameter: code"),
        },
        Some(JWT_GRANT) => service_account(shared, field("assertion")),
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {}", other.unwrap_or("")),
        ),
    }
}

fn refresh(shared: &Shared, token: Option<&str>) -> Response {
    let mut st = shared.lock();
    if st.revoked || token != Some(VALID_REFRESH) {
        return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
    }
    st.stats.token_refreshes += 1;
    let access = st.issue_access_token();
    Response::json(
        200,
        &json!({"access_token": access, "expires_in": 3600, "token_type": "Bearer"}),
    )
}

/// The first poll of a device code is pending, later ones authorise (and
/// lift a revocation, as a new consent would).
fn device_poll(shared: &Shared, code: &str) -> Response {
    let mut st = shared.lock();
    let polls = st.device_polls.entry(code.to_owned()).or_insert(0);
    *polls += 1;
    if *polls == 1 {
        return Response::json(428, &json!({"error": "authorization_pending"}));
    }
    st.revoked = false;
    let access = st.issue_access_token();
    Response::json(
        200,
        &json!({
            "access_token": access,
            "refresh_token": VALID_REFRESH,
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": SCOPE,
        }),
    )
}

fn service_account(shared: &Shared, assertion: Option<&str>) -> Response {
    let is_jwt =
        assertion.is_some_and(|a| a.split('.').count() == 3 && a.split('.').all(|p| !p.is_empty()));
    if !is_jwt {
        return oauth_error(400, "invalid_grant", "Invalid JWT.");
    }
    let access = shared.lock().issue_access_token();
    Response::json(
        200,
        &json!({"access_token": access, "expires_in": 3600, "token_type": "Bearer"}),
    )
}

pub(super) fn device_code(shared: &Shared) -> Response {
    let mut st = shared.lock();
    st.next_device += 1;
    Response::json(
        200,
        &json!({
            "device_code": format!("dev-{}", st.next_device),
            "user_code": "ABCD-EFGH",
            "verification_url": "https://www.google.com/device",
            "expires_in": 300,
            "interval": 1,
        }),
    )
}
