//! What `scanrig uploads` and `scanrig scans` print: the spool's scans as
//! a table (or JSON, the same rows the web API gives).

use scanrig_actors::history::{History, Retention};

use crate::scans::SpoolState;

/// `scanrig scans`: every scan the spool knows, newest first: those
/// being taken or with photos to send, and the retired ones.
pub fn scans(state: &SpoolState, history: &History, retention: &Retention, json: bool) {
    let rows = state.rows(history, retention);
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return;
    }
    println!(
        "{:<36} {:<12} {:>7} {:>8} {:>8} {:>7} {:>7}  destination",
        "scan", "state", "planned", "captured", "uploaded", "waiting", "missing"
    );
    for row in &rows {
        let text = |key: &str| row[key].as_str().unwrap_or("").to_owned();
        let count = |key: &str| row[key].as_u64().unwrap_or(0);
        let state = match row["retired"].as_bool() {
            Some(true) => format!("{} ✓", text("state")),
            _ if count("on_card") > 0 => format!("{} on card", count("on_card")),
            _ => text("state"),
        };
        println!(
            "{:<36} {:<12} {:>7} {:>8} {:>8} {:>7} {:>7}  {}",
            text("id"),
            state,
            count("planned"),
            count("captured"),
            count("uploaded"),
            count("waiting"),
            count("missing"),
            text("destination")
        );
        for to in row["destinations"].as_array().into_iter().flatten() {
            println!(
                "  to {} ({}): {} waiting",
                to["name"].as_str().unwrap_or(""),
                to["place"].as_str().unwrap_or(""),
                to["waiting"]
            );
        }
    }
    if rows.iter().any(|r| r["retired"] == true) {
        println!("✓ retired: every photo and the manifest are at the destination; the spool keeps only this line");
    }
    for e in &state.unreadable {
        println!("unreadable: {e}");
    }
}

/// `scanrig uploads`: what waits, by scan, and why.
pub fn uploads(state: &SpoolState) {
    println!(
        "{:<36} {:<12} {:>7} {:>8} {:>8} {:>7} {:>6}  manifest",
        "scan", "state", "planned", "captured", "uploaded", "waiting", "failed"
    );
    for scan in &state.scans {
        let status = match scan.finished {
            Some(outcome) => format!("{outcome:?}").to_lowercase(),
            None => "interrupted".into(),
        };
        println!(
            "{:<36} {:<12} {:>7} {:>8} {:>8} {:>7} {:>6}  {}",
            scan.id().as_str(),
            status,
            scan.plan.shots.len(),
            scan.captured.len(),
            scan.uploaded.len(),
            scan.pending_uploads().len(),
            scan.failed.len(),
            if scan.manifest.is_some() { "sent" } else { "-" }
        );
        for to in crate::scans::each_destination(scan) {
            println!(
                "  to {} ({}): {} waiting, manifest {}",
                to["name"].as_str().unwrap_or(""),
                to["place"].as_str().unwrap_or(""),
                to["waiting"],
                if to["manifest_sent"] == true {
                    "sent"
                } else {
                    "-"
                }
            );
        }
        if let Some((shot, error)) = scan.failed.iter().next_back() {
            println!("  last failure (shot {}): {error}", shot.0);
        }
        for line in &scan.skipped {
            println!("  journal damaged at {line}: repaired, and the damaged one kept aside, at the next start");
        }
        for (shot, error) in &scan.damaged {
            println!("  damaged, not sent (shot {}): {error}", shot.0);
        }
    }
    for e in &state.unreadable {
        println!("unreadable: {e}");
    }
}
