//! A simulated scan reconstructed by COLMAP itself: the simulated camera
//! renders what a camera on the rig sees, COLMAP's mapper finds the
//! cameras with no help, and they must stand where the pose priors the
//! scan wrote say; COLMAP's point triangulator, given those priors as the
//! poses, must triangulate the photos' features with sub-pixel error. The
//! same for a camera column, each simulated camera rendering from its own
//! tilt and height.
//!
//! Needs Debian's `colmap` (3.8, CPU). Without it the test says so and
//! skips, unless `COLMAP_REQUIRED=1` (as in CI).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::Rig;

/// The camera's distance from the turntable's axis, metres.
const DISTANCE: f64 = 0.5;
/// Shots per ring, and the rings' tilts.
const SHOTS: u32 = 18;
const TILTS: [f64; 2] = [15.0, 40.0];

/// A tilt arm pivoting at the objects' middle, the camera half a metre
/// out; 800 × 600 photos.
const GEOMETRY: &str = r#"
[camera.sim]
width = 800
height = 600
expose_ms = 1
download_ms = 1

[geometry]
distance_m = 0.0
height_m = 0.06
arm_out_m = 0.5
arm_up_m = 0.0
focal_mm = 35.0
sensor_width_mm = 23.5
sensor_height_mm = 15.6
"#;

fn colmap_present() -> bool {
    common::tools_present(&["colmap"], "help", "COLMAP_REQUIRED", "colmap")
}

/// Runs `colmap <args>` headless; its output, or the test fails with it.
fn colmap(args: &[&str]) -> String {
    let started = Instant::now();
    let out = Command::new("colmap")
        .args(args)
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("run colmap");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "colmap {args:?} failed:\n{text}");
    eprintln!(
        "colmap {} took {:.1} s",
        args[0],
        started.elapsed().as_secs_f64()
    );
    text
}

/// A text model's images: name → camera centre.
fn centres(model_txt: &Path) -> BTreeMap<String, [f64; 3]> {
    let text = std::fs::read_to_string(model_txt.join("images.txt")).expect("images.txt");
    let mut out = BTreeMap::new();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    while let Some(line) = lines.next() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let n: Vec<f64> = f[1..8].iter().map(|v| v.parse().expect("number")).collect();
        // The centre is −R⁻¹·t: t turned by the conjugate quaternion
        // (v + 2w(u×v) + 2u×(u×v), u its vector part), negated.
        let (w, u) = (n[0], [-n[1], -n[2], -n[3]]);
        let t = [n[4], n[5], n[6]];
        let cross = |a: [f64; 3], b: [f64; 3]| {
            [
                a[1] * b[2] - a[2] * b[1],
                a[2] * b[0] - a[0] * b[2],
                a[0] * b[1] - a[1] * b[0],
            ]
        };
        let ut = cross(u, t);
        let uut = cross(u, ut);
        let c = [0, 1, 2].map(|i| -(t[i] + 2.0 * w * ut[i] + 2.0 * uut[i]));
        out.insert(f[9].to_owned(), c);
        lines.next(); // the image's 2-D points
    }
    out
}

/// `name x y z` lines.
fn reference(path: &Path) -> BTreeMap<String, [f64; 3]> {
    std::fs::read_to_string(path)
        .expect("reference.txt")
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let v = |i: usize| f[i].parse::<f64>().expect("number");
            (f[0].to_owned(), [v(1), v(2), v(3)])
        })
        .collect()
}

fn to_text(model: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    colmap(&[
        "model_converter",
        "--input_path",
        model.to_str().unwrap(),
        "--output_path",
        out.to_str().unwrap(),
        "--output_type",
        "TXT",
    ]);
}

/// A figure `model_analyzer` prints, e.g. `Mean reprojection error: 0.6px`.
fn figure(report: &str, name: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("no {name} in:\n{report}"));
    let value = line
        .rsplit(':')
        .next()
        .unwrap()
        .trim()
        .trim_end_matches("px");
    value.parse().unwrap_or_else(|_| panic!("{line}"))
}

