//! Signing in to Google Drive with yup-oauth2, headless.
//!
//! `scanrig auth drive` runs the OAuth device flow once (a URL and a code to
//! type on a phone) and keeps the tokens in a 0600 file in the state folder.
//! Everything else only refreshes them: when that fails (revoked, never
//! authorised) the error says to run `scanrig auth drive`, and no prompt
//! ever waits for a person who is not there. A service account's key is the
//! alternative, for a shared drive. Tokens never reach the log.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use google_drive3::yup_oauth2::authenticator::Authenticator;
use google_drive3::yup_oauth2::authenticator_delegate::{DeviceAuthResponse, DeviceFlowDelegate};
use google_drive3::yup_oauth2::storage::{TokenInfo, TokenStorage, TokenStorageError};
use google_drive3::yup_oauth2::{
    self, ApplicationSecret, DeviceFlowAuthenticator, ServiceAccountKey,
};
use scanrig_hardware::fsutil::DurableFile;
use serde::{Deserialize, Serialize};

use crate::settings::{Drive, DriveAuth};

/// The one scope scanrig asks for: only files it created itself.
pub const SCOPE: &str = "https://www.googleapis.com/auth/drive.file";

/// The authenticator every Drive call uses.
pub type Auth = Authenticator<crate::http::Connector>;

/// Checks that `path` is a usable key file for `auth`.
pub fn check_key_file(auth: DriveAuth, path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "not found".to_owned(),
        _ => e.to_string(),
    })?;
    match auth {
        DriveAuth::Oauth => parse_client(&bytes).map(drop),
        DriveAuth::ServiceAccount => yup_oauth2::parse_service_account_key(&bytes).map(drop),
    }
    .map_err(|e| format!("not a valid key file ({e})"))
}

/// Reads an OAuth client file as the Google Cloud console gives it: an
/// `installed` (or `web`) object. Clients for TVs and limited-input devices
/// come without `redirect_uris`, which the device flow does not use.
fn parse_client(bytes: &[u8]) -> io::Result<ApplicationSecret> {
    let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    let client = ["installed", "web"]
        .into_iter()
        .find_map(|k| doc.get_mut(k).filter(|v| v.is_object()).cloned())
        .ok_or_else(|| invalid("no \"installed\" or \"web\" client in it".into()))?;
    let mut client = client;
    if let Some(obj) = client.as_object_mut() {
        obj.entry("redirect_uris")
            .or_insert_with(|| serde_json::json!([]));
    }
    serde_json::from_value(client).map_err(|e| invalid(e.to_string()))
}

/// Where the tokens are and how to reach Google's OAuth endpoints.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// How scanrig signs in.
    pub kind: DriveAuth,
    /// The OAuth client file.
    pub client_secret: PathBuf,
    /// The service account's key file.
    pub service_account_key: PathBuf,
    /// The token file.
    pub token_file: PathBuf,
    /// Replaces the key file's token endpoint when set.
    pub token_uri: Option<String>,
    /// The device-code endpoint.
    pub device_code_url: String,
    /// Longest wait for one request.
    pub timeout: Duration,
}

impl AuthConfig {
    /// From the settings, with the token file already resolved.
    pub fn new(d: &Drive, token_file: PathBuf) -> AuthConfig {
        AuthConfig {
            kind: d.auth,
            client_secret: d.client_secret.clone(),
            service_account_key: d.service_account_key.clone(),
            token_file,
            token_uri: Some(d.token_uri.clone()).filter(|u| !u.is_empty()),
            device_code_url: d.device_code_url.clone(),
            timeout: Duration::from_secs(d.timeout_s),
        }
    }

    pub(super) fn client(&self) -> io::Result<ApplicationSecret> {
        let text = std::fs::read(&self.client_secret).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot read the OAuth client file {}: {e}",
                    self.client_secret.display()
                ),
            )
        })?;
        let mut secret = parse_client(&text)?;
        if let Some(uri) = &self.token_uri {
            secret.token_uri = uri.clone();
        }
        Ok(secret)
    }

    pub(super) fn service_account(&self) -> io::Result<ServiceAccountKey> {
        let text = std::fs::read(&self.service_account_key).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot read the service account key {}: {e}",
                    self.service_account_key.display()
                ),
            )
        })?;
        let mut key = yup_oauth2::parse_service_account_key(text)?;
        if let Some(uri) = &self.token_uri {
            key.token_uri = uri.clone();
        }
        Ok(key)
    }

    /// Runs the device flow: prints where to go and the code to type, waits
    /// for the person to agree, stores the new tokens.
    pub async fn authorise(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.kind == DriveAuth::Oauth,
            "destination.drive.auth is \"service_account\": the key file {} is the authorisation; nothing to do",
            self.service_account_key.display()
        );
        let auth = DeviceFlowAuthenticator::builder(self.client()?)
            .device_code_url(self.device_code_url.clone())
            .flow_delegate(Box::new(ShowCode))
            .with_storage(Box::new(TokenFile::new(&self.token_file, true)))
            .with_timeout(self.timeout)
            .build()
            .await?;
        auth.token(&[SCOPE]).await.map_err(|e| {
            anyhow::anyhow!("Google did not authorise scanrig: {e}; run `scanrig auth drive` again")
        })?;
        Ok(())
    }

    /// Who the stored authorisation is for, in words (no secrets).
    pub fn describe(&self) -> String {
        match self.kind {
            DriveAuth::ServiceAccount => match self.service_account() {
                Ok(key) => format!(
                    "service account {} (key {})",
                    key.client_email,
                    self.service_account_key.display()
                ),
                Err(e) => e.to_string(),
            },
            DriveAuth::Oauth => match TokenFile::new(&self.token_file, false).read() {
                Ok(Some(stored)) => format!(
                    "OAuth tokens in {} for scope {}",
                    self.token_file.display(),
                    stored.scopes.join(" ")
                ),
                Ok(None) => format!(
                    "no authorisation yet ({} does not exist); run `scanrig auth drive`",
                    self.token_file.display()
                ),
                Err(e) => format!("{}: {e}", self.token_file.display()),
            },
        }
    }
}

