//! What Home Assistant's MQTT discovery requires of a config message, and
//! how Home Assistant renders the templates in them.

use crate::common::broker::Message;
use serde_json::Value;

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
pub(super) fn ha_render(template: &str, value: &str) -> String {
    ha_render_with(template, value, &serde_json::json!({}))
}

/// [`ha_render`], with the variables `vars` beside `value` (a light's
/// command templates get `brightness`).
pub(super) fn ha_render_with(template: &str, value: &str, vars: &Value) -> String {
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
pub(super) fn config_of(configs: &[Message], component: &str, object: &str) -> Value {
    let topic = format!("homeassistant/{component}/scanrig_rig-a/{object}/config");
    configs
        .iter()
        .find(|m| m.topic == topic)
        .unwrap_or_else(|| panic!("no {topic}"))
        .json()
}

/// What HA sends when `button` is pressed.
pub(super) fn press(button: &Value) -> String {
    ha_render(
        button["command_template"]
            .as_str()
            .expect("a command_template"),
        button["payload_press"].as_str().expect("a payload_press"),
    )
}

/// Checks a discovery message against [`HA_SCHEMA`]; `[a-zA-Z0-9_-]` ids
/// in the topic as HA's discovery topic format asks.
pub(super) fn check_discovery(topic: &str, config: &Value) -> &'static str {
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
