//! `[bracket]`: every shot a set of frames taken at one stop, an exposure
//! bracket (compensations or shutter speeds) or a focus stack (steps of
//! the lens's focus drive), checked into the frames' settings.

use std::collections::BTreeMap;

use scanrig_actors::model::{Bracket, BracketKind};
use serde::Deserialize;

/// Most frames in one set.
const MAX_FRAMES: usize = 32;

/// `[bracket]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBracket {
    /// Exposure compensations, as the camera lists them ("-2", "0", "+2").
    exposure: Option<Vec<toml::Value>>,
    /// Shutter speeds, as the camera lists them ("1/250", "1/60").
    shutterspeeds: Option<Vec<String>>,
    /// A focus stack of this many frames...
    focus_steps: Option<u32>,
    /// ...each this many focus-drive units beyond the last.
    focus_step: Option<i64>,
    /// Or the focus positions, in focus-drive units from where the lens
    /// stands when the set begins.
    focus_positions: Option<Vec<i64>>,
    /// The camera setting exposure compensations are set with.
    #[serde(default = "default_exposure_setting")]
    exposure_setting: String,
    /// The camera setting that drives the focus (relative steps).
    #[serde(default = "default_focus_setting")]
    focus_setting: String,
    /// Back to the first setting after each set.
    #[serde(default = "default_return", rename = "return")]
    back: bool,
}

fn default_exposure_setting() -> String {
    "exposurecompensation".into()
}

fn default_focus_setting() -> String {
    "manualfocusdrive".into()
}

fn default_return() -> bool {
    true
}

/// Checks `[bracket]`, reporting each problem to `fail(key, reason)`.
pub(super) fn check(raw: RawBracket, fail: &mut impl FnMut(String, String)) -> Option<Bracket> {
    let key = |k: &str| format!("bracket.{k}");
    let stepped = raw.focus_steps.is_some() || raw.focus_step.is_some();
    let given = [
        raw.exposure.is_some(),
        raw.shutterspeeds.is_some(),
        stepped,
        raw.focus_positions.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        fail(
            "bracket".into(),
            "give exactly one of exposure, shutterspeeds, focus_steps (with focus_step) or focus_positions".into(),
        );
        return None;
    }
    let count_ok = |n: usize, k: &str, fail: &mut dyn FnMut(String, String)| {
        let ok = (2..=MAX_FRAMES).contains(&n);
        if !ok {
            fail(
                key(k),
                format!("a set has 2 to {MAX_FRAMES} frames, found {n}"),
            );
        }
        ok
    };
    if let Some(values) = raw.exposure {
        let mut texts = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                toml::Value::String(s) if !s.trim().is_empty() => texts.push(s.clone()),
                toml::Value::Integer(n) => texts.push(signed(*n as f64)),
                toml::Value::Float(f) if f.is_finite() => texts.push(signed(*f)),
                other => fail(
                    format!("bracket.exposure[{}]", i + 1),
                    format!("expected a compensation in stops, as the camera lists it (\"-2\", \"+1.3\"), found {other}"),
                ),
            }
        }
        count_ok(values.len(), "exposure", fail);
        return Some(exposure(&raw.exposure_setting, texts, raw.back));
    }
    if let Some(speeds) = raw.shutterspeeds {
        count_ok(speeds.len(), "shutterspeeds", fail);
        return Some(exposure("shutterspeed", speeds, raw.back));
    }
    if !raw.back {
        fail(
            key("return"),
            "a focus stack always drives the focus back to where its set began (the drive is relative: without it the focus would creep from stop to stop); remove `return = false`".into(),
        );
    }
    let listed = raw.focus_positions.is_some();
    let positions = match (raw.focus_positions, raw.focus_steps, raw.focus_step) {
        (Some(p), _, _) => p,
        (None, Some(n), Some(step)) if step != 0 => (0..i64::from(n)).map(|i| i * step).collect(),
        (None, Some(_), Some(_)) => {
            fail(key("focus_step"), "must not be 0".into());
            return None;
        }
        (None, Some(_), None) => {
            fail(
                key("focus_step"),
                "missing; give the focus-drive units between frames (e.g. 200; negative: nearer)"
                    .into(),
            );
            return None;
        }
        (None, None, _) => {
            fail(
                key("focus_steps"),
                "missing; give the number of frames in the stack (2 or more)".into(),
            );
            return None;
        }
    };
    let k = if listed {
        "focus_positions"
    } else {
        "focus_steps"
    };
    count_ok(positions.len(), k, fail);
    let mut seen = positions.clone();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != positions.len() {
        fail(key(k), "names a focus position twice".into());
    }
    Some(focus(&raw.focus_setting, &positions))
}

