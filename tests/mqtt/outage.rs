//! A broker that restarts, dies mid-scan or is down when the rig starts:
//! commands carried out once, no photo lost, the status right afterwards.

use std::time::Duration;

use crate::common::broker::{Broker, STUDIO, VIEWER};
use crate::common::{self, assert_complete, plan, ring_profile, rings_of, DEADLINE};
use crate::{assert_six_delivered, daemon, fleet, online, rig_on, status};
use serde_json::Value;

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
