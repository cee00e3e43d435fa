//! What the broker's ACL and the rig's password file let through.

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::broker::{Broker, STUDIO, VIEWER};
use crate::common::DEADLINE;
use crate::{daemon, online, rig_on};

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
