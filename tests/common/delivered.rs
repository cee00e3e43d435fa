//! Checks of a scan at the destination: exactly the photos planned, each
//! intact, the manifest complete, and the `--json` summary that says so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::{assert_manifest, entries, prior_files, raw_of, sha256, Planned, PHOTO_SIZE};

/// Checks that `scan_dir` holds exactly the photos `names` (plus, if
/// `manifest`, `manifest.json` and every pose prior; without it, priors
/// written before a crash may be there) and nothing else: no second copy,
/// no temp file; that each decodes as a JPEG of [`PHOTO_SIZE`] (a `.ppm`,
/// the simulator's RAW file: a whole PPM of that size). Returns each
/// photo's sha256.
pub fn assert_photos(
    scan_dir: &Path,
    names: &BTreeSet<String>,
    manifest: bool,
) -> BTreeMap<String, String> {
    let mut want: BTreeSet<String> = names.clone();
    let priors = prior_files(names);
    let mut found: BTreeSet<String> = entries(scan_dir).into_iter().collect();
    if manifest {
        want.insert("manifest.json".to_owned());
        want.extend(priors);
        let colmap: BTreeSet<String> = entries(&scan_dir.join("colmap")).into_iter().collect();
        assert_eq!(
            colmap,
            ["cameras.txt", "images.txt", "points3D.txt", "reference.txt"]
                .map(String::from)
                .into(),
            "the COLMAP model beside the manifest"
        );
    } else {
        found.retain(|f| !priors.contains(f));
    }
    assert_eq!(
        found,
        want,
        "{} must hold exactly the photos (missing: {:?}; unexpected: {:?})",
        scan_dir.display(),
        want.difference(&found).collect::<Vec<_>>(),
        found.difference(&want).collect::<Vec<_>>()
    );
    names
        .iter()
        .map(|name| {
            let bytes = std::fs::read(scan_dir.join(name)).expect("read photo");
            if name.ends_with(".ppm") {
                let (w, h) = PHOTO_SIZE;
                let header = format!("P6\n{w} {h}\n255\n");
                assert!(bytes.starts_with(header.as_bytes()), "{name}: PPM header");
                let pixels = 3 * usize::from(w) * usize::from(h);
                assert_eq!(bytes.len(), header.len() + pixels, "{name}: size");
                return (name.clone(), sha256(&bytes));
            }
            let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
            decoder
                .decode()
                .unwrap_or_else(|e| panic!("{name} does not decode as a JPEG: {e}"));
            let info = decoder.info().expect("JPEG info");
            assert_eq!((info.width, info.height), PHOTO_SIZE, "{name}: size");
            (name.clone(), sha256(&bytes))
        })
        .collect()
}

/// The whole check of a completed scan at the destination: every planned
/// shot exactly once, intact, names in shot order, the manifest complete.
pub fn assert_complete(scan_dir: &Path, expected: &[Planned]) -> Value {
    assert_complete_pairs(scan_dir, expected, false)
}

/// [`assert_complete`], each shot a RAW + JPEG pair when `raw` (the
/// simulator's RAW file: `<shot>.ppm`).
pub fn assert_complete_pairs(scan_dir: &Path, expected: &[Planned], raw: bool) -> Value {
    let mut names: BTreeSet<String> = expected.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names.len(), expected.len(), "planned names are unique");
    let in_shot_order: Vec<&str> = expected.iter().map(|p| p.name.as_str()).collect();
    let sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(in_shot_order, sorted, "file names sort in shot order");
    if raw {
        names.extend(expected.iter().map(|p| raw_of(&p.name)));
    }
    let shas = assert_photos(scan_dir, &names, true);
    let manifest = assert_manifest(scan_dir, expected, &shas);
    assert_eq!(manifest["planned"], expected.len());
    assert_eq!(manifest["outcome"], "completed");
    manifest
}

/// Asserts the `--json` summary says every planned shot was captured and
/// uploaded; returns the scan id.
pub fn assert_summary_complete(summary: &Value, planned: usize) -> String {
    assert_eq!(summary["outcome"], "completed", "{summary}");
    assert_eq!(summary["planned"], planned, "{summary}");
    assert_eq!(summary["captured"], planned, "{summary}");
    assert_eq!(summary["uploaded"], planned, "{summary}");
    assert_eq!(summary["upload_failed"], 0, "{summary}");
    summary["scan"].as_str().expect("scan id").to_owned()
}
