//! Home Assistant MQTT discovery: the rig as a device with sensors (state,
//! progress, photos waiting, last fault, the Pi's temperature and free
//! space), binary sensors (under-voltage, throttled), buttons (Start, Pause, Stop), a
//! profile select and its lights (with brightness when dimmable), each announced by a retained config message under
//! `<discovery_prefix>/<component>/<node>/<object>/config`
//! (<https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery>).
//! An empty retained message on the same topic removes the entity.

use serde_json::{json, Value};

use super::Topics;
use crate::settings::LightEntry;

/// One entity: its component, object id, and its own fields.
struct Entity {
    component: &'static str,
    object: String,
    fields: Value,
}

/// The node id HA files the rig under (letters, digits, `_`, `-`).
fn node(rig: &str) -> String {
    let rig: String = rig
        .chars()
        .map(|c| if c == '.' { '_' } else { c })
        .collect();
    format!("scanrig_{rig}")
}

/// What every command from Home Assistant carries, made by HA's template
/// at each press: an id of its own (the time in ms and a random number;
/// HA's templates allow a range of at most 100000) and when it was sent,
/// so that it is carried out once and not once it is stale, like a
/// command from `scanrig fleet`.
const STAMP: &str = r#""id": "ha-{{ (now().timestamp() * 1000) | int }}-{{ range(100000) | random }}", "sent_ms": {{ (now().timestamp() * 1000) | int }}"#;

/// Longest state HA keeps (a longer one becomes `unknown`).
const STATE_MAX: usize = 255;

fn entities(topics: &Topics) -> Vec<Entity> {
    let cmd = topics.cmd();
    let button = |object: &str, name: &str, command: &str, icon: &str| Entity {
        component: "button",
        object: object.into(),
        fields: json!({"name": name, "command_topic": cmd, "payload_press": command,
            "command_template": format!("{{{STAMP}, \"command\": {{{{ value | tojson }}}}}}"),
            "qos": 1, "icon": icon}),
    };
    let sensor = |object: &str, name: &str, template: &str, extra: Value| {
        let mut fields = json!({"name": name, "state_topic": topics.status(),
            "value_template": template});
        if let (Value::Object(f), Value::Object(e)) = (&mut fields, extra) {
            f.extend(e);
        }
        Entity {
            component: "sensor",
            object: object.into(),
            fields,
        }
    };
    // A flag of the Pi's health: on, off, or unknown.
    let flag = |object: &str, name: &str, key: &str, class: &str| Entity {
        component: "binary_sensor",
        object: object.into(),
        fields: json!({"name": name, "state_topic": topics.status(),
            "value_template": format!("{{% set h = value_json.health %}}{{{{ 'unknown' if not h or h.{key} is none else ('ON' if h.{key} else 'OFF') }}}}"),
            "device_class": class, "entity_category": "diagnostic"}),
    };
    vec![
        sensor(
            "state",
            "State",
            "{{ value_json.state }}",
            json!({"icon": "mdi:rotate-3d-variant"}),
        ),
        sensor(
            "progress",
            "Progress",
            "{% set s = value_json.scan %}{{ ((s.captured * 100) / s.planned) | round(0) if s and s.planned else 0 }}",
            json!({"unit_of_measurement": "%", "state_class": "measurement", "icon": "mdi:progress-check"}),
        ),
        sensor(
            "backlog",
            "Photos waiting",
            "{{ value_json.backlog }}",
            json!({"unit_of_measurement": "photos", "state_class": "measurement", "icon": "mdi:cloud-upload"}),
        ),
        sensor(
            "flagged",
            "Photos flagged",
            "{{ value_json.scan.flagged if value_json.scan else 0 }}",
            json!({"unit_of_measurement": "photos", "state_class": "measurement", "icon": "mdi:image-broken-variant"}),
        ),
        // The state cut to what HA keeps; the whole fault in attributes.
        sensor(
            "last_fault",
            "Last fault",
            &format!("{{{{ value_json.last_error.message | truncate({STATE_MAX}, true, '…', 0) if value_json.last_error else 'none' }}}}"),
            json!({"icon": "mdi:alert-circle-outline", "entity_category": "diagnostic",
                "json_attributes_topic": topics.status(),
                "json_attributes_template": "{{ (value_json.last_error or {}) | tojson }}"}),
        ),
        // The Pi's own health (null: unknown on this machine).
        sensor(
            "cpu_temp",
            "CPU temperature",
            "{{ value_json.health.cpu_temp_c if value_json.health and value_json.health.cpu_temp_c is not none else 'unknown' }}",
            json!({"unit_of_measurement": "°C", "device_class": "temperature", "state_class": "measurement", "entity_category": "diagnostic"}),
        ),
        sensor(
            "spool_free",
            "Spool free space",
            "{{ value_json.health.spool_free_mb if value_json.health and value_json.health.spool_free_mb is not none else 'unknown' }}",
            json!({"unit_of_measurement": "MB", "device_class": "data_size", "state_class": "measurement", "entity_category": "diagnostic"}),
        ),
        flag("under_voltage", "Under-voltage", "under_voltage", "voltage"),
        flag("throttled", "Throttled", "throttled", "problem"),
        button("start", "Start", "start", "mdi:play"),
        button("pause", "Pause", "pause", "mdi:pause"),
        button("stop", "Stop", "stop", "mdi:stop"),
    ]
}

