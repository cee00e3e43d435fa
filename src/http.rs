//! HTTP client pieces shared by Google Drive and the scan-done webhook:
//! the HTTPS connector (plain HTTP only where a URL asks for it, as a
//! loopback test server does) and an error with its causes on one line.

use std::io;

use google_drive3::hyper_rustls::{self, HttpsConnector};
use google_drive3::hyper_util::client::legacy::connect::HttpConnector;

/// The connector every client of scanrig's uses.
pub type Connector = HttpsConnector<HttpConnector>;

/// The HTTPS (and, for a loopback test server, HTTP) connector, trusting
/// the system's CA certificates.
pub fn connector() -> io::Result<Connector> {
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot load the system's CA certificates ({e}); install ca-certificates"),
            )
        })?
        .https_or_http()
        .enable_http1()
        .build())
}

/// An error and its causes on one line.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Layer(&'static str, #[source] Option<Box<Layer>>);

    #[test]
    fn causes_are_joined_once_each() {
        let inner = Layer("connection refused", None);
        let middle = Layer(
            "tcp connect error: connection refused",
            Some(Box::new(inner)),
        );
        let outer = Layer("client error (Connect)", Some(Box::new(middle)));
        assert_eq!(
            error_chain(&outer),
            "client error (Connect): tcp connect error: connection refused"
        );
    }
}
