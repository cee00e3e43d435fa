//! `scanrig fleet`: every rig on the broker from any machine that reaches
//! it — their retained status and availability, commands to several rigs
//! at once with each one's answer, their events as they happen, and
//! forgetting a rig that is gone.

mod print;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use rumqttc::QoS;
use scanrig_actors::clock::unix_millis_now;
use serde_json::{json, Value};
use slog::Logger;
use tokio::time::{sleep_until, Instant};

use super::commands::{Command, Verb};
use super::link::{self, Link, LinkEvent};
use super::{discovery, fleet_options, Topics};
use crate::settings::Settings;
use print::{event_line, print_answers, print_status};

/// `scanrig fleet`'s arguments.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// The broker, instead of mqtt.broker: mqtt://host:1883 or
    /// mqtts://host:8883 (user and password from [mqtt]).
    #[arg(long, value_name = "URL")]
    broker: Option<String>,
    /// Longest wait for the rigs' answers, seconds.
    #[arg(long, default_value_t = 10, value_name = "S")]
    timeout: u64,
    #[command(subcommand)]
    command: FleetCommand,
}

/// What to do with the rigs.
#[derive(Debug, Subcommand)]
enum FleetCommand {
    /// Every rig the broker knows: availability, state, scan, progress.
    Status {
        /// One JSON object by rig name instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Start a scan on several rigs together (default: every rig online).
    Start {
        /// The profile each rig scans (by name, as `scanrig profiles` lists).
        #[arg(long, short)]
        profile: String,
        /// The rigs, by name, comma-separated.
        #[arg(long, value_delimiter = ',')]
        rigs: Vec<String>,
        /// The answers as JSON, one object by rig name.
        #[arg(long)]
        json: bool,
    },
    /// Pause the scans of several rigs (default: every rig online).
    Pause(Targets),
    /// Resume paused scans.
    Resume(Targets),
    /// Stop the scans.
    Stop(Targets),
    /// Home the rigs' axes.
    Home(Targets),
    /// Print every rig's events as they happen, until Ctrl-C.
    Watch {
        /// Each event as the rig sent it, one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Remove a rig that is gone: its retained status, availability and
    /// Home Assistant entities.
    Forget {
        /// The rig's name.
        rig: String,
        /// Forget it even though it is online (it appears again when it
        /// next connects).
        #[arg(long)]
        force: bool,
    },
}

/// Which rigs a command goes to.
#[derive(Debug, Args)]
struct Targets {
    /// The rigs, by name, comma-separated.
    #[arg(long, value_delimiter = ',')]
    rigs: Vec<String>,
    /// The answers as JSON, one object by rig name.
    #[arg(long)]
    json: bool,
}

/// What the broker keeps of each rig: `<prefix>/<rig>/<leaf>`, retained.
const ROSTER: [&str; 3] = ["status", "availability", "profile"];

/// Wait after the last retained message before the picture is complete
/// (live updates, which keep coming while rigs scan, do not extend it).
const QUIET: Duration = Duration::from_millis(300);

/// Runs a `scanrig fleet` command; `false` when a rig refused or did not
/// answer.
pub fn run(settings: &Settings, args: FleetArgs, log: &Logger) -> anyhow::Result<bool> {
    let mut m = settings.mqtt.clone();
    if let Some(broker) = &args.broker {
        m.broker = broker.clone();
    }
    if !m.enabled() {
        bail!("no broker: give --broker mqtt://host:1883, or set mqtt.broker in the configuration");
    }
    m.broker_addr()
        .map_err(|e| anyhow::anyhow!("--broker: {e}"))?;
    let opts = fleet_options(&m)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let link = link::open(opts, log);
        let mut fleet = Fleet {
            link,
            prefix: m.prefix.clone(),
            timeout: Duration::from_secs(args.timeout),
        };
        fleet.connected().await?;
        let (verb, profile, rigs, json) = match args.command {
            FleetCommand::Status { json } => {
                let rigs = fleet.rigs().await?;
                print_status(&rigs, json);
                return Ok(true);
            }
            FleetCommand::Watch { json } => return fleet.watch(json).await.map(|()| true),
            FleetCommand::Forget { rig, force } => {
                return fleet
                    .forget(&rig, force, &m.discovery_prefix)
                    .await
                    .map(|()| true)
            }
            FleetCommand::Start {
                profile,
                rigs,
                json,
            } => (Verb::Start, Some(profile), rigs, json),
            FleetCommand::Pause(t) => (Verb::Pause, None, t.rigs, t.json),
            FleetCommand::Resume(t) => (Verb::Resume, None, t.rigs, t.json),
            FleetCommand::Stop(t) => (Verb::Stop, None, t.rigs, t.json),
            FleetCommand::Home(t) => (Verb::Home, None, t.rigs, t.json),
        };
        let answers = fleet.command(verb, profile, rigs).await?;
        print_answers(&answers, json);
        Ok(answers.values().all(|a| a["ok"] == true))
    })
}

