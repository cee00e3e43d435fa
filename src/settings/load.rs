//! Loading the settings: reading each layer, checking it against the schema
//! on its own so problems name their file or variable, merging the layers
//! with the config crate, then checking ranges and the spool folder.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use scanrig_hardware::axis::{AxisError, Travel};
use scanrig_hardware::Degrees;

use super::{
    fallback_spool, ButtonsBackend, CameraBackend, LoadOptions, Settings, SimAxis, Stepper,
    TiltBackend, TurntableBackend, DEFAULTS_TOML,
};
use crate::config_error::{self as ce, ConfigErrors, Problem, Step};
use scanrig_actors::model::CameraName;

/// The origin named in problems with the shipped defaults.
const DEFAULTS_ORIGIN: &str = "shipped defaults";

/// The layers that were read, to name the origin of a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Layers {
    /// The settings file: its path and its (schema-checked) table.
    file: Option<(String, toml::Table)>,
    /// Dotted key to variable name, for the `SCANRIG_*` variables kept.
    env_keys: BTreeMap<String, String>,
}

impl Layers {
    /// The origin of the highest-priority layer setting any of `keys`.
    pub(super) fn origin(&self, keys: &[&str]) -> String {
        // A variable sets a key, or something under it (a check of a whole
        // section blames the variable that set one of its keys).
        let sets = |key: &str, k: &str| {
            key.strip_prefix(k)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        };
        if let Some(var) = keys.iter().find_map(|k| {
            self.env_keys
                .iter()
                .find_map(|(key, var)| sets(key, k).then_some(var))
        }) {
            return format!("environment {var}");
        }
        if let Some((path, table)) = &self.file {
            if keys.iter().any(|k| ce::lookup(table, k).is_some()) {
                return path.clone();
            }
        }
        DEFAULTS_ORIGIN.to_string()
    }
}

/// The one key whose variable holds a list (folders separated by `:`).
const LIST_KEY: &str = "profiles.dirs";

/// Maps an environment variable name to its dotted key, as the config crate
/// does (`SCANRIG_UPLOAD__WORKERS` -> `upload.workers`).
fn env_key(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    Some(lower.strip_prefix("scanrig_")?.replace("__", "."))
}

/// The environment layer as the config crate reads it.
fn env_source(vars: &BTreeMap<String, String>) -> Environment {
    Environment::with_prefix("SCANRIG")
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .list_separator(":")
        .with_list_parse_key(LIST_KEY)
        .source(Some(vars.clone().into_iter().collect()))
}

/// Reads the settings file, if any: its origin and text.
fn read_file(opts: &LoadOptions, problems: &mut Vec<Problem>) -> Option<(String, String)> {
    let (path, required) = match &opts.config_file {
        Some(path) => (path, true),
        None if opts.system_file.exists() => (&opts.system_file, false),
        None => return None,
    };
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Some((origin, text)),
        Err(e) => {
            let hint = if required {
                "check the --config path"
            } else {
                "fix its permissions or remove it"
            };
            problems.push(Problem::new(
                &origin,
                "",
                format!("cannot read the settings file: {e}; {hint}"),
            ));
            None
        }
    }
}

/// Deep-merges `over` into `base` (tables merge, anything else replaces).
fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Schema-checks a file layer on top of `base`, dropping what is wrong.
fn check_file(
    base: &toml::Table,
    layer: &mut toml::Table,
    origin: &str,
    problems: &mut Vec<Problem>,
) {
    let merged = |layer: &toml::Table| {
        let mut merged = base.clone();
        merge(&mut merged, layer);
        merged
    };
    let (_, found) = ce::check_schema::<Settings, _>(
        layer,
        |layer| ce::from_table(&merged(layer)),
        ce::remove_path,
    );
    problems.extend(
        found
            .into_iter()
            .map(|f| Problem::new(origin, f.key, f.reason)),
    );
}

/// What a file problem would say of `value` at the dotted `key`, if
/// anything: the key and the reason.
fn file_problem(key: &str, value: toml::Value) -> Option<(String, String)> {
    let mut value = value;
    for k in key.rsplit('.') {
        value = toml::Value::Table(toml::Table::from_iter([(k.to_owned(), value)]));
    }
    let toml::Value::Table(mut table) = value else {
        return None;
    };
    let (_, found) = ce::check_schema::<Settings, _>(&mut table, ce::from_table, |_, _| false);
    found.into_iter().next().map(|f| (f.key, f.reason))
}

