//! Access tokens for uploads, unattended. A service account's come from
//! yup-oauth2. An OAuth authorisation's are refreshed here, from the
//! refresh token `scanrig auth drive` stored (RFC 6749 section 6):
//! yup-oauth2 12, when a refresh fails for any reason, drops the reason and
//! starts the interactive flow instead, so a dropped connection would read
//! as a revoked authorisation. Here a failure to reach the token endpoint,
//! or a server error there, is retried like any network failure; only an
//! answer that refuses the grant is final.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use google_drive3::common::{self, GetToken};
use google_drive3::hyper::{header, Method, Request, StatusCode};
use google_drive3::yup_oauth2::storage::TokenInfo;
use google_drive3::yup_oauth2::{AccessToken, ApplicationSecret, ServiceAccountAuthenticator};
use http_body_util::BodyExt;
use serde::Deserialize;

use super::auth::{Auth, AuthConfig, Stored, TokenFile, SCOPE};
use super::retry::{token_failure, FailKind, Failed, TokenError, REFUSALS};
use crate::http::{error_chain, Connector};
use crate::settings::DriveAuth;

/// Where upload requests get their access token.
#[derive(Clone)]
pub(super) enum Tokens {
    /// An OAuth authorisation kept in the token file, refreshed here.
    Oauth(Arc<Refresher>),
    /// A service account's key, through yup-oauth2.
    Service(Auth),
}

impl Tokens {
    /// The token source for uploads: it renews stored tokens and never
    /// asks a person; without a usable authorisation every token request
    /// fails with a message saying to run `scanrig auth drive`. OAuth
    /// tokens are refreshed through `client`.
    pub(super) async fn unattended(
        config: &AuthConfig,
        client: common::Client<Connector>,
    ) -> std::io::Result<Tokens> {
        match config.kind {
            DriveAuth::Oauth => Ok(Tokens::Oauth(Arc::new(Refresher::new(
                config.client()?,
                TokenFile::new(&config.token_file, false),
                client,
                config.timeout,
            )))),
            DriveAuth::ServiceAccount => {
                ServiceAccountAuthenticator::builder(config.service_account()?)
                    .with_timeout(config.timeout)
                    .build()
                    .await
                    .map(Tokens::Service)
            }
        }
    }

    /// A usable access token, refreshed if it has expired.
    pub(super) async fn token(&self) -> Result<String, Failed> {
        match self {
            Tokens::Oauth(r) => r.token(false).await,
            Tokens::Service(auth) => {
                let cached = auth.token(&[SCOPE]).await.map_err(|e| token_failure(&e))?;
                if let Some(token) = cached.token() {
                    return Ok(token.to_owned());
                }
                // yup-oauth2 reads a server's error page as a token without
                // an access token, and keeps it: ask for a new one instead
                // of sending requests with none.
                auth.force_refreshed_token(&[SCOPE])
                    .await
                    .map_err(|e| token_failure(&e))?
                    .token()
                    .map(str::to_owned)
                    .ok_or_else(|| Failed::network("the token endpoint gave no access token"))
            }
        }
    }

    /// A new access token (Drive refused the one it had).
    pub(super) async fn refresh(&self) -> Result<(), Failed> {
        match self {
            Tokens::Oauth(r) => r.token(true).await.map(drop),
            Tokens::Service(auth) => auth
                .force_refreshed_token(&[SCOPE])
                .await
                .map(drop)
                .map_err(|e| token_failure(&e)),
        }
    }
}

/// What [`GetToken::get_token`] returns.
type TokenFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<Option<String>, Box<dyn std::error::Error + Send + Sync>>,
            > + Send
            + 'a,
    >,
>;

impl GetToken for Tokens {
    fn get_token<'a>(&'a self, _scopes: &'a [&str]) -> TokenFuture<'a> {
        Box::pin(async move {
            self.token()
                .await
                .map(Some)
                .map_err(|f| Box::new(TokenError(f)) as _)
        })
    }
}

/// Refreshes an OAuth authorisation's access token, one refresh at a time.
pub(super) struct Refresher {
    secret: ApplicationSecret,
    file: TokenFile,
    client: common::Client<Connector>,
    timeout: Duration,
    one_at_a_time: tokio::sync::Mutex<()>,
}

