//! When a Drive request that failed is worth another try, and how long to
//! wait: exponential backoff with jitter, `Retry-After` honoured; quota and
//! authorisation errors stop at once with a message that says what to do.

use std::time::Duration;

use google_drive3::common;
use google_drive3::hyper::http::HeaderMap;
use google_drive3::hyper::StatusCode;
use scanrig_actors::destination::DestinationError;
use scanrig_actors::restart::{random_unit, Backoff};

use crate::http::error_chain;

/// 403 reasons that mean "slow down", not "no".
const RATE_LIMIT_REASONS: &[&str] = &["rateLimitExceeded", "userRateLimitExceeded"];

/// 403 reasons that mean the account is out of room or daily quota.
const QUOTA_REASONS: &[&str] = &[
    "storageQuotaExceeded",
    "quotaExceeded",
    "dailyLimitExceeded",
    "teamDriveFileLimitExceeded",
    "numChildrenInNonRootLimitExceeded",
];

/// What the retries of one request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try.
    pub retries: u32,
    /// The wait between tries (a longer `Retry-After` still wins).
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// The wait before retry number `n` (from 1): the backoff's, jittered
    /// so that workers failing together do not retry together; at least
    /// `retry_after`.
    pub fn delay(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let jittered = self.backoff.jittered(n, random_unit());
        jittered.max(retry_after.unwrap_or_default())
    }
}

/// The tries of one request so far.
#[derive(Debug)]
pub(super) struct Attempts {
    policy: RetryPolicy,
    failures: u32,
    refreshed: bool,
}

/// What to do after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Try again after this long.
    Wait(Duration),
    /// Get a new access token, then try again.
    Refresh,
    /// Stop.
    GiveUp,
}

impl Attempts {
    /// No tries yet.
    pub(super) fn new(policy: RetryPolicy) -> Attempts {
        Attempts {
            policy,
            failures: 0,
            refreshed: false,
        }
    }

    /// What follows the failure `f`: a 401 gets one token refresh; what is
    /// worth retrying waits its backoff until the retries are spent.
    pub(super) fn after(&mut self, f: &Failed) -> Next {
        if f.kind == FailKind::Status(401) && !self.refreshed {
            self.refreshed = true;
            return Next::Refresh;
        }
        if !f.retryable() || self.failures >= self.policy.retries {
            return Next::GiveUp;
        }
        self.failures += 1;
        Next::Wait(self.policy.delay(self.failures, f.retry_after))
    }
}

/// What kind of failure a request met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FailKind {
    /// No answer: connection refused, reset, timed out, garbled.
    Network,
    /// An HTTP error status.
    Status(u16),
    /// No access token could be had (missing or revoked authorisation).
    Unauthorised,
    /// A problem on this side (the spool file cannot be read).
    Local,
}

