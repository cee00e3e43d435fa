//! File metadata: as a client sends it, and as applied to a stored file.

use serde_json::{Map, Value};

use super::FakeFile;

/// File metadata sent by a client; `None` = not given.
#[derive(Clone, Debug, Default)]
pub(super) struct Meta {
    /// The id to create the file with (from generateIds).
    pub(super) id: Option<String>,
    pub(super) name: Option<String>,
    pub(super) mime_type: Option<String>,
    pub(super) parents: Option<Vec<String>>,
    /// A `None` value removes the key.
    app_properties: Option<Vec<(String, Option<String>)>>,
}

/// Parses upload metadata (an empty body is no metadata).
pub(super) fn parse_meta(bytes: &[u8]) -> Result<Meta, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Meta::default());
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("Invalid JSON metadata: {e}"))?;
    let obj = value
        .as_object()
        .ok_or("The metadata must be a JSON object.")?;
    Ok(Meta {
        id: opt_string(obj, "id")?,
        name: opt_string(obj, "name")?,
        mime_type: opt_string(obj, "mimeType")?,
        parents: match obj.get("parents") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("`parents` must hold strings.")?,
            ),
            Some(_) => return Err("`parents` must be an array.".into()),
        },
        app_properties: match obj.get("appProperties") {
            None | Some(Value::Null) => None,
            Some(Value::Object(props)) => Some(
                props
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), Some(s.clone()))),
                        Value::Null => Ok((k.clone(), None)),
                        _ => Err(format!("appProperties.{k} must be a string.")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err("`appProperties` must be an object.".into()),
        },
    })
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string.")),
    }
}

pub(super) fn apply_app_properties(file: &mut FakeFile, meta: &Meta) {
    for (key, value) in meta.app_properties.iter().flatten() {
        match value {
            Some(value) => file.app_properties.insert(key.clone(), value.clone()),
            None => file.app_properties.remove(key),
        };
    }
}
