//! Scan profiles: the rings of shots a scan takes, how long to let the rig
//! settle, how photos are named and which camera settings to apply; found by
//! name in the profile folders or among the profiles shipped in the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scanrig_actors::model::{Bracket, CameraName, ScanId, ScanPlan, SettleFrom, Station};
use scanrig_actors::settle::Learned;
use scanrig_hardware::axis::TableWay;
use scanrig_hardware::Degrees;
use serde::Deserialize;

use crate::config_error::{self as ce, ConfigErrors, Problem};
use crate::settings::RigLimits;
use order::RigMotion;

pub mod aim;
mod bracket;
pub mod order;
#[cfg(test)]
mod tests;

/// The profiles built into the binary: (name, TOML text).
pub const SHIPPED: &[(&str, &str)] = &[
    ("demo", include_str!("../config/profiles/demo.toml")),
    (
        "object-3ring",
        include_str!("../config/profiles/object-3ring.toml"),
    ),
    (
        "sphere-130",
        include_str!("../config/profiles/sphere-130.toml"),
    ),
    (
        "turntable-36",
        include_str!("../config/profiles/turntable-36.toml"),
    ),
];

/// Longest allowed `settle_ms`.
pub const MAX_SETTLE_MS: u64 = 60_000;
/// Most shots allowed in one ring.
pub const MAX_SHOTS: u32 = 720;
/// Most shots in one scan (all rings together). Past it a plan no longer
/// fits comfortably in one journal line and a scan would run for days;
/// split such a job into several profiles.
pub const MAX_SCAN_SHOTS: u64 = 10_000;
/// Largest tilt, up or down, in degrees.
pub const MAX_TILT: f64 = 90.0;

/// A checked scan profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile's name: its file stem.
    pub name: String,
    /// The file it was read from, or `shipped`.
    pub source: String,
    /// What the profile is for.
    pub description: String,
    /// Wait after each move before the shutter.
    pub settle: Settle,
    /// How photo files are named.
    pub naming: Naming,
    /// Camera settings applied once per scan: widget name to value.
    pub camera: BTreeMap<String, String>,
    /// The rings of shots, in order; empty for a sphere.
    pub rings: Vec<Ring>,
    /// `path = "sphere"`: points spread over a band of tilts instead of rings.
    pub sphere: Option<Sphere>,
    /// `[bracket]`: every shot a set of frames (exposure or focus).
    pub bracket: Option<Bracket>,
    /// `order`: the shots as listed, or by move time.
    pub order: Order,
    /// `table_way`: the table to each shot the shorter way round, or to
    /// its angle as listed.
    pub table_way: TableWay,
    /// How the rig it was checked for moves ([`Profile::for_rig`]);
    /// `None`: not checked for a rig, or one without a tilt motor.
    pub motion: Option<RigMotion>,
    /// `[lights]`: each light's brightness during the scan, percent (a
    /// light not named here: 100 %).
    pub lights: BTreeMap<String, u8>,
}

/// `order`: in which order the shots are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Ring by ring, each from its start round the table; a sphere band
    /// by band, one way round the table and back the other. The default
    /// for rings.
    Listed,
    /// Within each ring (or band), in the order the rig moves through
    /// quickest, from where the last one ended. The default for a sphere.
    Shortest,
}

/// `settle_ms`: the wait after each move before the shutter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// This many milliseconds, 0..=60000.
    Fixed(u64),
    /// `"auto"`: what the rig learned (`scanrig check`).
    Auto,
}

impl Settle {
    /// As the profile file says it: milliseconds, or `"auto"`.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Settle::Fixed(ms) => serde_json::json!(ms),
            Settle::Auto => serde_json::json!("auto"),
        }
    }
}

/// `[sphere]`: shots spread evenly over the part of a sphere between two
/// tilts (a Fibonacci lattice: equal area per shot), taken in bands of
/// nearby tilts so that the tilt arm moves little.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sphere {
    /// Number of shots, 1..=10000.
    pub points: u32,
    /// Lowest tilt, degrees.
    pub tilt_min: f64,
    /// Highest tilt, degrees.
    pub tilt_max: f64,
}

