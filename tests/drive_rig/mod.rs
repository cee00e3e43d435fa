//! Helpers of the Google Drive tests: a rig whose destination is the fake
//! Drive, signed in, and the check that a scan arrived there whole.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::{self, plan, rings_of, sha256, Rig};
use crate::fake_drive::{FakeDrive, FakeFile};

pub const FOLDER: &str = "application/vnd.google-apps.folder";
pub const SCOPE: &str = "https://www.googleapis.com/auth/drive.file";

/// A rig whose destination is the fake Drive, authorised already (a token
/// file with the fake's refresh token and an access token that has
/// expired), with fast retries; `extra` (TOML) on top.
pub fn drive_rig(fake: &FakeDrive, extra: &str) -> Rig {
    let rig = Rig::new();
    let client = rig.root().join("drive-client.json");
    std::fs::write(
        &client,
        serde_json::json!({"installed": {
            "client_id": "scanrig-test",
            "client_secret": "not-secret",
            "auth_uri": "http://127.0.0.1:9/auth",
            "token_uri": "http://127.0.0.1:9/unused",
        }})
        .to_string(),
    )
    .unwrap();
    let root = fake.root_url();
    let config = format!(
        r#"
[destination]
kind = "drive"
[destination.drive]
folder = "rigs/bench"
client_secret = {client:?}
token_file = {token:?}
api_url = "{root}drive/v3/"
upload_url = "{root}"
token_uri = "{token_uri}"
device_code_url = "{device}"
chunk_kb = 256
single_request_max_kb = 64
timeout_s = 5
retries = 8
retry_initial_ms = 5
retry_max_ms = 50
"#,
        token = token_file(&rig),
        token_uri = fake.token_uri(),
        device = fake.device_code_url(),
    );
    let mut table: toml::Table = config.parse().unwrap();
    common::merge(&mut table, &extra.parse().unwrap());
    rig.configure(&table.to_string());
    write_token(&rig, fake, "expired-at-start", true);
    rig
}

pub fn token_file(rig: &Rig) -> PathBuf {
    rig.root().join("state/drive-token.json")
}

