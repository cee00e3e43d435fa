//! The shots a profile plans: its rings, each shot with the file name it
//! must arrive as, and the RAW and pose-prior files written beside them.

use std::collections::BTreeSet;

/// One `[[rings]]` entry of a profile.
#[derive(Debug, Clone, Copy)]
pub struct Ring {
    /// Degrees.
    pub tilt: f64,
    /// Shots around the ring.
    pub shots: u32,
    /// Azimuth of the first shot, degrees.
    pub start: f64,
}

/// The rings of a profile's TOML text.
pub fn rings_of(profile: &str) -> Vec<Ring> {
    let table: toml::Table = profile.parse().expect("profile TOML");
    table["rings"]
        .as_array()
        .expect("rings")
        .iter()
        .map(|r| Ring {
            tilt: r["tilt"].as_float().expect("tilt"),
            shots: r["shots"].as_integer().expect("shots") as u32,
            start: r
                .get("start")
                .and_then(toml::Value::as_float)
                .unwrap_or(0.0),
        })
        .collect()
}

/// A one-ring profile of `shots` level shots and `settle_ms`.
pub fn ring_profile(shots: u32, settle_ms: u64) -> String {
    format!("settle_ms = {settle_ms}\n\n[[rings]]\ntilt = 0.0\nshots = {shots}\n")
}

/// A shot as the profile plans it and the file it must arrive as.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Number in the scan, from 1.
    pub shot: u32,
    /// Ring, from 1.
    pub ring: u32,
    /// Number within the ring, from 1.
    pub index: u32,
    /// Degrees, in [0, 360).
    pub azimuth: f64,
    /// Degrees.
    pub tilt: f64,
    /// `<prefix>_<shot>_r<ring>_az<azimuth>_t<tilt>.jpg`.
    pub name: String,
}

/// Every shot of a profile with `rings`, named with `prefix`, computed here
/// from the documented rules (evenly spaced from `start`; file names
/// `<prefix>_0003_r1_az090.0_t+15.0.jpg`).
pub fn plan(prefix: &str, rings: &[Ring]) -> Vec<Planned> {
    let mut out = Vec::new();
    for (r, ring) in rings.iter().enumerate() {
        for i in 0..ring.shots {
            let shot = out.len() as u32 + 1;
            let azimuth =
                (ring.start + f64::from(i) * 360.0 / f64::from(ring.shots)).rem_euclid(360.0);
            out.push(Planned {
                shot,
                ring: r as u32 + 1,
                index: i + 1,
                azimuth,
                tilt: ring.tilt,
                name: format!(
                    "{prefix}_{shot:04}_r{}_az{azimuth:05.1}_t{:+05.1}.jpg",
                    r + 1,
                    ring.tilt
                ),
            });
        }
    }
    out
}

/// The pose priors a scan of photos `names` writes in its folder (the
/// default `[export]`): the COLMAP folder, Metashape's CSV, and an XMP and
/// a JSON sidecar per photo.
pub fn prior_files(names: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["colmap", "metashape_reference.csv"]
        .map(String::from)
        .into();
    for name in names {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        out.insert(format!("{stem}.xmp"));
        out.insert(format!("{stem}.pose.json"));
    }
    out
}

/// The simulator's RAW file beside the JPEG `name`.
pub fn raw_of(name: &str) -> String {
    format!("{}.ppm", name.strip_suffix(".jpg").unwrap_or(name))
}
