//! What every answer carries and what every request is held to: security
//! headers (no framing, no sniffing, scripts and styles only from the rig),
//! 405 with `Allow` for a method a path does not take, 413 for a body too
//! large or one given to a call that takes none (read no further, the
//! connection closed), and a line in the log for every refused request.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder};
use slog::info;

use super::error::ApiError;
use super::Shared;

/// The page and the API: everything from the rig itself, nothing inline,
/// never inside another site's frame.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; \
style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Headers on every answer.
pub(super) fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        // The token may be in an image's or the stream's address.
        .add((header::REFERRER_POLICY, "no-referrer"))
}

/// A path's methods: each handler added with the method's name, the rest
/// answered 405 with `Allow`.
pub(super) struct Endpoint {
    resource: Resource,
    allow: Vec<&'static str>,
}

impl Endpoint {
    pub(super) fn new(path: &str) -> Endpoint {
        Endpoint {
            resource: web::resource(path),
            allow: Vec::new(),
        }
    }

    fn route<F, Args>(mut self, method: &'static str, route: actix_web::Route, f: F) -> Endpoint
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(route.to(f));
        self.allow.push(method);
        self
    }

    pub(super) fn get<F, Args>(self, f: F) -> Endpoint
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route("GET", web::get(), f)
    }

    /// GET, and HEAD answered the same without the body.
    pub(super) fn get_head<F, Args>(self, f: F) -> Endpoint
    where
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route("GET", web::get(), f.clone())
            .route("HEAD", web::head(), f)
    }

    pub(super) fn post<F, Args>(self, f: F) -> Endpoint
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route("POST", web::post(), f)
    }

    /// The resource, other methods refused.
    pub(super) fn done(self) -> Resource {
        let allow = self.allow.join(", ");
        self.resource
            .default_service(web::to(move |req: HttpRequest| {
                let allow = allow.clone();
                async move {
                    let err = ApiError::new(
                        StatusCode::METHOD_NOT_ALLOWED,
                        format!("{} is not taken here; use {allow}", req.method()),
                    )
                    .with_code("method_not_allowed");
                    let mut res = actix_web::ResponseError::error_response(&err);
                    if let Ok(value) = header::HeaderValue::from_str(&allow) {
                        res.headers_mut().insert(header::ALLOW, value);
                    }
                    res
                }
            }))
    }
}

/// For a call that takes no body: refuses one (413, and the connection is
/// closed rather than the body read).
pub(super) fn no_body(req: &HttpRequest) -> Result<(), ApiError> {
    let headers = req.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim() != "0");
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    if length.unwrap_or(false) || chunked {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} {} takes no body; send none", req.method(), req.path()),
        )
        .closing());
    }
    Ok(())
}

/// Answers the API refuses (never 409: that is the rig's state, not the
/// request).
fn refused(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        400 | 401 | 403 | 404 | 405 | 413 | 414 | 429 | 431
    )
}

/// What a client sent, fit for a log line: control characters (a line
/// break, a NUL) and backslashes escaped, so that no client writes a line
/// of its own or a byte the log cannot hold.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Logs every refused request at info: method, path (never the query,
/// which may hold the token), status and why (which may repeat what the
/// client sent: escaped, as the path is).
pub(super) async fn log_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let (method, path) = (req.method().to_string(), printable(req.path()));
    let shared = req.app_data::<web::Data<Shared>>().cloned();
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let res = next.call(req).await;
    let (status, why) = match &res {
        Ok(res) => (
            res.status(),
            res.response().error().map(ToString::to_string),
        ),
        Err(e) => (e.as_response_error().status_code(), Some(e.to_string())),
    };
    if let (Some(shared), true) = (shared, refused(status)) {
        let why =
            printable(&why.unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned()));
        info!(shared.log, "request refused"; "method" => method, "path" => path,
            "status" => status.as_u16(), "reason" => why, "client" => peer);
    }
    res
}

/// A refusal for a HEAD or GET of a page path that does not exist.
pub(super) async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("not found")
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn what_a_client_sent_is_logged_on_one_line() {
        assert_eq!(
            printable("no scan x\nINFO forged\r\0 \\n é"),
            "no scan x\\nINFO forged\\r\\u{0} \\\\n é"
        );
    }
}
