//! The rig on a studio's MQTT broker (`[mqtt]`), beside the web page: it
//! publishes its status (retained, the JSON of `GET /api/v1/status`), its
//! events (those of the web page's stream) and its availability (`online`,
//! `offline` as the retained last will), takes commands and answers them
//! ([`commands`], carried out by [`execute`]), and may announce itself to
//! Home Assistant ([`discovery`]). `scanrig fleet` ([`fleet`]) reads and
//! steers every rig on the broker.
//!
//! The rig scans as well without the broker: a broker that is away is
//! tried again with backoff; meanwhile events are dropped and only the
//! latest status is kept, to be published when it is back.

mod commands;
mod discovery;
mod execute;
pub mod fleet;
mod link;

use std::cell::RefCell;
use std::collections::HashSet;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::Addr;
use anyhow::Context as _;
use rumqttc::{AsyncClient, LastWill, MqttOptions, QoS};
use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::supervisor::{GetStatus, Progress, Supervisor};
use serde_json::{json, Value};
use slog::{info, warn, Logger};
use tokio::sync::{mpsc::UnboundedReceiver, oneshot};

use crate::remote::status_json;
use crate::settings::{Mqtt, Settings};
use crate::web::{describe, Redactor};
use commands::Seen;
use link::LinkEvent;

/// A rig's topics.
#[derive(Debug, Clone)]
pub(crate) struct Topics {
    /// The rig's name.
    pub(crate) rig: String,
    base: String,
}

impl Topics {
    pub(crate) fn new(prefix: &str, rig: &str) -> Topics {
        Topics {
            rig: rig.to_owned(),
            base: format!("{prefix}/{rig}"),
        }
    }
    pub(crate) fn status(&self) -> String {
        format!("{}/status", self.base)
    }
    pub(crate) fn events(&self) -> String {
        format!("{}/events", self.base)
    }
    pub(crate) fn availability(&self) -> String {
        format!("{}/availability", self.base)
    }
    pub(crate) fn cmd(&self) -> String {
        format!("{}/cmd", self.base)
    }
    pub(crate) fn reply(&self) -> String {
        format!("{}/reply", self.base)
    }
    /// The profile a Start without one uses (retained).
    pub(crate) fn profile(&self) -> String {
        format!("{}/profile", self.base)
    }
}

/// `[mqtt]` read and its files checked, before anything starts.
pub struct Prepared {
    opts: MqttOptions,
    topics: Topics,
    seen: Seen,
}

/// Reads what `[mqtt]` names (password, CA, the command ids seen): `None`
/// when it is off; an error naming the key and file when one is wrong.
pub fn prepare(settings: &Settings) -> anyhow::Result<Option<Prepared>> {
    let m = &settings.mqtt;
    if !m.enabled() {
        return Ok(None);
    }
    let topics = Topics::new(&m.prefix, &m.rig_name());
    let will = LastWill::new(topics.availability(), "offline", QoS::AtLeastOnce, true);
    let mut opts = link::options(m, &format!("scanrig-{}", topics.rig), Some(will))?;
    // A session the broker keeps: commands sent while the connection was
    // down are delivered when it is back, and acknowledged only once
    // carried out.
    opts.set_clean_session(false).set_manual_acks(true);
    let path = settings.state_dir().join("mqtt-commands.json");
    let seen = Seen::load(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(Prepared { opts, topics, seen }))
}

/// The running MQTT side.
pub struct MqttHandle {
    stop: oneshot::Sender<oneshot::Sender<()>>,
}

impl MqttHandle {
    /// Says `offline` (as the last will would) and disconnects, waiting at
    /// most a second for the broker.
    pub async fn stop(self) {
        let (done, wait) = oneshot::channel();
        if self.stop.send(done).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), wait).await;
        }
    }
}

