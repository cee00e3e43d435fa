//! Live events for the page: the supervisor's progress turned into
//! server-sent events (`status`, `started`, `photo`, `uploaded`, `paused`,
//! `button`, `motion`, `finished`), in the order they happened, each with an id.
//!
//! The [`Hub`] numbers every event and keeps the latest [`REPLAY`], so a
//! page that lost its connection and comes back with `Last-Event-ID` gets
//! what it missed; one that missed more (or comes back to a restarted
//! daemon: ids carry the daemon's start) is told to `resync`, and reads the
//! status and photos again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::redact::Redactor;
use super::thumbnail::thumbnail_file;
use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::supervisor::{GetStatus, Progress};

use crate::remote::status_json;
use scanrig_hardware::panel::Button;
use serde_json::{json, Value};
use slog::debug;
use tokio::sync::{broadcast, mpsc::UnboundedReceiver};

use super::Shared;

/// Longest side of a thumbnail, in pixels.
pub(super) const THUMBNAIL_SIDE: u16 = 240;

/// Events kept for a page that reconnects.
pub(super) const REPLAY: usize = 512;

/// One server-sent event.
#[derive(Debug)]
pub(super) struct WebEvent {
    /// Its `id:`: `<daemon start>-<number>`.
    pub(super) id: String,
    /// Its `event:` name.
    pub(super) kind: &'static str,
    /// Its `data:`, one line of JSON.
    pub(super) data: String,
}

impl WebEvent {
    /// As it goes on the wire.
    pub(super) fn to_sse(&self) -> String {
        format!(
            "id: {}\nevent: {}\ndata: {}\n\n",
            self.id, self.kind, self.data
        )
    }
}

/// What a page that (re)connects gets before the live events.
pub(super) enum Catchup {
    /// Nothing to catch up: a first connection.
    Fresh,
    /// The events after the one it last saw.
    Missed(Vec<Arc<WebEvent>>),
    /// Too much was missed, or the daemon restarted: read everything again.
    Resync,
}

/// Numbers, keeps and sends the events.
pub(super) struct Hub {
    /// The daemon's start, Unix milliseconds: the first part of every id.
    epoch: u64,
    recent: Mutex<Recent>,
    tx: broadcast::Sender<Arc<WebEvent>>,
    redact: Redactor,
}

struct Recent {
    /// The number of the next event.
    next: u64,
    events: VecDeque<Arc<WebEvent>>,
}