/// Writes the token file as `scanrig auth drive` leaves it.
pub fn write_token(rig: &Rig, fake: &FakeDrive, access: &str, expired: bool) {
    let path = token_file(rig);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // yup-oauth2 keeps the expiry as a time tuple: year 2000 is long past.
    let expires = if expired {
        serde_json::json!([2000, 1, 0, 0, 0, 0, 0, 0, 0])
    } else {
        Value::Null
    };
    let token = serde_json::json!({
        "scopes": [SCOPE],
        "token": {
            "access_token": access,
            "refresh_token": fake.valid_refresh_token(),
            "expires_at": expires,
            "id_token": null,
        },
    });
    std::fs::write(&path, token.to_string()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The photos of `profile` in the scan's folder at the fake: the folder
/// path rigs/bench/<scan>, every planned photo exactly once with the bytes
/// the manifest recorded, Drive's md5 of them, each pose prior once (the
/// COLMAP model in a folder of its own), the manifest written last and
/// listing them all.
pub fn assert_delivered(rig: &Rig, fake: &FakeDrive, scan: &str, profile: &str) {
    let files = fake.files();
    let folder = |name: &str, parent: &str| -> String {
        let found: Vec<&FakeFile> = files
            .iter()
            .filter(|f| f.name == name && f.mime_type == FOLDER && f.parents == [parent])
            .collect();
        assert_eq!(found.len(), 1, "one folder {name} in {parent}: {found:?}");
        found[0].id.clone()
    };
    let rigs = folder("rigs", "root");
    let bench = folder("bench", &rigs);
    let scan_folder = folder(scan, &bench);
    let inside: Vec<&FakeFile> = files
        .iter()
        .filter(|f| f.parents == [scan_folder.clone()])
        .collect();
    let planned = plan("drive", &rings_of(profile));
    let want: BTreeSet<String> = planned.iter().map(|p| p.name.clone()).collect();
    let photos: Vec<&FakeFile> = inside
        .iter()
        .copied()
        .filter(|f| f.app_properties.contains_key("scanrig_shot"))
        .collect();
    let names: Vec<String> = photos.iter().map(|f| f.name.clone()).collect();
    assert_eq!(
        names.len(),
        want.len(),
        "every photo exactly once: {names:?}"
    );
    assert_eq!(names.iter().cloned().collect::<BTreeSet<_>>(), want);
    let manifests: Vec<&&FakeFile> = inside
        .iter()
        .filter(|f| f.name == "manifest.json")
        .collect();
    assert_eq!(manifests.len(), 1, "one manifest");
    let manifest: Value = serde_json::from_slice(&manifests[0].content).unwrap();
    // The sha256 of each photo as captured, from the manifest; the Drive
    // id of each, from the scans index (the scan is retired).
    let captured = common::manifest_shas(&manifest);
    let retired = rig.assert_retired(scan, "completed", planned.len());
    assert_eq!(retired["manifest"], manifests[0].id.as_str());
    for photo in &photos {
        let sha = sha256(&photo.content);
        assert_eq!(
            Some(&sha),
            captured.get(&photo.name),
            "{}: bytes differ",
            photo.name
        );
        assert_eq!(retired["photos"][&photo.name], photo.id.as_str());
        assert_eq!(photo.md5, md5_hex(&photo.content), "{}", photo.name);
        assert_eq!(
            photo.app_properties.get("scanrig_sha256"),
            Some(&sha),
            "{}",
            photo.name
        );
        assert_eq!(
            photo.app_properties.get("scanrig_scan").map(String::as_str),
            Some(scan)
        );
        jpeg_decoder::Decoder::new(&photo.content[..])
            .decode()
            .unwrap_or_else(|e| panic!("{} does not decode: {e}", photo.name));
    }
    let last = files
        .iter()
        .rposition(|f| f.parents == [scan_folder.clone()])
        .unwrap();
    assert_eq!(
        files[last].name, "manifest.json",
        "the manifest is written last"
    );
    let listed: Vec<&str> = manifest["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["files"][0]["name"].as_str().unwrap())
        .collect();
    let in_order: Vec<&str> = planned.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(listed, in_order, "the manifest lists every shot in order");
    assert_eq!(manifest["outcome"], "completed");
    assert_priors(&files, &inside, &scan_folder, &manifest, planned.len());
}

/// Every pose prior the manifest lists is at Drive once, where its name
/// says, under the id the manifest gives; nothing else is in the folder.
fn assert_priors(
    files: &[FakeFile],
    inside: &[&FakeFile],
    scan_folder: &str,
    manifest: &Value,
    photos: usize,
) {
    let colmap: Vec<&&FakeFile> = inside
        .iter()
        .filter(|f| f.name == "colmap" && f.mime_type == FOLDER)
        .collect();
    assert_eq!(
        colmap.len(),
        1,
        "one colmap folder: {:?}",
        inside
            .iter()
            .map(|f| (&f.name, &f.mime_type))
            .collect::<Vec<_>>()
    );
    let listed: BTreeMap<String, String> = manifest["poses"]
        .as_array()
        .expect("the manifest lists the pose priors")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_owned();
            (name, p["destination_id"].as_str().unwrap().to_owned())
        })
        .collect();
    // COLMAP's 4, Metashape's CSV, an XMP and a JSON sidecar per photo.
    assert_eq!(listed.len(), 5 + 2 * photos, "{listed:?}");
    let at_drive: Vec<&FakeFile> = files
        .iter()
        .filter(|f| f.app_properties.contains_key("scanrig_file"))
        .filter(|f| f.parents == [scan_folder] || f.parents == [colmap[0].id.clone()])
        .collect();
    assert_eq!(at_drive.len(), listed.len(), "each pose prior once");
    for f in &at_drive {
        let name = &f.app_properties["scanrig_file"];
        assert_eq!(listed.get(name), Some(&f.id), "{name}");
        let (folder, file) = name.rsplit_once('/').unwrap_or(("", name));
        assert_eq!(&f.name, file);
        let parent = if folder == "colmap" {
            &colmap[0].id
        } else {
            scan_folder
        };
        assert_eq!(f.parents, [parent.to_owned()], "{name}");
    }
    let top = at_drive
        .iter()
        .filter(|f| f.parents == [scan_folder])
        .count();
    assert_eq!(
        inside.len(),
        photos + top + 2,
        "photos, priors, colmap/, manifest"
    );
}

pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn scan(rig: &Rig, profile: &str) -> (String, Value) {
    rig.profile("drive", profile);
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    out.expect_code(0);
    let summary = out.summary();
    let scan = common::assert_summary_complete(
        &summary,
        rings_of(profile).iter().map(|r| r.shots as usize).sum(),
    );
    (scan, summary)
}

/// A rig that uploads as a service account into the folder `folder_id`.
pub fn service_account_rig(fake: &FakeDrive, folder_id: &str) -> Rig {
    let rig = Rig::new();
    let key = service_account_key(&rig);
    let root = fake.root_url();
    rig.configure(&format!(
        r#"
[destination]
kind = "drive"
[destination.drive]
auth = "service_account"
service_account_key = {key:?}
folder_id = "{folder_id}"
api_url = "{root}drive/v3/"
upload_url = "{root}"
token_uri = "{token_uri}"
retry_initial_ms = 5
"#,
        token_uri = fake.token_uri(),
    ));
    rig
}

/// A service account's key file for the fake (a fresh RSA key), in the
/// rig's folder; returns its path.
fn service_account_key(rig: &Rig) -> PathBuf {
    let pem = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl (apt install openssl)");
    assert!(pem.status.success());
    let key = rig.root().join("service-account.json");
    std::fs::write(
        &key,
        serde_json::json!({
            "type": "service_account",
            "project_id": "scanrig-test",
            "private_key_id": "k1",
            "private_key": String::from_utf8(pem.stdout).unwrap(),
            "client_email": "rig@scanrig-test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "http://127.0.0.1:9/unused",
        })
        .to_string(),
    )
    .unwrap();
    key
}
