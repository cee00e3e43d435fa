//! The error type shared by the rig settings and the scan profiles, and the
//! schema check that turns serde's findings into named, located problems:
//! a TOML layer is read through serde-value with a typed error
//! (`Schema`), so no message text is parsed back.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

/// One thing wrong with the configuration: where it came from, which key, and
/// what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the value came from: a file path, `environment SCANRIG_X__Y`,
    /// `shipped defaults`, or a profile name.
    pub origin: String,
    /// The dotted key, like `upload.workers` or `rings[1].shots` (rings are
    /// numbered from 1). Empty when the problem concerns the whole file.
    pub key: String,
    /// What was expected and what to do.
    pub reason: String,
    /// What was asked for does not exist (a profile of an unknown name).
    pub not_found: bool,
}

impl Problem {
    /// A problem at `key` of `origin`.
    pub fn new(
        origin: impl Into<String>,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Problem {
            origin: origin.into(),
            key: key.into(),
            reason: reason.into(),
            not_found: false,
        }
    }

    /// The same problem, saying that what was asked for does not exist.
    pub fn not_found(mut self) -> Self {
        self.not_found = true;
        self
    }
}

impl fmt::Display for Problem {
    /// `ORIGIN: KEY: REASON`, or `ORIGIN: REASON` when the key is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.origin, self.key, self.reason)
        }
    }
}

/// Every problem found while loading a configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The problems, in the order they were found. Never empty when returned
    /// as an error.
    pub problems: Vec<Problem>,
}

impl ConfigErrors {
    /// An error holding a single problem.
    pub fn single(problem: Problem) -> Self {
        ConfigErrors {
            problems: vec![problem],
        }
    }

    /// Whether the trouble is only that what was asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        !self.problems.is_empty() && self.problems.iter().all(|p| p.not_found)
    }

    /// The first problem about `key`, if any (handy in tests and callers that
    /// want to react to one key).
    pub fn for_key(&self, key: &str) -> Option<&Problem> {
        self.problems.iter().find(|p| p.key == key)
    }
}

impl fmt::Display for ConfigErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// One step of a key path: a table key or an array index (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// A schema problem found in one layer: the dotted key and the reason.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) key: String,
    pub(crate) reason: String,
}

/// The dotted form of `path`, with array indices shown 1-based (`rings[1]`).
pub(crate) fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{}]", i + 1)),
        }
    }
    out
}

/// Parses TOML text into a table, or a problem naming the line and column.
pub(crate) fn parse_toml(text: &str, origin: &str) -> Result<toml::Table, Problem> {
    text.parse::<toml::Table>().map_err(|e| {
        let place = match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(" at line {line}, column {col}")
            }
            None => String::new(),
        };
        let msg = e.message().trim().replace('\n', " ");
        Problem::new(origin, "", format!("invalid TOML{place}: {msg}"))
    })
}

/// What serde found wrong with a value, as it reported it (typed: no
/// message text is parsed back).
#[derive(Debug)]
pub(crate) enum Schema {
    /// A key the table does not take, and those it does.
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    /// A value an enumeration does not have, and those it has.
    UnknownValue {
        value: String,
        expected: &'static [&'static str],
    },
    /// A value of the wrong type: what was found, what was expected.
    WrongType { found: String, expected: String },
    /// A value of the right type but out of bounds.
    WrongValue { found: String, expected: String },
    /// A required key is missing.
    Missing(&'static str),
    /// Anything else a type says of its value.
    Other(String),
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schema::UnknownKey { key, expected } => {
                write!(
                    f,
                    "unknown key `{key}`; {}",
                    one_of(expected, "this table takes no keys")
                )
            }
            Schema::UnknownValue { value, expected } => {
                write!(
                    f,
                    "unknown value `{value}`; {}",
                    one_of(expected, "no value is known")
                )
            }
            Schema::WrongType { found, expected } => {
                write!(f, "invalid type: {found}, expected {expected}")
            }
            Schema::WrongValue { found, expected } => {
                write!(f, "invalid value: {found}, expected {expected}")
            }
            Schema::Missing(key) => write!(f, "missing key `{key}`"),
            Schema::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Schema {}

impl serde::de::Error for Schema {
    fn custom<T: fmt::Display>(msg: T) -> Schema {
        Schema::Other(msg.to_string())
    }

    fn invalid_type(
        found: serde::de::Unexpected<'_>,
        expected: &dyn serde::de::Expected,
    ) -> Schema {
        Schema::WrongType {
            found: found.to_string(),
            expected: expected.to_string(),
        }
    }

    fn invalid_value(
        found: serde::de::Unexpected<'_>,
        expected: &dyn serde::de::Expected,
    ) -> Schema {
        Schema::WrongValue {
            found: found.to_string(),
            expected: expected.to_string(),
        }
    }

    fn unknown_field(key: &str, expected: &'static [&'static str]) -> Schema {
        Schema::UnknownKey {
            key: key.to_owned(),
            expected,
        }
    }

    fn unknown_variant(value: &str, expected: &'static [&'static str]) -> Schema {
        Schema::UnknownValue {
            value: value.to_owned(),
            expected,
        }
    }

    fn missing_field(key: &'static str) -> Schema {
        Schema::Missing(key)
    }
}

/// `expected a`, `expected a or b`, `expected one of a, b, c`; `none`
/// for an empty list.
fn one_of(expected: &[&str], none: &str) -> String {
    match expected {
        [] => none.to_owned(),
        [one] => format!("expected {one}"),
        [a, b] => format!("expected {a} or {b}"),
        many => format!("expected one of {}", many.join(", ")),
    }
}

