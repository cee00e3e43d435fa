//! Checking the merged settings: every section's ranges and consistency,
//! the features of this build, the paths, and that the spool folder can be
//! written.

use std::path::{Path, PathBuf};

use super::checker::Checker;
use super::Layers;
use crate::config_error::Problem;
use crate::settings::{
    destinations_problems, lights_problems, merge_problems, moved_problems, mqtt_problems,
    pin_problems, quality_problems, wired_problems, ButtonsBackend, CameraBackend, LightsBackend,
    Settings, TiltBackend, TurntableBackend,
};

/// Checks ranges and the spool folder; `why` tells where the fallback spool
/// folder came from.
pub(super) fn validate(s: &Settings, layers: &Layers, why: &str, problems: &mut Vec<Problem>) {
    let mut c = Checker { layers, problems };
    let (u, sv) = (&s.upload, &s.supervision);
    c.range("upload.workers", u.workers, 1, 16, "workers");
    let spool = &s.spool;
    c.range(
        "spool.history_scans",
        spool.history_scans,
        0,
        100_000,
        "scans",
    );
    c.range("spool.history_days", spool.history_days, 0, 36_500, "days");
    c.range(
        "spool.commit_delay_ms",
        spool.commit_delay_ms,
        0,
        50,
        "milliseconds",
    );
    c.range("upload.queue", u.queue, 1, 1000, "photos");
    c.range("upload.max_attempts", u.max_attempts, 1, 100, "attempts");
    c.range(
        "upload.retry_every_s",
        u.retry_every_s,
        0,
        86_400,
        "seconds",
    );
    c.range(
        "upload.backlog_wait_s",
        u.backlog_wait_s,
        1,
        604_800,
        "seconds",
    );
    c.range(
        "upload.backlog_wait_max_s",
        u.backlog_wait_max_s,
        1,
        604_800,
        "seconds",
    );
    c.at_least(
        "upload.backlog_wait_max_s",
        u.backlog_wait_max_s,
        "upload.backlog_wait_s",
        u.backlog_wait_s,
    );
    c.at_least(
        "upload.retry_max_ms",
        u.retry_max_ms,
        "upload.retry_initial_ms",
        u.retry_initial_ms,
    );
    let (initial, max) = (sv.backoff_initial_ms, sv.backoff_max_ms);
    c.at_least(
        "supervision.backoff_max_ms",
        max,
        "supervision.backoff_initial_ms",
        initial,
    );
    c.sim_axis("turntable.sim", &s.turntable.sim);
    c.sim_axis("tilt.sim", &s.tilt.sim);
    c.limits(s);
    let (cam, sim, d) = (&s.camera, &s.camera.sim, &s.destination.drive);
    // Every other number has a range too, so that a typo of a few digits
    // is caught here and not met later as an endless wait.
    #[rustfmt::skip]
    let ranges: [(&str, u64, u64, u64, &str); 21] = [
        ("spool.min_free_mb", s.spool.min_free_mb, 0, 1_000_000_000, "MB"),
        ("upload.retry_initial_ms", u.retry_initial_ms, 1, 3_600_000, "milliseconds"),
        ("upload.retry_max_ms", u.retry_max_ms, 1, 86_400_000, "milliseconds"),
        ("supervision.max_restarts", sv.max_restarts.into(), 1, 1000, "restarts"),
        ("supervision.window_s", sv.window_s, 1, 86_400, "seconds"),
        ("supervision.backoff_initial_ms", sv.backoff_initial_ms, 1, 600_000, "milliseconds"),
        ("supervision.backoff_max_ms", sv.backoff_max_ms, 1, 3_600_000, "milliseconds"),
        ("turntable.sim.home_ms", s.turntable.sim.home_ms, 0, 600_000, "milliseconds"),
        ("tilt.sim.home_ms", s.tilt.sim.home_ms, 0, 600_000, "milliseconds"),
        ("camera.gphoto2.pair_wait_ms", cam.gphoto2.pair_wait_ms, 0, 60_000, "milliseconds"),
        ("camera.sim.file_size_kb", sim.file_size_kb, 0, 1_048_576, "KiB"),
        ("camera.sim.expose_ms", sim.expose_ms, 0, 60_000, "milliseconds"),
        ("camera.sim.download_ms", sim.download_ms, 0, 600_000, "milliseconds"),
        ("camera.sim.fail_every_nth_expose", sim.fail_every_nth_expose.into(), 0, 1_000_000, "(0 = off)"),
        ("camera.sim.fail_every_nth_download", sim.fail_every_nth_download.into(), 0, 1_000_000, "(0 = off)"),
        ("camera.sim.unplug_after_shots", sim.unplug_after_shots.into(), 0, 1_000_000, "shots (0 = off)"),
        ("camera.sim.unplug_ms", sim.unplug_ms, 0, 86_400_000, "milliseconds"),
        ("camera.sim.slip_after_shots", sim.slip_after_shots.into(), 0, 1_000_000, "shots (0 = off)"),
        ("buttons.long_press_ms", s.buttons.long_press_ms, 100, 60_000, "milliseconds"),
        ("destination.drive.single_request_max_kb", d.single_request_max_kb, 0, 5_242_880, "KiB"),
        ("destination.drive.retry_max_ms", d.retry_max_ms, 1, 86_400_000, "milliseconds"),
    ];
    for (key, value, lo, hi, what) in ranges {
        c.range(key, value, lo, hi, what);
    }
    let g = &s.geometry;
    #[rustfmt::skip]
    let lengths: [(&str, f64, f64, f64, &str); 9] = [
        ("geometry.distance_m", g.distance_m, 0.0, 100.0, "metres"),
        ("geometry.height_m", g.height_m, -100.0, 100.0, "metres"),
        ("geometry.arm_out_m", g.arm_out_m, -100.0, 100.0, "metres"),
        ("geometry.arm_up_m", g.arm_up_m, -100.0, 100.0, "metres"),
        ("geometry.focal_mm", g.focal_mm, 0.1, 10_000.0, "millimetres"),
        ("geometry.sensor_width_mm", g.sensor_width_mm, 0.1, 1000.0, "millimetres"),
        ("geometry.sensor_height_mm", g.sensor_height_mm, 0.1, 1000.0, "millimetres"),
        ("geometry.position_accuracy_m", g.position_accuracy_m, 0.0, 100.0, "metres"),
        ("geometry.angle_accuracy_deg", g.angle_accuracy_deg, 0.0, 180.0, "degrees"),
    ];
    for (key, value, lo, hi, what) in lengths {
        c.range(key, value, lo, hi, what);
    }
    c.range("camera.sim.slip_mm", sim.slip_mm, 0.0, 500.0, "millimetres");
    c.range(
        "camera.sim.slip_deg",
        sim.slip_deg,
        -180.0,
        180.0,
        "degrees",
    );
    c.range("camera.sim.width", s.camera.sim.width, 16, 8192, "pixels");
    c.range("camera.sim.height", s.camera.sim.height, 16, 8192, "pixels");
    c.range("camera.timeout_s", s.camera.timeout_s, 1, 3600, "seconds");
    c.hooks(&s.hooks);
    for (key, reason) in pin_problems(s) {
        c.fail(&key, reason);
    }
    if s.turntable.backend == TurntableBackend::Stepper {
        c.stepper("turntable.stepper", &s.turntable.stepper);
    }
    if s.tilt.backend == TiltBackend::Stepper {
        c.stepper("tilt.stepper", &s.tilt.stepper);
    }
    let gpio = [
        (
            "turntable.backend",
            s.turntable.backend == TurntableBackend::Stepper,
        ),
        ("tilt.backend", s.tilt.backend == TiltBackend::Stepper),
        ("buttons.backend", s.buttons.backend == ButtonsBackend::Gpio),
        (
            "lighting.backend",
            s.lighting.backend == LightsBackend::Gpio && !s.lights.is_empty(),
        ),
    ];
    for (key, used) in gpio {
        if used && !cfg!(feature = "rppal") {
            c.fail(
                key,
                "GPIO is not in this build of scanrig; install the Raspberry Pi package, or build with `cargo build --release --features pi`".into(),
            );
        }
    }
    if s.camera.backend == CameraBackend::Gphoto2 && !cfg!(feature = "gphoto2") {
        c.fail(
            "camera.backend",
            "\"gphoto2\" is not in this build of scanrig; install the Raspberry Pi package, or build with `cargo build --release --features gphoto2` (needs libgphoto2-dev)".into(),
        );
    }
    let d = &s.destination.drive;
    let paths = [
        ("spool.dir", s.spool.dir.as_deref()),
        (
            "destination.local.dir",
            Some(s.destination.local.dir.as_path()),
        ),
        (
            "destination.drive.client_secret",
            Some(d.client_secret.as_path()),
        ),
        (
            "destination.drive.service_account_key",
            Some(d.service_account_key.as_path()),
        ),
        ("destination.drive.token_file", d.token_file.as_deref()),
        (
            "destination.webdav.password_file",
            Some(s.destination.webdav.password_file.as_path()),
        ),
        (
            "destination.sftp.private_key",
            Some(s.destination.sftp.private_key.as_path()),
        ),
        (
            "destination.sftp.known_hosts",
            Some(s.destination.sftp.known_hosts.as_path()),
        ),
        ("daemon.profile", Some(Path::new(&s.daemon.profile))),
    ];
    let dirs = s
        .profiles
        .dirs
        .iter()
        .map(|d| ("profiles.dirs", Some(d.as_path())));
    for (key, path) in paths.into_iter().chain(dirs) {
        let Some(path) = path else { continue };
        if path.as_os_str().as_encoded_bytes().contains(&0) {
            c.fail(
                key,
                "contains a NUL byte, which no file name can hold; remove it".into(),
            );
        } else if path.to_string_lossy().chars().any(char::is_control) {
            c.fail(
                key,
                "contains a control character (a line break, tab or escape), which would be written raw into logs and journals; remove it".into(),
            );
        }
    }
    for (key, reason) in destinations_problems(s) {
        c.fail(&key, reason);
    }
    for (key, reason) in mqtt_problems(&s.mqtt) {
        c.fail(key, reason);
    }
    for (key, reason) in merge_problems(&s.merge) {
        c.fail(key, reason);
    }
    for (key, reason) in quality_problems(&s.quality) {
        c.fail(&key, reason);
    }
    for (key, reason) in wired_problems(s) {
        // A key left out is the fault of whoever chose the backend; only
        // a file sets `[[cameras]]`.
        let origin = if key.starts_with("cameras[") {
            c.layers.origin(&["cameras"])
        } else {
            c.layers.origin(&[&key, "camera.backend"])
        };
        c.problems.push(Problem::new(origin, &key, reason));
    }
    for (key, reason) in moved_problems(&s.moved) {
        c.fail(key, reason);
    }
    for (key, reason) in lights_problems(&s.lighting, &s.lights) {
        c.fail(&key, reason);
    }
    c.range("health.every_s", s.health.every_s, 1, 3600, "seconds");
    c.cameras(&s.cameras);
    c.range(
        "web.preview_fps",
        s.web.preview_fps,
        1,
        30,
        "frames per second",
    );
    if !s.web.listen.is_empty() && s.web.listen.parse::<std::net::SocketAddr>().is_err() {
        c.fail(
            "web.listen",
            format!(
                "{:?} is not an address and port like \"127.0.0.1:8080\" or \"0.0.0.0:8080\"; leave it empty to turn the web page off",
                s.web.listen
            ),
        );
    }
    if !s.web.token.is_empty() && s.web.token.len() < 16 {
        c.fail(
            "web.token",
            "is shorter than 16 characters; use a long random one, or leave it empty for a generated one".into(),
        );
    }
    if s.daemon.profile.trim().is_empty() {
        c.fail(
            "daemon.profile",
            "is empty; give a profile name or path".into(),
        );
    }
    if s.profiles.dirs.iter().any(|d| d.as_os_str().is_empty()) {
        c.fail(
            "profiles.dirs",
            "contains an empty folder name; remove it".into(),
        );
    }
    let dir = s.spool_dir();
    let missing = outermost_missing(&dir);
    if let Err(e) = check_writable(&dir) {
        let from = match s.spool.dir {
            Some(_) => String::new(),
            None => format!(" (from {why})"),
        };
        let reason = format!(
            "{}{from}: {e}; choose a writable folder for spool.dir",
            dir.display()
        );
        c.fail("spool.dir", reason);
    }
    // A refused configuration leaves nothing behind.
    if let (false, Some(top)) = (c.problems.is_empty(), missing) {
        remove_created(&dir, &top);
    }
}

/// The outermost of `dir` and its ancestors that does not exist yet.
fn outermost_missing(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .last()
        .map(Path::to_path_buf)
}

/// Removes `dir` and its ancestors up to `top` again, as far as they are
/// empty (best effort: what cannot be removed stays).
fn remove_created(dir: &Path, top: &Path) {
    for d in dir.ancestors() {
        if std::fs::remove_dir(d).is_err() || d == top {
            return;
        }
    }
}

/// Creates `dir` if needed and checks that a file can be written in it.
fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".scanrig-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}
