//! The `SCANRIG_*` environment layer: its variables' keys, the config
//! crate's reading of them, and their schema checks, each problem naming
//! its variable.

use std::collections::BTreeMap;

use config::{Config, Environment, File, FileFormat};

use super::file::file_problem;
use crate::config_error::{self as ce, Problem, Step};
use crate::settings::Settings;

/// The one key whose variable holds a list (folders separated by `:`).
const LIST_KEY: &str = "profiles.dirs";

/// Maps an environment variable name to its dotted key, as the config crate
/// does (`SCANRIG_UPLOAD__WORKERS` -> `upload.workers`).
pub(super) fn env_key(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    Some(lower.strip_prefix("scanrig_")?.replace("__", "."))
}

/// The environment layer as the config crate reads it.
pub(super) fn env_source(vars: &BTreeMap<String, String>) -> Environment {
    Environment::with_prefix("SCANRIG")
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .list_separator(":")
        .with_list_parse_key(LIST_KEY)
        .source(Some(vars.clone().into_iter().collect()))
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
pub(super) fn describe_config_error(e: &config::ConfigError) -> String {
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
pub(super) fn check_env(
    defaults: &str,
    vars: &mut BTreeMap<String, String>,
    problems: &mut Vec<Problem>,
) {
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