/// Joins the broker on the current actix system.
pub async fn start(
    prepared: Prepared,
    settings: &Settings,
    sup: Addr<Supervisor>,
    log: &Logger,
) -> anyhow::Result<MqttHandle> {
    let log = log.new(slog::o!("part" => "mqtt"));
    let progress = scanrig_actors::supervisor::progress(&sup)
        .await
        .context("cannot subscribe to the supervisor")?;
    let Prepared { opts, topics, seen } = prepared;
    info!(log, "joining the MQTT broker"; "broker" => &settings.mqtt.broker, "rig" => &topics.rig);
    let link = link::open(opts, &log);
    let rig = Rc::new(Rig {
        client: link.client,
        topics,
        settings: settings.clone(),
        redact: Redactor::new(settings),
        sup,
        seen: tokio::sync::Mutex::new(seen),
        in_progress: RefCell::new(HashSet::new()),
        selected: RefCell::new(None),
        up: RefCell::new(false),
        log,
    });
    let (stop, stopped) = oneshot::channel();
    actix::spawn(run(rig, link.events, progress, stopped));
    Ok(MqttHandle { stop })
}

/// What the rig's MQTT tasks share.
struct Rig {
    client: AsyncClient,
    topics: Topics,
    settings: Settings,
    redact: Redactor,
    sup: Addr<Supervisor>,
    /// Command ids seen (the lock is held while one is written down).
    seen: tokio::sync::Mutex<Seen>,
    /// Command ids being carried out.
    in_progress: RefCell<HashSet<String>>,
    /// The profile a Start without one uses, chosen by name; `None`: the
    /// rig's own, `daemon.profile` (which may be a file).
    selected: RefCell<Option<String>>,
    /// Connected to the broker.
    up: RefCell<bool>,
    log: Logger,
}

/// What makes a change of state, published at once: the state, the scan
/// and its outcome, why it is paused, the last error.
fn phase(status: &Value) -> Value {
    let scan = &status["scan"];
    json!([
        status["state"],
        scan["id"],
        scan["outcome"],
        scan["paused"],
        status["last_error"]
    ])
}

/// The latest status and when one was last published.
#[derive(Default)]
struct StatusOut {
    latest: Option<Value>,
    sent_state: Option<Value>,
    sent_at: Option<Instant>,
    dirty: bool,
}

