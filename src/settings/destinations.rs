//! `[[destinations]]`: several destinations every photo of a scan goes to,
//! each named; the problems of one destination's settings, under the key
//! it is set at.

use std::collections::BTreeSet;

use super::{
    drive_problems, s3_problems, sftp_problems, webdav_problems, Destination, DestinationKind,
    Settings,
};

/// The destinations new scans go to, each with its name: those of
/// `[[destinations]]`, or `[destination]` alone (named `None`).
pub fn configured(s: &Settings) -> Vec<(Option<&str>, &Destination)> {
    if s.destinations.is_empty() {
        return vec![(None, &s.destination)];
    }
    s.destinations
        .iter()
        .map(|d| (Some(d.name.as_str()), d))
        .collect()
}

/// Problems with `[[destinations]]` (each named once, with a name fit
/// for journals and listings) and with each destination's own settings,
/// keyed as a person finds them (`destinations[2].s3.bucket`, numbered
/// from 1), or with `[destination]`'s when there is no list.
pub fn destinations_problems(s: &Settings) -> Vec<(String, String)> {
    if s.destinations.is_empty() {
        return destination_problems(&s.destination, "destination");
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, d) in (1..).zip(&s.destinations) {
        let key = format!("destinations[{i}]");
        let name = &d.name;
        let fit = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !fit {
            out.push((
                format!("{key}.name"),
                format!("{name:?} is not a destination's name: give each destination a name of 1 to 32 letters, digits, - or _ (like \"nas\" or \"offsite\")"),
            ));
        } else if !seen.insert(name.to_lowercase()) {
            out.push((
                format!("{key}.name"),
                format!("{name:?} names two destinations (names are told apart regardless of case); give each its own name"),
            ));
        }
        if let Some(first) = (1..)
            .zip(&s.destinations)
            .take(i - 1)
            .find_map(|(j, e)| (where_to(e) == where_to(d)).then_some(j))
        {
            out.push((
                key.clone(),
                format!("sends to the same place as destinations[{first}]; a photo goes to each destination once, so list each place once"),
            ));
        }
        out.extend(destination_problems(d, &key));
    }
    out
}

/// Where a destination's photos go, to tell two at one place.
fn where_to(d: &Destination) -> (DestinationKind, String) {
    let at = match d.kind {
        DestinationKind::Local => d.local.dir.display().to_string(),
        DestinationKind::Drive => format!("{} {}", d.drive.folder_id, d.drive.folder),
        DestinationKind::S3 => format!("{} {} {}", d.s3.endpoint, d.s3.bucket, d.s3.prefix),
        DestinationKind::Webdav => d.webdav.url.clone(),
        DestinationKind::Sftp => format!("{}:{} {}", d.sftp.host, d.sftp.port, d.sftp.dir),
    };
    (d.kind, at)
}

/// Problems with one destination's settings, under `prefix`.
fn destination_problems(d: &Destination, prefix: &str) -> Vec<(String, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    if d.local.dir.as_os_str().is_empty() {
        out.push((
            "destination.local.dir",
            "is empty; give a folder for the photos".into(),
        ));
    }
    out.extend(drive_problems(&d.drive, d.kind == DestinationKind::Drive));
    out.extend(s3_problems(&d.s3, d.kind == DestinationKind::S3));
    out.extend(webdav_problems(
        &d.webdav,
        d.kind == DestinationKind::Webdav,
    ));
    out.extend(sftp_problems(&d.sftp, d.kind == DestinationKind::Sftp));
    // Keys named in the reasons too: `destinations[2].s3.credentials_file`.
    let tables = ["local", "drive", "s3", "webdav", "sftp"];
    out.into_iter()
        .map(|(key, reason)| {
            let rest = key.strip_prefix("destination").unwrap_or(key);
            let reason = tables.iter().fold(reason, |reason, t| {
                reason.replace(&format!("destination.{t}."), &format!("{prefix}.{t}."))
            });
            (format!("{prefix}{rest}"), reason)
        })
        .collect()
}