/// Shows the device-flow code on the terminal.
struct ShowCode;

impl DeviceFlowDelegate for ShowCode {
    fn present_user_code<'a>(
        &'a self,
        resp: &'a DeviceAuthResponse,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let minutes = ((resp.expires_at.unix_timestamp() - now) / 60).max(0);
            println!(
                "On a phone or computer, open {}\nand enter the code {}\n(within {minutes} minutes). Waiting...",
                resp.verification_uri, resp.user_code
            );
        })
    }
}

/// What the token file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    /// The scopes the tokens were granted for.
    pub scopes: Vec<String>,
    /// The tokens.
    pub token: TokenInfo,
}

/// The token file: written whole to a temp file created 0600, fsync'd and
/// renamed, so it is never half-written nor readable by others.
pub struct TokenFile {
    path: PathBuf,
    /// Ignore what is stored (a new authorisation replaces it).
    fresh: bool,
    lock: Mutex<()>,
}

impl TokenFile {
    /// The token file at `path`; `fresh` ignores what it holds.
    pub fn new(path: &Path, fresh: bool) -> TokenFile {
        TokenFile {
            path: path.to_owned(),
            fresh,
            lock: Mutex::new(()),
        }
    }

    /// What it holds, if it exists.
    pub fn read(&self) -> io::Result<Option<Stored>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces what it holds, durably.
    pub fn write(&self, stored: &Stored) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json = serde_json::to_vec_pretty(stored)?;
        let mut file = DurableFile::create_private(&self.path)?;
        io::Write::write_all(&mut file, &json)?;
        file.commit()?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl TokenStorage for TokenFile {
    async fn set(&self, scopes: &[&str], token: TokenInfo) -> Result<(), TokenStorageError> {
        let _guard = self.lock.lock().expect("token file lock");
        let stored = Stored {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            token,
        };
        self.write(&stored).map_err(|e| {
            TokenStorageError::Other(
                format!("cannot store the tokens in {}: {e}", self.path.display()).into(),
            )
        })
    }

    async fn get(&self, scopes: &[&str]) -> Option<TokenInfo> {
        if self.fresh {
            return None;
        }
        let _guard = self.lock.lock().expect("token file lock");
        let stored = self.read().ok()??;
        scopes
            .iter()
            .all(|s| stored.scopes.iter().any(|t| t == s))
            .then_some(stored.token)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn token(access: &str) -> TokenInfo {
        TokenInfo {
            access_token: Some(access.into()),
            refresh_token: Some("refresh".into()),
            expires_at: None,
            id_token: None,
        }
    }

    #[test]
    fn token_file_is_private_and_keyed_by_scope() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state/drive-token.json");
        let store = TokenFile::new(&path, false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(store.set(&[SCOPE], token("a1"))).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "token file mode {mode:o}");
        assert_eq!(rt.block_on(store.get(&[SCOPE])), Some(token("a1")));
        let other = "https://www.googleapis.com/auth/drive";
        assert_eq!(rt.block_on(store.get(&[other])), None, "another scope");
        let fresh = TokenFile::new(&path, true);
        assert_eq!(
            rt.block_on(fresh.get(&[SCOPE])),
            None,
            "a new authorisation"
        );
        rt.block_on(fresh.set(&[SCOPE], token("a2"))).unwrap();
        assert_eq!(rt.block_on(store.get(&[SCOPE])), Some(token("a2")));
        let text = std::fs::read_to_string(&path).unwrap();
        println!("{text}");
        assert!(text.contains(SCOPE));
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files: {leftovers:?}");
    }

    #[test]
    fn key_files_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("client.json");
        let missing = check_key_file(DriveAuth::Oauth, &path).unwrap_err();
        assert_eq!(missing, "not found");
        std::fs::write(&path, "{}").unwrap();
        assert!(check_key_file(DriveAuth::Oauth, &path)
            .unwrap_err()
            .contains("not a valid key file"));
        std::fs::write(
            &path,
            r#"{"installed":{"client_id":"id","client_secret":"s","token_uri":"http://127.0.0.1:9/token","auth_uri":"http://127.0.0.1:9/auth"}}"#,
        )
        .unwrap();
        check_key_file(DriveAuth::Oauth, &path).unwrap();
    }
}