async fn run(
    rig: Rc<Rig>,
    mut events: tokio::sync::mpsc::Receiver<LinkEvent>,
    mut progress: UnboundedReceiver<Progress>,
    mut stopped: oneshot::Receiver<oneshot::Sender<()>>,
) {
    let interval = Duration::from_millis(rig.settings.mqtt.status_interval_ms);
    let mut status = StatusOut::default();
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let mut dropped = 0u64;
    loop {
        let due = async {
            match timer.as_mut() {
                Some(t) => t.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => match event {
                Some(LinkEvent::Connected) => {
                    *rig.up.borrow_mut() = true;
                    if dropped > 0 {
                        info!(rig.log, "events not published while the broker was away"; "events" => dropped);
                        dropped = 0;
                    }
                    rig.greet().await;
                    status.dirty = true;
                    status.sent_at = None;
                }
                Some(LinkEvent::Lost(_)) => *rig.up.borrow_mut() = false,
                Some(LinkEvent::Acked) => {}
                Some(LinkEvent::Message(p)) => {
                    if p.topic == rig.topics.cmd() {
                        actix::spawn(execute::command(rig.clone(), p));
                    } else {
                        let _ = rig.client.ack(&p).await;
                    }
                }
                None => return,
            },
            p = progress.recv() => {
                let Some(p) = p else { return };
                if let Some((kind, data)) = describe(&p) {
                    if *rig.up.borrow() {
                        rig.event(kind, data);
                    } else {
                        dropped += 1;
                    }
                }
                if let Some(s) = rig.status().await {
                    status.latest = Some(s);
                    status.dirty = true;
                }
            },
            () = due => timer = None,
            done = &mut stopped => {
                rig.goodbye().await;
                if let Ok(done) = done {
                    let _ = done.send(());
                }
                return;
            }
        }
        if status.dirty && *rig.up.borrow() {
            if status.latest.is_none() {
                status.latest = rig.status().await;
            }
            let Some(latest) = status.latest.clone() else {
                continue;
            };
            // A change of state goes out at once (a wait for the next
            // turn of the counts notwithstanding); counts at most every
            // `interval`, the latest always.
            let state_changed = status.sent_state.as_ref() != Some(&phase(&latest));
            let wait = status
                .sent_at
                .map(|at| interval.saturating_sub(at.elapsed()))
                .unwrap_or_default();
            if state_changed || wait.is_zero() {
                rig.publish(rig.topics.status(), true, latest.to_string());
                status.sent_state = Some(phase(&latest));
                status.sent_at = Some(Instant::now());
                status.dirty = false;
                timer = None;
            } else if timer.is_none() {
                timer = Some(Box::pin(tokio::time::sleep(wait)));
            }
        }
    }
}

impl Rig {
    /// The status as the API shows it, redacted alike; `None` if the
    /// supervisor is gone.
    async fn status(&self) -> Option<Value> {
        let s = self.sup.send(GetStatus).await.ok()?;
        let mut s = status_json(&s);
        s["lights"] = serde_json::json!(crate::remote::lights(&self.sup).await.ok()?);
        self.redact.value(&mut s);
        Some(s)
    }

    /// Publishes QoS 1; dropped (and logged) when the queue is full, as it
    /// is while the broker is away.
    fn publish(&self, topic: String, retain: bool, payload: impl Into<Vec<u8>>) {
        if let Err(e) = self
            .client
            .try_publish(topic, QoS::AtLeastOnce, retain, payload)
        {
            warn!(self.log, "an MQTT message was dropped"; "error" => %e);
        }
    }

    fn event(&self, kind: &str, mut data: Value) {
        self.redact.value(&mut data);
        let event = json!({"rig": self.topics.rig, "event": kind,
            "time_ms": unix_millis_now(), "data": data});
        self.publish(self.topics.events(), false, event.to_string());
    }

    /// On every (re)connection: online, the command topic, the selected
    /// profile and the discovery configs (or their removal).
    async fn greet(&self) {
        let t = &self.topics;
        // Subscribed before it says it is online: a command sent once it
        // shows online reaches it.
        if let Err(e) = self.client.subscribe(t.cmd(), QoS::AtLeastOnce).await {
            warn!(self.log, "cannot subscribe to the command topic"; "error" => %e);
        }
        self.publish(t.availability(), true, "online");
        self.publish(t.profile(), true, self.selected_name());
        let m = &self.settings.mqtt;
        if m.discovery {
            let mut profiles = self.profile_names().await;
            let own = self.own_profile();
            if !profiles.contains(&own) {
                profiles.push(own);
            }
            let lights = &self.settings.lights;
            for (topic, payload) in discovery::announce(t, &m.discovery_prefix, &profiles, lights) {
                self.publish(topic, true, payload.to_string());
            }
        } else {
            for topic in discovery::withdraw(t, &m.discovery_prefix, &self.settings.lights) {
                self.publish(topic, true, Vec::new());
            }
        }
    }

    /// The name of the rig's own profile, `daemon.profile`.
    fn own_profile(&self) -> String {
        crate::profile::name_of(&self.settings.daemon.profile)
    }

    /// The name of the profile a Start without one uses.
    fn selected_name(&self) -> String {
        self.selected
            .borrow()
            .clone()
            .unwrap_or_else(|| self.own_profile())
    }

    async fn profile_names(&self) -> Vec<String> {
        let dirs = self.settings.profiles.dirs.clone();
        tokio::task::spawn_blocking(move || {
            crate::profile::Profile::list(&dirs)
                .into_iter()
                .filter(|(_, _, p)| p.is_ok())
                .map(|(name, _, _)| name)
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    async fn goodbye(&self) {
        let _ = self
            .client
            .publish(
                self.topics.availability(),
                QoS::AtLeastOnce,
                true,
                "offline",
            )
            .await;
        let _ = self.client.disconnect().await;
    }
}

/// `[mqtt]` as `scanrig fleet` connects with (a client id of its own, no
/// last will).
pub(crate) fn fleet_options(m: &Mqtt) -> anyhow::Result<MqttOptions> {
    let id = format!("scanrig-fleet-{}-{}", std::process::id(), unix_millis_now());
    link::options(m, &id, None)
}
