//! Rigs on a real Mosquitto broker (started by each test on a free loopback
//! port, with a password file and the ACL of deploy/mosquitto/): retained
//! status and availability, the last will, commands carried out exactly
//! once, the ACL, a broker that dies mid-scan, `scanrig fleet`.

mod common;

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

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

#[test]
fn a_rig_keeps_its_status_and_availability_retained_and_its_last_will_says_offline() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let running = daemon(&rig);
    online(&broker, "rig-a");
    let watch = broker.client(VIEWER, &["scanrig/rig-a/#"]);
    let idle = watch.wait("an idle status", DEADLINE, |m| {
        m.topic == "scanrig/rig-a/status" && status(m)["state"] == "idle"
    });
    assert!(idle.json()["backlog"].is_number(), "{}", idle.text);

    // The studio starts it; its events and status follow the scan.
    let (code, out) = fleet(&broker, &rig, &["start", "--profile", "six"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rig-a") && out.contains("started scan"),
        "{out}"
    );
    let mut photos = Vec::new();
    let finished = watch.wait("the scan finished", DEADLINE, |m| {
        if m.topic != "scanrig/rig-a/events" {
            return false;
        }
        let e = m.json();
        if e["event"] == "photo" {
            photos.push(e["data"]["shot"].as_u64().unwrap());
        }
        e["event"] == "finished"
    });
    assert_eq!(photos, [1, 2, 3, 4, 5, 6], "photo events in order, once");
    assert_eq!(finished.json()["data"]["outcome"], "completed");
    watch.wait("the final status, retained", DEADLINE, |m| {
        let s = status(m);
        m.topic == "scanrig/rig-a/status" && s["state"] == "idle" && s["scan"]["uploaded"] == 6
    });
    assert_six_delivered(&rig);
    let later = broker.client(VIEWER, &["scanrig/rig-a/status"]);
    let kept = later.wait("the retained status", DEADLINE, |m| m.retain);
    assert_eq!(kept.json()["scan"]["captured"], 6, "{}", kept.text);

    // The rig loses power: the broker says so with its last will.
    running.kill();
    watch.wait("offline by the last will", DEADLINE, |m| {
        m.topic == "scanrig/rig-a/availability" && m.text == "offline"
    });
    let (code, out) = fleet(&broker, &rig, &["status", "--json"]);
    assert_eq!(code, 0, "{out}");
    let all: Value = serde_json::from_str(out.trim()).expect(&out);
    assert_eq!(all["rig-a"]["availability"], "offline", "{all}");
    assert_eq!(all["rig-a"]["status"]["scan"]["uploaded"], 6, "{all}");
}

