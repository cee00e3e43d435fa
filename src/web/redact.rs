//! What the page is never shown: the rig's own paths. The spool, the state
//! folder, a local destination, the profile and configuration folders are
//! named by their last part only (`…/spool/<scan>`), wherever they appear
//! in an answer or an event: a device's health, an error, a profile's
//! source.

use std::path::{Path, PathBuf};

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;
use serde_json::Value;

use super::Shared;
use crate::settings::{Settings, SYSTEM_FILE};

/// Rewrites the rig's paths in text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// (path as it may appear, what is shown instead), longest first.
    roots: Vec<(String, String)>,
}

impl Redactor {
    /// The paths of `settings`, as given and made absolute.
    pub(crate) fn new(settings: &Settings) -> Redactor {
        let mut dirs: Vec<PathBuf> = vec![
            settings.spool_dir(),
            settings.state_dir(),
            settings.destination.local.dir.clone(),
            Path::new(SYSTEM_FILE)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            settings.drive_token_file(),
            settings.destination.drive.client_secret.clone(),
            settings.destination.drive.service_account_key.clone(),
        ];
        dirs.extend(settings.profiles.dirs.iter().cloned());
        // The configuration files read (the other layers are not paths).
        dirs.extend(
            settings
                .sources()
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.is_absolute()),
        );
        dirs.extend(settings.hooks.webhook_secret_file.iter().cloned());
        dirs.extend(std::env::var_os("HOME").map(PathBuf::from));
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut roots: Vec<(String, String)> = dirs
            .iter()
            .filter(|d| !d.as_os_str().is_empty() && d.as_os_str() != "/")
            .flat_map(|d| [d.clone(), cwd.join(d)])
            .filter(|d| d.is_absolute())
            .map(|d| {
                let last = d
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (d.to_string_lossy().into_owned(), format!("…/{last}"))
            })
            .collect();
        roots.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        roots.dedup();
        Redactor { roots }
    }

    /// `text` with every known path shortened.
    pub(super) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (path, shown) in &self.roots {
            if out.contains(path.as_str()) {
                out = out.replace(path.as_str(), shown);
            }
        }
        out
    }

    /// Every string in `value`, shortened.
    pub(crate) fn value(&self, value: &mut Value) {
        match value {
            Value::String(s) if self.roots.iter().any(|(p, _)| s.contains(p.as_str())) => {
                *s = self.text(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.value(v)),
            _ => {}
        }
    }
}

/// Middleware of `/api/v1`: every JSON answer (errors too) with the rig's
/// paths shortened. Streams and images pass as they are.
pub(super) async fn answers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let shared = req.app_data::<web::Data<Shared>>().cloned();
    let res = next.call(req).await?.map_into_boxed_body();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let Some(shared) = shared.filter(|_| json) else {
        return Ok(res);
    };
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = to_bytes(body).await.map_err(|e| {
        actix_web::error::ErrorInternalServerError(format!("an answer could not be read: {e}"))
    })?;
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut value) => {
            shared.redact.value(&mut value);
            BoxBody::new(value.to_string())
        }
        Err(_) => BoxBody::new(bytes),
    };
    Ok(ServiceResponse::new(req, res.set_body(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor(roots: &[&str]) -> Redactor {
        let mut roots: Vec<(String, String)> = roots
            .iter()
            .map(|r| {
                let last = Path::new(r).file_name().unwrap().to_string_lossy();
                (r.to_string(), format!("…/{last}"))
            })
            .collect();
        roots.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
        Redactor { roots }
    }

    #[test]
    fn paths_are_cut_to_their_last_part_longest_first() {
        let r = redactor(&["/var/lib/scanrig", "/var/lib/scanrig/spool", "/srv/scans"]);
        assert_eq!(
            r.text("cannot write /var/lib/scanrig/spool/s1/a.jpg: disk full"),
            "cannot write …/spool/s1/a.jpg: disk full"
        );
        assert_eq!(
            r.text("token in /var/lib/scanrig/web-token"),
            "token in …/scanrig/web-token"
        );
        let mut v = json!({"devices": {"destination": {"detail": "folder /srv/scans"}},
            "list": ["/srv/scans/x", 3], "n": 1});
        r.value(&mut v);
        assert_eq!(
            v,
            json!({"devices": {"destination": {"detail": "folder …/scans"}},
                "list": ["…/scans/x", 3], "n": 1})
        );
        assert_eq!(
            r.text("see /api/v1/openapi.json"),
            "see /api/v1/openapi.json"
        );
    }
}