/// The token endpoint's answer (a success, or an OAuth error).
#[derive(Debug, Deserialize)]
struct Answer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Refresher {
    /// Refreshes with `secret` (the OAuth client) the tokens in `file`.
    pub(super) fn new(
        secret: ApplicationSecret,
        file: TokenFile,
        client: common::Client<Connector>,
        timeout: Duration,
    ) -> Refresher {
        Refresher {
            secret,
            file,
            client,
            timeout,
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    /// The stored access token while it is good (and not `renew`), else a
    /// refreshed one, stored for the next call and the next run.
    async fn token(&self, renew: bool) -> Result<String, Failed> {
        let _one = self.one_at_a_time.lock().await;
        let stored = self.file.read().map_err(|e| Failed {
            kind: FailKind::Local,
            reason: None,
            message: format!("cannot read the token file: {e}"),
            retry_after: None,
        })?;
        let Some(stored) = stored.filter(|s| s.scopes.iter().any(|s| s == SCOPE)) else {
            return Err(unauthorised("Google Drive is not authorised yet"));
        };
        let current = AccessToken::from(stored.token.clone());
        if let (false, false, Some(token)) = (renew, current.is_expired(), current.token()) {
            return Ok(token.to_owned());
        }
        let Some(refresh_token) = stored.token.refresh_token.clone() else {
            return Err(unauthorised("the stored authorisation cannot be renewed"));
        };
        let answer = tokio::time::timeout(self.timeout, self.ask(&refresh_token))
            .await
            .unwrap_or_else(|_| {
                Err(Failed::network(format!(
                    "the token endpoint did not answer within {} s",
                    self.timeout.as_secs()
                )))
            })?;
        let Some(access) = answer.access_token else {
            return Err(Failed::network("the token endpoint gave no access token"));
        };
        let token = TokenInfo {
            access_token: Some(access.clone()),
            refresh_token: answer.refresh_token.or(Some(refresh_token)),
            expires_at: answer
                .expires_in
                .map(|s| time::OffsetDateTime::now_utc() + time::Duration::seconds(s)),
            id_token: None,
        };
        let stored = Stored {
            scopes: stored.scopes,
            token,
        };
        self.file.write(&stored).map_err(|e| Failed {
            kind: FailKind::Local,
            reason: None,
            message: format!("cannot store the refreshed tokens: {e}"),
            retry_after: None,
        })?;
        Ok(access)
    }

    /// Exchanges the refresh token; a refusal of the grant is final, any
    /// other failure is worth retrying.
    async fn ask(&self, refresh_token: &str) -> Result<Answer, Failed> {
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", self.secret.client_id.as_str()),
                ("client_secret", self.secret.client_secret.as_str()),
                ("refresh_token", refresh_token),
                ("grant_type", "refresh_token"),
            ])
            .finish();
        let request = Request::builder()
            .method(Method::POST)
            .uri(&self.secret.token_uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(common::to_body(Some(Bytes::from(form))))
            .map_err(|e| Failed::network(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Failed::network(format!("token endpoint: {}", error_chain(&e))))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Failed::network(format!("token endpoint: {}", error_chain(&e))))?
            .to_bytes();
        let answer = serde_json::from_slice::<Answer>(&body).ok();
        match answer {
            Some(a) if status == StatusCode::OK => Ok(a),
            Some(Answer {
                error: Some(code),
                error_description,
                ..
            }) if status.is_client_error() && REFUSALS.contains(&code.as_str()) => {
                let why = error_description.unwrap_or_default();
                Err(unauthorised(&format!(
                    "Google refused the stored authorisation ({code}: {why})"
                )))
            }
            _ => Err(Failed::network(format!(
                "the token endpoint answered HTTP {status}"
            ))),
        }
    }
}

/// A failure only a new authorisation fixes.
fn unauthorised(what: &str) -> Failed {
    Failed {
        kind: FailKind::Unauthorised,
        reason: None,
        message: format!("{what} (never authorised, or revoked, or expired)"),
        retry_after: None,
    }
}