/// A light of the rig, on and off (and dimmed, when it is dimmable)
/// through the rig's commands; its state from the status's `lights`.
fn light(topics: &Topics, light: &LightEntry) -> Entity {
    let name = &light.name;
    let command = |brightness: &str| {
        format!("{{{STAMP}, \"command\": \"light\", \"light\": \"{name}\", \"brightness\": {brightness}}}")
    };
    let level = format!(
        "(value_json.lights | default([]) | selectattr('name', 'eq', '{name}') | map(attribute='brightness') | first | default(0))"
    );
    let mut fields = json!({"name": format!("Light {name}"), "schema": "template",
        "command_topic": topics.cmd(), "command_off_template": command("0"),
        "state_topic": topics.status(),
        "state_template": format!("{{{{ 'on' if {level} > 0 else 'off' }}}}"),
        "qos": 1, "icon": "mdi:lightbulb"});
    if light.pwm_hz > 0 {
        // HA's brightness is 1 to 255; the rig's, percent.
        fields["command_on_template"] =
            command("{{ [1, ((brightness | default(255)) * 100 / 255) | round | int] | max }}")
                .into();
        fields["brightness_template"] =
            format!("{{{{ ({level} * 255 / 100) | round | int }}}}").into();
    } else {
        fields["command_on_template"] = command("100").into();
    }
    Entity {
        component: "light",
        object: format!("light_{name}"),
        fields,
    }
}

/// The config topics and payloads announcing the rig, `profiles` being
/// the select's choices, with each of its `lights`.
pub(super) fn announce(
    topics: &Topics,
    discovery_prefix: &str,
    profiles: &[String],
    lights: &[LightEntry],
) -> Vec<(String, Value)> {
    let node = node(&topics.rig);
    let device = json!({
        "identifiers": [node],
        "name": format!("scanrig {}", topics.rig),
        "manufacturer": "scanrig",
        "model": "photogrammetry rig",
        "sw_version": env!("CARGO_PKG_VERSION"),
    });
    let mut all = entities(topics);
    all.push(Entity {
        component: "select",
        object: "profile".into(),
        fields: json!({"name": "Profile", "command_topic": topics.cmd(),
            "command_template": format!("{{{STAMP}, \"command\": \"select\", \"profile\": {{{{ value | tojson }}}}}}"),
            "state_topic": topics.profile(), "options": profiles, "qos": 1,
            "icon": "mdi:format-list-bulleted"}),
    });
    all.extend(lights.iter().map(|l| light(topics, l)));
    all.into_iter()
        .map(|e| {
            let id = format!("{node}_{}", e.object);
            let mut payload = json!({
                "default_entity_id": format!("{}.{}", e.component, slug(&id)),
                "unique_id": id,
                "device": device,
                "availability_topic": topics.availability(),
                "payload_available": "online",
                "payload_not_available": "offline",
            });
            if let (Value::Object(p), Value::Object(f)) = (&mut payload, e.fields) {
                p.extend(f);
            }
            (
                config_topic(discovery_prefix, e.component, &node, &e.object),
                payload,
            )
        })
        .collect()
}

/// The config topics of every entity the rig may have announced (with
/// `lights`): an empty retained message on each removes it from HA.
pub(super) fn withdraw(
    topics: &Topics,
    discovery_prefix: &str,
    lights: &[LightEntry],
) -> Vec<String> {
    announce(topics, discovery_prefix, &[], lights)
        .into_iter()
        .map(|(topic, _)| topic)
        .collect()
}

/// The topic filter of every config topic of the rig.
pub(super) fn subscription(topics: &Topics, discovery_prefix: &str) -> String {
    config_topic(discovery_prefix, "+", &node(&topics.rig), "+")
}

/// `text` as HA writes an entity id's object part: lower-case letters,
/// digits and single `_` between them.
fn slug(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn config_topic(prefix: &str, component: &str, node: &str, object: &str) -> String {
    format!("{prefix}/{component}/{node}/{object}/config")
}
