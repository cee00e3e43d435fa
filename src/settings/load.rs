//! Loading the settings: reading each layer, checking it against the schema
//! on its own so problems name their file or variable, merging the layers
//! with the config crate, then checking ranges and the spool folder.

use std::collections::BTreeMap;

use config::{Config, File, FileFormat};

use super::{fallback_spool, LoadOptions, Settings, DEFAULTS_TOML};
use crate::config_error::{self as ce, ConfigErrors, Problem};

mod axes;
mod checker;
mod env;
mod file;
mod validate;

use env::{check_env, describe_config_error, env_key, env_source};
use file::{check_file, layer_text, parse_layer, read_file};
use validate::validate;

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
