//! Bracketed scans on the simulated rig: every frame of every set once,
//! intact, named `_b1…`, listed with its shot; a crash in the middle of a
//! set; exposure fusion and focus stacks merged by Debian's `enfuse` (and
//! `align_image_stack`), judged on the pixels; merging that cannot run.
//!
//! The merging tests need `enfuse` and `align_image_stack`; without them
//! they say so and skip, unless `MERGE_REQUIRED=1` (as in CI).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{manifest_shas, plan, read_manifest, rings_of, Planned, Rig, DEADLINE};
use serde_json::Value;

/// A ring of `shots` stops, each a set made by `bracket` (TOML).
fn profile(shots: u32, bracket: &str) -> String {
    format!("settle_ms = 5\n[camera]\naperture = \"2.8\"\n[[rings]]\ntilt = 0.0\nshots = {shots}\n[bracket]\n{bracket}")
}

/// The test rig, each photo downloaded in `download_ms`; `extra` (more
/// `[camera.sim]` keys, then other tables) on top.
fn rig(download_ms: u64, extra: &str) -> Rig {
    Rig::with(&format!(
        "[camera.sim]\nexpose_ms = 5\ndownload_ms = {download_ms}\n{extra}"
    ))
}

/// The frames of every stop: `<shot>_b1.jpg` … `<shot>_b<frames>.jpg`.
fn frames(stops: &[Planned], frames: usize) -> Vec<Vec<String>> {
    stops
        .iter()
        .map(|s| {
            let stem = s.name.strip_suffix(".jpg").expect(".jpg");
            (1..=frames).map(|k| format!("{stem}_b{k}.jpg")).collect()
        })
        .collect()
}

/// The names a manifest lists for each shot, in order.
fn listed(manifest: &Value) -> Vec<Vec<String>> {
    manifest["shots"]
        .as_array()
        .expect("shots")
        .iter()
        .map(|e| {
            let files = e["files"].as_array().expect("files");
            files
                .iter()
                .map(|f| f["name"].as_str().expect("name").to_owned())
                .collect()
        })
        .collect()
}

/// Asserts the scan at the destination holds exactly `sets` (and the
/// `merged` image of each, if given), once, intact, listed by shot in
/// frame order, each judged.
fn assert_sets(rig: &Rig, sets: &[Vec<String>], merged: Option<&str>) -> Value {
    let dir = rig.delivered(&rig.only_scan());
    let mut want: Vec<Vec<String>> = sets.to_vec();
    if let Some(end) = merged {
        for set in &mut want {
            let first = &set[0];
            set.push(first.replace("_b1.jpg", &format!("_{end}.jpg")));
        }
    }
    let names: BTreeSet<String> = want.iter().flatten().cloned().collect();
    let shas = common::assert_photos(&dir, &names, true);
    let manifest = read_manifest(&dir);
    assert_eq!(manifest["outcome"], "completed", "{manifest}");
    assert_eq!(manifest_shas(&manifest), shas, "the manifest's sha256s");
    assert_eq!(listed(&manifest), want, "each shot's set, in frame order");
    // Every frame, and every merged image, judged.
    for shot in manifest["shots"].as_array().unwrap() {
        for file in shot["files"].as_array().unwrap() {
            assert_eq!(file["quality"]["judged"], "measured", "{file}");
        }
    }
    manifest
}

/// Whether the merging tools are here (or the test must fail without).
fn merge_tools_present() -> bool {
    let tools = ["enfuse", "align_image_stack"];
    common::tools_present(&tools, "--help", "MERGE_REQUIRED", "enfuse hugin-tools")
}

/// A JPEG's pixels: (width, height, RGB).
fn pixels(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).expect("photo");
    let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
    let rgb = d.decode().expect("a JPEG");
    let info = d.info().expect("info");
    (usize::from(info.width), usize::from(info.height), rgb)
}

/// The share of pixels clipped: a channel at 250 or more, or every channel
/// at 8 or less.
fn clipped(path: &Path) -> f64 {
    let (_, _, rgb) = pixels(path);
    let px = rgb.chunks(3);
    let n = px.len() as f64;
    let bad = px
        .filter(|p| p.iter().any(|&c| c >= 250) || p.iter().all(|&c| c <= 8))
        .count();
    bad as f64 / n
}