/// What the broker holds of one rig.
#[derive(Debug, Default)]
struct RigView {
    availability: Option<String>,
    status: Option<Value>,
    profile: Option<String>,
}

impl RigView {
    /// What a retained message on `leaf` says (an empty one clears it).
    fn note(&mut self, leaf: &str, payload: &[u8]) {
        let text = (!payload.is_empty()).then(|| String::from_utf8_lossy(payload).into_owned());
        match leaf {
            "availability" => self.availability = text,
            "status" => self.status = text.and_then(|t| serde_json::from_str(&t).ok()),
            "profile" => self.profile = text,
            _ => {}
        }
    }

    /// Whether anything of the rig is left.
    fn is_known(&self) -> bool {
        self.availability.is_some() || self.status.is_some() || self.profile.is_some()
    }
}

struct Fleet {
    link: Link,
    prefix: String,
    /// The longest wait of each step: connecting, reading the rigs,
    /// their answers.
    timeout: Duration,
}

impl Fleet {
    /// Waits for the connection (at most the timeout).
    async fn connected(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + self.timeout;
        let mut why = String::from("no answer");
        loop {
            tokio::select! {
                e = self.link.events.recv() => match e {
                    Some(LinkEvent::Connected) => return Ok(()),
                    Some(LinkEvent::Lost(e)) => why = e,
                    Some(LinkEvent::Message(_) | LinkEvent::Acked) => {}
                    None => bail!("the MQTT client stopped"),
                },
                () = sleep_until(deadline) => bail!("cannot reach the MQTT broker: {why}"),
            }
        }
    }

    async fn subscribe(&self, leaves: &[&str]) -> anyhow::Result<()> {
        for leaf in leaves {
            self.link
                .client
                .subscribe(format!("{}/+/{leaf}", self.prefix), QoS::AtLeastOnce)
                .await
                .context("cannot subscribe")?;
        }
        Ok(())
    }