/// The table and the tilt arm sway after each stop, as the shipped
/// simulated rig's do.
const SWAY: &str = "[turntable.sim]\nshake_mm = 2.0\nshake_ms = 250\n\
                    [tilt.sim]\nshake_mm = 2.0\nshake_ms = 250\n";

#[test]
fn colmap_reconstructs_a_simulated_scan_whose_shaken_shots_were_retaken_where_its_priors_say() {
    // Taken at once after each stop (no settle time) on a swaying rig:
    // the shaken photos are taken again, settling longer, and the scan
    // reconstructs from the takes kept.
    if !colmap_present() {
        return;
    }
    let rings: String = TILTS
        .iter()
        .map(|t| format!("[[rings]]\ntilt = {t}\nshots = {SHOTS}\n"))
        .collect();
    let manifest = check(&format!("{GEOMETRY}{SWAY}"), &rings, 2 * SHOTS as usize);
    let retaken = manifest["shots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["take"].as_u64().is_some_and(|t| t > 1))
        .count();
    assert!(
        retaken * 3 >= 2 * SHOTS as usize,
        "{retaken} retaken:\n{manifest}"
    );
}

#[test]
fn colmap_reconstructs_a_camera_column_s_scan_where_its_pose_priors_say() {
    // The same views from a column of two cameras, one per tilt, each
    // simulated camera rendering from its own place: one turn of the
    // table, every stop fired on both. The column lists "upper" before
    // "lower", so its photos are taken in an order that is not their
    // names' (COLMAP numbers them by name).
    if !colmap_present() {
        return;
    }
    let column: String = TILTS
        .iter()
        .rev()
        .zip(["upper", "lower"])
        .map(|(t, name)| format!("[[cameras]]\nname = \"{name}\"\ntilt = {t}\n"))
        .collect();
    let rings = format!("[[rings]]\ntilt = 0.0\nshots = {SHOTS}\n");
    check(&format!("{GEOMETRY}{column}"), &rings, SHOTS as usize);
}

/// Scans with the rig `config` and the profile's `rings`, expecting
/// `shots` shots of 2 × SHOTS photos in all; COLMAP's mapper must find
/// every camera where the priors say, and its triangulator, given the
/// priors, reproject within a pixel. Returns the scan's manifest.
fn check(config: &str, rings: &str, shots: usize) -> serde_json::Value {
    let started = Instant::now();
    let rig = Rig::with(config);
    rig.profile("recon", &format!("settle_ms = 0\n{rings}"));
    let out = rig.run(&["scan", "--profile", "recon", "--json"]);
    out.expect_code(0);
    let scan = common::assert_summary_complete(&out.summary(), shots);
    let photos = rig.delivered(&scan);
    let priors = reference(&photos.join("colmap/reference.txt"));
    assert_eq!(priors.len(), 2 * SHOTS as usize);

    let work = rig.root().join("colmap");
    std::fs::create_dir_all(work.join("sparse")).unwrap();
    let db = work.join("database.db");
    let (db, images) = (db.to_str().unwrap(), photos.to_str().unwrap());
    colmap(&[
        "feature_extractor",
        "--database_path",
        db,
        "--image_path",
        images,
        "--ImageReader.single_camera",
        "1",
        "--SiftExtraction.use_gpu",
        "0",
        "--SiftExtraction.max_num_features",
        "1024",
        // One thread: the database then numbers the photos in the order
        // of their names, as the exported images.txt does (the
        // triangulator needs the same ids).
        "--SiftExtraction.num_threads",
        "1",
    ]);
    colmap(&[
        "exhaustive_matcher",
        "--database_path",
        db,
        "--SiftMatching.use_gpu",
        "0",
    ]);

    // 1. The mapper, with no priors, finds every camera; aligned to the
    // priors (a similarity: scale, rotation, shift), they stand where the
    // priors say.
    let sparse = work.join("sparse");
    colmap(&[
        "mapper",
        "--database_path",
        db,
        "--image_path",
        images,
        "--output_path",
        sparse.to_str().unwrap(),
    ]);
    let aligned = work.join("aligned");
    std::fs::create_dir_all(&aligned).unwrap();
    colmap(&[
        "model_aligner",
        "--input_path",
        sparse.join("0").to_str().unwrap(),
        "--output_path",
        aligned.to_str().unwrap(),
        "--ref_images_path",
        photos.join("colmap/reference.txt").to_str().unwrap(),
        "--ref_is_gps",
        "0",
        "--robust_alignment",
        "1",
        "--robust_alignment_max_error",
        "0.02",
    ]);
    to_text(&aligned, &work.join("aligned_txt"));
    let found = centres(&work.join("aligned_txt"));
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        priors.keys().collect::<Vec<_>>(),
        "the mapper registers every photo"
    );
    let mut errors: Vec<f64> = priors
        .iter()
        .map(|(name, p)| {
            let c = found[name];
            (0..3).map(|i| (c[i] - p[i]).powi(2)).sum::<f64>().sqrt()
        })
        .collect();
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    assert!(
        median <= 0.01 * DISTANCE,
        "median camera error {:.1} mm after alignment (at most {:.1} mm)",
        median * 1000.0,
        10.0 * DISTANCE
    );
    // Every step round the table, ring by ring or camera by camera (names
    // sort in capture order), as the priors have it, within 1°.
    let azimuth = |c: &[f64; 3]| c[1].atan2(c[0]).to_degrees();
    let mut turns: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for name in priors.keys() {
        // `recon_<shot>_r<ring>_az<azimuth>_t<tilt>[_<camera>][_take<n>].jpg`
        let stem = name.trim_end_matches(".jpg");
        let parts: Vec<&str> = stem.split('_').filter(|p| !p.starts_with("take")).collect();
        let key = format!("{}_{}", parts[2], parts[4..].join("_"));
        turns.entry(key).or_default().push(name);
    }
    assert_eq!(turns.len(), 2, "{turns:?}");
    for ring in turns.values() {
        assert_eq!(ring.len(), SHOTS as usize);
        for pair in ring.windows(2) {
            let step = |m: &BTreeMap<String, [f64; 3]>| {
                (azimuth(&m[pair[1]]) - azimuth(&m[pair[0]]) + 540.0).rem_euclid(360.0) - 180.0
            };
            let (want, got) = (step(&priors), step(&found));
            assert!(
                (want.abs() - 360.0 / f64::from(SHOTS)).abs() < 1e-6,
                "the priors step {want}° from {} to {}",
                pair[0],
                pair[1]
            );
            assert!(
                (got - want).abs() <= 1.0,
                "from {} to {} the camera turned {got:.2}°, the priors say {want:.2}°",
                pair[0],
                pair[1]
            );
        }
    }

    // 2. Given the exported model as the poses, the triangulator's points
    // reproject onto the features they came from within a pixel.
    let triangulated = work.join("triangulated");
    std::fs::create_dir_all(&triangulated).unwrap();
    colmap(&[
        "point_triangulator",
        "--database_path",
        db,
        "--image_path",
        images,
        "--input_path",
        photos.join("colmap").to_str().unwrap(),
        "--output_path",
        triangulated.to_str().unwrap(),
    ]);
    let report = colmap(&["model_analyzer", "--path", triangulated.to_str().unwrap()]);
    let points = figure(&report, "Points");
    let error = figure(&report, "Mean reprojection error");
    assert!(
        points >= 2000.0,
        "only {points} points triangulated:\n{report}"
    );
    assert!(error < 1.0, "mean reprojection error {error} px:\n{report}");
    eprintln!(
        "reconstruction check: {points} points, {error:.3} px, median camera error {:.2} mm, {:.0} s in all",
        median * 1000.0,
        started.elapsed().as_secs_f64()
    );
    common::read_manifest(&photos)
}
