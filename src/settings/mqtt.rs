//! `[mqtt]`: joining a studio's MQTT broker, and its checks.

use std::path::PathBuf;

use google_drive3::hyper::Uri;
use serde::{Deserialize, Serialize};

/// `[mqtt]` (off while `broker` is empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mqtt {
    /// The broker: `mqtt://host[:port]` or `mqtts://host[:port]`; empty: off.
    pub broker: String,
    /// The CA certificates (PEM) an `mqtts://` broker's certificate is
    /// checked against; unset: the system's.
    pub ca_file: Option<PathBuf>,
    /// The rig's name in topics; empty: the host name.
    pub rig: String,
    /// The user name given to the broker; empty: none.
    pub username: String,
    /// A file holding the password (mode 0600; never logged).
    pub password_file: Option<PathBuf>,
    /// Seconds between keep-alive pings.
    pub keep_alive_s: u64,
    /// The first part of every topic.
    pub prefix: String,
    /// Announce the rig to Home Assistant (MQTT discovery).
    pub discovery: bool,
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
    /// Shortest time between two status messages, milliseconds; a change
    /// of state goes out at once, and the latest status always goes out.
    pub status_interval_ms: u64,
    /// Commands older than this (by their `sent_ms`) are refused, seconds:
    /// a command queued for a rig that was away is not carried out later.
    pub command_max_age_s: u64,
}

impl Default for Mqtt {
    fn default() -> Self {
        Mqtt {
            broker: String::new(),
            ca_file: None,
            rig: String::new(),
            username: String::new(),
            password_file: None,
            keep_alive_s: 30,
            prefix: "scanrig".into(),
            discovery: false,
            discovery_prefix: "homeassistant".into(),
            status_interval_ms: 250,
            command_max_age_s: 60,
        }
    }
}

/// Where the broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddr {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `mqtts://`: TLS.
    pub tls: bool,
}

impl Mqtt {
    /// Whether the rig joins a broker.
    pub fn enabled(&self) -> bool {
        !self.broker.is_empty()
    }

    /// The broker's address, or what is wrong with `broker`.
    pub fn broker_addr(&self) -> Result<BrokerAddr, String> {
        let wrong = || {
            format!(
                "`{}` is not a broker address; write it as mqtt://host:1883 or mqtts://host:8883",
                self.broker
            )
        };
        let uri: Uri = self.broker.parse().map_err(|_| wrong())?;
        let tls = match uri.scheme_str() {
            Some("mqtt") => false,
            Some("mqtts") => true,
            _ => return Err(wrong()),
        };
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(wrong());
        }
        let authority = uri.authority().map_or("", |a| a.as_str());
        if authority.contains('@') {
            return Err("holds a user name or password, which would be shown in logs; write the broker as mqtt://host:1883, the user in mqtt.username and the password in mqtt.password_file".into());
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(wrong)?;
        // The port as written (hyper reads one past 65535 as none at all).
        let port = match authority.rsplit_once(':').filter(|(_, p)| !p.contains(']')) {
            Some((_, port)) => match port.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    return Err(format!(
                        "`{port}` is not a port of `{}`; give a port from 1 to 65535 (1883 for mqtt://, 8883 for mqtts://)",
                        self.broker
                    ))
                }
            },
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
        };
        Ok(BrokerAddr {
            host: host.trim_start_matches('[').trim_end_matches(']').into(),
            port,
            tls,
        })
    }

    /// The broker's password, read from `password_file` as
    /// [`crate::secret::read`] reads it (only its owner may read the file,
    /// the password is not empty); `None` without a password file.
    pub fn password(&self) -> Result<Option<String>, String> {
        let Some(path) = &self.password_file else {
            return Ok(None);
        };
        let secret = crate::secret::read(path).map_err(|e| e.to_string())?;
        String::from_utf8(secret).map(Some).map_err(|_| {
            format!(
                "{} is not UTF-8 text; write the password as text",
                path.display()
            )
        })
    }

    /// The rig's name: `rig`, or else this machine's host name made fit
    /// for a topic.
    pub fn rig_name(&self) -> String {
        if !self.rig.is_empty() {
            return self.rig.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let name: String = host
            .trim()
            .chars()
            .map(|c| if name_char(c) { c } else { '-' })
            .collect();
        if name.is_empty() {
            "rig".into()
        } else {
            name
        }
    }
}

/// A character a rig's name or a topic prefix may hold.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Whether `s` is a rig name (a single topic level of letters, digits,
/// `-`, `_`, `.`).
pub fn valid_rig_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(name_char)
}

