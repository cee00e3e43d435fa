//! What `scanrig uploads` and `scanrig scans` print: the spool's scans as
//! a table (or JSON, the same rows the web API gives).

use crate::scans::{scan_row, SpoolState};

/// `scanrig scans`: every scan in the spool, newest first.
pub fn scans(state: &SpoolState, json: bool) {
    if json {
        let rows: Vec<_> = state.scans.iter().rev().map(scan_row).collect();
        println!("{}", serde_json::Value::Array(rows));
        return;
    }
    println!(
        "{:<36} {:<12} {:>7} {:>8} {:>8} {:>7}  destination",
        "scan", "state", "planned", "captured", "uploaded", "waiting"
    );
    for scan in state.scans.iter().rev() {
        let row = scan_row(scan);
        println!(
            "{:<36} {:<12} {:>7} {:>8} {:>8} {:>7}  {}",
            scan.id().as_str(),
            row["state"].as_str().unwrap_or(""),
            scan.plan.shots.len(),
            scan.captured.len(),
            scan.uploaded.len(),
            scan.pending_uploads().len(),
            row["destination"].as_str().unwrap_or("")
        );
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
