//! The error type shared by the rig settings and the scan profiles, and the
//! schema check that turns serde's parse errors into named, located problems.

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

/// Deserializes `T` from a deserializer that `make` builds from `state`,
/// collecting schema problems (unknown keys, wrong types) one at a time: after
/// each, `remove` is asked to drop the offending path from `state` and the
/// check runs again. Stops when the value deserializes or `remove` can drop
/// nothing more.
pub(crate) fn check_schema<T, S, D, E>(
    state: &mut S,
    make: impl Fn(&S) -> D,
    mut remove: impl FnMut(&mut S, &[Step]) -> bool,
    describe: impl Fn(&E) -> String,
) -> (Option<T>, Vec<Found>)
where
    T: DeserializeOwned,
    D: for<'de> serde::Deserializer<'de, Error = E>,
    E: serde::de::Error,
{
    let mut found = Vec::new();
    for _ in 0..100 {
        let err = match serde_path_to_error::deserialize::<_, T>(make(state)) {
            Ok(v) => return (Some(v), found),
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
        let message = describe(err.inner());
        let (path, reason) = explain(path, &message);
        let key = dotted(&path);
        found.push(Found { key, reason });
        if path.is_empty() || !remove(state, &path) {
            break;
        }
    }
    (None, found)
}

/// Turns serde's message into a reason a person can act on, and puts an
/// unknown key's name at the end of the path.
fn explain(mut path: Vec<Step>, message: &str) -> (Vec<Step>, String) {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        if path.last() != Some(&Step::Key(name.to_string())) {
            path.push(Step::Key(name.to_string()));
        }
        let expected = expected.trim_start_matches(',').trim().replace('`', "");
        let expected = match expected.as_str() {
            "there are no fields" | "" => "this table takes no keys".to_string(),
            e => e.to_string(),
        };
        let mut reason = format!("unknown key; {expected}");
        if let Some(near) = nearest(name, &expected) {
            reason.push_str(&format!(" (did you mean `{near}`?)"));
        }
        return (path, reason);
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let expected = expected.trim_start_matches(',').trim().replace('`', "");
        let reason = match expected.is_empty() {
            true => format!("unknown value `{name}`"),
            false => format!("unknown value `{name}`; {expected}"),
        };
        return (path, reason);
    }
    (path, plain_types(message))
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
fn nearest(name: &str, expected: &str) -> Option<String> {
    let list = expected
        .strip_prefix("expected one of ")
        .or_else(|| expected.strip_prefix("expected "))?;
    list.split(", ")
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
