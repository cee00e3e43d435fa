//! The API's errors: every one answers `{"error": "...", "code": "..."}`
//! with the HTTP status that fits, the status and code taken from the
//! error's type, never from its words.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use scanrig_actors::manual::{Busy, ManualError};

use crate::remote::CommandError;
use serde_json::json;

/// An API error: its status, plain words, and a code more precise than the
/// status where one helps (`beyond_limit`).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    code: Option<&'static str>,
    /// The connection is closed after the answer (a body left unread).
    close: bool,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            code: None,
            close: false,
        }
    }

    /// The same error, the connection closed after it.
    pub(super) fn closing(mut self) -> ApiError {
        self.close = true;
        self
    }

    /// The same error with a code of its own.
    pub(super) fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    pub(super) fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    pub(super) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(super) fn internal(e: impl fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if self.close {
            res.force_close();
        }
        res.json(json!({"error": self.message, "code": self.code()}))
    }
}

impl ApiError {
    /// Its code: its own, or the status's.
    pub(crate) fn code(&self) -> &'static str {
        self.code.unwrap_or(match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::TOO_MANY_REQUESTS => "too_many_streams",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal",
        })
    }
}

impl From<ManualError> for ApiError {
    /// The status comes from the error's type, never from its words.
    fn from(e: ManualError) -> ApiError {
        let (status, code) = crate::remote::manual_answer(&e);
        ApiError::answer(status, code, e.to_string())
    }
}

impl From<Busy> for ApiError {
    fn from(e: Busy) -> ApiError {
        ApiError::from(ManualError::Busy(e))
    }
}

impl From<CommandError> for ApiError {
    /// The status comes from the error's type, never from its words.
    fn from(e: CommandError) -> ApiError {
        ApiError::answer(e.status(), e.code(), e.to_string())
    }
}

impl ApiError {
    /// An error of `status` and `code`.
    fn answer(status: u16, code: &'static str, message: String) -> ApiError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, message).with_code(code)
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(e: actix::MailboxError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the rig did not answer: {e}"),
        )
    }
}

/// What a handler answers.
pub(super) type ApiResult = Result<HttpResponse, ApiError>;

/// Largest JSON body the API reads.
pub(super) const BODY_LIMIT: usize = 16 * 1024;

/// JSON bodies that do not parse get a 400 in the API's shape; one larger
/// than [`BODY_LIMIT`] a 413, read no further.
pub(super) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|e, _| {
            use actix_web::error::JsonPayloadError::*;
            match e {
                Overflow { .. } | OverflowKnownLength { .. } => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is larger than the {BODY_LIMIT} bytes this API reads"),
                )
                .closing(),
                e => ApiError::bad(format!("bad JSON body: {e}")),
            }
            .into()
        })
}

/// Query strings that do not parse get a 400 in the API's shape.
pub(super) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|e, _| ApiError::bad(format!("bad query string: {e}")).into())
}
/// Only plain file and folder names (no way out of the spool).
pub(super) fn plain(name: &str) -> Result<&str, ApiError> {
    if name.is_empty() || name.starts_with('.') || name.contains('/') || name.contains('\\') {
        return Err(ApiError::bad(format!(
            "{name:?} is not a photo or scan name"
        )));
    }
    Ok(name)
}
