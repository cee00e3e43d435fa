//! The long answers: the event stream and the live preview. Each holds a
//! [`Slot`] while it is open, so one client (a phone that reconnects in a
//! loop, a forgotten tab) cannot hold more than [`PER_CLIENT`] and all
//! clients together no more than [`OVERALL`]; beyond that a stream is
//! refused with 429. A stream to a client that went away is noticed at its
//! next keep-alive ([`KEEP_ALIVE`]): writing to a closed connection fails,
//! and the kernel gives up on a client that stopped acknowledging
//! (`TCP_USER_TIMEOUT`, set on every connection).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream;
use scanrig_actors::supervisor::GetStatus;
use tokio::sync::broadcast::error::RecvError;

use super::error::{ApiError, ApiResult};
use super::events::Catchup;
use super::Shared;
use crate::remote::status_json;

/// Streams one client may hold open.
pub(super) const PER_CLIENT: usize = 4;

/// Streams all clients together may hold open.
pub(super) const OVERALL: usize = 16;

/// A stream with nothing to say writes a comment this often.
pub(super) const KEEP_ALIVE: Duration = Duration::from_secs(3);

/// How long the kernel keeps sending to a client that acknowledges
/// nothing before it closes the connection.
pub(super) const UNACKNOWLEDGED: Duration = Duration::from_secs(8);

/// Open streams, by client.
#[derive(Default)]
pub(super) struct Slots {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open stream; given back when the stream is dropped.
pub(super) struct Slot {
    shared: Arc<Shared>,
    client: IpAddr,
}

impl Slots {
    /// A slot for a stream to `client`, or the 429 that refuses it.
    pub(super) fn take(shared: &Arc<Shared>, client: IpAddr) -> Result<Slot, ApiError> {
        let mut open = shared.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.get(&client).copied().unwrap_or(0);
        let all: usize = open.values().sum();
        if mine >= PER_CLIENT || all >= OVERALL {
            let why = if mine >= PER_CLIENT {
                format!("this client already has {mine} streams open; close a tab of the page")
            } else {
                format!("the rig already serves {all} streams; close a page somewhere")
            };
            return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, why));
        }
        *open.entry(client).or_insert(0) += 1;
        Ok(Slot {
            shared: shared.clone(),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .shared
            .slots
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// The client's address (loopback when unknown, as for tests' in-process
/// requests).
pub(super) fn client(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip())
}

/// A stream's next piece.
fn bytes(text: String) -> Result<web::Bytes, actix_web::Error> {
    Ok(web::Bytes::from(text))
}

/// Server-sent events: what the page missed (with `Last-Event-ID`) or the
/// status, then every event as it happens.
pub(super) async fn events(shared: web::Data<Shared>, req: HttpRequest) -> ApiResult {
    let shared = shared.into_inner();
    let slot = Slots::take(&shared, client(&req))?;
    // The browser sends the header when it reconnects by itself; a page
    // that opens the stream anew can only say it in the address.
    let last = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(req.query_string().as_bytes())
                .find(|(k, _)| k == "last_event_id")
                .map(|(_, v)| v.into_owned())
        });
    let (catchup, rx) = shared.hub.subscribe(last.as_deref());
    // Reconnect after 2 s, not the browser's default.
    let mut first = String::from("retry: 2000\n\n");
    match catchup {
        Catchup::Missed(missed) => missed.iter().for_each(|e| first.push_str(&e.to_sse())),
        catchup => {
            if matches!(catchup, Catchup::Resync) {
                first.push_str(
                    &shared
                        .hub
                        .snapshot("resync", &serde_json::json!({}))
                        .to_sse(),
                );
            }
            let status = status_json(&shared.sup.send(GetStatus).await?);
            first.push_str(&shared.hub.snapshot("status", &status).to_sse());
        }
    }
    let body = stream::unfold(
        (Some(first), rx, slot),
        |(first, mut rx, slot)| async move {
            if let Some(first) = first {
                return Some((bytes(first), (None, rx, slot)));
            }
            let chunk = match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
                Ok(Ok(e)) => e.to_sse(),
                // This stream fell behind: the page reads everything again.
                Ok(Err(RecvError::Lagged(_))) => resync(&slot),
                Ok(Err(RecvError::Closed)) => return None,
                // Finds out whether the client is still there, and keeps
                // proxies and phones from closing an idle stream.
                Err(_) => ": keep-alive\n\n".to_owned(),
            };
            Some((bytes(chunk), (None, rx, slot)))
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

fn resync(slot: &Slot) -> String {
    slot.shared
        .hub
        .snapshot("resync", &serde_json::json!({}))
        .to_sse()
}

/// Sets the kernel's limit on unacknowledged data on a new connection, so
/// a phone that vanished (Wi-Fi gone, no FIN, no RST) is let go.
pub(super) fn on_connect(conn: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        let sock = socket2::SockRef::from(tcp);
        let _ = sock.set_tcp_user_timeout(Some(UNACKNOWLEDGED));
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(UNACKNOWLEDGED)
            .with_interval(Duration::from_secs(2));
        let _ = sock.set_tcp_keepalive(&keepalive);
    }
}