    /// The rig and topic leaf of a message on `<prefix>/<rig>/<leaf>`.
    fn place<'a>(&self, topic: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = topic.strip_prefix(&self.prefix)?.strip_prefix('/')?;
        rest.split_once('/')
    }

    /// Every rig with something retained: read until no retained message
    /// has come for [`QUIET`], and at most the timeout.
    async fn rigs(&mut self) -> anyhow::Result<BTreeMap<String, RigView>> {
        self.subscribe(&ROSTER).await?;
        let mut rigs: BTreeMap<String, RigView> = BTreeMap::new();
        let deadline = Instant::now() + self.timeout;
        let mut quiet = Instant::now() + QUIET;
        loop {
            tokio::select! {
                e = self.link.events.recv() => match e {
                    Some(LinkEvent::Message(p)) => {
                        if p.retain {
                            quiet = Instant::now() + QUIET;
                        }
                        let Some((rig, leaf)) = self.place(&p.topic) else { continue };
                        rigs.entry(rig.to_owned()).or_default().note(leaf, &p.payload);
                    }
                    Some(_) => {}
                    None => bail!("the MQTT client stopped"),
                },
                () = sleep_until(quiet.min(deadline)) => break,
            }
        }
        // An empty retained message is a rig forgotten.
        rigs.retain(|_, v| v.is_known());
        Ok(rigs)
    }

    /// Sends `verb` to `rigs` (or every rig online) and waits for each
    /// one's answer until the deadline.
    async fn command(
        &mut self,
        verb: Verb,
        profile: Option<String>,
        rigs: Vec<String>,
    ) -> anyhow::Result<BTreeMap<String, Value>> {
        let targets: Vec<String> = if rigs.is_empty() {
            let known = self.rigs().await?;
            let online: Vec<String> = known
                .into_iter()
                .filter(|(_, v)| v.availability.as_deref() == Some("online"))
                .map(|(name, _)| name)
                .collect();
            if online.is_empty() {
                bail!("no rig is online on this broker (see `scanrig fleet status`)");
            }
            online
        } else {
            rigs
        };
        self.subscribe(&["reply"]).await?;
        let stamp = format!("fleet-{}-{}", std::process::id(), unix_millis_now());
        let mut waiting: BTreeMap<String, String> = BTreeMap::new();
        for rig in &targets {
            let id = format!("{stamp}-{rig}");
            let cmd = Command {
                id: Some(id.clone()),
                command: verb,
                profile: profile.clone(),
                light: None,
                brightness: None,
                sent_ms: Some(unix_millis_now()),
            };
            let topic = Topics::new(&self.prefix, rig).cmd();
            let payload = serde_json::to_vec(&cmd)?;
            self.link
                .client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
                .context("cannot send the command")?;
            waiting.insert(id, rig.clone());
        }
        let mut answers = BTreeMap::new();
        let deadline = Instant::now() + self.timeout;
        while !waiting.is_empty() {
            tokio::select! {
                e = self.link.events.recv() => match e {
                    Some(LinkEvent::Message(p)) => {
                        let Ok(answer) = serde_json::from_slice::<Value>(&p.payload) else { continue };
                        let rig = answer["id"].as_str().and_then(|id| waiting.remove(id));
                        if let Some(rig) = rig {
                            answers.insert(rig, answer);
                        }
                    }
                    Some(_) => {}
                    None => bail!("the MQTT client stopped"),
                },
                () = sleep_until(deadline) => break,
            }
        }
        for (_, rig) in waiting {
            answers.insert(
                rig,
                json!({"ok": false, "code": "no_answer",
                "error": "no answer in time: is the rig online (`scanrig fleet status`)?"}),
            );
        }
        Ok(answers)
    }

    /// Prints events until Ctrl-C; subscribes again on every reconnection
    /// (a new session: the broker forgot the subscriptions).
    async fn watch(&mut self, json: bool) -> anyhow::Result<()> {
        const WATCHED: [&str; 2] = ["events", "availability"];
        self.subscribe(&WATCHED).await?;
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                e = self.link.events.recv() => match e {
                    Some(LinkEvent::Message(p)) => {
                        let Some((rig, leaf)) = self.place(&p.topic) else { continue };
                        let text = String::from_utf8_lossy(&p.payload);
                        match (leaf, json) {
                            ("events", true) => println!("{text}"),
                            ("events", false) => println!("{}", event_line(rig, &text)),
                            (_, true) => println!("{}", json!({"rig": rig, "event": "availability", "data": text})),
                            (_, false) => println!("{rig:<16} {text}"),
                        }
                    }
                    Some(LinkEvent::Connected) => self.subscribe(&WATCHED).await?,
                    Some(_) => {}
                    None => bail!("the MQTT client stopped"),
                },
                _ = &mut stop => return Ok(()),
            }
        }
    }

    /// Clears what a rig left retained, once sure it is gone: refused for
    /// a rig online (unless `force`) and for one the broker holds nothing
    /// of. Every clearing is read back as the broker passes it on to this
    /// client's own subscriptions, before it acknowledges it: one that
    /// does not come back was dropped by the broker's ACL (MQTT 3.1.1
    /// acknowledges a publish it refuses all the same).
    async fn forget(
        &mut self,
        rig: &str,
        force: bool,
        discovery_prefix: &str,
    ) -> anyhow::Result<()> {
        let Some(view) = self.rigs().await?.remove(rig) else {
            bail!("no such rig: the broker holds nothing of {rig:?} (`scanrig fleet status` lists the rigs it knows)");
        };
        if view.availability.as_deref() == Some("online") && !force {
            bail!("{rig} is online: stop its daemon first, or give --force to forget it anyway (it appears again when it next connects)");
        }
        // Read back on subscriptions to this rig's topics alone, at QoS 0,
        // which the broker's window of unacknowledged QoS 1 messages (the
        // other rigs' live status) does not hold back.
        let client = &self.link.client;
        for leaf in ROSTER {
            client
                .unsubscribe(format!("{}/+/{leaf}", self.prefix))
                .await?;
        }
        let topics = Topics::new(&self.prefix, rig);
        let own = format!("{}/{rig}/+", self.prefix);
        for filter in [own, discovery::subscription(&topics, discovery_prefix)] {
            client.subscribe(filter, QoS::AtMostOnce).await?;
        }
        let mut clear = vec![topics.status(), topics.availability(), topics.profile()];
        // (A rig's lights are named in its own configuration, which this
        // machine need not have: their entities go when the rig itself
        // withdraws them, with discovery turned off.)
        clear.extend(discovery::withdraw(&topics, discovery_prefix, &[]));
        for topic in &clear {
            self.link
                .client
                .publish(topic, QoS::AtLeastOnce, true, Vec::new())
                .await
                .context("cannot send the removal")?;
        }
        let mut refused: BTreeSet<&String> = clear.iter().collect();
        let mut acked = 0;
        let deadline = Instant::now() + self.timeout;
        while acked < clear.len() {
            tokio::select! {
                e = self.link.events.recv() => match e {
                    Some(LinkEvent::Message(p)) if p.payload.is_empty() => {
                        refused.remove(&p.topic);
                    }
                    Some(LinkEvent::Acked) => acked += 1,
                    Some(_) => {}
                    None => bail!("the MQTT client stopped"),
                },
                () = sleep_until(deadline) => bail!(
                    "the broker did not acknowledge the removal of {rig} within {} s: it may be only partly forgotten; run this again",
                    self.timeout.as_secs()),
            }
        }
        self.link.client.disconnect().await?;
        // The connection ends once the broker has it.
        while self.link.events.recv().await.is_some() {}
        if !refused.is_empty() {
            let list: Vec<&str> = refused.iter().map(|t| t.as_str()).collect();
            bail!(
                "the broker refused to clear {} of {} topics of {rig} ({}): the user this machine logs in as may not write (or read) them; log in as the studio's user (deploy/mosquitto/acl), and run this again",
                refused.len(),
                clear.len(),
                list.join(", ")
            );
        }
        println!("forgot {rig}; if it is still running it appears again when it reconnects");
        Ok(())
    }
}
