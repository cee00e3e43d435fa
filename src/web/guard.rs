//! Who may use the API: the access token when the rig listens on the
//! network, and never a request another web site made a browser send.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};
use serde::Deserialize;

use super::error::ApiError;
use super::Shared;

/// Whether `req` carries the access token (if one is needed).
fn authorised(shared: &Shared, req: &HttpRequest) -> bool {
    let Some(token) = &shared.token else {
        return true;
    };
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = web::Query::<TokenQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token);
    [header.map(str::to_owned), query]
        .into_iter()
        .flatten()
        .any(|given| same(given.as_bytes(), token.as_bytes()))
}

/// Compares without leaking where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Middleware of `/api/v1`: refuses requests without the token.
pub(super) async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let ok = req
        .app_data::<web::Data<Shared>>()
        .is_some_and(|shared| authorised(shared, req.request()));
    if let Some(refusal) = foreign(req.request()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, refusal).into());
    }
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this rig needs its access token (`scanrig web token` shows it): send Authorization: Bearer <token>",
        )
        .into());
    }
    next.call(req).await
}

/// Why a request that another web site made the browser send is refused:
/// a POST from another origin (cross-site request forgery), or, on a
/// loopback address without a token, a host name that is not loopback (a
/// DNS-rebinding page posing as this one).
fn foreign(req: &HttpRequest) -> Option<&'static str> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let host = header("host").unwrap_or("");
    let local = req
        .app_data::<web::Data<Shared>>()
        .is_some_and(|s| s.token.is_none());
    if local {
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
            return Some("this rig answers on its loopback address only under that address");
        }
    }
    let origin = header("origin").map(|o| o.split_once("://").map_or(o, |(_, rest)| rest));
    match origin {
        Some(origin) if req.method() != actix_web::http::Method::GET && origin != host => {
            Some("requests from another web site are refused")
        }
        _ => None,
    }
}
