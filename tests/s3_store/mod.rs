//! Helpers of the S3 tests: moto's S3 server started on loopback, a rig whose destination is a bucket on it, and the check that a scan arrived there whole.
//!
//! moto runs from a virtual environment: `$S3_PYTHON`, else
//! `target/s3/bin/python` (`.ci/deps` makes it). Without it the tests say
//! so and skip, unless `S3_REQUIRED` is set (as in CI). moto checks no
//! signatures: the tests read the bucket with unsigned requests.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;

use crate::common::http::{request, Reply};
use crate::common::{self, plan, rings_of, Rig};

/// Access keys moto knows, by user: (id, secret).
pub type Keys = std::collections::BTreeMap<String, (String, String)>;

/// The bucket the tests write to.
pub const BUCKET: &str = "studio-scans";
/// The folder in it.
pub const PREFIX: &str = "rigs/a";

/// moto's S3 server, stopped when dropped (its stdin closes).
pub struct Moto {
    child: Child,
    _stdin: ChildStdin,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its address, for a proxy in front of it.
    pub addr: std::net::SocketAddr,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's Python, if installed; otherwise the test says why it skips (or
/// fails, with `S3_REQUIRED`).
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("S3_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/s3/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import moto.server"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let why = format!(
        "no moto at {} (python3 -m venv target/s3 && target/s3/bin/pip install 'moto[server]')",
        python.display()
    );
    assert!(
        std::env::var_os("S3_REQUIRED").is_none(),
        "S3_REQUIRED is set but {why}"
    );
    eprintln!("skipped: {why}");
    None
}

impl Moto {
    /// moto on a free loopback port with the bucket [`BUCKET`]; `None`
    /// (the test skips) where moto is not installed.
    pub fn start() -> Option<Moto> {
        let moto = Moto::without_bucket()?;
        moto.make_bucket();
        Some(moto)
    }

    /// moto on a free loopback port with no bucket yet.
    pub fn without_bucket() -> Option<Moto> {
        Moto::launch(&[]).map(|(moto, _)| moto)
    }

    /// Creates the bucket [`BUCKET`].
    pub fn make_bucket(&self) {
        let made = self.request("PUT", &format!("/{BUCKET}"), None);
        assert_eq!(made.status, 200, "create the bucket: {made:?}");
    }

    /// moto checking signatures, with the bucket [`BUCKET`] and three
    /// access keys it knows: `writer` (allowed everything), `lister`
    /// (allowed to list the bucket only) and `nobody` (allowed nothing),
    /// each (id, secret).
    pub fn with_keys() -> Option<(Moto, Keys)> {
        let (moto, line) = Moto::launch(&["--auth", BUCKET])?;
        let keys: Keys =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("moto said {line:?}"));
        Some((moto, keys))
    }

    /// Starts moto with `args`; returns it and the line it printed after
    /// its port, if `args` ask for one.
    fn launch(args: &[&str]) -> Option<(Moto, String)> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3_store/moto_server.py");
        let mut child = Command::new(python()?)
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("moto's port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("moto said {line:?}"));
        let mut more = String::new();
        if !args.is_empty() {
            out.read_line(&mut more).expect("moto's keys");
        }
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let stdin = child.stdin.take().expect("stdin");
        let moto = Moto {
            child,
            _stdin: stdin,
            url: format!("http://{addr}"),
            addr,
        };
        Some((moto, more))
    }