impl Sphere {
    /// The golden angle, in degrees: each point turns by it from the last.
    const GOLDEN_ANGLE: f64 = 137.507_764_050_037_85;

    /// The shots: equal-area points between the tilts (each at its own
    /// tilt, azimuths turning by the golden angle), in bands of about
    /// √points / 2 rings from low to high; within a band by azimuth, one
    /// band up and the next down, so the table never turns back far.
    pub fn stations(&self) -> Vec<Station> {
        let n = self.points.max(1);
        let (low, high) = (
            self.tilt_min.to_radians().sin(),
            self.tilt_max.to_radians().sin(),
        );
        let points: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let z = low + (f64::from(i) + 0.5) / f64::from(n) * (high - low);
                let tilt = z.clamp(-1.0, 1.0).asin().to_degrees();
                (tilt, normalise(f64::from(i) * Self::GOLDEN_ANGLE))
            })
            .collect();
        let bands = ((f64::from(n).sqrt() / 2.0).ceil() as u32).clamp(1, n);
        let mut out = Vec::with_capacity(points.len());
        for band in 0..bands {
            let (from, to) = (
                (band * n / bands) as usize,
                ((band + 1) * n / bands) as usize,
            );
            let mut ring: Vec<(f64, f64)> = points[from..to].to_vec();
            ring.sort_by(|a, b| a.1.total_cmp(&b.1));
            if band % 2 == 1 {
                ring.reverse();
            }
            for (index, (tilt, azimuth)) in (1..).zip(ring) {
                out.push(Station {
                    ring: band + 1,
                    index,
                    azimuth: Degrees(azimuth),
                    tilt: Degrees(tilt),
                    cameras: Vec::new(),
                });
            }
        }
        out
    }
}

/// `[naming]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Naming {
    /// Start of every photo's file name; `None` means the profile name.
    pub prefix: Option<String>,
}

/// One `[[rings]]` entry: shots evenly spaced around the turntable at one tilt.
#[derive(Debug, Clone, PartialEq)]
pub struct Ring {
    /// Tilt of the camera arm in degrees, -90..=90 (0 = level).
    pub tilt: f64,
    /// Number of shots, 1..=720.
    pub shots: u32,
    /// Azimuth of the first shot, in degrees.
    pub start: f64,
    /// The cameras of the rig's column (`[[cameras]]`) that shoot this
    /// ring, by name; empty: every camera.
    pub cameras: Vec<CameraName>,
}

/// The file as written; checked into a [`Profile`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    description: String,
    settle_ms: Option<toml::Value>,
    #[serde(default)]
    naming: RawNaming,
    #[serde(default)]
    camera: BTreeMap<String, toml::Value>,
    #[serde(default)]
    rings: Vec<RawRing>,
    #[serde(default)]
    path: RawPath,
    sphere: Option<RawSphere>,
    bracket: Option<bracket::RawBracket>,
    order: Option<Order>,
    #[serde(default)]
    table_way: TableWay,
    #[serde(default)]
    lights: BTreeMap<String, toml::Value>,
}

/// `path`: how the shots are laid out.
#[derive(Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum RawPath {
    /// `[[rings]]`.
    #[default]
    Rings,
    /// `[sphere]`.
    Sphere,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSphere {
    #[serde(default = "default_points")]
    points: u32,
    #[serde(default = "default_tilt_min")]
    tilt_min: f64,
    #[serde(default = "default_tilt_max")]
    tilt_max: f64,
}

/// A sphere's default: 130 shots, as OpenScan's.
fn default_points() -> u32 {
    130
}

fn default_tilt_min() -> f64 {
    -30.0
}