/// The ways a variable's text can be read as a file value: a TOML number
/// or boolean when it is one, and always a string; a list for the keys
/// that take one.
fn env_values(key: &str, raw: &str) -> Vec<toml::Value> {
    if key == LIST_KEY {
        let items = raw.split(':').map(|d| toml::Value::String(d.to_owned()));
        return vec![toml::Value::Array(items.collect())];
    }
    let scalar = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| {
            matches!(
                v,
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)
            )
        });
    scalar
        .into_iter()
        .chain([toml::Value::String(raw.to_owned())])
        .collect()
}

/// Holds every variable to the checks a file gets: a value no file could
/// hold there (`2.5` workers, `inf` milliseconds, a number past the key's
/// range of type) is refused, not converted, and the variable dropped.
fn check_env_types(vars: &mut BTreeMap<String, String>, problems: &mut Vec<Problem>) {
    vars.retain(|name, raw| {
        let Some(key) = env_key(name) else {
            return true;
        };
        let mut first = None;
        for value in env_values(&key, raw) {
            match file_problem(&key, value) {
                None => return true,
                Some(found) => {
                    first.get_or_insert(found);
                }
            }
        }
        if let Some((key, mut reason)) = first {
            let number = raw.trim();
            if number.parse::<i128>().is_ok() && number.parse::<i64>().is_err() {
                // A whole number no file could hold (TOML's are 64-bit).
                reason = format!(
                    "{raw} is too large; settings' numbers go up to {}",
                    i64::MAX
                );
            }
            problems.push(Problem::new(format!("environment {name}"), key, reason));
        }
        false
    });
}

/// A config-crate error as a reason: its type mismatch from its fields,
/// anything else as it says it. (Every variable has passed the typed
/// checks a file gets first, in `check_env_types`: what is left here is
/// the config crate's own reading of it.)
fn describe_config_error(e: &config::ConfigError) -> String {
    match e {
        config::ConfigError::Type {
            unexpected,
            expected,
            ..
        } => format!("invalid type: {unexpected}, expected {expected}"),
        other => other.to_string(),
    }
}

/// The variables that set `path` or something under it.
fn vars_under(vars: &BTreeMap<String, String>, path: &[Step]) -> Vec<String> {
    let keys = path.iter().rposition(|s| matches!(s, Step::Key(_)));
    let key = ce::dotted(&path[..keys.map_or(0, |i| i + 1)]);
    let under = |k: &str| {
        k == key
            || k.strip_prefix(key.as_str())
                .is_some_and(|r| r.starts_with('.'))
    };
    vars.keys()
        .filter(|name| env_key(name).is_some_and(|k| under(&k)))
        .cloned()
        .collect()
}

/// Schema-checks the environment layer on top of the defaults, dropping
/// the variables that are wrong.
fn check_env(defaults: &str, vars: &mut BTreeMap<String, String>, problems: &mut Vec<Problem>) {
    check_env_types(vars, problems);
    let build = |vars: &BTreeMap<String, String>| {
        Config::builder()
            .add_source(File::from_str(defaults, FileFormat::Toml))
            .add_source(env_source(vars))
            .build()
    };
    if let Err(e) = build(vars) {
        problems.push(Problem::new("environment", "", e.to_string()));
        vars.clear();
        return;
    }
    // For each problem found: the first variable blamed.
    let mut blamed: Vec<Option<String>> = Vec::new();
    let (_, found) = ce::check_schema::<Settings, _>(
        vars,
        |vars| {
            let config = build(vars).unwrap_or_default();
            ce::deserialize(config, |_, e| describe_config_error(e))
        },
        |vars, path| {
            let names = vars_under(vars, path);
            blamed.push(names.first().cloned());
            for name in &names {
                vars.remove(name);
            }
            !names.is_empty()
        },
    );
    for (i, f) in found.into_iter().enumerate() {
        let Some(Some(var)) = blamed.get(i) else {
            problems.push(Problem::new("environment", f.key, f.reason));
            continue;
        };
        problems.push(Problem::new(format!("environment {var}"), f.key, f.reason));
    }
}

/// Parses one TOML layer, reporting a syntax error as a problem.
fn parse_layer(text: &str, origin: &str, problems: &mut Vec<Problem>) -> toml::Table {
    ce::parse_toml(text, origin).unwrap_or_else(|p| {
        problems.push(p);
        toml::Table::new()
    })
}

