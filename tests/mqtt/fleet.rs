//! `scanrig fleet`: starting, watching, asking and forgetting rigs on one
//! broker.

use std::time::Duration;

use crate::common::broker::{Broker, STUDIO, VIEWER};
use crate::common::{self, Rig, Running, DEADLINE};
use crate::{assert_six_delivered, daemon, fleet, fleet_as, online, rig_on, studio_config};
use serde_json::Value;

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