fn default_tilt_max() -> f64 {
    60.0
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNaming {
    prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRing {
    tilt: Option<f64>,
    shots: Option<u32>,
    #[serde(default)]
    start: f64,
    cameras: Option<Vec<String>>,
}

/// Where a profile of some name lives.
enum Location {
    File(PathBuf),
    Shipped(&'static str),
}

impl Profile {
    /// Finds a profile by NAME (searched as `<dir>/<NAME>.toml` in `dirs`,
    /// in order, then among the shipped ones) or by path (when it contains
    /// '/' or ends in `.toml`), and checks it.
    pub fn find(name_or_path: &str, dirs: &[PathBuf]) -> Result<Profile, ConfigErrors> {
        if is_path(name_or_path) {
            let path = Path::new(name_or_path);
            return load(&stem(path), &Location::File(path.to_path_buf()), dirs);
        }
        let found = locations(dirs)
            .into_iter()
            .find(|(name, _)| name == name_or_path);
        match found {
            Some((name, location)) => load(&name, &location, dirs),
            None => {
                let mut e = missing(name_or_path, name_or_path, "no profile of that name", dirs);
                e.problems = e.problems.into_iter().map(Problem::not_found).collect();
                Err(e)
            }
        }
    }

    /// Every profile found in `dirs` and shipped, by name, each checked. A
    /// profile in an earlier folder hides one of the same name in a later
    /// folder or shipped. Unreadable folders are skipped.
    pub fn list(dirs: &[PathBuf]) -> Vec<(String, String, Result<Profile, ConfigErrors>)> {
        locations(dirs)
            .into_iter()
            .map(|(name, location)| {
                let source = source_of(&location);
                let profile = load(&name, &location, dirs);
                (name, source, profile)
            })
            .collect()
    }

    /// Every shot of the scan, ring by ring, in shot order: as listed,
    /// or with `order = "shortest"` on a rig with a tilt motor, each
    /// ring's by move time ([`RigMotion::shortest`]).
    pub fn shots(&self) -> Vec<Station> {
        match (self.order, self.motion()) {
            (Order::Shortest, Some(motion)) => motion.shortest(self.listed()),
            _ => self.listed(),
        }
    }

    /// How the rig it was checked for moves through its shots, the table
    /// turning the profile's way; `None` as [`Profile::motion`].
    pub fn motion(&self) -> Option<RigMotion> {
        self.motion.map(|m| RigMotion {
            table_way: self.table_way,
            ..m
        })
    }

    /// Every shot of the scan as listed: ring by ring (`azimuth` is
    /// `start + (index-1) * 360 / shots`, in [0, 360)), or a sphere's
    /// [`Sphere::stations`].
    pub fn listed(&self) -> Vec<Station> {
        if let Some(sphere) = &self.sphere {
            return sphere.stations();
        }
        let mut out = Vec::new();
        for (r, ring) in (1..).zip(&self.rings) {
            for i in 0..ring.shots {
                let step = f64::from(i) * 360.0 / f64::from(ring.shots);
                out.push(Station {
                    ring: r,
                    index: i + 1,
                    azimuth: Degrees(normalise(ring.start + step)),
                    tilt: Degrees(ring.tilt),
                    cameras: ring.cameras.clone(),
                });
            }
        }
        out
    }

    /// Where the profile came from, as its problems name it: its file, or
    /// the name of a shipped profile.
    pub fn origin(&self) -> String {
        match self.source.as_str() {
            "shipped" => self.name.clone(),
            path => path.to_owned(),
        }
    }

    /// The profile, if every shot lies within the rig's soft limits; else
    /// every ring that does not, with its key in the profile.
    pub fn for_rig(self, limits: &RigLimits) -> Result<Profile, ConfigErrors> {
        let origin = self.origin();
        let mut problems = Vec::new();
        let shots = self.shots();
        // A shot the table cannot reach at any turn of its angle within
        // its limits (as listed: at its angle itself).
        let past = |s: &Station| {
            let turn = self
                .table_way
                .target(Degrees::ZERO, s.azimuth, &limits.turntable);
            limits.turntable.check("turntable", turn).err()
        };
        if let Some(sphere) = &self.sphere {
            for (key, tilt) in [
                ("sphere.tilt_min", sphere.tilt_min),
                ("sphere.tilt_max", sphere.tilt_max),
            ] {
                if let Err(e) = limits.tilt.check("tilt", Degrees(tilt)) {
                    problems.push(Problem::new(&origin, key, e.to_string()));
                }
            }
            if let Some(e) = shots.iter().find_map(past) {
                problems.push(Problem::new(&origin, "sphere", e.to_string()));
            }
        }
        for (n, ring) in (1..).zip(&self.rings) {
            if let Err(e) = limits.tilt.check("tilt", Degrees(ring.tilt)) {
                problems.push(Problem::new(
                    &origin,
                    format!("rings[{n}].tilt"),
                    e.to_string(),
                ));
            }
            if let Some(e) = shots.iter().filter(|s| s.ring == n).find_map(past) {
                problems.push(Problem::new(&origin, format!("rings[{n}]"), e.to_string()));
            }
            let unknown: Vec<&str> = ring
                .cameras
                .iter()
                .filter(|c| !limits.cameras.contains(c))
                .map(CameraName::as_str)
                .collect();
            if !unknown.is_empty() {
                let reason = if limits.cameras.is_empty() {
                    format!(
                        "names camera(s) {}, but this rig has one camera ([camera]); name cameras only for a column ([[cameras]] in the configuration), or remove the key",
                        unknown.join(", ")
                    )
                } else {
                    format!(
                        "names camera(s) {} the rig does not have; its [[cameras]] are: {}",
                        unknown.join(", "),
                        limits
                            .cameras
                            .iter()
                            .map(CameraName::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                problems.push(Problem::new(&origin, format!("rings[{n}].cameras"), reason));
            }
        }
        for name in self.lights.keys().filter(|n| !limits.lights.contains(n)) {
            let known = match limits.lights.is_empty() {
                true => "it has none ([[lights]] in the configuration)".to_owned(),
                false => format!("its lights are: {}", limits.lights.join(", ")),
            };
            problems.push(Problem::new(
                &origin,
                format!("lights.{name}"),
                format!("names a light the rig does not have; {known}"),
            ));
        }
        if problems.is_empty() {
            Ok(Profile {
                motion: limits.motion,
                ..self
            })
        } else {
            Err(ConfigErrors { problems })
        }
    }

    /// The plan of a scan `scan` of this profile: its shots, numbered and
    /// named, its settings and its bracket. With `settle_ms = "auto"` it
    /// settles as `learned`, or `safe_ms` when nothing is learned yet.
    pub fn plan(&self, scan: ScanId, learned: Option<&Learned>, safe_ms: u64) -> ScanPlan {
        let (settle_ms, from) = match (self.settle, learned) {
            (Settle::Fixed(ms), _) => (ms, SettleFrom::Profile),
            (Settle::Auto, Some(l)) => (l.settle_ms, SettleFrom::Learned),
            (Settle::Auto, None) => (safe_ms, SettleFrom::Safe),
        };
        let mut plan = ScanPlan::new(
            scan,
            &self.name,
            self.prefix(),
            std::time::Duration::from_millis(settle_ms),
            self.camera.clone(),
            &self.shots(),
        );
        plan.settle_from = from;
        plan.table_way = self.table_way;
        plan.bracket = self.bracket.clone().map(Box::new);
        plan.lights = self.lights.clone();
        plan
    }

    /// The start of every photo's file name: `naming.prefix`, else the name.
    pub fn prefix(&self) -> &str {
        self.naming.prefix.as_deref().unwrap_or(&self.name)
    }
}

/// An angle brought into [0, 360), without a negative zero.
fn normalise(degrees: f64) -> f64 {
    let a = degrees.rem_euclid(360.0);
    if a >= 360.0 {
        0.0
    } else {
        a + 0.0
    }
}

/// The name of the profile `name_or_path` gives [`Profile::find`]: a
/// file's stem, or the name itself.
pub fn name_of(name_or_path: &str) -> String {
    match is_path(name_or_path) {
        true => stem(Path::new(name_or_path)),
        false => name_or_path.to_owned(),
    }
}

fn is_path(name_or_path: &str) -> bool {
    name_or_path.contains('/') || name_or_path.ends_with(".toml")
}

/// A file's stem as the profile name.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn source_of(location: &Location) -> String {
    match location {
        Location::File(path) => path.display().to_string(),
        Location::Shipped(_) => "shipped".to_string(),
    }
}

/// Every profile name, where it lives (first one wins), sorted by name.
fn locations(dirs: &[PathBuf]) -> Vec<(String, Location)> {
    let mut found: BTreeMap<String, Location> = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_some_and(|e| e == "toml") && !path.is_dir() {
                found.entry(stem(&path)).or_insert(Location::File(path));
            }
        }
    }
    for (name, text) in SHIPPED {
        found
            .entry(name.to_string())
            .or_insert(Location::Shipped(text));
    }
    found.into_iter().collect()
}

/// The error for a profile that cannot be found or read.
fn missing(origin: &str, name: &str, why: &str, dirs: &[PathBuf]) -> ConfigErrors {
    let names: Vec<String> = locations(dirs).into_iter().map(|(n, _)| n).collect();
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut reason = format!("{why}: `{name}`; profiles are looked for as <name>.toml in ");
    if !searched.is_empty() {
        reason.push_str(&format!("{}, then ", searched.join(", ")));
    }
    reason.push_str(&format!(
        "the shipped ones; available: {}",
        names.join(", ")
    ));
    ConfigErrors::single(Problem::new(origin, "profile", reason))
}

/// Reads and checks the profile `name` at `location`.
fn load(name: &str, location: &Location, dirs: &[PathBuf]) -> Result<Profile, ConfigErrors> {
    match location {
        Location::Shipped(text) => parse(name, "shipped", name, text),
        Location::File(path) => {
            let origin = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => parse(name, &origin, &origin, &text),
                Err(e) => Err(missing(
                    &origin,
                    name,
                    &format!("cannot read the profile ({e})"),
                    dirs,
                )),
            }
        }
    }
}

/// Parses and checks a profile's text; `origin` names it in problems.
fn parse(name: &str, source: &str, origin: &str, text: &str) -> Result<Profile, ConfigErrors> {
    let mut table = ce::parse_toml(text, origin).map_err(ConfigErrors::single)?;
    let (raw, found) =
        ce::check_schema::<RawProfile, _>(&mut table, ce::from_table, ce::remove_path);
    let mut problems: Vec<Problem> = found
        .into_iter()
        .map(|f| Problem::new(origin, f.key, f.reason))
        .collect();
    let Some(raw) = raw else {
        return Err(ConfigErrors { problems });
    };
    let schema_keys: Vec<String> = problems.iter().map(|p| p.key.clone()).collect();
    let mut fail = |key: String, reason: String| {
        let covered = schema_keys.iter().any(|k| {
            key == *k
                || key
                    .strip_prefix(k.as_str())
                    .is_some_and(|rest| rest.starts_with(['.', '[']))
        });
        if !covered {
            problems.push(Problem::new(origin, key, reason));
        }
    };
    let profile = check(name, source, raw, &mut fail);
    if problems.is_empty() {
        Ok(profile)
    } else {
        Err(ConfigErrors { problems })
    }
}

/// `settle_ms`: milliseconds, or `"auto"`; 0 when absent.
fn check_settle(value: Option<&toml::Value>, fail: &mut impl FnMut(String, String)) -> Settle {
    match value {
        None => Settle::Fixed(0),
        Some(toml::Value::Integer(ms)) if (0..=MAX_SETTLE_MS as i64).contains(ms) => {
            Settle::Fixed(*ms as u64)
        }
        Some(toml::Value::String(word)) if word == "auto" => Settle::Auto,
        Some(other) => {
            fail(
                "settle_ms".into(),
                format!(
                    "must be a whole number of milliseconds, 0 to {MAX_SETTLE_MS}, or \"auto\" (the rig learns it: run `scanrig check` with this profile), found {other}"
                ),
            );
            Settle::Fixed(0)
        }
    }
}

/// `[lights]`: each light's brightness, a whole number of percent.
fn check_lights(
    raw: BTreeMap<String, toml::Value>,
    fail: &mut impl FnMut(String, String),
) -> BTreeMap<String, u8> {
    let mut lights = BTreeMap::new();
    for (name, value) in raw {
        match value.as_integer().and_then(|p| u8::try_from(p).ok()) {
            Some(percent) if percent <= 100 => {
                lights.insert(name, percent);
            }
            _ => fail(
                format!("lights.{name}"),
                format!("must be the light's brightness, a whole number of percent from 0 (off) to 100, found {value}"),
            ),
        }
    }
    lights
}

/// Whether `s` is a usable file name prefix.
fn valid_prefix(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks a parsed profile, reporting each problem to `fail(key, reason)`.
fn check(
    name: &str,
    source: &str,
    raw: RawProfile,
    fail: &mut impl FnMut(String, String),
) -> Profile {
    let settle = check_settle(raw.settle_ms.as_ref(), fail);
    match &raw.naming.prefix {
        Some(p) if !valid_prefix(p) => fail(
            "naming.prefix".into(),
            format!("may only hold letters, digits, - and _ (and not be empty), found {p:?}"),
        ),
        None if !valid_prefix(name) => fail(
            "naming.prefix".into(),
            format!("the profile name {name:?} cannot be used as the photo name prefix; set naming.prefix"),
        ),
        _ => {}
    }
    let sphere = check_sphere(&raw, fail);
    let mut camera = BTreeMap::new();
    for (widget, value) in raw.camera {
        let key = format!("camera.{widget}");
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) if f.is_finite() => f.to_string(),
            other => {
                let reason = format!("expected a string or a number, found {}", other.type_str());
                fail(key, reason);
                continue;
            }
        };
        if widget.trim().is_empty() {
            fail(
                "camera".into(),
                "a widget name is empty; give the camera widget's name".into(),
            );
        } else if text.trim().is_empty() {
            fail(key, "is empty; give a value or remove the line".into());
        }
        camera.insert(widget, text);
    }
    if raw.path == RawPath::Rings && raw.rings.is_empty() {
        fail(
            "rings".into(),
            "a profile needs at least one [[rings]] entry (or path = \"sphere\" and a [sphere])"
                .into(),
        );
    }
    let total: u64 = raw
        .rings
        .iter()
        .filter_map(|r| r.shots)
        .map(u64::from)
        .sum();
    if total > MAX_SCAN_SHOTS {
        fail(
            "rings".into(),
            format!(
                "the rings add up to {total} shots; a scan takes at most {MAX_SCAN_SHOTS}; use fewer shots per ring or split the job into several profiles"
            ),
        );
    }
    let mut rings = Vec::new();
    for (n, ring) in (1..).zip(raw.rings) {
        let key = |field: &str| format!("rings[{n}].{field}");
        match ring.tilt {
            None => fail(
                key("tilt"),
                "missing; give the tilt in degrees, -90 to 90 (0 = level)".into(),
            ),
            Some(t) if !(-MAX_TILT..=MAX_TILT).contains(&t) => {
                fail(key("tilt"), format!("must be -90 to 90 degrees, found {t}"));
            }
            _ => {}
        }
        match ring.shots {
            None => fail(
                key("shots"),
                format!("missing; give the number of shots, 1 to {MAX_SHOTS}"),
            ),
            Some(s) if !(1..=MAX_SHOTS).contains(&s) => {
                fail(
                    key("shots"),
                    format!("must be 1 to {MAX_SHOTS} shots, found {s}"),
                );
            }
            _ => {}
        }
        if !ring.start.is_finite() {
            fail(
                key("start"),
                format!("must be a finite number of degrees, found {}", ring.start),
            );
        }
        let mut cameras: Vec<CameraName> = Vec::new();
        if ring.cameras.as_ref().is_some_and(Vec::is_empty) {
            fail(
                key("cameras"),
                "names no camera; name the ones that shoot this ring, or leave the key out for every camera".into(),
            );
        }
        for camera in ring.cameras.into_iter().flatten() {
            match CameraName::new(&camera) {
                Err(e) => fail(
                    key("cameras"),
                    format!("{e}; name cameras as [[cameras]] does"),
                ),
                Ok(c) if cameras.contains(&c) => {
                    fail(key("cameras"), format!("names camera {camera:?} twice"))
                }
                Ok(c) => cameras.push(c),
            }
        }
        rings.push(Ring {
            tilt: ring.tilt.unwrap_or(0.0),
            shots: ring.shots.unwrap_or(0),
            start: ring.start,
            cameras,
        });
    }
    Profile {
        name: name.to_string(),
        source: source.to_string(),
        description: raw.description,
        settle,
        naming: Naming {
            prefix: raw.naming.prefix,
        },
        camera,
        rings,
        sphere,
        bracket: raw.bracket.and_then(|b| bracket::check(b, fail)),
        order: raw.order.unwrap_or(match raw.path {
            RawPath::Rings => Order::Listed,
            RawPath::Sphere => Order::Shortest,
        }),
        table_way: raw.table_way,
        motion: None,
        lights: check_lights(raw.lights, fail),
    }
}

/// The sphere of a `path = "sphere"` profile, checked.
fn check_sphere(raw: &RawProfile, fail: &mut impl FnMut(String, String)) -> Option<Sphere> {
    match (&raw.path, &raw.sphere) {
        (RawPath::Rings, None) => None,
        (RawPath::Rings, Some(_)) => {
            fail(
                "sphere".into(),
                "is only read with path = \"sphere\"; add that line, or remove [sphere]".into(),
            );
            None
        }
        (RawPath::Sphere, _) if !raw.rings.is_empty() => {
            fail(
                "rings".into(),
                "a sphere profile takes its shots from [sphere]; remove the [[rings]] or path = \"sphere\"".into(),
            );
            None
        }
        (RawPath::Sphere, sphere) => {
            let sphere = sphere.as_ref().map_or(
                Sphere {
                    points: default_points(),
                    tilt_min: default_tilt_min(),
                    tilt_max: default_tilt_max(),
                },
                |s| Sphere {
                    points: s.points,
                    tilt_min: s.tilt_min,
                    tilt_max: s.tilt_max,
                },
            );
            if !(1..=MAX_SCAN_SHOTS).contains(&u64::from(sphere.points)) {
                fail(
                    "sphere.points".into(),
                    format!(
                        "must be 1 to {MAX_SCAN_SHOTS} shots, found {}",
                        sphere.points
                    ),
                );
            }
            for (key, tilt) in [
                ("sphere.tilt_min", sphere.tilt_min),
                ("sphere.tilt_max", sphere.tilt_max),
            ] {
                if !(-MAX_TILT..=MAX_TILT).contains(&tilt) {
                    fail(
                        key.into(),
                        format!("must be -90 to 90 degrees, found {tilt}"),
                    );
                }
            }
            if sphere.tilt_min > sphere.tilt_max {
                fail(
                    "sphere.tilt_max".into(),
                    format!(
                        "must be at least sphere.tilt_min ({}), found {}",
                        sphere.tilt_min, sphere.tilt_max
                    ),
                );
            }
            Some(sphere)
        }
    }
}