impl Hub {
    pub(super) fn new(redact: Redactor) -> Hub {
        let (tx, _) = broadcast::channel(REPLAY);
        Hub {
            epoch: unix_millis_now(),
            recent: Mutex::new(Recent {
                next: 1,
                events: VecDeque::with_capacity(REPLAY),
            }),
            tx,
            redact,
        }
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers an event, keeps it and sends it to every stream.
    pub(super) fn publish(&self, kind: &'static str, data: &Value) {
        let mut data = data.clone();
        self.redact.value(&mut data);
        let mut recent = self.recent();
        let event = Arc::new(WebEvent {
            id: format!("{}-{}", self.epoch, recent.next),
            kind,
            data: data.to_string(),
        });
        recent.next += 1;
        if recent.events.len() == REPLAY {
            recent.events.pop_front();
        }
        recent.events.push_back(event.clone());
        // Under the lock, so a stream subscribing now sees each event
        // once: in its catch-up or live. No stream listening is fine.
        let _ = self.tx.send(event);
    }

    /// An event that is not kept: a status snapshot for one stream, with
    /// the id of the latest event (what it is up to date with).
    pub(super) fn snapshot(&self, kind: &'static str, data: &Value) -> WebEvent {
        let mut data = data.clone();
        self.redact.value(&mut data);
        WebEvent {
            id: format!("{}-{}", self.epoch, self.recent().next - 1),
            kind,
            data: data.to_string(),
        }
    }

    /// Live events from now on, and what a page that last saw `last` (its
    /// `Last-Event-ID`) missed.
    pub(super) fn subscribe(
        &self,
        last: Option<&str>,
    ) -> (Catchup, broadcast::Receiver<Arc<WebEvent>>) {
        let recent = self.recent();
        let rx = self.tx.subscribe();
        let Some(last) = last else {
            return (Catchup::Fresh, rx);
        };
        let seen = last
            .split_once('-')
            .filter(|(epoch, _)| *epoch == self.epoch.to_string())
            .and_then(|(_, n)| n.parse::<u64>().ok())
            .filter(|n| *n < recent.next);
        let oldest = recent.next - recent.events.len() as u64;
        let catchup = match seen {
            // Everything after `n` is still kept.
            Some(n) if n + 1 >= oldest => Catchup::Missed(
                recent
                    .events
                    .iter()
                    .skip((n + 1 - oldest) as usize)
                    .cloned()
                    .collect(),
            ),
            _ => Catchup::Resync,
        };
        (catchup, rx)
    }

    /// Streams listening now.
    pub(super) fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// The thumbnail's address.
pub(super) fn thumbnail_url(scan: &str, name: &str) -> String {
    format!("/api/v1/photos/{scan}/{name}/thumbnail")
}

/// The event `progress` makes, named, for the page's stream and MQTT
/// (the page adds a thumbnail to `photo`); `None` for progress that only
/// changes the status.
pub(crate) fn describe(progress: &Progress) -> Option<(&'static str, Value)> {
    Some(match progress {
        Progress::Started {
            scan,
            planned,
            done,
        } => (
            "started",
            json!({"scan": scan.as_str(), "planned": planned, "done": done}),
        ),
        Progress::Captured { scan, shot, name } => (
            "photo",
            json!({"scan": scan.as_str(), "shot": shot.0, "name": name}),
        ),
        Progress::Uploaded { scan, shot, name } => (
            "uploaded",
            json!({"scan": scan.as_str(), "shot": shot.0, "name": name}),
        ),
        Progress::Paused { scan, reason } => (
            "paused",
            json!({"scan": scan.as_str(), "fault": reason.is_fault(), "reason": reason.to_string()}),
        ),
        Progress::Button(e) => {
            let button = match e.button {
                Button::Start => "start",
                Button::Pause => "pause",
                Button::Stop => "stop",
            };
            ("button", json!({"button": button, "long": e.long}))
        }
        Progress::Motion(m) => ("motion", json!({"motion": m})),
        Progress::Lights(lights) => ("lights", json!({ "lights": lights })),
        Progress::Finished(s) => (
            "finished",
            json!({"scan": s.scan, "outcome": s.outcome, "captured": s.captured,
                "uploaded": s.uploaded, "upload_failed": s.upload_failed}),
        ),
        Progress::Quiet | Progress::Busy | Progress::StartRequested => return None,
    })
}

/// Turns progress into events, one after another in the order it came,
/// until the supervisor goes away.
pub(super) async fn pump(shared: Arc<Shared>, mut progress: UnboundedReceiver<Progress>) {
    while let Some(p) = progress.recv().await {
        if let Some((kind, mut data)) = describe(&p) {
            if let Progress::Captured { scan, name, .. } = &p {
                // A thumbnail costs a decode of the photo: made only while
                // a page listens (a page opened later makes them on demand).
                data["thumbnail"] = match shared.hub.listeners() > 0 {
                    true => json!(thumbnail(&shared, scan.as_str(), name).await),
                    false => Value::Null,
                };
            }
            shared.hub.publish(kind, &data);
        }
        if let Ok(status) = shared.sup.send(GetStatus).await {
            shared.hub.publish("status", &status_json(&status));
        }
    }
}

/// Makes and keeps the thumbnail of a photo just captured (off the actor
/// thread), from the spool or, once it has left it, from where it went
/// when that is on this rig; its address, or `None` if the photo is not
/// on this rig any more or is not a JPEG.
async fn thumbnail(shared: &Shared, scan: &str, name: &str) -> Option<String> {
    let made = |path: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || thumbnail_file(&path, THUMBNAIL_SIDE)).await
    };
    let spooled = shared.settings.spool_dir().join(scan).join(name);
    let made = match made(spooled).await {
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            match super::history::photo_file(shared, scan, name).await {
                Ok(path) => made(path).await,
                Err(_) => Ok(Err(e)),
            }
        }
        done => done,
    };
    match made {
        Ok(Ok(jpeg)) => {
            shared.keep_thumbnail(scan, name, jpeg);
            Some(thumbnail_url(scan, name))
        }
        Ok(Err(e)) => {
            debug!(shared.log, "no thumbnail"; "name" => name, "error" => %e);
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(events: &[Arc<WebEvent>]) -> Vec<String> {
        events.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn a_page_that_comes_back_gets_what_it_missed_once_or_resyncs() {
        let hub = Hub::new(Redactor::default());
        let id = |n: u64| format!("{}-{n}", hub.epoch);
        for n in 0..3 {
            hub.publish("status", &json!({"n": n}));
        }
        // Missed events 2 and 3; live ones come after.
        let (catchup, mut rx) = hub.subscribe(Some(&id(1)));
        let Catchup::Missed(missed) = catchup else {
            panic!("a catch-up expected")
        };
        assert_eq!(ids(&missed), [id(2), id(3)]);
        hub.publish("photo", &json!({}));
        assert_eq!(rx.try_recv().unwrap().id, id(4));
        assert!(rx.try_recv().is_err(), "nothing twice");
        // Up to date: nothing missed.
        assert!(matches!(hub.subscribe(Some(&id(4))).0, Catchup::Missed(m) if m.is_empty()));
        // Another daemon's ids, an id from the future, garbage: resync.
        for last in ["1-2", &id(99), "x"] {
            assert!(
                matches!(hub.subscribe(Some(last)).0, Catchup::Resync),
                "{last}"
            );
        }
        assert!(matches!(hub.subscribe(None).0, Catchup::Fresh));
        // Fallen out of what is kept: resync.
        for _ in 0..REPLAY {
            hub.publish("status", &json!({}));
        }
        assert!(matches!(hub.subscribe(Some(&id(2))).0, Catchup::Resync));
        let kept = (REPLAY + 4 - 1) as u64;
        match hub.subscribe(Some(&id(kept))).0 {
            Catchup::Missed(m) => assert_eq!(ids(&m), [id(kept + 1)]),
            _ => panic!("the last event is kept"),
        }
        assert_eq!(hub.snapshot("status", &json!({})).id, id(kept + 1));
    }
}
