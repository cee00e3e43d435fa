//! The connection to the broker, for the rig and for `scanrig fleet`: the
//! options from `[mqtt]` (TLS, credentials, last will), and rumqttc's event
//! loop driven on a task of its own that reconnects with backoff and hands
//! on what arrives.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet,
    Publish, TlsConfiguration, Transport,
};
use slog::{info, warn, Logger};
use tokio::sync::mpsc;

use crate::settings::Mqtt;

/// First wait before connecting again.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Longest wait between tries.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Requests waiting for the event loop: when the broker is away this fills
/// and further messages are dropped (no memory grows).
pub(crate) const QUEUE: usize = 64;

/// What the connection tells.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    /// Connected (again): subscribe and publish what is retained.
    Connected,
    /// The connection was lost or could not be made; tried again with
    /// backoff.
    Lost(String),
    /// A message arrived.
    Message(Publish),
    /// The broker acknowledged a message published with QoS 1 (in the
    /// order they were published).
    Acked,
}

/// A client and what its connection tells.
pub(crate) struct Link {
    /// Publishes and subscribes.
    pub(crate) client: AsyncClient,
    /// What the connection tells, in order.
    pub(crate) events: mpsc::Receiver<LinkEvent>,
}

/// The options to connect with, as `client_id`, from `[mqtt]`: reads the
/// CA and password files (a password file others can read is refused).
pub(crate) fn options(
    m: &Mqtt,
    client_id: &str,
    will: Option<LastWill>,
) -> anyhow::Result<MqttOptions> {
    let addr = m
        .broker_addr()
        .map_err(|e| anyhow::anyhow!("mqtt.broker: {e}"))?;
    let mut opts = MqttOptions::new(client_id, addr.host, addr.port);
    opts.set_keep_alive(Duration::from_secs(m.keep_alive_s))
        .set_max_packet_size(256 * 1024, 256 * 1024)
        .set_inflight(32);
    if let Some(will) = will {
        opts.set_last_will(will);
    }
    if !m.username.is_empty() {
        let password = m
            .password()
            .map_err(|e| anyhow::anyhow!("mqtt.password_file: {e}"))?
            .unwrap_or_default();
        opts.set_credentials(m.username.clone(), password);
    }
    if addr.tls {
        // One crypto provider for the process (rustls picks none itself
        // when more than one is built in).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = match &m.ca_file {
            Some(path) => TlsConfiguration::Simple {
                ca: std::fs::read(path)
                    .with_context(|| format!("mqtt.ca_file: cannot read {}", path.display()))?,
                alpn: None,
                client_auth: None,
            },
            None => system_roots()?,
        };
        opts.set_transport(Transport::tls_with_config(tls));
    }
    Ok(opts)
}

/// The system's CA certificates.
fn system_roots() -> anyhow::Result<TlsConfiguration> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate rustls cannot read is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        bail!("mqtt.broker: no CA certificates found on this machine for mqtts://; install ca-certificates, or set mqtt.ca_file");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConfiguration::Rustls(Arc::new(config)))
}

/// Connects with `opts`: the event loop runs on a task of the current
/// runtime until the [`Link`] is dropped.
pub(crate) fn open(opts: MqttOptions, log: &Logger) -> Link {
    let (client, mut eventloop) = AsyncClient::new(opts, QUEUE);
    // Small messages go out at once (a status right after an event would
    // otherwise wait for the broker's delayed acknowledgement, ~40 ms).
    let mut network = eventloop.network_options();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let (tx, events) = mpsc::channel(QUEUE);
    tokio::spawn(drive(eventloop, tx, log.clone()));
    Link { client, events }
}

/// Polls the event loop: reconnects after a wait that doubles up to
/// [`BACKOFF_MAX`], and says once when the broker is lost and when it is
/// back; ends once the client has disconnected.
async fn drive(mut eventloop: EventLoop, tx: mpsc::Sender<LinkEvent>, log: Logger) {
    let mut backoff = BACKOFF_MIN;
    let mut up = false;
    loop {
        let polled = tokio::select! {
            _ = tx.closed() => return,
            polled = eventloop.poll() => polled,
        };
        let event = match polled {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = BACKOFF_MIN;
                up = true;
                info!(log, "connected to the MQTT broker");
                LinkEvent::Connected
            }
            Ok(Event::Incoming(Packet::Publish(p))) => LinkEvent::Message(p),
            Ok(Event::Incoming(Packet::PubAck(_))) => LinkEvent::Acked,
            // Our own goodbye: the broker closes the connection, which is
            // not an outage to report; the events end here.
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => continue,
            Err(e) => {
                if up || backoff == BACKOFF_MIN {
                    warn!(log, "the MQTT broker is away; scanning goes on, trying again"; "error" => describe(&e));
                }
                up = false;
                if tx.send(LinkEvent::Lost(describe(&e))).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

/// A connection error in words.
fn describe(e: &ConnectionError) -> String {
    match e {
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker refused the connection ({code:?}): check mqtt.username, mqtt.password_file and the broker's ACL")
        }
        e => e.to_string(),
    }
}