/// Writes a checked layer back as TOML text for the config crate.
fn layer_text(table: &toml::Table, origin: &str, problems: &mut Vec<Problem>) -> String {
    toml::to_string(table).unwrap_or_else(|e| {
        problems.push(Problem::new(
            origin,
            "",
            format!("cannot re-read the settings: {e}"),
        ));
        String::new()
    })
}

pub(super) fn load(opts: &LoadOptions) -> Result<Settings, ConfigErrors> {
    let mut problems = Vec::new();
    let mut sources = vec![DEFAULTS_ORIGIN.to_string()];

    let mut defaults = parse_layer(DEFAULTS_TOML, DEFAULTS_ORIGIN, &mut problems);
    check_file(
        &toml::Table::new(),
        &mut defaults,
        DEFAULTS_ORIGIN,
        &mut problems,
    );
    let defaults_text = layer_text(&defaults, DEFAULTS_ORIGIN, &mut problems);

    let file = read_file(opts, &mut problems).map(|(origin, text)| {
        let mut table = parse_layer(&text, &origin, &mut problems);
        check_file(&defaults, &mut table, &origin, &mut problems);
        sources.push(origin.clone());
        (origin, table)
    });

    let mut vars: BTreeMap<String, String> = opts
        .env
        .iter()
        .filter(|(k, _)| env_key(k).is_some())
        .cloned()
        .collect();
    for name in opts.not_utf8.iter() {
        if let Some(key) = env_key(name) {
            problems.push(Problem::new(
                format!("environment {name}"),
                key,
                "its value is not valid UTF-8; write it in UTF-8, or unset the variable",
            ));
        }
    }
    check_env(&defaults_text, &mut vars, &mut problems);
    if !vars.is_empty() {
        let names: Vec<&str> = vars.keys().map(String::as_str).collect();
        sources.push(format!("environment ({})", names.join(", ")));
    }

    let mut builder =
        Config::builder().add_source(File::from_str(&defaults_text, FileFormat::Toml));
    if let Some((origin, table)) = &file {
        let text = layer_text(table, origin, &mut problems);
        builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
    }
    let merged = builder
        .add_source(env_source(&vars))
        .build()
        .and_then(Config::try_deserialize::<Settings>);
    let mut settings = match merged {
        Ok(s) => s,
        Err(e) => {
            problems.push(Problem::new(
                "merged settings",
                "",
                describe_config_error(&e),
            ));
            return Err(ConfigErrors { problems });
        }
    };

    let layers = Layers {
        file,
        env_keys: vars
            .keys()
            .filter_map(|n| Some((env_key(n)?, n.clone())))
            .collect(),
    };
    let (fallback, why) = fallback_spool(&opts.env);
    settings.fallback_spool = Some(fallback);
    settings.sources = sources;
    validate(&settings, &layers, why, &mut problems);
    settings.layers = layers;
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigErrors { problems })
    }
}

