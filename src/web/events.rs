//! Live events for the page: the supervisor's progress turned into
//! server-sent events (`status`, `photo`, `uploaded`, `button`, `motion`,
//! `finished`), and a thumbnail made of every photo as it is captured.

use std::sync::Arc;

use super::thumbnail::thumbnail_file;
use scanrig_actors::supervisor::{GetStatus, Progress, RigStatus};
use scanrig_hardware::panel::Button;
use serde_json::{json, Value};
use slog::debug;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Shared;

/// Longest side of a thumbnail, in pixels.
pub(super) const THUMBNAIL_SIDE: u16 = 240;

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct WebEvent {
    /// Its `event:` name.
    pub kind: &'static str,
    /// Its `data:`, one line of JSON.
    pub data: String,
}

impl WebEvent {
    fn new(kind: &'static str, data: &Value) -> WebEvent {
        WebEvent {
            kind,
            data: data.to_string(),
        }
    }

    /// As it goes on the wire.
    pub fn to_sse(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.kind, self.data)
    }
}

/// The status as the API shows it.
pub(super) fn status_json(s: &RigStatus) -> Value {
    let scan = s.scan.as_ref().map(|x| {
        json!({
            "id": x.scan,
            "profile": x.profile,
            "planned": x.planned,
            "captured": x.captured,
            "uploaded": x.uploaded,
            "upload_failed": x.upload_failed,
            "outcome": x.outcome,
            "paused": s.paused,
            "wall_s": (x.wall.as_secs_f64() * 10.0).round() / 10.0,
            "stages": {
                "moving_s": x.stages.moving.as_secs_f64(),
                "settling_s": x.stages.settling.as_secs_f64(),
                "exposing_s": x.stages.exposing.as_secs_f64(),
                "downloading_s": x.stages.downloading.as_secs_f64(),
                "uploading_s": x.stages.uploading.as_secs_f64(),
            },
        })
    });
    json!({
        "state": s.state,
        "scan": scan,
        "backlog": s.backlog,
        "last_error": s.last_error,
        "devices": s.devices,
        "preview": s.preview,
        "motion": s.motion,
    })
}

/// The thumbnail's address.
pub(super) fn thumbnail_url(scan: &str, name: &str) -> String {
    format!("/api/v1/photos/{scan}/{name}/thumbnail")
}

/// Turns progress into events until the supervisor goes away.
pub(super) async fn pump(shared: Arc<Shared>, mut progress: UnboundedReceiver<Progress>) {
    while let Some(p) = progress.recv().await {
        let send = |kind, data: &Value| {
            // No page listening is fine.
            let _ = shared.events.send(WebEvent::new(kind, data));
        };
        match &p {
            // Thumbnails cost a decode of the photo: made only while a page
            // is open (a page opened later makes them on demand).
            Progress::Captured { scan, name } if shared.events.receiver_count() > 0 => {
                actix::spawn(photo(shared.clone(), scan.to_string(), name.clone()));
            }
            Progress::Uploaded { scan, name } => {
                send("uploaded", &json!({"scan": scan.as_str(), "name": name}));
            }
            Progress::Button(e) => {
                let button = match e.button {
                    Button::Start => "start",
                    Button::Pause => "pause",
                    Button::Stop => "stop",
                };
                send("button", &json!({"button": button, "long": e.long}));
            }
            Progress::Motion(m) => send("motion", &json!({"motion": m})),
            Progress::Finished(s) => send(
                "finished",
                &json!({"scan": s.scan, "outcome": s.outcome, "captured": s.captured,
                    "uploaded": s.uploaded, "upload_failed": s.upload_failed}),
            ),
            _ => {}
        }
        if let Ok(status) = shared.sup.send(GetStatus).await {
            send("status", &status_json(&status));
        }
    }
}

/// Makes the thumbnail of a photo just captured (off the actor thread),
/// then tells the page.
async fn photo(shared: Arc<Shared>, scan: String, name: String) {
    let path = shared.settings.spool_dir().join(&scan).join(&name);
    let made = tokio::task::spawn_blocking(move || thumbnail_file(&path, THUMBNAIL_SIDE)).await;
    let thumbnail = match made {
        Ok(Ok(jpeg)) => {
            shared.keep_thumbnail(&scan, &name, jpeg);
            Some(thumbnail_url(&scan, &name))
        }
        // Already uploaded and gone from the spool, or not a JPEG.
        Ok(Err(e)) => {
            debug!(shared.log, "no thumbnail"; "name" => &name, "error" => %e);
            None
        }
        Err(_) => None,
    };
    let data = json!({"scan": scan, "name": name, "thumbnail": thumbnail});
    let _ = shared.events.send(WebEvent::new("photo", &data));
}