/// A compensation as cameras list them: "+1", "-0.7", "0".
fn signed(v: f64) -> String {
    let text = format!("{}", (v * 10.0).round() / 10.0);
    if v > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// Each frame sets `setting` to its value; back to the first after a set.
fn exposure(setting: &str, values: Vec<String>, back: bool) -> Bracket {
    let one = |v: &String| BTreeMap::from([(setting.to_string(), v.clone())]);
    Bracket {
        kind: BracketKind::Exposure,
        after: match (back, values.first()) {
            (true, Some(first)) if values.len() > 1 => one(first),
            _ => BTreeMap::new(),
        },
        frames: values.iter().map(one).collect(),
    }
}

/// Each frame drives the focus from the last frame's position to its own
/// (positions from where the set began); after the set, back there.
fn focus(setting: &str, positions: &[i64]) -> Bracket {
    let drive = |by: i64| match by {
        0 => BTreeMap::new(),
        by => BTreeMap::from([(setting.to_string(), by.to_string())]),
    };
    let mut at = 0;
    let frames = positions
        .iter()
        .map(|&p| {
            let frame = drive(p - at);
            at = p;
            frame
        })
        .collect();
    Bracket {
        kind: BracketKind::Focus,
        frames,
        after: drive(-at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bracket(text: &str) -> Result<Bracket, Vec<(String, String)>> {
        let raw: RawBracket = toml::from_str(text).expect("TOML");
        let mut problems = Vec::new();
        let b = check(raw, &mut |k, r| problems.push((k, r)));
        match (b, problems.is_empty()) {
            (Some(b), true) => Ok(b),
            _ => Err(problems),
        }
    }

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_exposure_bracket_sets_each_compensation_and_returns_to_the_first() {
        let b = bracket("exposure = [\"-2\", 0, 2]\n").unwrap();
        assert_eq!(b.kind, BracketKind::Exposure);
        let key = "exposurecompensation";
        assert_eq!(
            b.frames,
            [
                settings(&[(key, "-2")]),
                settings(&[(key, "0")]),
                settings(&[(key, "+2")])
            ]
        );
        assert_eq!(b.after, settings(&[(key, "-2")]));
        let b = bracket("shutterspeeds = [\"1/250\", \"1/60\"]\nreturn = false\n").unwrap();
        assert_eq!(b.frames[1], settings(&[("shutterspeed", "1/60")]));
        assert!(b.after.is_empty());
    }

    #[test]
    fn a_focus_stack_drives_step_by_step_and_back() {
        let b = bracket("focus_steps = 4\nfocus_step = 150\n").unwrap();
        assert_eq!(b.kind, BracketKind::Focus);
        let d = |v: &str| settings(&[("manualfocusdrive", v)]);
        assert_eq!(b.frames, [BTreeMap::new(), d("150"), d("150"), d("150")]);
        assert_eq!(b.after, d("-450"));
        let b =
            bracket("focus_positions = [-300, 0, 500]\nfocus_setting = \"focusdrive\"\n").unwrap();
        let d = |v: &str| settings(&[("focusdrive", v)]);
        assert_eq!(b.frames, [d("-300"), d("300"), d("500")]);
        assert_eq!(b.after, d("-500"));
    }

    #[test]
    fn a_bracket_badly_given_names_the_key_and_what_to_do() {
        for (text, key, words) in [
            ("", "bracket", "exactly one of"),
            (
                "exposure = [\"0\"]\nfocus_steps = 3\nfocus_step = 1\n",
                "bracket",
                "exactly one of",
            ),
            (
                "exposure = [\"0\"]\n",
                "bracket.exposure",
                "2 to 32 frames, found 1",
            ),
            (
                "exposure = [\"0\", true]\n",
                "bracket.exposure[2]",
                "a compensation in stops",
            ),
            ("focus_steps = 3\n", "bracket.focus_step", "missing"),
            (
                "focus_steps = 3\nfocus_step = 0\n",
                "bracket.focus_step",
                "must not be 0",
            ),
            (
                "focus_steps = 40\nfocus_step = 10\n",
                "bracket.focus_steps",
                "2 to 32 frames, found 40",
            ),
            (
                "focus_positions = []\n",
                "bracket.focus_positions",
                "2 to 32 frames, found 0",
            ),
            (
                "focus_positions = [0, 100, 100]\n",
                "bracket.focus_positions",
                "twice",
            ),
            (
                "focus_steps = 3\nfocus_step = 10\nreturn = false\n",
                "bracket.return",
                "always drives the focus back",
            ),
        ] {
            let problems = bracket(text).expect_err(text);
            assert!(
                problems.iter().any(|(k, r)| k == key && r.contains(words)),
                "{text:?}: {problems:?}"
            );
        }
    }
}