#[test]
fn a_command_is_carried_out_once_though_the_broker_restarts_before_it_is_acknowledged() {
    let Some(mut broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let running = daemon(&rig);
    online(&broker, "rig-a");
    let studio = broker.client(STUDIO, &[]);
    // The rig cannot acknowledge: it is stopped while the command is
    // delivered, and the broker restarts (keeping its sessions) before
    // the rig runs again.
    running.signal(libc::SIGSTOP);
    studio.publish(
        "scanrig/rig-a/cmd",
        false,
        r#"{"id": "once-1", "command": "start", "profile": "six"}"#,
    );
    broker.halt(libc::SIGTERM);
    broker.run();
    let replies = broker.client(STUDIO, &["scanrig/rig-a/reply", "scanrig/rig-a/status"]);
    running.signal(libc::SIGCONT);
    // (Its events may be dropped while it reconnects; its status is not.)
    let finished = replies.try_wait(DEADLINE, |m| {
        m.topic.ends_with("status") && m.json()["scan"]["outcome"] == "completed"
    });
    assert!(
        finished.is_some(),
        "no status of the scan finished\n--- rig:\n{}\n--- broker:\n{}",
        running.stderr(),
        broker.log()
    );
    // The same command again, as a broker delivering it once more would:
    // answered as before, not carried out.
    replies.publish(
        "scanrig/rig-a/cmd",
        false,
        r#"{"id": "once-1", "command": "start", "profile": "six"}"#,
    );
    let answer = replies.wait("the answer to once-1", DEADLINE, |m| {
        m.topic.ends_with("reply") && m.json()["id"] == "once-1"
    });
    assert_eq!(answer.json()["ok"], true, "{}", answer.text);
    assert!(answer.json()["scan"].is_string(), "{}", answer.text);
    // Delivered again by the test, and by the broker, back with the rig's
    // session, when the rig had read the command (unacknowledged) before
    // the broker went down; else the broker's delivery was the first.
    let first = running.stderr().matches("delivered again").count();
    assert!((1..=2).contains(&first), "{}", running.stderr());
    eprintln!("recognised as delivered again before the restart: {first}");
    // And after a restart of scanrig, still known.
    running.kill();
    let running = daemon(&rig);
    online(&broker, "rig-a");
    replies.publish(
        "scanrig/rig-a/cmd",
        false,
        r#"{"id": "once-1", "command": "start", "profile": "six"}"#,
    );
    let again = replies.wait("the answer to once-1 after a restart", DEADLINE, |m| {
        m.topic.ends_with("reply") && m.json()["id"] == "once-1"
    });
    assert_eq!(again.json(), answer.json(), "the same answer");
    assert_six_delivered(&rig);
    let again = running.stderr().matches("delivered again").count();
    // (The broker may deliver the test's repeat to the restarted rig too,
    // if the first process had not acknowledged it: recognised as well.)
    assert!(
        (1..=2).contains(&again),
        "the repeated command was recognised after a restart: {}",
        running.stderr()
    );
}

#[test]
fn a_command_from_a_client_the_acl_refuses_never_reaches_the_rig() {
    let Some(broker) = Broker::start(&["rig-a", "rig-b"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let _running = daemon(&rig);
    online(&broker, "rig-a");
    let studio = broker.client(STUDIO, &["scanrig/rig-a/reply"]);
    // A viewer, and another rig, may not command rig-a.
    for user in [VIEWER, "rig-b"] {
        broker.client(user, &[]).publish(
            "scanrig/rig-a/cmd",
            false,
            format!(r#"{{"id": "from-{user}", "command": "start", "profile": "six"}}"#),
        );
    }
    // The studio may; its answer comes after anything the rig had got.
    studio.publish(
        "scanrig/rig-a/cmd",
        false,
        r#"{"id": "studio-1", "command": "pause"}"#,
    );
    let mut before = Vec::new();
    let answer = studio.wait("the studio's answer", DEADLINE, |m| {
        before.push(m.text.clone());
        m.json()["id"] == "studio-1"
    });
    assert_eq!(before.len(), 1, "no other answer: {before:?}");
    let late = studio.gather(Duration::from_millis(500));
    assert!(late.is_empty(), "no other answer: {late:?}");
    let a = answer.json();
    assert_eq!(
        (a["ok"].clone(), a["status"].clone(), a["code"].clone()),
        (false.into(), 409.into(), "conflict".into()),
        "{a}"
    );
    assert!(
        a["error"]
            .as_str()
            .unwrap()
            .contains("only a scan that is running can be paused"),
        "{a}"
    );
    assert!(rig.known_scans().is_empty(), "no scan was started");
}

#[test]
fn the_broker_killed_mid_scan_loses_no_photo_and_the_status_is_right_when_it_returns() {
    let Some(mut broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "[camera.sim]\ndownload_ms = 40\n");
    rig.profile("long", &ring_profile(24, 20));
    let mut running = daemon(&rig);
    online(&broker, "rig-a");
    let (code, out) = fleet(&broker, &rig, &["start", "--profile", "long"]);
    assert_eq!(code, 0, "{out}");
    let scan = rig.wait_for_captures(&mut running, 3);
    broker.halt(libc::SIGKILL);
    // The scan goes on without the broker.
    rig.wait_for_captures(&mut running, 12);
    broker.run();
    let watch = broker.client(VIEWER, &["scanrig/rig-a/status"]);
    watch.wait(
        "the status of the finished scan after the broker returned",
        DEADLINE,
        |m| {
            let s = status(m);
            s["state"] == "idle" && s["scan"]["id"] == scan.as_str() && s["scan"]["uploaded"] == 24
        },
    );
    assert_complete(
        &rig.delivered(&scan),
        &plan("long", &rings_of(&ring_profile(24, 20))),
    );
    assert!(
        running.stderr().contains("the MQTT broker is away"),
        "the outage is logged"
    );
}

#[test]
fn a_broker_killed_with_the_shipped_settings_keeps_the_status_of_a_rig_that_is_gone() {
    let Some(mut broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let running = daemon(&rig);
    online(&broker, "rig-a");
    let watch = broker.client(VIEWER, &["scanrig/rig-a/#"]);
    watch.wait("an idle status", DEADLINE, |m| {
        m.topic.ends_with("status") && status(m)["state"] == "idle"
    });
    // The rig loses power, then the broker crashes once it has saved.
    running.kill();
    watch.wait("offline by the last will", DEADLINE, |m| {
        m.topic.ends_with("availability") && m.text == "offline"
    });
    let gone = std::time::SystemTime::now();
    common::wait_for("the broker saved its state", DEADLINE, || {
        broker.saved_at().is_some_and(|at| at > gone)
    });
    broker.halt(libc::SIGKILL);
    broker.run();
    let kept = broker
        .client(VIEWER, &["scanrig/rig-a/#"])
        .gather(Duration::from_millis(500));
    let text = |leaf: &str| {
        kept.iter()
            .find(|m| m.retain && m.topic.ends_with(leaf))
            .map(|m| m.text.clone())
            .unwrap_or_else(|| panic!("no retained {leaf}: {kept:?}"))
    };
    assert_eq!(text("availability"), "offline");
    let s: Value = serde_json::from_str(&text("status")).unwrap();
    assert_eq!(s["state"], "idle", "{s}");
}

#[test]
fn a_rig_started_while_the_broker_is_down_scans_and_reports_when_it_comes() {
    let Some(mut broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    broker.halt(libc::SIGKILL);
    let rig = rig_on(&broker, "rig-a", "[daemon]\nprofile = \"six\"");
    let mut running = daemon(&rig);
    running.wait_for_stderr("the MQTT broker is away", DEADLINE);
    // The Start button.
    running.signal(libc::SIGUSR1);
    common::wait_for("the scan retired", DEADLINE, || {
        rig.known_scans().first().is_some_and(|s| rig.is_retired(s))
    });
    assert_six_delivered(&rig);
    broker.run();
    let watch = broker.client(VIEWER, &["scanrig/rig-a/#"]);
    watch.wait("online", DEADLINE, |m| {
        m.topic.ends_with("availability") && m.text == "online"
    });
    watch.wait("the status of the scan taken meanwhile", DEADLINE, |m| {
        m.topic.ends_with("status") && {
            let s = status(m);
            s["state"] == "idle" && s["scan"]["uploaded"] == 6
        }
    });
}

/// What Home Assistant's MQTT discovery documentation requires and allows
/// of each component used (https://www.home-assistant.io/integrations/
/// sensor.mqtt/, binary_sensor.mqtt/, button.mqtt/, select.mqtt/,
/// light.mqtt/ (its template schema), and mqtt/#mqtt-discovery):
/// (component, required keys, further keys documented for it).
const HA_SCHEMA: [(&str, &[&str], &[&str]); 5] = [
    (
        "sensor",
        &["state_topic"],
        &[
            "device_class",
            "unit_of_measurement",
            "state_class",
            "entity_category",
            "value_template",
            "json_attributes_topic",
            "json_attributes_template",
        ],
    ),
    (
        "button",
        &["command_topic"],
        &[
            "payload_press",
            "command_template",
            "qos",
            "entity_category",
        ],
    ),
    (
        "select",
        &["command_topic", "options"],
        &["command_template", "state_topic", "qos", "value_template"],
    ),
    (
        "binary_sensor",
        &["state_topic"],
        &["value_template", "device_class", "entity_category"],
    ),
    (
        "light",
        &[
            "schema",
            "command_topic",
            "command_on_template",
            "command_off_template",
        ],
        &[
            "state_topic",
            "state_template",
            "brightness_template",
            "qos",
        ],
    ),
];

/// Keys every MQTT entity may have (the shared ones from the same pages;
/// `default_entity_id`, HA 2025.10's replacement of `object_id`, which
/// earlier versions leave aside).
const HA_COMMON: [&str; 9] = [
    "name",
    "unique_id",
    "default_entity_id",
    "device",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "icon",
    "enabled_by_default",
];

/// What Home Assistant makes of `template` for the payload `value` (read
/// as JSON too, for `value_json`): rendered by Jinja2 in the sandbox HA
/// renders in, with HA's `now()`.
fn ha_render(template: &str, value: &str) -> String {
    ha_render_with(template, value, &serde_json::json!({}))
}

/// [`ha_render`], with the variables `vars` beside `value` (a light's
/// command templates get `brightness`).
fn ha_render_with(template: &str, value: &str, vars: &Value) -> String {
    const SCRIPT: &str = r#"
import datetime, json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment()
env.globals["now"] = lambda: datetime.datetime.now().astimezone()
try:
    value_json = json.loads(sys.argv[2])
except ValueError:
    value_json = None
variables = json.loads(sys.argv[3])
sys.stdout.write(env.from_string(sys.argv[1]).render(value=sys.argv[2], value_json=value_json, **variables))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT, template, value, &vars.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "rendering {template} (python3-jinja2 installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// rig-a's discovery config of `object` among `configs`.
fn config_of(configs: &[Message], component: &str, object: &str) -> Value {
    let topic = format!("homeassistant/{component}/scanrig_rig-a/{object}/config");
    configs
        .iter()
        .find(|m| m.topic == topic)
        .unwrap_or_else(|| panic!("no {topic}"))
        .json()
}

/// What HA sends when `button` is pressed.
fn press(button: &Value) -> String {
    ha_render(
        button["command_template"]
            .as_str()
            .expect("a command_template"),
        button["payload_press"].as_str().expect("a payload_press"),
    )
}

/// Checks a discovery message against [`HA_SCHEMA`]; `[a-zA-Z0-9_-]` ids
/// in the topic as HA's discovery topic format asks.
fn check_discovery(topic: &str, config: &Value) -> &'static str {
    let parts: Vec<&str> = topic.split('/').collect();
    assert_eq!(
        parts.len(),
        5,
        "<prefix>/<component>/<node_id>/<object_id>/config: {topic}"
    );
    assert_eq!((parts[0], parts[4]), ("homeassistant", "config"), "{topic}");
    let id_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    assert!(id_ok(parts[2]) && id_ok(parts[3]), "{topic}");
    let (component, required, allowed) = HA_SCHEMA
        .iter()
        .find(|(c, _, _)| *c == parts[1])
        .unwrap_or_else(|| panic!("an unexpected component: {topic}"));
    let object = config.as_object().expect("a JSON object");
    for key in *required {
        assert!(object.contains_key(*key), "{topic} lacks {key}: {config}");
    }
    for key in object.keys() {
        assert!(
            required.contains(&key.as_str())
                || allowed.contains(&key.as_str())
                || HA_COMMON.contains(&key.as_str()),
            "{topic}: {key} is not documented for a {component}"
        );
    }
    // The entity id HA gave before (from `object_id`, slugged), kept.
    let unique = config["unique_id"].as_str().expect("a unique_id");
    assert_eq!(
        config["default_entity_id"],
        format!("{component}.{}", unique.replace('-', "_")),
        "{config}"
    );
    let ids = &config["device"]["identifiers"];
    assert!(
        ids.as_array().is_some_and(|a| !a.is_empty()),
        "a device needs identifiers: {config}"
    );
    for key in ["state_topic", "command_topic", "availability_topic"] {
        if let Some(t) = config[key].as_str() {
            assert!(
                !t.contains(['+', '#']) && t.starts_with("scanrig/rig-a/"),
                "{key}: {t}"
            );
        }
    }
    if *component == "select" {
        let options = config["options"].as_array().expect("options is a list");
        assert!(
            !options.is_empty() && options.iter().all(Value::is_string),
            "{config}"
        );
    }
    component
}

#[test]
fn home_assistant_discovery_announces_the_rig_its_buttons_work_and_turning_it_off_removes_it() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "discovery = true");
    let running = daemon(&rig);
    online(&broker, "rig-a");
    let ha = broker.client(STUDIO, &["homeassistant/#"]);
    let configs = ha.gather(Duration::from_secs(2));
    let mut components: Vec<&str> = configs
        .iter()
        .map(|m| check_discovery(&m.topic, &m.json()))
        .collect();
    components.sort();
    assert_eq!(
        components,
        [
            "binary_sensor",
            "binary_sensor",
            "button",
            "button",
            "button",
            "select",
            "sensor",
            "sensor",
            "sensor",
            "sensor",
            "sensor",
            "sensor",
            "sensor"
        ]
    );
    let start = config_of(&configs, "button", "start");
    let select = config_of(&configs, "select", "profile");
    assert!(
        select["options"]
            .as_array()
            .unwrap()
            .contains(&"six".into()),
        "{select}"
    );

    // HA choosing a profile and pressing Start: what it sends.
    let studio = broker.client(STUDIO, &["scanrig/rig-a/reply", "scanrig/rig-a/events"]);
    let cmd = start["command_topic"].as_str().unwrap();
    let choose = ha_render(select["command_template"].as_str().unwrap(), "six");
    studio.publish(select["command_topic"].as_str().unwrap(), false, choose);
    let chosen = studio.wait("six selected", DEADLINE, |m| m.topic.ends_with("reply"));
    assert_eq!(chosen.json()["profile"], "six", "{}", chosen.text);
    let pressed = press(&start);
    let sent: Value = serde_json::from_str(&pressed).expect(&pressed);
    assert!(
        sent["id"].is_string() && sent["sent_ms"].is_u64(),
        "{pressed}"
    );
    assert_ne!(
        sent["id"],
        serde_json::from_str::<Value>(&press(&start)).unwrap()["id"],
        "each press has an id of its own"
    );
    let reply = |what: &str, id: &Value| {
        studio
            .wait(what, DEADLINE, |m| {
                m.topic.ends_with("reply") && m.json()["id"] == *id
            })
            .json()
    };
    studio.publish(cmd, false, pressed.as_str());
    let first = reply("the answer to the press", &sent["id"]);
    assert_eq!(first["ok"], true, "{first}");
    // The same press delivered again (as after a reconnection): answered
    // alike, not carried out again.
    studio.publish(cmd, false, pressed.as_str());
    assert_eq!(
        reply("the answer to the press delivered again", &sent["id"]),
        first
    );
    studio.wait("the scan finished", DEADLINE, |m| {
        m.topic.ends_with("events") && m.json()["event"] == "finished"
    });
    assert_six_delivered(&rig);

    // A command from a clock a minute ahead, and one the rig does not
    // know: refused, each answered with its id.
    let ahead = common::unix_ms() + 60_000;
    studio.publish(
        cmd,
        false,
        format!(r#"{{"id": "ha-ahead", "command": "pause", "sent_ms": {ahead}}}"#),
    );
    let answer = reply("the answer from a clock ahead", &"ha-ahead".into());
    assert_eq!(
        (answer["ok"].clone(), answer["code"].clone()),
        (false.into(), "clock_ahead".into()),
        "{answer}"
    );
    studio.publish(cmd, false, r#"{"id": "ha-odd", "command": "explode"}"#);
    let answer = reply("the answer to an unknown command", &"ha-odd".into());
    assert_eq!(
        (answer["ok"].clone(), answer["code"].clone()),
        (false.into(), "bad_request".into()),
        "{answer}"
    );

    // A long fault: HA's state keeps 255 characters, its attributes the
    // whole message.
    let fault = config_of(&configs, "sensor", "last_fault");
    let message = "the camera stopped answering; ".repeat(20);
    let status =
        serde_json::json!({"state": "fault", "last_error": {"message": message}}).to_string();
    let state = ha_render(fault["value_template"].as_str().unwrap(), &status);
    assert!(
        state.chars().count() <= 255 && state.starts_with("the camera stopped answering;"),
        "{state}"
    );
    let attributes = ha_render(fault["json_attributes_template"].as_str().unwrap(), &status);
    let attributes: Value = serde_json::from_str(&attributes).expect(&attributes);
    assert_eq!(attributes["message"], message.as_str());
    assert_eq!(fault["json_attributes_topic"], fault["state_topic"]);
    let none = ha_render(
        fault["value_template"].as_str().unwrap(),
        r#"{"state": "idle", "last_error": null}"#,
    );
    assert_eq!(none, "none");

    // The photos the judges flagged, of the scan in the status.
    let flagged = config_of(&configs, "sensor", "flagged");
    let template = flagged["value_template"].as_str().unwrap();
    let scan = r#"{"state": "scanning", "scan": {"judged": 9, "flagged": 2}}"#;
    assert_eq!(ha_render(template, scan), "2");
    assert_eq!(
        ha_render(template, r#"{"state": "idle", "scan": null}"#),
        "0"
    );

    // The Pi's health as HA reads it from the status: known, and unknown
    // on a machine without the kernel's files.
    let pi = r#"{"health": {"under_voltage": true, "throttled": false, "cpu_temp_c": 61.8, "spool_free_mb": 5120}}"#;
    let unknown = r#"{"health": {"under_voltage": null, "throttled": null, "cpu_temp_c": null, "spool_free_mb": 5120}}"#;
    let render = |component: &str, object: &str, status: &str| {
        let config = config_of(&configs, component, object);
        ha_render(config["value_template"].as_str().unwrap(), status)
    };
    assert_eq!(render("binary_sensor", "under_voltage", pi), "ON");
    assert_eq!(render("binary_sensor", "throttled", pi), "OFF");
    assert_eq!(render("sensor", "cpu_temp", pi), "61.8");
    assert_eq!(render("sensor", "spool_free", pi), "5120");
    assert_eq!(render("binary_sensor", "under_voltage", unknown), "unknown");
    assert_eq!(render("sensor", "cpu_temp", unknown), "unknown");
    // What the rig itself publishes has the readings (here, a machine
    // with a spool and no Pi's files).
    let retained = broker.client(STUDIO, &["scanrig/rig-a/status"]);
    let published = retained.wait("the status", DEADLINE, |m| m.topic.ends_with("status"));
    let health = &published.json()["health"];
    assert!(health["spool_free_mb"].is_u64(), "{health}");
    assert_eq!(
        render("sensor", "spool_free", &published.text),
        health["spool_free_mb"].to_string()
    );

    // Discovery turned off: the rig's entities are removed.
    running.kill();
    rig.configure(&broker.rig_config("rig-a", rig.root(), "discovery = false"));
    let _running = daemon(&rig);
    let topics: Vec<String> = configs.iter().map(|m| m.topic.clone()).collect();
    let mut removed = Vec::new();
    ha.wait("every entity removed", DEADLINE, |m| {
        if m.text.is_empty() && topics.contains(&m.topic) {
            removed.push(m.topic.clone());
        }
        removed.len() == topics.len()
    });
    let fresh = broker.client(STUDIO, &["homeassistant/#"]);
    assert!(
        fresh.gather(Duration::from_millis(500)).is_empty(),
        "nothing retained for HA"
    );
}

#[test]
fn home_assistant_discovers_the_rig_s_lights_and_sets_them_with_brightness_through_its_commands() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "discovery = true");
    let lights = "[[lights]]\nname = \"ring\"\npin = 18\npwm_hz = 1000\n[[lights]]\nname = \"back\"\npin = 20\n";
    rig.configure(&format!(
        "{}{lights}",
        broker.rig_config("rig-a", rig.root(), "discovery = true")
    ));
    let _running = daemon(&rig);
    online(&broker, "rig-a");
    let ha = broker.client(STUDIO, &["homeassistant/light/#"]);
    let configs = ha.gather(Duration::from_secs(2));
    assert_eq!(configs.len(), 2, "one light entity per light");
    for m in &configs {
        assert_eq!(check_discovery(&m.topic, &m.json()), "light");
    }
    let ring = config_of(&configs, "light", "light_ring");
    let back = config_of(&configs, "light", "light_back");
    assert_eq!(ring["schema"], "template");
    assert!(ring["brightness_template"].is_string(), "{ring}");
    assert!(
        back.get("brightness_template").is_none(),
        "a light without PWM is on or off: {back}"
    );

    let studio = broker.client(STUDIO, &["scanrig/rig-a/reply", "scanrig/rig-a/status"]);
    // HA's slider at 128 of 255, then the switch off: what it sends, and
    // what the rig then says in its status, as HA reads it.
    let steps = [
        (&ring, "command_on_template", 128, "on", Some("128"), 50),
        (&ring, "command_off_template", 0, "off", Some("0"), 0),
        (&back, "command_on_template", 255, "on", None, 100),
    ];
    for (light, template, brightness, state, shown, percent) in steps {
        let name = if std::ptr::eq(light, &ring) {
            "ring"
        } else {
            "back"
        };
        let vars = serde_json::json!({ "brightness": brightness });
        let sent = ha_render_with(light[template].as_str().unwrap(), "", &vars);
        let command: Value = serde_json::from_str(&sent).expect(&sent);
        assert_eq!(
            (command["command"].as_str(), command["light"].as_str()),
            (Some("light"), Some(name)),
            "{sent}"
        );
        assert_eq!(command["brightness"], percent, "{sent}");
        studio.publish(
            light["command_topic"].as_str().unwrap(),
            false,
            sent.as_str(),
        );
        let id = command["id"].clone();
        let reply = studio.wait("the light's answer", DEADLINE, |m| {
            m.topic.ends_with("reply") && m.json()["id"] == id
        });
        assert_eq!(reply.json()["ok"], true, "{}", reply.text);
        let status = studio.wait("the status with the light set", DEADLINE, |m| {
            m.topic.ends_with("status")
                && m.json()["lights"].as_array().is_some_and(|l| {
                    l.iter()
                        .any(|l| l["name"] == name && l["brightness"] == percent)
                })
        });
        let state_template = light["state_template"].as_str().unwrap();
        assert_eq!(ha_render(state_template, &status.text), state, "{name}");
        if let Some(shown) = shown {
            let template = light["brightness_template"].as_str().unwrap();
            assert_eq!(ha_render(template, &status.text), shown, "{name}");
        }
    }

    // A light the rig does not have, and a brightness past 100: refused.
    let cmd = ring["command_topic"].as_str().unwrap();
    for (id, body, code) in [
        (
            "ha-spot",
            r#""light": "spot", "brightness": 10"#,
            "not_found",
        ),
        (
            "ha-bright",
            r#""light": "ring", "brightness": 150"#,
            "bad_request",
        ),
    ] {
        studio.publish(
            cmd,
            false,
            format!(r#"{{"id": "{id}", "command": "light", {body}}}"#),
        );
        let answer = studio
            .wait(id, DEADLINE, |m| {
                m.topic.ends_with("reply") && m.json()["id"] == id
            })
            .json();
        assert_eq!(
            (answer["ok"].clone(), answer["code"].clone()),
            (false.into(), code.into()),
            "{answer}"
        );
    }
}

#[test]
fn a_rig_whose_own_profile_is_a_file_offers_it_to_home_assistant_and_starts_it() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = Rig::new();
    let mine = rig.root().join("elsewhere/mine.toml");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, ring_profile(6, 5)).unwrap();
    let extra = format!(
        "discovery = true\n[daemon]\nprofile = \"{}\"",
        mine.display()
    );
    rig.configure(&broker.rig_config("rig-a", rig.root(), &extra));
    rig.profile("six", &ring_profile(6, 5));
    let _running = daemon(&rig);
    online(&broker, "rig-a");
    let configs = broker
        .client(STUDIO, &["homeassistant/#", "scanrig/rig-a/profile"])
        .gather(Duration::from_secs(2));
    let chosen = configs
        .iter()
        .find(|m| m.topic == "scanrig/rig-a/profile")
        .expect("the profile chosen");
    assert_eq!(chosen.text, "mine");
    let configs: Vec<Message> = configs
        .into_iter()
        .filter(|m| m.topic.starts_with("homeassistant/"))
        .collect();
    let select = config_of(&configs, "select", "profile");
    let options = select["options"].as_array().unwrap();
    assert!(
        options.contains(&"mine".into()) && options.contains(&"six".into()),
        "{select}"
    );

    // Another profile, then the rig's own again by its name.
    let studio = broker.client(STUDIO, &["scanrig/rig-a/reply", "scanrig/rig-a/status"]);
    let cmd = select["command_topic"].as_str().unwrap();
    for name in ["six", "mine"] {
        studio.publish(
            cmd,
            false,
            ha_render(select["command_template"].as_str().unwrap(), name),
        );
        let answer = studio
            .wait("the choice", DEADLINE, |m| m.topic.ends_with("reply"))
            .json();
        assert_eq!(
            (answer["ok"].clone(), answer["profile"].clone()),
            (true.into(), name.into()),
            "{answer}"
        );
    }
    // HA's Start scans it.
    studio.publish(cmd, false, press(&config_of(&configs, "button", "start")));
    let answer = studio
        .wait("the answer to Start", DEADLINE, |m| {
            m.topic.ends_with("reply")
        })
        .json();
    assert_eq!(answer["ok"], true, "{answer}");
    studio.wait("the scan of mine completed", DEADLINE, |m| {
        let s = status(m);
        m.topic.ends_with("status")
            && s["scan"]["profile"] == "mine"
            && s["scan"]["outcome"] == "completed"
    });
}

#[test]
fn photos_waiting_is_what_scanrig_uploads_lists_after_uploads_failed() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    // Every upload fails, and a run gives up on a photo after one try.
    let rig = rig_on(&broker, "rig-a", "[upload]\nmax_attempts = 1\n");
    rig.block_destination();
    let running = daemon(&rig);
    online(&broker, "rig-a");
    let watch = broker.client(VIEWER, &["scanrig/rig-a/status"]);
    let (code, out) = fleet(&broker, &rig, &["start", "--profile", "six"]);
    assert_eq!(code, 0, "{out}");
    let ended = watch.wait("the scan's end", DEADLINE, |m| {
        let s = status(m);
        s["state"] == "idle" && s["scan"]["outcome"] == "completed"
    });
    // What `scanrig uploads` lists as waiting.
    let listed = || {
        let out = rig.run(&["uploads"]);
        out.expect_code(0);
        let scan = rig.only_scan();
        let row = out
            .stdout
            .lines()
            .find(|l| l.starts_with(scan.as_str()))
            .unwrap_or_else(|| panic!("{scan} not listed: {}", out.stdout))
            .to_owned();
        row.split_whitespace()
            .nth(5)
            .expect("the waiting column")
            .parse::<u64>()
            .expect(&row)
    };
    assert_eq!(listed(), 6);
    assert_eq!(status(&ended)["backlog"], 6, "{}", ended.text);
    let (_, out) = fleet(&broker, &rig, &["status", "--json"]);
    let all: Value = serde_json::from_str(out.trim()).expect(&out);
    assert_eq!(all["rig-a"]["status"]["backlog"], 6, "{all}");

    // Started again, the rig counts them from the spool at once.
    running.kill();
    let _running = daemon(&rig);
    let again = watch.wait("the status after a restart", DEADLINE, |m| {
        status(m)["state"] == "idle" && m.text != ended.text
    });
    assert_eq!(status(&again)["backlog"], 6, "{}", again.text);
    assert_eq!(listed(), 6);
}

#[test]
fn fleet_start_starts_ten_rigs_together_and_each_scans_every_photo_once() {
    let names: Vec<String> = (0..10).map(|n| format!("rig-{n}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let Some(broker) = Broker::start(&name_refs) else {
        return;
    };
    let watch = broker.client(VIEWER, &["scanrig/+/events"]);
    let rigs: Vec<(Rig, Running)> = names
        .iter()
        .map(|n| {
            // Ten pages are not needed.
            let rig = rig_on(&broker, n, "[web]\nlisten = \"\"");
            let running = daemon(&rig);
            (rig, running)
        })
        .collect();
    for n in &names {
        online(&broker, n);
    }
    let (code, out) = fleet(&broker, &rigs[0].0, &["start", "--profile", "six"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("started scan").count(), 10, "{out}");
    let mut finished = std::collections::BTreeSet::new();
    watch.wait("every rig finished", DEADLINE, |m| {
        let e = m.json();
        if e["event"] == "finished" {
            assert_eq!(e["data"]["outcome"], "completed", "{e}");
            finished.insert(e["rig"].as_str().unwrap().to_owned());
        }
        finished.len() == 10
    });
    for (rig, _) in &rigs {
        assert_six_delivered(rig);
    }
    // The studio sees every rig.
    let (code, out) = fleet(&broker, &rigs[0].0, &["status"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches(" online ").count(), 10, "{out}");
}

#[test]
fn fleet_watch_follows_every_rig_s_events_until_ctrl_c() {
    let Some(broker) = Broker::start(&["rig-a", "rig-b"]) else {
        return;
    };
    let rigs: Vec<(Rig, Running)> = ["rig-a", "rig-b"]
        .iter()
        .map(|n| {
            let rig = rig_on(&broker, n, "");
            let running = daemon(&rig);
            online(&broker, n);
            (rig, running)
        })
        .collect();
    let studio = studio_config(&broker, &rigs[0].0);
    let mut watch = Running::start(
        rigs[0]
            .0
            .command_with(&studio, &["fleet", "watch", "--json"]),
    );
    // Its subscription is in place once the broker has seen it connect.
    watch.wait_until("the watch connected", DEADLINE, || {
        broker.log().contains("u'studio'")
    });
    let (code, out) = fleet(&broker, &rigs[0].0, &["start", "--profile", "six"]);
    assert_eq!(code, 0, "{out}");
    let printed = |w: &Running| w.stdout().matches("\"event\":\"finished\"").count();
    common::wait_for("both scans finished, printed", DEADLINE, || {
        printed(&watch) == 2
    });
    watch.signal(libc::SIGINT);
    let out = watch.wait(DEADLINE);
    out.expect_code(0);
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    let count = |rig: &str, event: &str| {
        events
            .iter()
            .filter(|e| e["rig"] == rig && e["event"] == event)
            .count()
    };
    for rig in ["rig-a", "rig-b"] {
        assert_eq!(count(rig, "photo"), 6, "{rig}: {}", out.stdout);
        assert_eq!(count(rig, "finished"), 1, "{rig}: {}", out.stdout);
    }
}

#[test]
fn fleet_watch_goes_on_printing_after_the_broker_restarts() {
    let Some(mut broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let _running = daemon(&rig);
    online(&broker, "rig-a");
    let studio = studio_config(&broker, &rig);
    let mut watch = Running::start(rig.command_with(&studio, &["fleet", "watch", "--json"]));
    watch.wait_until("the watch connected", DEADLINE, || {
        broker.log().contains("u'studio'")
    });
    broker.halt(libc::SIGTERM);
    broker.run();
    // Both back on the new broker (its log starts afresh).
    watch.wait_until("the watch and the rig reconnected", DEADLINE, || {
        let log = broker.log();
        log.contains("u'studio'") && log.contains("u'rig-a'")
    });
    let (code, out) = fleet(&broker, &rig, &["start", "--profile", "six"]);
    assert_eq!(code, 0, "{out}");
    let finished = |w: &Running| w.stdout().contains("\"event\":\"finished\"");
    common::wait_for("the scan after the restart, printed", DEADLINE, || {
        finished(&watch)
    });
    watch.signal(libc::SIGINT);
    let out = watch.wait(DEADLINE);
    let scan = rig.only_scan();
    let started: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect(l))
        .filter(|e| e["event"] == "started")
        .collect();
    assert_eq!(started.len(), 1, "{}", out.stdout);
    assert_eq!(started[0]["data"]["scan"], scan.as_str(), "{}", out.stdout);
}

#[test]
fn fleet_commands_end_in_time_while_rigs_publish_their_status_without_a_pause() {
    let Some(broker) = Broker::start(&["rig-a", "rig-b"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let _running = daemon(&rig);
    online(&broker, "rig-a");
    let stop = std::sync::atomic::AtomicBool::new(false);
    /// Stops the publishing when the test ends, passed or not.
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    std::thread::scope(|s| {
        let _stop = Stop(&stop);
        // rig-b (no scanrig behind it, so it answers nothing) publishes
        // its status ten times a second, as a busy rig may.
        s.spawn(|| {
            let b = broker.client("rig-b", &[]);
            b.publish("scanrig/rig-b/availability", true, "online");
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                b.publish(
                    "scanrig/rig-b/status",
                    true,
                    format!(
                        r#"{{"state": "scanning", "scan": {{"captured": {n}, "planned": 1000}}}}"#
                    ),
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let studio = studio_config(&broker, &rig);
        let timed = |args: &[&str], within: Duration| {
            let started = std::time::Instant::now();
            let out = Running::start(rig.command_with(&studio, args)).wait(within);
            (out, started.elapsed())
        };
        let (out, took) = timed(&["fleet", "status"], Duration::from_secs(8));
        out.expect_code(0);
        assert!(
            out.stdout.contains("rig-a") && out.stdout.contains("rig-b"),
            "{}",
            out.stdout
        );
        assert!(took < Duration::from_secs(3), "fleet status took {took:?}");
        let (out, took) = timed(
            &["fleet", "--timeout", "2", "pause"],
            Duration::from_secs(12),
        );
        // rig-a got the command and refused it (nothing to pause); rig-b
        // never answers.
        assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
        let line = |name: &str| {
            out.stdout
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no line of {name}: {}", out.stdout))
                .to_owned()
        };
        assert!(
            line("rig-a").contains("refused (conflict)"),
            "{}",
            out.stdout
        );
        assert!(
            line("rig-b").contains("no answer in time"),
            "{}",
            out.stdout
        );
        assert!(took < Duration::from_secs(6), "fleet pause took {took:?}");
    });
}

#[test]
fn fleet_forget_clears_a_rig_that_is_gone_and_refuses_what_it_cannot_do() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "discovery = true");
    let running = daemon(&rig);
    online(&broker, "rig-a");
    let retained = || {
        broker
            .client(VIEWER, &["scanrig/rig-a/#"])
            .gather(Duration::from_millis(500))
            .into_iter()
            .filter(|m| m.retain && !m.text.is_empty())
            .map(|m| m.topic)
            .collect::<Vec<String>>()
    };
    let entities = || {
        broker
            .client(STUDIO, &["homeassistant/#"])
            .gather(Duration::from_millis(500))
            .into_iter()
            .filter(|m| !m.text.is_empty())
            .count()
    };
    assert_eq!(entities(), 13);

    // Online: refused, nothing cleared.
    let (code, out) = fleet(&broker, &rig, &["forget", "rig-a"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rig-a is online") && out.contains("--force"),
        "{out}"
    );
    assert!(!out.contains("forgot"), "{out}");
    assert_eq!(entities(), 13, "its Home Assistant entities are kept");

    // A rig the broker never saw.
    let (code, out) = fleet(&broker, &rig, &["forget", "rig-x"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no such rig"), "{out}");

    // Gone, but forgotten by a user the ACL does not let write.
    running.kill();
    let watch = broker.client(VIEWER, &["scanrig/rig-a/availability"]);
    watch.wait("offline", DEADLINE, |m| m.text == "offline");
    let (code, out) = fleet_as(&broker, &rig, VIEWER, &["forget", "rig-a"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused to clear 16 of 16 topics"), "{out}");
    assert!(!out.contains("forgot"), "{out}");
    assert_eq!(
        retained().len(),
        3,
        "still retained: status, availability, profile"
    );

    // By the studio: cleared, and quietly.
    let (code, out) = fleet(&broker, &rig, &["forget", "rig-a"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        "forgot rig-a; if it is still running it appears again when it reconnects"
    );
    assert!(retained().is_empty(), "{:?}", retained());
    assert_eq!(entities(), 0);
    let (code, out) = fleet(&broker, &rig, &["status"]);
    assert_eq!((code, out.trim()), (0, "no rigs on this broker"));
}

#[test]
fn a_password_file_others_can_read_is_refused_before_anything_starts() {
    let Some(broker) = Broker::start(&["rig-a"]) else {
        return;
    };
    let rig = rig_on(&broker, "rig-a", "");
    let file = rig.root().join("mqtt-password-rig-a");
    std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
    let out = rig.run(&["daemon"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("mqtt.password_file") && out.stderr.contains("chmod 600"),
        "{}",
        out.stderr
    );
    assert!(rig.known_scans().is_empty());
}

/// Whether a status shows a change of state.
type Shows = fn(&Value) -> bool;

/// Percentile `p` (0..=100) of sorted `v`.
fn percentile(v: &[u64], p: usize) -> u64 {
    v[((v.len() - 1) * p).div_ceil(100)]
}

/// Rigs of the benchmark: 36 shots with `scanrig bench`'s timings (a 10°
/// step in 80 ms plus 50 ms settling, 50 ms exposures, 200 ms downloads),
/// photos to a local folder; on `broker` when given.
const BENCH_SHOTS: u32 = 36;

fn bench_rigs(names: &[String], broker: Option<&Broker>) -> Vec<(Rig, Running)> {
    let timings = "[web]\nlisten = \"\"\n[daemon]\nprofile = \"bench\"\n\
        [camera.sim]\nexpose_ms = 50\ndownload_ms = 200\n\
        [turntable.sim]\nmax_speed_dps = 1000.0\naccel_dps2 = 6250.0\nhome_ms = 0\n";
    names
        .iter()
        .map(|n| {
            let rig = match broker {
                Some(broker) => rig_on(broker, n, timings),
                None => Rig::with(timings),
            };
            rig.profile("bench", &ring_profile(BENCH_SHOTS, 50));
            let running = daemon(&rig);
            (rig, running)
        })
        .collect()
}

/// Each rig's efficiency, `scanrig bench`'s bound without its last upload
/// (here a local folder), 36 × (max(130, 200) + 50) ms, over the scan's
/// wall time from its start to its retirement (scans.jsonl); sorted.
fn bench_efficiency(rigs: &[(Rig, Running)]) -> Vec<f64> {
    let bound = f64::from(BENCH_SHOTS) * 250.0;
    let mut out: Vec<f64> = rigs
        .iter()
        .map(|(rig, _)| {
            let scan = rig.only_scan();
            assert_complete(
                &rig.delivered(&scan),
                &plan("bench", &rings_of(&ring_profile(BENCH_SHOTS, 50))),
            );
            let s = rig.retired(&scan).expect("retired");
            let wall = s["retired_at"].as_u64().unwrap() - s["started_at"].as_u64().unwrap();
            bound / wall as f64
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// The benchmark of BENCHMARKS.md, "A studio of rigs": 20 simulated rigs
/// (processes; `BENCH_RIGS` sets another number) on one broker, started by
/// one `scanrig fleet start`; then the same rigs without MQTT, started
/// together by SIGUSR1 (the Start button), for their efficiency alone.
#[test]
#[ignore = "benchmark: cargo test --release --test mqtt bench -- --ignored --nocapture"]
fn bench_twenty_rigs_on_one_broker() {
    let count: usize = std::env::var("BENCH_RIGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let names: Vec<String> = (0..count).map(|n| format!("rig-{n:02}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let broker = Broker::start(&name_refs).expect("mosquitto");
    let rigs = bench_rigs(&names, Some(&broker));
    for n in &names {
        online(&broker, n);
    }
    let watch = broker.client(VIEWER, &["scanrig/+/events", "scanrig/+/status"]);
    let all = names.join(",");
    let t0 = common::unix_ms();
    let (code, out) = fleet(
        &broker,
        &rigs[0].0,
        &["start", "--profile", "bench", "--rigs", &all],
    );
    assert_eq!(code, 0, "{out}");
    let answered = common::unix_ms() - t0;

    /// A rig as the events tell it.
    #[derive(Default)]
    struct Told {
        started: Option<u64>,
        first_photo: Option<u64>,
        /// The event time of a change of state not yet seen in a status,
        /// and how to know the status that shows it.
        change: Option<(u64, Shows)>,
        done: bool,
    }
    let mut told: std::collections::BTreeMap<String, Told> = Default::default();
    let mut latencies = Vec::new();
    watch.wait(
        "every rig finished and its status seen",
        Duration::from_secs(120),
        |m| {
            let now = common::unix_ms();
            let rig = m.topic.split('/').nth(1).unwrap().to_owned();
            let t = told.entry(rig).or_default();
            let v = m.json();
            if m.topic.ends_with("/events") {
                let at = v["time_ms"].as_u64().unwrap();
                match v["event"].as_str().unwrap() {
                    "started" => {
                        t.started = Some(at);
                        t.change = Some((at, |s| s["state"] == "scanning"));
                    }
                    "photo" if t.first_photo.is_none() => t.first_photo = Some(at),
                    "finished" => t.change = Some((at, |s| !s["scan"]["outcome"].is_null())),
                    _ => {}
                }
            } else if let Some((at, shows)) = t.change {
                if shows(&v) {
                    latencies.push(now.saturating_sub(at));
                    t.change = None;
                    t.done |= !v["scan"]["outcome"].is_null();
                }
            }
            told.values().filter(|t| t.done).count() == count
        },
    );
    let efficiency = bench_efficiency(&rigs);
    let mut first: Vec<u64> = told.values().map(|t| t.first_photo.unwrap() - t0).collect();
    let mut started: Vec<u64> = told.values().map(|t| t.started.unwrap() - t0).collect();
    first.sort();
    started.sort();
    latencies.sort();
    drop(rigs);

    // The same rigs without MQTT.
    let mut alone = bench_rigs(&names, None);
    for (_, running) in &mut alone {
        running.wait_for_stderr("ready; press Start", DEADLINE);
        running.signal(libc::SIGUSR1);
    }
    for (rig, running) in &alone {
        common::wait_for("the scan retired", Duration::from_secs(120), || {
            rig.known_scans().first().is_some_and(|s| rig.is_retired(s))
        });
        let _ = running;
    }
    let baseline = bench_efficiency(&alone);

    let stats = |v: &[u64]| {
        format!(
            "min {} p50 {} p99 {} max {} ms",
            v[0],
            percentile(v, 50),
            percentile(v, 99),
            v[v.len() - 1]
        )
    };
    println!("{count} rigs, {BENCH_SHOTS} shots each; `scanrig fleet start --rigs …` answered by all in {answered} ms");
    println!(
        "scan started, from the fleet command: {} (skew {} ms)",
        stats(&started),
        started[count - 1] - started[0]
    );
    println!(
        "first photo, from the fleet command: {} (skew {} ms)",
        stats(&first),
        first[count - 1] - first[0]
    );
    println!(
        "status latency, change of state to subscriber ({} changes): {}",
        latencies.len(),
        stats(&latencies)
    );
    let spread = |e: &[f64]| {
        format!(
            "min {:.3} median {:.3} max {:.3}",
            e[0],
            e[e.len() / 2],
            e[e.len() - 1]
        )
    };
    println!("efficiency with MQTT:    {}", spread(&efficiency));
    println!("efficiency without MQTT: {}", spread(&baseline));
}
