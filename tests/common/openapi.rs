//! The API's answers checked against its OpenAPI document by real
//! validators (`openapi-spec-validator` and `openapi-schema-validator` from
//! PyPI, run by `tests/openapi/check.py`). [`super::http::request`] keeps
//! every answer from `/api/v1`; [`check`] validates the document and every
//! answer kept so far against the schema of its operation and status.
//!
//! The validators live in a virtual environment: `$OPENAPI_PYTHON`, else
//! `target/openapi/bin/python` (`.ci/run` makes it). Without it the check
//! says so and skips, unless `OPENAPI_REQUIRED` is set (as in CI).

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use super::http::Reply;

thread_local! {
    /// Answers kept for [`check`], by the test's thread (tests run side
    /// by side).
    static ANSWERS: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// The document the daemon serves.
pub const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/openapi.json");

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi/check.py");

/// Keeps an answer to `method path` (a path under `/api/v1`).
pub fn keep(method: &str, path: &str, reply: &Reply) {
    let Some(api_path) = path
        .split('?')
        .next()
        .and_then(|p| p.strip_prefix("/api/v1"))
    else {
        return;
    };
    let content_type = reply.header("content-type").unwrap_or("").to_owned();
    let body = if content_type.starts_with("application/json") {
        serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
    } else if reply.body.is_empty() {
        Value::Null
    } else {
        json!("(not JSON)")
    };
    let answer = json!({"method": method, "path": api_path, "status": reply.status,
        "content_type": content_type, "body": body});
    ANSWERS.with(|a| a.borrow_mut().push(answer));
}

/// The validators' Python, if installed.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("OPENAPI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/openapi/bin/python")
        });
    if python.is_file() {
        return Some(python);
    }
    let why = format!(
        "no OpenAPI validators at {} (python3 -m venv target/openapi && target/openapi/bin/pip install -r tests/openapi/requirements.txt)",
        python.display()
    );
    assert!(
        std::env::var_os("OPENAPI_REQUIRED").is_none(),
        "OPENAPI_REQUIRED is set but {why}"
    );
    let _ = writeln!(std::io::stderr(), "skipped the OpenAPI check: {why}");
    None
}

/// Validates the document and every answer kept so far (which are then
/// forgotten); panics with the validator's findings.
pub fn check() {
    let answers: Vec<Value> = ANSWERS.with(|a| a.take());
    assert!(
        !answers.is_empty(),
        "no answers of the API were kept to check"
    );
    let Some(python) = python() else {
        return;
    };
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    serde_json::to_writer(&mut file, &answers).expect("write the answers");
    let out = Command::new(python)
        .args([SCRIPT, DOCUMENT])
        .arg(file.path())
        .output()
        .expect("run the OpenAPI check");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the OpenAPI check failed:\n{said}");
    eprintln!("{}", said.trim());
}
