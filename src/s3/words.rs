//! What an S3 store's refusal means, in words that say what to do: refused credentials, a missing bucket, no permission, a clock that is off, DNS, TLS, a store that does not answer.

use scanrig_actors::destination::DestinationError;

use crate::http::error_chain;

/// What went wrong, as far as it matters to the one who must act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Problem {
    /// The key id is unknown to the store.
    UnknownKey,
    /// The secret does not match the key id.
    BadSecret,
    /// The bucket does not exist.
    NoBucket,
    /// The key may not do this.
    Denied,
    /// This machine's clock is too far from the store's.
    ClockSkew,
    /// The store's host name does not resolve.
    Dns,
    /// The TLS handshake failed (certificate, or https to a plain port).
    Tls,
    /// Nothing answers at the endpoint.
    Unreachable,
    /// No object there.
    NotFound,
    /// Anything else (a busy store, a broken connection, a timeout).
    Other,
}

impl Problem {
    /// Reads an error's words (the store's code is in them).
    pub(super) fn of(text: &str) -> Problem {
        let has = |s: &str| text.contains(s);
        let lower = text.to_ascii_lowercase();
        if has("InvalidAccessKeyId") {
            Problem::UnknownKey
        } else if has("SignatureDoesNotMatch") {
            Problem::BadSecret
        } else if has("NoSuchBucket") {
            Problem::NoBucket
        } else if has("RequestTimeTooSkewed") {
            Problem::ClockSkew
        } else if has("AccessDenied") || has("AllAccessDisabled") {
            Problem::Denied
        } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
            Problem::Dns
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("corrupt message")
        {
            Problem::Tls
        } else if lower.contains("connection refused") {
            Problem::Unreachable
        } else if has("NoSuchKey") || has("not found") {
            Problem::NotFound
        } else {
            Problem::Other
        }
    }
}

/// Where a request went, to name in messages.
pub(super) struct Target<'a> {
    /// The bucket.
    pub(super) bucket: &'a str,
    /// The store's URL; empty: AWS.
    pub(super) endpoint: &'a str,
    /// The access key's id (not a secret).
    pub(super) key_id: &'a str,
}

impl Target<'_> {
    fn store(&self) -> String {
        if self.endpoint.is_empty() {
            "AWS S3".into()
        } else {
            self.endpoint.to_owned()
        }
    }
}

/// The error for a failed `what` (e.g. "send 0001.jpg") at `to`.
pub(super) fn failure(what: &str, to: &Target, e: &object_store::Error) -> DestinationError {
    let text = error_chain(e);
    let (bucket, store) = (to.bucket, to.store());
    let permanent = |why: String| DestinationError::Permanent(format!("S3: cannot {what}: {why}"));
    match Problem::of(&text) {
        Problem::UnknownKey => permanent(format!(
            "{store} does not know the access key id {} (InvalidAccessKeyId); check destination.s3.credentials_file (or AWS_ACCESS_KEY_ID) and the endpoint",
            to.key_id
        )),
        Problem::BadSecret => permanent(format!(
            "{store} refused the secret of access key {} (SignatureDoesNotMatch); check secret_access_key in destination.s3.credentials_file (or AWS_SECRET_ACCESS_KEY)",
            to.key_id
        )),
        Problem::NoBucket => permanent(format!(
            "there is no bucket {bucket} at {store} (NoSuchBucket); create it, or correct destination.s3.bucket (and region, endpoint)"
        )),
        Problem::Denied => permanent(format!(
            "access key {} may not do this in bucket {bucket} (AccessDenied); give it s3:PutObject, s3:GetObject, s3:DeleteObject, s3:AbortMultipartUpload on the prefix and s3:ListBucket, s3:ListBucketMultipartUploads on the bucket (without s3:ListBucket a key that is not there is refused too)",
            to.key_id
        )),
        Problem::ClockSkew => DestinationError::Transient(format!(
            "S3: cannot {what}: this machine's clock is too far from {store}'s (RequestTimeTooSkewed); set the time (timedatectl set-ntp true)"
        )),
        Problem::Dns => DestinationError::Transient(format!(
            "S3: cannot {what}: the name of {store} does not resolve (DNS); check destination.s3.endpoint and the network ({text})"
        )),
        Problem::Tls => permanent(format!(
            "the TLS connection to {store} failed; check its certificate, and https:// against http:// in destination.s3.endpoint ({text})"
        )),
        Problem::Unreachable => DestinationError::Transient(format!(
            "S3: cannot {what}: nothing answers at {store} (connection refused); check destination.s3.endpoint and that the store runs"
        )),
        Problem::NotFound | Problem::Other => {
            DestinationError::Transient(format!("S3: cannot {what}: {text}"))
        }
    }
}

/// The error for a look at a key that is not there refused (AccessDenied)
/// for `what`: the key may list the bucket (`may_list`), so it may not
/// read objects, or it may not, so the store refuses to say an object is
/// missing.
pub(super) fn denied_reading(what: &str, to: &Target, may_list: bool) -> DestinationError {
    let (bucket, key_id) = (to.bucket, to.key_id);
    let why = if may_list {
        format!(
            "access key {key_id} may list bucket {bucket} but not read its objects (AccessDenied); give it s3:GetObject on the prefix, beside s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload"
        )
    } else {
        format!(
            "access key {key_id} may not list bucket {bucket} (s3:ListBucket), so the store answers AccessDenied, not \"no such key\", for a photo not yet there, and scanrig cannot tell a missing photo from a refusal; give it s3:ListBucket and s3:ListBucketMultipartUploads on the bucket, beside s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the prefix"
        )
    };
    DestinationError::Permanent(format!("S3: cannot {what}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stores_codes_are_told_in_words() {
        let to = Target {
            bucket: "scans",
            endpoint: "http://127.0.0.1:9000",
            key_id: "AKID",
        };
        let cases = [
            (
                "<Code>InvalidAccessKeyId</Code>",
                "does not know the access key id AKID",
                false,
            ),
            (
                "<Code>SignatureDoesNotMatch</Code>",
                "refused the secret",
                false,
            ),
            (
                "<Code>NoSuchBucket</Code>",
                "there is no bucket scans",
                false,
            ),
            (
                "<Code>AccessDenied</Code>",
                "may not do this in bucket scans",
                false,
            ),
            ("<Code>RequestTimeTooSkewed</Code>", "clock", true),
            (
                "dns error: failed to lookup address information",
                "(DNS)",
                true,
            ),
            (
                "invalid peer certificate: UnknownIssuer",
                "TLS connection",
                false,
            ),
            (
                "tcp connect error: Connection refused (os error 111)",
                "nothing answers",
                true,
            ),
            ("Server returned non-2xx status code: 503", "503", true),
        ];
        for (body, words, retry) in cases {
            let e = object_store::Error::Generic {
                store: "S3",
                source: body.into(),
            };
            let d = failure("send a.jpg", &to, &e);
            let text = d.to_string();
            assert!(
                text.contains(words) && text.contains("send a.jpg"),
                "{body}: {text}"
            );
            assert_eq!(d.is_retryable(), retry, "{body}: {text}");
        }
    }
}
