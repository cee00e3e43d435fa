//! Who may use the API: the access token when the rig listens on the
//! network, and never a request another web site made a browser send.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::ApiError;
use super::Shared;

/// Whether `req` may go on: it needs no token, carries the right one, or
/// carries none or a wrong one.
#[derive(Debug, PartialEq, Eq)]
enum Access {
    Granted,
    NoToken,
    WrongToken,
}

/// Whether `req` carries the access token (if one is needed).
fn access(shared: &Shared, req: &HttpRequest) -> Access {
    let Some(token) = &shared.token else {
        return Access::Granted;
    };
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    let query = web::Query::<TokenQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token);
    let given: Vec<String> = [header.map(str::to_owned), query]
        .into_iter()
        .flatten()
        .collect();
    if given.iter().any(|g| same(g.as_bytes(), token.as_bytes())) {
        Access::Granted
    } else if given.is_empty() {
        Access::NoToken
    } else {
        Access::WrongToken
    }
}

/// The token of an `Authorization: Bearer <token>` value; the scheme's
/// name in any case (RFC 7235).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start())
}

/// Compares without leaking where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Middleware of `/api/v1`: refuses requests without the token, and
/// those another web site made a browser send. The refusal is an answer
/// like any other (the security headers added to it), the 401 saying how
/// to authenticate (`WWW-Authenticate`).
pub(super) async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let access = req
        .app_data::<web::Data<Shared>>()
        .map_or(Access::NoToken, |shared| access(shared, req.request()));
    let refusal = if let Some(why) = foreign(req.request()) {
        HttpResponse::from_error(ApiError::new(StatusCode::FORBIDDEN, why))
    } else if access != Access::Granted {
        let mut res = HttpResponse::from_error(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this rig needs its access token (`scanrig web token` shows it): send Authorization: Bearer <token>",
        ));
        let challenge = match access {
            Access::WrongToken => "Bearer realm=\"scanrig\", error=\"invalid_token\"",
            _ => "Bearer realm=\"scanrig\"",
        };
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(challenge),
        );
        res
    } else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    Ok(req.into_response(refusal).map_into_right_body())
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

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_named_in_any_case() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc", " bEaReR abc "] {
            assert_eq!(bearer(value), Some("abc"), "{value:?}");
        }
        for value in ["Basic abc", "Bearerabc", "abc", ""] {
            assert_eq!(bearer(value), None, "{value:?}");
        }
    }
}
