//! The range checks' problem collector, naming the layer that set each key;
//! its general checks, and those of `[[cameras]]` and `[hooks]`.

use std::fmt::Display;

use scanrig_actors::model::CameraName;

use super::Layers;
use crate::config_error::Problem;
use crate::settings::{CameraBackend, ColumnCamera, Hooks, MAX_CAMERAS};

/// Collects range problems, naming the layer that set each key.
pub(super) struct Checker<'a> {
    pub(super) layers: &'a Layers,
    pub(super) problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    /// Reports `key`, blaming the layer that set it.
    pub(super) fn fail(&mut self, key: &str, reason: String) {
        // An entry of a list of tables (`lights[2].pin`) comes from where
        // the list was set.
        let set = key.split('[').next().unwrap_or(key);
        let origin = self.layers.origin(&[set]);
        self.problems.push(Problem::new(origin, key, reason));
    }

    /// `[[cameras]]`: at most [`MAX_CAMERAS`], each named uniquely, in
    /// this build.
    pub(super) fn cameras(&mut self, cameras: &[ColumnCamera]) {
        // Only a file sets `[[cameras]]`: problems are the file's.
        let origin = self.layers.origin(&["cameras"]);
        let mut fail = |key: &str, reason: String| {
            self.problems
                .push(Problem::new(origin.clone(), key, reason));
        };
        if cameras.len() > MAX_CAMERAS {
            fail(
                "cameras",
                format!(
                    "{} cameras are configured; a column takes at most {}",
                    cameras.len(),
                    MAX_CAMERAS
                ),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        // Numbered from 1, as a person counts them (and as every other
        // problem with a `[[cameras]]` table is).
        for (i, c) in (1..).zip(cameras) {
            let key = format!("cameras[{i}].name");
            if let Err(e) = CameraName::new(&c.name) {
                fail(&key, e.to_string());
            } else if !seen.insert(c.name.to_lowercase()) {
                // Photo names differing only in case collide on a card or
                // share that ignores case.
                fail(
                    &key,
                    format!(
                        "{:?} names two cameras (names are told apart regardless of case); give each its own name",
                        c.name
                    ),
                );
            }
            if c.backend == Some(CameraBackend::Gphoto2) && !cfg!(feature = "gphoto2") {
                fail(
                    &format!("cameras[{i}].backend"),
                    "\"gphoto2\" is not in this build of scanrig; build with `--features gphoto2`"
                        .into(),
                );
            }
            if !(-90.0..=90.0).contains(&c.tilt) {
                fail(
                    &format!("cameras[{i}].tilt"),
                    format!("must be -90 to 90 degrees, found {}", c.tilt),
                );
            }
            if let Some(h) = c.height_m.filter(|h| !(-100.0..=100.0).contains(h)) {
                fail(
                    &format!("cameras[{i}].height_m"),
                    format!("must be -100 to 100 metres, found {h}"),
                );
            }
        }
    }

    /// `[hooks]`: a command that names a program, a webhook URL that is
    /// http(s) with a secret file to sign with, sane limits.
    pub(super) fn hooks(&mut self, h: &Hooks) {
        if h.command.first().is_some_and(|p| p.trim().is_empty()) {
            self.fail(
                "hooks.command",
                "the first item must be the program to run (its path), then its arguments".into(),
            );
        }
        if !h.webhook_url.is_empty() {
            let ok = h
                .webhook_url
                .parse::<google_drive3::hyper::Uri>()
                .is_ok_and(|u| {
                    matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some()
                });
            if !ok {
                self.fail(
                    "hooks.webhook_url",
                    format!(
                        "`{}` is not an http:// or https:// URL; write it as https://host/path",
                        h.webhook_url
                    ),
                );
            }
            if h.webhook_secret_file.is_none() {
                self.fail(
                    "hooks.webhook_secret_file",
                    "a webhook needs a secret to sign its POSTs with: a file holding it (readable only by scanrig, chmod 600)".into(),
                );
            }
        }
        self.range(
            "hooks.command_timeout_s",
            h.command_timeout_s,
            1,
            86_400,
            "seconds",
        );
        self.range(
            "hooks.command_attempts",
            h.command_attempts,
            1,
            100,
            "attempts",
        );
        self.range(
            "hooks.webhook_timeout_s",
            h.webhook_timeout_s,
            1,
            600,
            "seconds",
        );
        self.range(
            "hooks.retry_initial_ms",
            h.retry_initial_ms,
            1,
            86_400_000,
            "milliseconds",
        );
        self.range(
            "hooks.retry_max_ms",
            h.retry_max_ms,
            h.retry_initial_ms,
            86_400_000,
            "milliseconds",
        );
    }

    /// Requires `lo <= value <= hi` (false for NaN).
    pub(super) fn range<T: PartialOrd + Display>(
        &mut self,
        key: &str,
        value: T,
        lo: T,
        hi: T,
        what: &str,
    ) {
        if !(lo <= value && value <= hi) {
            self.fail(key, format!("must be {lo} to {hi} {what}, found {value}"));
        }
    }

    /// Requires `value >= 1`.
    pub(super) fn positive(&mut self, key: &str, value: u64, what: &str) {
        if value == 0 {
            self.fail(key, format!("must be at least 1 {what}, found 0"));
        }
    }

    /// Requires `value >= lo`, where `lo` is the value of `lo_key`; blames
    /// the stronger of the layers that set the two.
    pub(super) fn at_least(&mut self, key: &str, value: u64, lo_key: &str, lo: u64) {
        if value < lo {
            let origin = self.layers.origin(&[key, lo_key]);
            let reason = format!(
                "must be at least {lo_key} ({lo}), found {value}; raise it or lower {lo_key}"
            );
            self.problems.push(Problem::new(origin, key, reason));
        }
    }
}