    /// A request to moto, with an Authorization header it does not check
    /// (moto refuses anonymous reads).
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDTESTREADER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
        request(
            method,
            &format!("{}{path}", self.url),
            &[("Authorization", auth)],
            body,
        )
    }

    /// The keys under `prefix` in the bucket, sorted.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut after = String::new();
        loop {
            let path = format!(
                "/{BUCKET}?list-type=2&prefix={}&start-after={}",
                encode(prefix),
                encode(&after)
            );
            let reply = self.request("GET", &path, None);
            assert_eq!(reply.status, 200, "list {prefix}: {reply:?}");
            let text = String::from_utf8_lossy(&reply.body).into_owned();
            let page = tags(&text, "Key");
            if page.is_empty() {
                break;
            }
            after = page.last().cloned().unwrap_or_default();
            let more = tags(&text, "IsTruncated")
                .first()
                .is_some_and(|t| t == "true");
            keys.extend(page);
            if !more {
                break;
            }
        }
        keys.sort();
        keys
    }

    /// The object under `key`.
    pub fn object(&self, key: &str) -> Reply {
        let reply = self.request("GET", &format!("/{BUCKET}/{}", encode_key(key)), None);
        assert_eq!(
            reply.status,
            200,
            "get {key}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply
    }

    /// Puts `body` under `key` as someone else would (no metadata).
    pub fn put(&self, key: &str, body: &str) {
        let reply = self.request("PUT", &format!("/{BUCKET}/{}", encode_key(key)), Some(body));
        assert_eq!(reply.status, 200, "put {key}: {reply:?}");
    }

    /// The keys in the bucket, listed with a signed request as `id` with
    /// `secret` (for moto checking signatures; through boto3).
    pub fn keys_signed(&self, id: &str, secret: &str) -> Vec<String> {
        let list = format!(
            "import boto3\n\
             s3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='{id}', aws_secret_access_key='{secret}')\n\
             for page in s3.get_paginator('list_objects_v2').paginate(Bucket='{BUCKET}'):\n    [print(o['Key']) for o in page.get('Contents', [])]\n",
            self.url
        );
        let out = Command::new(python().expect("moto's Python"))
            .args(["-c", &list])
            .output()
            .expect("list with boto3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut keys: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        keys.sort();
        keys
    }

    /// Starts a multipart upload under `key` and leaves it open, as a run
    /// killed before keeping its id does.
    pub fn leave_upload_open(&self, key: &str) {
        let path = format!("/{BUCKET}/{}?uploads", encode_key(key));
        let reply = self.request("POST", &path, None);
        assert_eq!(reply.status, 200, "create an upload under {key}: {reply:?}");
    }

    /// The multipart uploads open in the bucket (ListMultipartUploads).
    pub fn open_uploads(&self) -> Vec<String> {
        let reply = self.request("GET", &format!("/{BUCKET}?uploads"), None);
        assert_eq!(reply.status, 200, "list uploads: {reply:?}");
        tags(&String::from_utf8_lossy(&reply.body), "Key")
    }
}

/// The text of every `<tag>…</tag>` in `xml`.
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split_once(&close).map(|(v, _)| unescape(v)))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Percent-encodes a key's levels, keeping its `/`.
fn encode_key(key: &str) -> String {
    key.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// Writes the access key file (mode 0600) the rig's configuration names;
/// returns its path.
pub fn key_file(rig: &Rig, key_id: &str, secret: &str) -> PathBuf {
    let path = rig.root().join("s3-keys.toml");
    std::fs::write(
        &path,
        format!("access_key_id = \"{key_id}\"\nsecret_access_key = \"{secret}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The secret the tests' key file holds; it must never be printed.
pub const SECRET: &str = "wJalrXUtnFEMI-never-printed";

/// A rig whose destination is [`BUCKET`]/[`PREFIX`] at `endpoint` (moto,
/// or a proxy in front of it), path-style, with short timeouts and fast
/// retries; `extra` (TOML) on top.
pub fn s3_rig(endpoint: &str, extra: &str) -> Rig {
    let rig = Rig::new();
    let keys = key_file(&rig, "AKIDSCANRIGTEST", SECRET);
    let config = format!(
        r#"
[destination]
kind = "s3"
[destination.s3]
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "{BUCKET}"
prefix = "{PREFIX}"
path_style = true
credentials_file = {keys:?}
multipart_above_mb = 5
part_mb = 5
timeout_s = 2
retries = 2
[upload]
max_attempts = 6
"#
    );
    let mut table: toml::Table = config.parse().unwrap();
    common::merge(&mut table, &extra.parse().unwrap());
    rig.configure(&table.to_string());
    rig
}

/// Downloads the scan's folder from the bucket into `<rig>/fetched/<scan>`
/// and checks it as a delivered scan: every planned photo exactly once,
/// intact (decoded, sha256 equal to the manifest's), the manifest and pose
/// priors, nothing else; each object's recorded sha256 is that of its
/// bytes; no multipart upload left open and none kept in the spool.
pub fn assert_delivered(rig: &Rig, moto: &Moto, scan: &str, profile: &str) -> Value {
    let folder = format!("{PREFIX}/{scan}/");
    let into = rig.root().join("fetched").join(scan);
    let _ = std::fs::remove_dir_all(&into);
    for key in moto.keys(&folder) {
        let object = moto.object(&key);
        let name = key.strip_prefix(&folder).expect("under the scan's folder");
        let path = into.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &object.body).unwrap();
        assert_eq!(
            object.header("x-amz-meta-sha256"),
            Some(common::sha256(&object.body).as_str()),
            "{key}: the recorded sha256 is that of its bytes"
        );
    }
    let planned = plan("s3", &rings_of(profile));
    let manifest = common::assert_complete(&into, &planned);
    assert_eq!(
        moto.open_uploads(),
        Vec::<String>::new(),
        "no multipart upload left open"
    );
    let kept: BTreeSet<String> = common::entries(&rig.spooled(scan))
        .into_iter()
        .filter(|n| n.ends_with(".s3-upload"))
        .collect();
    assert!(kept.is_empty(), "upload ids left in the spool: {kept:?}");
    manifest
}

/// Runs a scan of `profile` (saved as the profile `s3`) to its end;
/// returns its `--json` summary.
pub fn scan(rig: &Rig, profile: &str) -> Value {
    rig.profile("s3", profile);
    rig.run(&["scan", "--profile", "s3", "--json"]).summary()
}
