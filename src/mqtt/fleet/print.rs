//! What `scanrig fleet` prints: the rigs' status as a table, the answers
//! to a command, events in words.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::RigView;

/// One event in words.
pub(super) fn event_line(rig: &str, text: &str) -> String {
    let Ok(e) = serde_json::from_str::<Value>(text) else {
        return format!("{rig:<16} {text}");
    };
    let d = &e["data"];
    let what = match e["event"].as_str().unwrap_or("?") {
        "photo" => format!(
            "captured shot {} ({})",
            d["shot"],
            d["name"].as_str().unwrap_or("")
        ),
        "uploaded" => format!("uploaded shot {}", d["shot"]),
        "started" => format!(
            "scan {} started, {} shots",
            d["scan"].as_str().unwrap_or(""),
            d["planned"]
        ),
        "paused" => format!("paused: {}", d["reason"].as_str().unwrap_or("")),
        "finished" => format!(
            "scan {} {}: {} captured, {} uploaded",
            d["scan"].as_str().unwrap_or(""),
            d["outcome"].as_str().unwrap_or("paused"),
            d["captured"],
            d["uploaded"]
        ),
        other => format!("{other} {d}"),
    };
    format!("{rig:<16} {what}")
}

pub(super) fn print_status(rigs: &BTreeMap<String, RigView>, json: bool) {
    if json {
        let all: serde_json::Map<String, Value> = rigs
            .iter()
            .map(|(name, v)| {
                (
                    name.clone(),
                    json!({"availability": v.availability, "status": v.status, "profile": v.profile}),
                )
            })
            .collect();
        println!("{}", Value::Object(all));
        return;
    }
    if rigs.is_empty() {
        println!("no rigs on this broker");
        return;
    }
    println!(
        "{:<16} {:<8} {:<10} {:<26} {:>9} {:>8} {:>7}  LAST FAULT",
        "RIG", "ONLINE", "STATE", "SCAN", "CAPTURED", "UPLOADED", "WAITING"
    );
    for (name, v) in rigs {
        let s = v.status.clone().unwrap_or(Value::Null);
        let scan = &s["scan"];
        let count = |k: &str| scan[k].as_u64().map_or("-".into(), |n| n.to_string());
        println!(
            "{:<16} {:<8} {:<10} {:<26} {:>9} {:>8} {:>7}  {}",
            name,
            v.availability.as_deref().unwrap_or("?"),
            s["state"].as_str().unwrap_or("?"),
            scan["id"].as_str().unwrap_or("-"),
            format!("{}/{}", count("captured"), count("planned")),
            count("uploaded"),
            s["backlog"].as_u64().map_or("-".into(), |n| n.to_string()),
            s["last_error"]["message"].as_str().unwrap_or("-"),
        );
    }
}

pub(super) fn print_answers(answers: &BTreeMap<String, Value>, json: bool) {
    if json {
        println!("{}", json!(answers));
        return;
    }
    for (rig, a) in answers {
        let words = if a["ok"] == true {
            match a["scan"].as_str() {
                Some(scan) => format!("started scan {scan}"),
                None => "done".into(),
            }
        } else {
            format!(
                "refused ({}): {}",
                a["code"].as_str().unwrap_or("?"),
                a["error"].as_str().unwrap_or("")
            )
        };
        println!("{rig:<16} {words}");
    }
}
