//! The TOML layers (the shipped defaults and the settings file): reading,
//! parsing and schema-checking each on its own, so that problems name their
//! file.

use crate::config_error::{self as ce, Problem};
use crate::settings::{LoadOptions, Settings};

/// Reads the settings file, if any: its origin and text.
pub(super) fn read_file(
    opts: &LoadOptions,
    problems: &mut Vec<Problem>,
) -> Option<(String, String)> {
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
pub(super) fn check_file(
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
pub(super) fn file_problem(key: &str, value: toml::Value) -> Option<(String, String)> {
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

/// Parses one TOML layer, reporting a syntax error as a problem.
pub(super) fn parse_layer(text: &str, origin: &str, problems: &mut Vec<Problem>) -> toml::Table {
    ce::parse_toml(text, origin).unwrap_or_else(|p| {
        problems.push(p);
        toml::Table::new()
    })
}

/// Writes a checked layer back as TOML text for the config crate.
pub(super) fn layer_text(table: &toml::Table, origin: &str, problems: &mut Vec<Problem>) -> String {
    toml::to_string(table).unwrap_or_else(|e| {
        problems.push(Problem::new(
            origin,
            "",
            format!("cannot re-read the settings: {e}"),
        ));
        String::new()
    })
}