/// Collects range problems, naming the layer that set each key.
struct Checker<'a> {
    layers: &'a Layers,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    /// Reports `key`, blaming the layer that set it.
    fn fail(&mut self, key: &str, reason: String) {
        // An entry of a list of tables (`lights[2].pin`) comes from where
        // the list was set.
        let set = key.split('[').next().unwrap_or(key);
        let origin = self.layers.origin(&[set]);
        self.problems.push(Problem::new(origin, key, reason));
    }

    /// `[[cameras]]`: at most [`MAX_CAMERAS`], each named uniquely, in
    /// this build.
    fn cameras(&mut self, cameras: &[super::ColumnCamera]) {
        // Only a file sets `[[cameras]]`: problems are the file's.
        let origin = self.layers.origin(&["cameras"]);
        let mut fail = |key: &str, reason: String| {
            self.problems
                .push(Problem::new(origin.clone(), key, reason));
        };
        if cameras.len() > super::MAX_CAMERAS {
            fail(
                "cameras",
                format!(
                    "{} cameras are configured; a column takes at most {}",
                    cameras.len(),
                    super::MAX_CAMERAS
                ),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        // Numbered from 1, as a person counts them (and as every other
        // problem with a `[[cameras]]` table is).
        for (i, c) in (1..).zip(cameras) {
            let key = format!("cameras[{i}].name");
            if let Err(e) = CameraName::new(&c.name) {
                fail(&key, e.to_string());
            } else if !seen.insert(c.name.to_lowercase()) {
                // Photo names differing only in case collide on a card or
                // share that ignores case.
                fail(
                    &key,
                    format!(
                        "{:?} names two cameras (names are told apart regardless of case); give each its own name",
                        c.name
                    ),
                );
            }
            if c.backend == Some(CameraBackend::Gphoto2) && !cfg!(feature = "gphoto2") {
                fail(
                    &format!("cameras[{i}].backend"),
                    "\"gphoto2\" is not in this build of scanrig; build with `--features gphoto2`"
                        .into(),
                );
            }
            if !(-90.0..=90.0).contains(&c.tilt) {
                fail(
                    &format!("cameras[{i}].tilt"),
                    format!("must be -90 to 90 degrees, found {}", c.tilt),
                );
            }
            if let Some(h) = c.height_m.filter(|h| !(-100.0..=100.0).contains(h)) {
                fail(
                    &format!("cameras[{i}].height_m"),
                    format!("must be -100 to 100 metres, found {h}"),
                );
            }
        }
    }

    /// `[hooks]`: a command that names a program, a webhook URL that is
    /// http(s) with a secret file to sign with, sane limits.
    fn hooks(&mut self, h: &super::Hooks) {
        if h.command.first().is_some_and(|p| p.trim().is_empty()) {
            self.fail(
                "hooks.command",
                "the first item must be the program to run (its path), then its arguments".into(),
            );
        }
        if !h.webhook_url.is_empty() {
            let ok = h
                .webhook_url
                .parse::<google_drive3::hyper::Uri>()
                .is_ok_and(|u| {
                    matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some()
                });
            if !ok {
                self.fail(
                    "hooks.webhook_url",
                    format!(
                        "`{}` is not an http:// or https:// URL; write it as https://host/path",
                        h.webhook_url
                    ),
                );
            }
            if h.webhook_secret_file.is_none() {
                self.fail(
                    "hooks.webhook_secret_file",
                    "a webhook needs a secret to sign its POSTs with: a file holding it (readable only by scanrig, chmod 600)".into(),
                );
            }
        }
        self.range(
            "hooks.command_timeout_s",
            h.command_timeout_s,
            1,
            86_400,
            "seconds",
        );
        self.range(
            "hooks.command_attempts",
            h.command_attempts,
            1,
            100,
            "attempts",
        );
        self.range(
            "hooks.webhook_timeout_s",
            h.webhook_timeout_s,
            1,
            600,
            "seconds",
        );
        self.range(
            "hooks.retry_initial_ms",
            h.retry_initial_ms,
            1,
            86_400_000,
            "milliseconds",
        );
        self.range(
            "hooks.retry_max_ms",
            h.retry_max_ms,
            h.retry_initial_ms,
            86_400_000,
            "milliseconds",
        );
    }

    /// Requires `lo <= value <= hi` (false for NaN).
    fn range<T: PartialOrd + Display>(&mut self, key: &str, value: T, lo: T, hi: T, what: &str) {
        if !(lo <= value && value <= hi) {
            self.fail(key, format!("must be {lo} to {hi} {what}, found {value}"));
        }
    }

    /// Requires `value >= 1`.
    fn positive(&mut self, key: &str, value: u64, what: &str) {
        if value == 0 {
            self.fail(key, format!("must be at least 1 {what}, found 0"));
        }
    }

    /// Requires `value >= lo`, where `lo` is the value of `lo_key`; blames
    /// the stronger of the layers that set the two.
    fn at_least(&mut self, key: &str, value: u64, lo_key: &str, lo: u64) {
        if value < lo {
            let origin = self.layers.origin(&[key, lo_key]);
            let reason = format!(
                "must be at least {lo_key} ({lo}), found {value}; raise it or lower {lo_key}"
            );
            self.problems.push(Problem::new(origin, key, reason));
        }
    }

    /// Checks a simulated axis under `section`.
    fn stepper(&mut self, section: &str, st: &Stepper) {
        self.positive(
            &format!("{section}.full_steps_per_rev"),
            st.full_steps_per_rev.into(),
            "step",
        );
        self.positive(
            &format!("{section}.microsteps"),
            st.microsteps.into(),
            "microstep",
        );
        if !(st.gear_ratio > 0.0 && st.gear_ratio.is_finite()) {
            let reason = format!(
                "must be a number above 0 (motor turns per turn of the axis), found {}",
                st.gear_ratio
            );
            self.fail(&format!("{section}.gear_ratio"), reason);
        }
        self.sim_axis(
            section,
            &SimAxis {
                max_speed_dps: st.max_speed_dps,
                accel_dps2: st.accel_dps2,
                home_ms: 0,
                ..SimAxis::default()
            },
        );
        let rate = st.max_speed_dps * st.steps_per_degree();
        let limit = super::stepper_rate_limit(st.driver);
        if rate.is_finite() && rate > limit {
            let reason = format!(
                "{} degrees per second needs {rate:.0} steps per second, more than the {:?} driver can be stepped at ({limit:.0}); lower it to at most {:.1} or use fewer microsteps",
                st.max_speed_dps,
                st.driver,
                limit / st.steps_per_degree()
            );
            self.fail(&format!("{section}.max_speed_dps"), reason);
        }
        if !(st.backlash_deg >= 0.0 && st.backlash_deg <= 45.0) {
            let reason = format!("must be 0 (off) to 45 degrees, found {}", st.backlash_deg);
            self.fail(&format!("{section}.backlash_deg"), reason);
        }
        if st.home_direction != -1 && st.home_direction != 1 {
            let reason = format!("must be -1 or 1, found {}", st.home_direction);
            self.fail(&format!("{section}.home_direction"), reason);
        }
        if !(st.home_speed_dps > 0.0 && st.home_speed_dps <= st.max_speed_dps) {
            let reason = format!(
                "must be above 0 and at most max_speed_dps ({}), found {}",
                st.max_speed_dps, st.home_speed_dps
            );
            self.fail(&format!("{section}.home_speed_dps"), reason);
        }
        self.positive(
            &format!("{section}.home_timeout_s"),
            st.home_timeout_s,
            "second",
        );
        if let Err(e) = st.config("axis", Travel::default()).check() {
            // Whatever the checks above do not cover, in the driver's words.
            if self.problems.is_empty() {
                self.fail(section, format!("{} {}", e.field, e.problem));
            }
        }
    }

    /// The soft limits: sane, and where homing leaves each axis within
    /// them, and no limit past the axis' end-stop.
    fn limits(&mut self, s: &Settings) {
        let t = &s.tilt;
        self.range("tilt.min_deg", t.min_deg, -180.0, 180.0, "degrees");
        self.range("tilt.max_deg", t.max_deg, -180.0, 180.0, "degrees");
        if t.min_deg >= t.max_deg {
            let reason = format!(
                "must be above tilt.min_deg ({}), found {}",
                t.min_deg, t.max_deg
            );
            self.fail("tilt.max_deg", reason);
        }
        if let Some(turns) = s.turntable.max_turns {
            self.range("turntable.max_turns", turns, 0.01, 1000.0, "turns");
        }
        let limits = s.limits();
        let axes = [
            (
                "turntable",
                s.turntable.backend == TurntableBackend::Stepper,
                &s.turntable.stepper,
                limits.turntable,
            ),
            (
                "tilt",
                s.tilt.backend == TiltBackend::Stepper,
                &s.tilt.stepper,
                limits.tilt,
            ),
        ];
        for (name, stepper, st, travel) in axes {
            let endstop = stepper && st.endstop_pin.is_some();
            let home = if endstop { st.home_deg } else { 0.0 };
            if let Err(e) = travel.check(name, Degrees(home)) {
                let key = match (&e, endstop) {
                    (_, true) => format!("{name}.stepper.home_deg"),
                    (AxisError::BeyondLimit { setting, .. }, false) => setting.to_string(),
                    _ => name.to_owned(),
                };
                self.fail(&key, format!("homing leaves the axis at {home}°: {e}"));
            }
            if !endstop {
                continue;
            }
            // The end-stop lies `home_backoff_deg` beyond where homing
            // leaves the axis; a limit past it would drive the arm into it.
            let switch = home + f64::from(st.home_direction) * st.home_backoff_deg;
            let past = match (st.home_direction, travel.min, travel.max) {
                (-1, Some((min, key)), _) if min.get() < switch => Some((key, min)),
                (1, _, Some((max, key))) if max.get() > switch => Some((key, max)),
                _ => None,
            };
            if let Some((key, limit)) = past {
                let reason = format!(
                    "{limit} lies past the {name} end-stop, at {switch}° ({name}.stepper.home_deg {home}° backed off {}° from it); set {key} to {switch} or within, or correct home_deg",
                    st.home_backoff_deg
                );
                self.fail(key, reason);
            }
        }
    }

    fn sim_axis(&mut self, section: &str, axis: &SimAxis) {
        let speed = axis.max_speed_dps;
        if !(speed > 0.0 && speed <= 3600.0) {
            let reason =
                format!("must be above 0 and at most 3600 degrees per second, found {speed}");
            self.fail(&format!("{section}.max_speed_dps"), reason);
        }
        let accel = axis.accel_dps2;
        if !(accel > 0.0 && accel.is_finite()) {
            let reason = format!("must be above 0 degrees per second squared, found {accel}");
            self.fail(&format!("{section}.accel_dps2"), reason);
        }
        let shake = &format!("{section}.shake_mm");
        self.range(shake, axis.shake_mm, 0.0, 50.0, "millimetres");
        let settle = &format!("{section}.shake_ms");
        self.range(settle, axis.shake_ms, 0, 60_000, "milliseconds");
    }
}

/// Checks ranges and the spool folder; `why` tells where the fallback spool
/// folder came from.
fn validate(s: &Settings, layers: &Layers, why: &str, problems: &mut Vec<Problem>) {
    let mut c = Checker { layers, problems };
    let (u, sv) = (&s.upload, &s.supervision);
    c.range("upload.workers", u.workers, 1, 16, "workers");
    let spool = &s.spool;
    c.range(
        "spool.history_scans",
        spool.history_scans,
        0,
        100_000,
        "scans",
    );
    c.range("spool.history_days", spool.history_days, 0, 36_500, "days");
    c.range(
        "spool.commit_delay_ms",
        spool.commit_delay_ms,
        0,
        50,
        "milliseconds",
    );
    c.range("upload.queue", u.queue, 1, 1000, "photos");
    c.range("upload.max_attempts", u.max_attempts, 1, 100, "attempts");
    c.range(
        "upload.retry_every_s",
        u.retry_every_s,
        0,
        86_400,
        "seconds",
    );
    c.range(
        "upload.backlog_wait_s",
        u.backlog_wait_s,
        1,
        604_800,
        "seconds",
    );
    c.range(
        "upload.backlog_wait_max_s",
        u.backlog_wait_max_s,
        1,
        604_800,
        "seconds",
    );
    c.at_least(
        "upload.backlog_wait_max_s",
        u.backlog_wait_max_s,
        "upload.backlog_wait_s",
        u.backlog_wait_s,
    );
    c.at_least(
        "upload.retry_max_ms",
        u.retry_max_ms,
        "upload.retry_initial_ms",
        u.retry_initial_ms,
    );
    let (initial, max) = (sv.backoff_initial_ms, sv.backoff_max_ms);
    c.at_least(
        "supervision.backoff_max_ms",
        max,
        "supervision.backoff_initial_ms",
        initial,
    );
    c.sim_axis("turntable.sim", &s.turntable.sim);
    c.sim_axis("tilt.sim", &s.tilt.sim);
    c.limits(s);
    let (cam, sim, d) = (&s.camera, &s.camera.sim, &s.destination.drive);
    // Every other number has a range too, so that a typo of a few digits
    // is caught here and not met later as an endless wait.
    #[rustfmt::skip]
    let ranges: [(&str, u64, u64, u64, &str); 21] = [
        ("spool.min_free_mb", s.spool.min_free_mb, 0, 1_000_000_000, "MB"),
        ("upload.retry_initial_ms", u.retry_initial_ms, 1, 3_600_000, "milliseconds"),
        ("upload.retry_max_ms", u.retry_max_ms, 1, 86_400_000, "milliseconds"),
        ("supervision.max_restarts", sv.max_restarts.into(), 1, 1000, "restarts"),
        ("supervision.window_s", sv.window_s, 1, 86_400, "seconds"),
        ("supervision.backoff_initial_ms", sv.backoff_initial_ms, 1, 600_000, "milliseconds"),
        ("supervision.backoff_max_ms", sv.backoff_max_ms, 1, 3_600_000, "milliseconds"),
        ("turntable.sim.home_ms", s.turntable.sim.home_ms, 0, 600_000, "milliseconds"),
        ("tilt.sim.home_ms", s.tilt.sim.home_ms, 0, 600_000, "milliseconds"),
        ("camera.gphoto2.pair_wait_ms", cam.gphoto2.pair_wait_ms, 0, 60_000, "milliseconds"),
        ("camera.sim.file_size_kb", sim.file_size_kb, 0, 1_048_576, "KiB"),
        ("camera.sim.expose_ms", sim.expose_ms, 0, 60_000, "milliseconds"),
        ("camera.sim.download_ms", sim.download_ms, 0, 600_000, "milliseconds"),
        ("camera.sim.fail_every_nth_expose", sim.fail_every_nth_expose.into(), 0, 1_000_000, "(0 = off)"),
        ("camera.sim.fail_every_nth_download", sim.fail_every_nth_download.into(), 0, 1_000_000, "(0 = off)"),
        ("camera.sim.unplug_after_shots", sim.unplug_after_shots.into(), 0, 1_000_000, "shots (0 = off)"),
        ("camera.sim.unplug_ms", sim.unplug_ms, 0, 86_400_000, "milliseconds"),
        ("camera.sim.slip_after_shots", sim.slip_after_shots.into(), 0, 1_000_000, "shots (0 = off)"),
        ("buttons.long_press_ms", s.buttons.long_press_ms, 100, 60_000, "milliseconds"),
        ("destination.drive.single_request_max_kb", d.single_request_max_kb, 0, 5_242_880, "KiB"),
        ("destination.drive.retry_max_ms", d.retry_max_ms, 1, 86_400_000, "milliseconds"),
    ];
    for (key, value, lo, hi, what) in ranges {
        c.range(key, value, lo, hi, what);
    }
    let g = &s.geometry;
    #[rustfmt::skip]
    let lengths: [(&str, f64, f64, f64, &str); 9] = [
        ("geometry.distance_m", g.distance_m, 0.0, 100.0, "metres"),
        ("geometry.height_m", g.height_m, -100.0, 100.0, "metres"),
        ("geometry.arm_out_m", g.arm_out_m, -100.0, 100.0, "metres"),
        ("geometry.arm_up_m", g.arm_up_m, -100.0, 100.0, "metres"),
        ("geometry.focal_mm", g.focal_mm, 0.1, 10_000.0, "millimetres"),
        ("geometry.sensor_width_mm", g.sensor_width_mm, 0.1, 1000.0, "millimetres"),
        ("geometry.sensor_height_mm", g.sensor_height_mm, 0.1, 1000.0, "millimetres"),
        ("geometry.position_accuracy_m", g.position_accuracy_m, 0.0, 100.0, "metres"),
        ("geometry.angle_accuracy_deg", g.angle_accuracy_deg, 0.0, 180.0, "degrees"),
    ];
    for (key, value, lo, hi, what) in lengths {
        c.range(key, value, lo, hi, what);
    }
    c.range("camera.sim.slip_mm", sim.slip_mm, 0.0, 500.0, "millimetres");
    c.range(
        "camera.sim.slip_deg",
        sim.slip_deg,
        -180.0,
        180.0,
        "degrees",
    );
    c.range("camera.sim.width", s.camera.sim.width, 16, 8192, "pixels");
    c.range("camera.sim.height", s.camera.sim.height, 16, 8192, "pixels");
    c.range("camera.timeout_s", s.camera.timeout_s, 1, 3600, "seconds");
    c.hooks(&s.hooks);
    for (key, reason) in super::pin_problems(s) {
        c.fail(&key, reason);
    }
    if s.turntable.backend == TurntableBackend::Stepper {
        c.stepper("turntable.stepper", &s.turntable.stepper);
    }
    if s.tilt.backend == TiltBackend::Stepper {
        c.stepper("tilt.stepper", &s.tilt.stepper);
    }
    let gpio = [
        (
            "turntable.backend",
            s.turntable.backend == TurntableBackend::Stepper,
        ),
        ("tilt.backend", s.tilt.backend == TiltBackend::Stepper),
        ("buttons.backend", s.buttons.backend == ButtonsBackend::Gpio),
        (
            "lighting.backend",
            s.lighting.backend == super::LightsBackend::Gpio && !s.lights.is_empty(),
        ),
    ];
    for (key, used) in gpio {
        if used && !cfg!(feature = "rppal") {
            c.fail(
                key,
                "GPIO is not in this build of scanrig; install the Raspberry Pi package, or build with `cargo build --release --features pi`".into(),
            );
        }
    }
    if s.camera.backend == CameraBackend::Gphoto2 && !cfg!(feature = "gphoto2") {
        c.fail(
            "camera.backend",
            "\"gphoto2\" is not in this build of scanrig; install the Raspberry Pi package, or build with `cargo build --release --features gphoto2` (needs libgphoto2-dev)".into(),
        );
    }
    let d = &s.destination.drive;
    let paths = [
        ("spool.dir", s.spool.dir.as_deref()),
        (
            "destination.local.dir",
            Some(s.destination.local.dir.as_path()),
        ),
        (
            "destination.drive.client_secret",
            Some(d.client_secret.as_path()),
        ),
        (
            "destination.drive.service_account_key",
            Some(d.service_account_key.as_path()),
        ),
        ("destination.drive.token_file", d.token_file.as_deref()),
        (
            "destination.webdav.password_file",
            Some(s.destination.webdav.password_file.as_path()),
        ),
        (
            "destination.sftp.private_key",
            Some(s.destination.sftp.private_key.as_path()),
        ),
        (
            "destination.sftp.known_hosts",
            Some(s.destination.sftp.known_hosts.as_path()),
        ),
        ("daemon.profile", Some(Path::new(&s.daemon.profile))),
    ];
    let dirs = s
        .profiles
        .dirs
        .iter()
        .map(|d| ("profiles.dirs", Some(d.as_path())));
    for (key, path) in paths.into_iter().chain(dirs) {
        let Some(path) = path else { continue };
        if path.as_os_str().as_encoded_bytes().contains(&0) {
            c.fail(
                key,
                "contains a NUL byte, which no file name can hold; remove it".into(),
            );
        } else if path.to_string_lossy().chars().any(char::is_control) {
            c.fail(
                key,
                "contains a control character (a line break, tab or escape), which would be written raw into logs and journals; remove it".into(),
            );
        }
    }
    for (key, reason) in super::destinations_problems(s) {
        c.fail(&key, reason);
    }
    for (key, reason) in super::mqtt_problems(&s.mqtt) {
        c.fail(key, reason);
    }
    for (key, reason) in super::merge_problems(&s.merge) {
        c.fail(key, reason);
    }
    for (key, reason) in super::quality_problems(&s.quality) {
        c.fail(&key, reason);
    }
    for (key, reason) in super::wired_problems(s) {
        // A key left out is the fault of whoever chose the backend; only
        // a file sets `[[cameras]]`.
        let origin = if key.starts_with("cameras[") {
            c.layers.origin(&["cameras"])
        } else {
            c.layers.origin(&[&key, "camera.backend"])
        };
        c.problems.push(Problem::new(origin, &key, reason));
    }
    for (key, reason) in super::moved_problems(&s.moved) {
        c.fail(key, reason);
    }
    for (key, reason) in super::lights_problems(&s.lighting, &s.lights) {
        c.fail(&key, reason);
    }
    c.range("health.every_s", s.health.every_s, 1, 3600, "seconds");
    c.cameras(&s.cameras);
    c.range(
        "web.preview_fps",
        s.web.preview_fps,
        1,
        30,
        "frames per second",
    );
    if !s.web.listen.is_empty() && s.web.listen.parse::<std::net::SocketAddr>().is_err() {
        c.fail(
            "web.listen",
            format!(
                "{:?} is not an address and port like \"127.0.0.1:8080\" or \"0.0.0.0:8080\"; leave it empty to turn the web page off",
                s.web.listen
            ),
        );
    }
    if !s.web.token.is_empty() && s.web.token.len() < 16 {
        c.fail(
            "web.token",
            "is shorter than 16 characters; use a long random one, or leave it empty for a generated one".into(),
        );
    }
    if s.daemon.profile.trim().is_empty() {
        c.fail(
            "daemon.profile",
            "is empty; give a profile name or path".into(),
        );
    }
    if s.profiles.dirs.iter().any(|d| d.as_os_str().is_empty()) {
        c.fail(
            "profiles.dirs",
            "contains an empty folder name; remove it".into(),
        );
    }
    let dir = s.spool_dir();
    let missing = outermost_missing(&dir);
    if let Err(e) = check_writable(&dir) {
        let from = match s.spool.dir {
            Some(_) => String::new(),
            None => format!(" (from {why})"),
        };
        let reason = format!(
            "{}{from}: {e}; choose a writable folder for spool.dir",
            dir.display()
        );
        c.fail("spool.dir", reason);
    }
    // A refused configuration leaves nothing behind.
    if let (false, Some(top)) = (c.problems.is_empty(), missing) {
        remove_created(&dir, &top);
    }
}

/// The outermost of `dir` and its ancestors that does not exist yet.
fn outermost_missing(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .last()
        .map(Path::to_path_buf)
}

/// Removes `dir` and its ancestors up to `top` again, as far as they are
/// empty (best effort: what cannot be removed stays).
fn remove_created(dir: &Path, top: &Path) {
    for d in dir.ancestors() {
        if std::fs::remove_dir(d).is_err() || d == top {
            return;
        }
    }
}

/// Creates `dir` if needed and checks that a file can be written in it.
fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".scanrig-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}
