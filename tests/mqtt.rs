//! Rigs on a real Mosquitto broker (started by each test on a free loopback
//! port, with a password file and the ACL of deploy/mosquitto/): retained
//! status and availability, the last will, commands carried out exactly
//! once, the ACL, a broker that dies mid-scan, `scanrig fleet`.

mod common;

#[path = "mqtt/access.rs"]
mod access;
#[path = "mqtt/bench.rs"]
mod bench;
#[path = "mqtt/discovery.rs"]
mod discovery;
#[path = "mqtt/fleet.rs"]
mod fleet;
#[path = "mqtt/home_assistant.rs"]
mod home_assistant;
#[path = "mqtt/outage.rs"]
mod outage;
#[path = "mqtt/status.rs"]
mod status;

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;

use common::broker::{Broker, Message, STUDIO, VIEWER};
use common::{assert_complete, plan, ring_profile, rings_of, Rig, Running, DEADLINE};
use serde_json::Value;

/// A rig on `broker` named `name`, with a profile `six` (6 shots).
fn rig_on(broker: &Broker, name: &str, extra: &str) -> Rig {
    let rig = Rig::new();
    rig.configure(&broker.rig_config(name, rig.root(), extra));
    rig.profile("six", &ring_profile(6, 5));
    rig
}

/// A configuration for `scanrig fleet` as `user`, beside `rig`'s.
fn user_config(broker: &Broker, rig: &Rig, user: &str) -> std::path::PathBuf {
    let config = rig.root().join(format!("{user}.toml"));
    let password = rig.root().join(format!("{user}-password"));
    std::fs::write(&password, common::broker::password(user)).unwrap();
    std::fs::set_permissions(&password, Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        &config,
        format!(
            "[mqtt]\nbroker = \"{}\"\nusername = \"{user}\"\npassword_file = \"{}\"\n",
            broker.url(),
            password.display()
        ),
    )
    .unwrap();
    config
}

/// A configuration for `scanrig fleet` as the studio, beside `rig`'s.
fn studio_config(broker: &Broker, rig: &Rig) -> std::path::PathBuf {
    user_config(broker, rig, STUDIO)
}

/// `scanrig fleet` as `user`, its output and exit code.
fn fleet_as(broker: &Broker, rig: &Rig, user: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = vec!["fleet"];
    cmd.extend_from_slice(args);
    let out = rig.run_with(&user_config(broker, rig, user), &cmd);
    (
        out.code.unwrap_or(-1),
        format!("{}{}", out.stdout, out.stderr),
    )
}

/// `scanrig fleet` as the studio, its output and exit code.
fn fleet(broker: &Broker, rig: &Rig, args: &[&str]) -> (i32, String) {
    fleet_as(broker, rig, STUDIO, args)
}

/// Waits for `rig`'s retained `online`.
fn online(broker: &Broker, name: &str) {
    let watch = broker.client(VIEWER, &[&format!("scanrig/{name}/availability")]);
    watch.wait(&format!("{name} online"), DEADLINE, |m| m.text == "online");
}

/// The status JSON in a message.
fn status(m: &Message) -> Value {
    m.json()
}

/// Asserts the rig's only scan is complete at the destination: every
/// photo of `six` once, intact, in order.
fn assert_six_delivered(rig: &Rig) {
    let scan = rig.only_scan();
    assert_complete(
        &rig.delivered(&scan),
        &plan("six", &rings_of(&ring_profile(6, 5))),
    );
}

fn daemon(rig: &Rig) -> Running {
    rig.spawn(&["daemon"])
}