/// One failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed {
    /// What happened.
    pub kind: FailKind,
    /// Google's reason (`errors[0].reason`), when it gave one.
    pub reason: Option<String>,
    /// A message for people.
    pub message: String,
    /// The server's `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl Failed {
    /// A request that got no usable answer.
    pub(crate) fn network(message: impl Into<String>) -> Failed {
        Failed {
            kind: FailKind::Network,
            reason: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A failed HTTP answer: its status, headers and JSON error body.
    pub(crate) fn from_answer(
        status: StatusCode,
        headers: &HeaderMap,
        body: Option<&serde_json::Value>,
    ) -> Failed {
        let error = body.and_then(|b| b.get("error"));
        let reason = error
            .and_then(|e| e.get("errors"))
            .and_then(|e| e.get(0))
            .and_then(|e| e.get("reason"))
            .and_then(|r| r.as_str())
            .map(str::to_owned);
        let message = error
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Failed {
            kind: FailKind::Status(status.as_u16()),
            reason,
            message,
            retry_after,
        }
    }

    /// Whether the request may have taken effect even though it failed
    /// (no answer, or a server error): a create must then look before it
    /// tries again.
    pub(crate) fn outcome_unknown(&self) -> bool {
        match self.kind {
            FailKind::Network => true,
            FailKind::Status(s) => s >= 500,
            FailKind::Unauthorised | FailKind::Local => false,
        }
    }

    /// Whether another try may succeed.
    pub(crate) fn retryable(&self) -> bool {
        match self.kind {
            FailKind::Network => true,
            FailKind::Unauthorised | FailKind::Local => false,
            FailKind::Status(s) => {
                s == 408
                    || s == 429
                    || s >= 500
                    || (s == 403
                        && self
                            .reason
                            .as_deref()
                            .is_some_and(|r| RATE_LIMIT_REASONS.contains(&r)))
            }
        }
    }

    /// The error the caller sees, `what` saying what was being done.
    pub(crate) fn into_error(self, what: &str) -> DestinationError {
        let reason = self.reason.as_deref().unwrap_or("");
        let detail = match &self.kind {
            FailKind::Network => self.message.clone(),
            FailKind::Status(s) if reason.is_empty() => format!("HTTP {s}: {}", self.message),
            FailKind::Status(s) => format!("HTTP {s} {reason}: {}", self.message),
            FailKind::Unauthorised | FailKind::Local => self.message.clone(),
        };
        let text = format!("Google Drive: cannot {what}: {detail}");
        if self.retryable() {
            return DestinationError::Transient(text);
        }
        match self.kind {
            FailKind::Unauthorised | FailKind::Status(401) => DestinationError::Permanent(format!(
                "{text}; run `scanrig auth drive` (as the user scanrig runs as) to authorise it again; the photos wait in the spool"
            )),
            FailKind::Status(403) if QUOTA_REASONS.contains(&reason) => {
                DestinationError::Permanent(format!(
                    "{text}; the Drive account is out of storage or quota: free space or raise the quota, then run `scanrig uploads retry`; the photos wait in the spool"
                ))
            }
            _ => DestinationError::Permanent(text),
        }
    }
}

/// Records the answer of a failed google-drive3 call, so the caller can
/// decide about retrying (the generated calls themselves never retry here).
#[derive(Debug, Default)]
pub(super) struct Recorder {
    failed: Option<Failed>,
}

impl common::Delegate for Recorder {
    fn http_failure(
        &mut self,
        response: &common::Response,
        err: Option<&serde_json::Value>,
    ) -> common::Retry {
        self.failed = Some(Failed::from_answer(
            response.status(),
            response.headers(),
            err,
        ));
        common::Retry::Abort
    }
}

impl Recorder {
    /// The call's result, its failure described.
    pub(super) fn finish<T>(
        self,
        result: common::Result<(common::Response, T)>,
    ) -> Result<T, Failed> {
        match result {
            Ok((_, value)) => Ok(value),
            Err(e) => Err(self.describe(e)),
        }
    }

    fn describe(self, e: common::Error) -> Failed {
        use common::Error as E;
        match e {
            E::BadRequest(_) | E::Failure(_) if self.failed.is_some() => {
                self.failed.unwrap_or_else(|| Failed::network("no answer"))
            }
            E::HttpError(e) => Failed::network(error_chain(&e)),
            E::JsonDecodeError(_, e) => Failed::network(format!("garbled answer: {e}")),
            E::MissingToken(e) => match e.downcast_ref::<TokenError>() {
                Some(TokenError(failed)) => failed.clone(),
                None => token_failure(e.as_ref()),
            },
            E::Io(e) => Failed {
                kind: FailKind::Local,
                reason: None,
                message: format!("cannot read the file: {e}"),
                retry_after: None,
            },
            other => Failed {
                kind: FailKind::Local,
                reason: None,
                message: other.to_string(),
                retry_after: None,
            },
        }
    }
}

/// OAuth error codes that refuse the grant itself: only a new
/// authorisation helps.
pub(super) const REFUSALS: [&str; 6] = [
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
    "invalid_scope",
    "unsupported_grant_type",
];

/// Why yup-oauth2 could give no access token: the network or the token
/// endpoint's trouble (retry), or a refusal of the grant (stop).
pub(super) fn token_failure(e: &(dyn std::error::Error + 'static)) -> Failed {
    use google_drive3::yup_oauth2::Error as E;
    let network = match e.downcast_ref::<E>() {
        Some(
            E::HttpError(_)
            | E::HttpClientError(_)
            | E::LowLevelError(_)
            | E::JSONError(_)
            | E::MissingAccessToken,
        ) => true,
        Some(E::AuthError(a)) => !REFUSALS.contains(&a.error.as_str()),
        Some(_) => false,
        None => true,
    };
    let message = format!("no access token: {}", error_chain(e));
    if network {
        Failed::network(message)
    } else {
        Failed {
            kind: FailKind::Unauthorised,
            reason: None,
            message,
            retry_after: None,
        }
    }
}

/// Why a request went out without a token: the token source's failure,
/// classed like any other (see [`super::retry::Recorder`]).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub(super) struct TokenError(pub Failed);

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: Option<&str>) -> Failed {
        let body = reason.map(|r| {
            serde_json::json!({"error": {"code": code, "message": "m", "errors": [{"reason": r}]}})
        });
        Failed::from_answer(
            StatusCode::from_u16(code).unwrap(),
            &HeaderMap::new(),
            body.as_ref(),
        )
    }

    #[test]
    fn server_errors_throttling_and_rate_limits_are_retried() {
        for f in [
            status(500, None),
            status(503, None),
            status(429, None),
            status(408, None),
            status(403, Some("userRateLimitExceeded")),
            status(403, Some("rateLimitExceeded")),
            Failed::network("reset"),
        ] {
            assert!(f.retryable(), "{f:?}");
            assert!(f.clone().into_error("x").is_retryable());
        }
    }

    #[test]
    fn quota_and_authorisation_stop_with_what_to_do() {
        let quota = status(403, Some("storageQuotaExceeded"));
        assert!(!quota.retryable());
        let e = quota.into_error("upload a.jpg").to_string();
        assert!(
            e.contains("storageQuotaExceeded") && e.contains("scanrig uploads retry"),
            "{e}"
        );
        let auth = status(401, Some("authError"))
            .into_error("list")
            .to_string();
        assert!(auth.contains("scanrig auth drive"), "{auth}");
        assert!(!status(404, Some("notFound")).retryable());
        assert!(!status(400, Some("invalid")).retryable());
    }

    #[test]
    fn retry_after_is_read_and_honoured() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        let f = Failed::from_answer(StatusCode::TOO_MANY_REQUESTS, &headers, None);
        assert_eq!(f.retry_after, Some(Duration::from_secs(7)));
        let p = RetryPolicy {
            retries: 3,
            backoff: Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_millis(40),
            },
        };
        assert_eq!(p.delay(1, f.retry_after), Duration::from_secs(7));
    }

    #[test]
    fn attempts_refresh_once_then_retry_until_spent() {
        let p = RetryPolicy {
            retries: 2,
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(1),
            },
        };
        let mut a = Attempts::new(p);
        let unauthorised = status(401, Some("authError"));
        assert_eq!(a.after(&unauthorised), Next::Refresh);
        assert_eq!(a.after(&unauthorised), Next::GiveUp);
        let mut a = Attempts::new(p);
        let busy = status(503, None);
        assert!(matches!(a.after(&busy), Next::Wait(_)));
        assert!(matches!(a.after(&busy), Next::Wait(_)));
        assert_eq!(a.after(&busy), Next::GiveUp);
        assert_eq!(
            Attempts::new(p).after(&status(403, Some("storageQuotaExceeded"))),
            Next::GiveUp
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let p = RetryPolicy {
            retries: 10,
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_millis(1000),
            },
        };
        for n in 1..=8u32 {
            let base = (100u64 << (n - 1)).min(1000);
            let d = p.delay(n, None).as_millis() as u64;
            assert!(base / 2 <= d && d <= base, "retry {n}: {d} ms, base {base}");
        }
        let spread: std::collections::BTreeSet<_> = (0..20).map(|_| p.delay(4, None)).collect();
        assert!(spread.len() > 1, "no jitter");
    }
}
