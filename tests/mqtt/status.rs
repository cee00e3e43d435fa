//! A rig's retained status and availability, its last will, and the photos
//! it reports waiting.

use crate::common::broker::{Broker, VIEWER};
use crate::common::DEADLINE;
use crate::{assert_six_delivered, daemon, fleet, online, rig_on, status};
use serde_json::Value;

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