/// Where a value failed its schema: the path to it and the reason.
pub(crate) type Failure = (Vec<Step>, String);

/// Checks `state` with `attempt` (which deserializes it, or says where and
/// why not), collecting schema problems (unknown keys, wrong types) one at
/// a time: after each, `remove` is asked to drop the offending path from
/// `state` and the check runs again. Stops when `attempt` succeeds or
/// `remove` can drop nothing more.
pub(crate) fn check_schema<T, S>(
    state: &mut S,
    attempt: impl Fn(&S) -> Result<T, Failure>,
    mut remove: impl FnMut(&mut S, &[Step]) -> bool,
) -> (Option<T>, Vec<Found>) {
    let mut found = Vec::new();
    for _ in 0..100 {
        let (path, reason) = match attempt(state) {
            Ok(v) => return (Some(v), found),
            Err(failure) => failure,
        };
        found.push(Found {
            key: dotted(&path),
            reason,
        });
        if path.is_empty() || !remove(state, &path) {
            break;
        }
    }
    (None, found)
}

/// Deserializes `T` from `deserializer`, or says where it failed and
/// why, in words (`describe`).
pub(crate) fn deserialize<'de, T, D>(
    deserializer: D,
    describe: impl Fn(&mut Vec<Step>, &D::Error) -> String,
) -> Result<T, Failure>
where
    T: DeserializeOwned,
    D: serde::Deserializer<'de>,
{
    let err = match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Ok(v) => return Ok(v),
        Err(err) => err,
    };
    let mut path = Vec::new();
    for seg in err.path().iter() {
        match seg {
            Segment::Map { key } => path.push(Step::Key(key.clone())),
            Segment::Seq { index } => path.push(Step::Index(*index)),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    let reason = describe(&mut path, err.inner());
    Err((path, reason))
}

/// Deserializes `T` from a TOML table, its problems typed ([`Schema`]).
pub(crate) fn from_table<T: DeserializeOwned>(table: &toml::Table) -> Result<T, Failure> {
    let value = serde_value::to_value(table)
        .map_err(|e| (Vec::new(), format!("cannot read the settings: {e}")))?;
    deserialize(
        serde_value::ValueDeserializer::<Schema>::new(value),
        explain,
    )
}

/// Turns serde's finding into a reason a person can act on, and puts an
/// unknown key's name at the end of the path.
fn explain(path: &mut Vec<Step>, schema: &Schema) -> String {
    match schema {
        Schema::UnknownKey { key, expected } => {
            if path.last() != Some(&Step::Key(key.clone())) {
                path.push(Step::Key(key.clone()));
            }
            let mut reason = format!(
                "unknown key; {}",
                one_of(expected, "this table takes no keys")
            );
            if let Some(near) = nearest(key, expected) {
                reason.push_str(&format!(" (did you mean `{near}`?)"));
            }
            reason
        }
        Schema::UnknownValue {
            value,
            expected: [],
        } => format!("unknown value `{value}`"),
        Schema::UnknownValue { value, expected } => {
            format!("unknown value `{value}`; {}", one_of(expected, ""))
        }
        other => plain_types(&other.to_string()),
    }
}

/// Replaces Rust type names in serde's messages by words.
fn plain_types(message: &str) -> String {
    let mut out = message.to_string();
    for (from, to) in [
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        (
            "expected an unsigned 32 bit integer",
            "expected a whole number (0 or more)",
        ),
        (
            "expected an unsigned 64 bit integer",
            "expected a whole number (0 or more)",
        ),
        (
            "expected an unsigned 64 bit or less integer",
            "expected a whole number (0 or more)",
        ),
        ("expected an integer", "expected a whole number"),
        ("expected path string", "expected a path in quotes"),
        ("64-bit unsigned integer", "integer"),
        ("64-bit integer", "integer"),
        ("floating point", "number"),
        ("expected f64", "expected a number"),
        ("expected a float", "expected a number"),
        ("invalid type: ", "wrong type: "),
        ("invalid value: ", "wrong value: "),
    ] {
        out = out.replace(from, to);
    }
    // "expected struct Upload" and the like: a table was expected.
    while let Some(at) = out.find("expected struct ") {
        let end = out[at + 16..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(out.len(), |e| at + 16 + e);
        out.replace_range(at..end, "expected a table");
    }
    out
}

/// The expected name closest to `name`, if it is a likely typo.
fn nearest(name: &str, expected: &[&str]) -> Option<String> {
    expected
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= 2 && *d < name.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Removes the value at `path` from `table`. A path ending inside an array of
/// plain values removes the whole array. Returns whether anything was removed.
pub(crate) fn remove_path(table: &mut toml::Table, path: &[Step]) -> bool {
    let Some(last_key) = path.iter().rposition(|s| matches!(s, Step::Key(_))) else {
        return false;
    };
    let (parents, last) = path[..=last_key].split_at(last_key);
    let Step::Key(last) = &last[0] else {
        return false;
    };
    let mut here = table;
    let mut steps = parents.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Key(k) = step else { return false };
        let mut value = match here.get_mut(k) {
            Some(v) => v,
            None => return false,
        };
        while let Some(Step::Index(i)) = steps.peek() {
            value = match value {
                toml::Value::Array(a) if *i < a.len() => &mut a[*i],
                _ => return false,
            };
            steps.next();
        }
        here = match value {
            toml::Value::Table(t) => t,
            _ => return false,
        };
    }
    here.remove(last).is_some()
}

/// Looks up the value at a dotted key (no array indices) in `table`.
pub(crate) fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}
