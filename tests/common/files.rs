//! What folders and ZIP archives hold: entry names, sub-folders, temp
//! files, and the sha256 of each file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The sub-folders of `dir` (none if it does not exist), sorted.
pub fn folders(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.expect("dir entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every entry name in `dir` (none if it does not exist), sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Every file under `dir`, by its path from `dir`, with its contents'
/// sha256.
pub fn contents(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for name in entries(dir) {
        let path = dir.join(&name);
        if path.is_dir() {
            for (inner, sha) in contents(&path) {
                found.insert(format!("{name}/{inner}"), sha);
            }
        } else {
            found.insert(name, sha256(&std::fs::read(&path).unwrap()));
        }
    }
    found
}

/// sha256 of `bytes`, lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Temp files of durable writes (`.<name>.part-<pid>`) in `dir`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.starts_with('.') && n.contains(".part-"))
        .collect()
}

/// The files of a scan's ZIP archive, every one in the folder `scan`:
/// name inside it → sha256 of its bytes.
pub fn zip_sha256s(archive: &[u8], scan: &str) -> BTreeMap<String, String> {
    zip_files(archive, scan)
        .into_iter()
        .map(|(name, (bytes, _))| (name, sha256(&bytes)))
        .collect()
}

/// The files of a scan's ZIP archive, every one in the folder `scan`:
/// name inside it → its bytes and its date.
pub fn zip_files(archive: &[u8], scan: &str) -> BTreeMap<String, (Vec<u8>, zip::DateTime)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP");
    let folder = format!("{scan}/");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("a ZIP entry");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).expect("read a ZIP entry");
            let name = f
                .name()
                .strip_prefix(&folder)
                .unwrap_or_else(|| panic!("{} is not in the folder {folder}", f.name()))
                .to_owned();
            (name, (bytes, f.last_modified().unwrap_or_default()))
        })
        .collect()
}