/// What is wrong with `[mqtt]`: (key, reason) pairs. Nothing is checked
/// while it is off.
pub fn mqtt_problems(m: &Mqtt) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !m.enabled() {
        return out;
    }
    let addr = m.broker_addr();
    if let Err(e) = &addr {
        out.push(("mqtt.broker", e.clone()));
    }
    if m.ca_file.is_some() && addr.as_ref().is_ok_and(|a| !a.tls) {
        out.push((
            "mqtt.ca_file",
            "is only used with an mqtts:// broker; write the broker as mqtts://host:8883, or remove ca_file".into(),
        ));
    }
    if !m.rig.is_empty() && !valid_rig_name(&m.rig) {
        out.push((
            "mqtt.rig",
            format!(
                "`{}` cannot name a rig in a topic: use up to 64 letters, digits, `-`, `_` or `.`",
                m.rig
            ),
        ));
    }
    let levels = |s: &str| !s.is_empty() && s.split('/').all(valid_rig_name);
    for (key, value) in [
        ("mqtt.prefix", &m.prefix),
        ("mqtt.discovery_prefix", &m.discovery_prefix),
    ] {
        if !levels(value) {
            out.push((
                key,
                format!("`{value}` is not a topic prefix: use letters, digits, `-`, `_`, `.`, levels parted by `/`"),
            ));
        }
    }
    if let Err(e) = m.password() {
        out.push(("mqtt.password_file", e));
    }
    if let (Some(path), Ok(BrokerAddr { tls: true, .. })) = (&m.ca_file, &addr) {
        if let Err(e) = std::fs::File::open(path) {
            out.push((
                "mqtt.ca_file",
                format!(
                    "cannot read {}: {e}; give the broker's CA certificates (PEM), or remove ca_file to use the system's",
                    path.display()
                ),
            ));
        }
    }
    if m.password_file.is_some() && m.username.is_empty() {
        out.push((
            "mqtt.username",
            "a password file is given but no user name; set mqtt.username".into(),
        ));
    }
    if !(5..=3600).contains(&m.keep_alive_s) {
        out.push((
            "mqtt.keep_alive_s",
            format!("must be 5 to 3600 seconds, found {}", m.keep_alive_s),
        ));
    }
    if m.status_interval_ms > 60_000 {
        out.push((
            "mqtt.status_interval_ms",
            format!(
                "must be 0 to 60000 milliseconds, found {}",
                m.status_interval_ms
            ),
        ));
    }
    if !(1..=86_400).contains(&m.command_max_age_s) {
        out.push((
            "mqtt.command_max_age_s",
            format!("must be 1 to 86400 seconds, found {}", m.command_max_age_s),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_addresses_are_read_or_refused_with_the_form_to_use() {
        let m = |broker: &str| Mqtt {
            broker: broker.into(),
            ..Mqtt::default()
        };
        let addr = |host: &str, port, tls| BrokerAddr {
            host: host.into(),
            port,
            tls,
        };
        assert_eq!(
            m("mqtt://studio.local").broker_addr(),
            Ok(addr("studio.local", 1883, false))
        );
        assert_eq!(
            m("mqtts://10.0.0.2:9000").broker_addr(),
            Ok(addr("10.0.0.2", 9000, true))
        );
        assert_eq!(
            m("mqtt://[::1]:1884/").broker_addr(),
            Ok(addr("::1", 1884, false))
        );
        for bad in ["studio.local:1883", "http://x", "mqtt://", "mqtt://h/topic"] {
            let e = m(bad).broker_addr().unwrap_err();
            assert!(e.contains("mqtt://host:1883"), "{bad}: {e}");
        }
        for bad in ["mqtt://h:99999", "mqtt://h:0", "mqtts://[::1]:65536"] {
            let e = m(bad).broker_addr().unwrap_err();
            assert!(e.contains("1 to 65535"), "{bad}: {e}");
        }
        let e = m("mqtt://u:secret@h").broker_addr().unwrap_err();
        assert!(
            e.contains("mqtt.password_file") && !e.contains("secret"),
            "{e}"
        );
        assert!(mqtt_problems(&Mqtt::default()).is_empty(), "off: no checks");
        let wrong = Mqtt {
            broker: "mqtt://h".into(),
            rig: "a/b".into(),
            prefix: "x/#".into(),
            password_file: Some("/p".into()),
            keep_alive_s: 1,
            ca_file: Some("/ca.pem".into()),
            ..Mqtt::default()
        };
        let keys: Vec<_> = mqtt_problems(&wrong).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "mqtt.ca_file",
                "mqtt.rig",
                "mqtt.prefix",
                "mqtt.password_file",
                "mqtt.username",
                "mqtt.keep_alive_s"
            ]
        );
    }

    #[test]
    fn a_host_name_becomes_a_rig_name() {
        let name = Mqtt::default().rig_name();
        assert!(valid_rig_name(&name), "{name}");
    }
}
