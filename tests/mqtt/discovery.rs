//! Home Assistant's discovery of a rig: its sensors, buttons, profile
//! select and lights, and the commands they send.

use std::time::Duration;

use crate::common::broker::{Broker, Message, STUDIO};
use crate::common::{self, ring_profile, Rig, DEADLINE};
use crate::home_assistant::{check_discovery, config_of, ha_render, ha_render_with, press};
use crate::{assert_six_delivered, daemon, online, rig_on, status};
use serde_json::Value;

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