/// The variance of the Laplacian of the brightness over `mask` (the
/// object): how sharp it is there.
fn sharpness(path: &Path, mask: &[bool]) -> f64 {
    let (w, h, rgb) = pixels(path);
    let y = |x: usize, y: usize| {
        let p = &rgb[3 * (y * w + x)..];
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let values: Vec<f64> = (1..h - 1)
        .flat_map(|j| (1..w - 1).map(move |i| (i, j)))
        .filter(|&(i, j)| mask[j * w + i])
        .map(|(i, j)| 4.0 * y(i, j) - y(i - 1, j) - y(i + 1, j) - y(i, j - 1) - y(i, j + 1))
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
}

#[test]
fn every_frame_of_every_set_arrives_once_in_order_and_unmerged_by_default() {
    let rig = rig(10, "");
    let text = profile(4, "exposure = [\"-2\", \"0\", \"+2\"]\n");
    rig.profile("br", &text);
    let out = rig.run(&["scan", "--profile", "br", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["uploaded"], 4, "{}", out.stdout);
    let sets = frames(&plan("br", &rings_of(&text)), 3);
    assert_sets(&rig, &sets, None);
    assert!(
        !out.stderr.contains("merg"),
        "merging is off: {}",
        out.stderr
    );
    // Darker, normal, brighter, as bracketed.
    let dir = rig.delivered(&rig.only_scan());
    let mean = |name: &str| {
        let (_, _, rgb) = pixels(&dir.join(name));
        rgb.iter().map(|&c| f64::from(c)).sum::<f64>() / rgb.len() as f64
    };
    let [dark, normal, bright] = [0, 1, 2].map(|k| mean(&sets[0][k]));
    assert!(dark < normal && normal < bright, "{dark} {normal} {bright}");
}

#[test]
fn killed_in_the_middle_of_a_set_a_resume_takes_what_is_missing_and_each_frame_arrives_once() {
    // Slow downloads: the last stop's first frame is in the spool (and
    // journaled as a part) while the others are still coming, and the stop
    // counts as captured only whole.
    let rig = rig(400, "[log]\nlevel = \"debug\"\n");
    let text = profile(3, "exposure = [\"-1\", \"0\", \"+1\"]\n");
    rig.profile("br", &text);
    let sets = frames(&plan("br", &rings_of(&text)), 3);
    // The frames (from 1) of the last set journaled as parts.
    let last_parts = |scan: &str| -> Vec<u64> {
        let journal = rig.journal(scan);
        let parts = journal.of("part_captured");
        parts
            .iter()
            .filter(|r| r["shot"] == 3)
            .map(|r| r["files"][0]["frame"].as_u64().expect("frame"))
            .collect()
    };
    let mut running = rig.spawn(&["scan", "--profile", "br", "--json"]);
    running.wait_until("a frame of the last set journaled", DEADLINE, || {
        rig.spooled_scans()
            .first()
            .is_some_and(|scan| !last_parts(scan).is_empty())
    });
    let scan = rig.spooled_scans()[0].clone();
    running.kill();
    assert_eq!(
        rig.journal(&scan).count("shot_captured"),
        2,
        "the last set is not captured"
    );
    let kept = last_parts(&scan);
    assert!(!kept.is_empty() && kept.len() < 3, "{kept:?}");
    let out = rig.run(&["resume", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["captured"], 3, "{}", out.stdout);
    // Only the frames not kept are taken again.
    let taken: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("exposing"))
        .collect();
    assert_eq!(
        taken.len(),
        3 - kept.len(),
        "kept {kept:?}:\n{}",
        out.stderr
    );
    for frame in &kept {
        let name = format!("_b{frame}");
        assert!(
            !taken.iter().any(|l| l.contains(&name)),
            "{name} again: {taken:?}"
        );
    }
    assert_sets(&rig, &sets, None);
}

#[test]
fn a_fused_exposure_set_clips_less_than_its_darkest_and_brightest_frames() {
    if !merge_tools_present() {
        return;
    }
    let rig = rig(10, "[merge]\nenabled = true\n");
    // 1/1000 s, 1/60 s and 1/4 s: four stops under and over.
    let text = profile(2, "shutterspeeds = [\"1/1000\", \"1/60\", \"1/4\"]\n");
    rig.profile("hdr", &text);
    let out = rig.run(&["scan", "--profile", "hdr", "--json"]);
    out.expect_code(0);
    let sets = frames(&plan("hdr", &rings_of(&text)), 3);
    assert_sets(&rig, &sets, Some("fused"));
    let dir = rig.delivered(&rig.only_scan());
    for set in &sets {
        let fused = clipped(&dir.join(set[0].replace("_b1", "_fused")));
        let (darkest, brightest) = (clipped(&dir.join(&set[0])), clipped(&dir.join(&set[2])));
        eprintln!("clipped: fused {fused:.4}, darkest {darkest:.4}, brightest {brightest:.4}");
        assert!(
            fused < darkest && fused < brightest,
            "{}: fused {fused:.4}, darkest {darkest:.4}, brightest {brightest:.4}",
            set[0]
        );
    }
}

#[test]
fn a_focus_stack_is_sharper_over_the_object_than_every_one_of_its_frames() {
    if !merge_tools_present() {
        return;
    }
    // A close, level camera at f/2.8: a few centimetres in focus at a
    // time; the stack from 6 cm nearer to 6 cm farther. The simulated lens
    // does not breathe (its view stays the same as it focuses), so the
    // frames need no aligning; and frames so shallow in focus share too
    // few sharp points for align_image_stack to measure a change of view.
    let rig = rig(
        10,
        "depth_of_field = true\n[geometry]\ndistance_m = 0.25\nheight_m = 0.02\narm_out_m = 0.0\narm_up_m = 0.0\n[merge]\nenabled = true\nalign = false\n",
    );
    let text = profile(1, "focus_positions = [-600, -300, 0, 300, 600]\n");
    rig.profile("macro", &text);
    let out = rig.run(&["scan", "--profile", "macro", "--json"]);
    out.expect_code(0);
    let sets = frames(&plan("macro", &rings_of(&text)), 5);
    assert_sets(&rig, &sets, Some("stacked"));
    let dir = rig.delivered(&rig.only_scan());
    let stacked = dir.join(sets[0][0].replace("_b1", "_stacked"));
    // The object: what is not the plain backdrop in the stacked image.
    let (_, _, rgb) = pixels(&stacked);
    let backdrop = [199, 199, 204];
    let mask: Vec<bool> = rgb
        .chunks(3)
        .map(|p| {
            p.iter()
                .zip(backdrop)
                .any(|(&c, b)| (i32::from(c) - b).abs() > 12)
        })
        .collect();
    let share = mask.iter().filter(|m| **m).count() as f64 / mask.len() as f64;
    assert!(share > 0.2, "the object covers {share:.2} of the photo");
    let merged = sharpness(&stacked, &mask);
    for frame in &sets[0] {
        let one = sharpness(&dir.join(frame), &mask);
        eprintln!("sharpness: {frame} {one:.1}, stacked {merged:.1}");
        assert!(merged > one, "{frame}: {one:.1} vs stacked {merged:.1}");
    }
}

#[test]
fn merging_without_enfuse_says_so_and_every_frame_still_arrives() {
    let rig = rig(
        10,
        "[merge]\nenabled = true\nenfuse = \"/nonexistent/enfuse\"\n",
    );
    let text = profile(2, "exposure = [\"-1\", \"+1\"]\n");
    rig.profile("br", &text);
    let out = rig.run(&["scan", "--profile", "br", "--json"]);
    out.expect_code(0);
    assert_eq!(out.summary()["uploaded"], 2, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("merging a set failed; its frames are uploaded unmerged")
            && out
                .stderr
                .contains("`/nonexistent/enfuse` was not found; install Debian's enfuse package"),
        "{}",
        out.stderr
    );
    assert_sets(&rig, &frames(&plan("br", &rings_of(&text)), 2), None);
}

#[test]
fn a_bracket_setting_the_camera_lacks_stops_the_scan_before_anything_moves() {
    let rig = rig(10, "");
    let text = profile(2, "exposure = [\"-2\", \"+9\"]\n");
    rig.profile("br", &text);
    let out = rig.run(&["scan", "--profile", "br"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("'exposurecompensation' cannot be '+9'; choose one of: -3,"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("axes homed"),
        "a motor moved: {}",
        out.stderr
    );
    assert!(rig.spooled_scans().is_empty(), "a refused scan was kept");
}
