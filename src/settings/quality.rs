//! `[quality]`: every photo judged as it lands (sharpness, exposure, the
//! object in frame), the limits a photo is held to, and what a photo with
//! a problem does to the scan.

use scanrig_actors::judge::JudgeConfig;
use scanrig_actors::sequence::OnProblem;
use scanrig_actors::settle::{AutoSettle, SettleStore};
use scanrig_hardware::judge::{Edges, QualityLimits};
use serde::{Deserialize, Serialize};

/// `[quality]`; the limits' defaults are [`QualityLimits`]'s, where each
/// says what it was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quality {
    /// Judge every photo (`false`: none is).
    pub enabled: bool,
    /// What a photo with the object out of frame or cut off, or
    /// overexposed, does: pause the scan, or only flag the photo.
    pub on_problem: Acting,
    /// Photos waiting or being judged at most, 1 to 64; a photo past it
    /// is not judged (capture never waits for the judge).
    pub queue: usize,
    /// A shot whose photo comes out blurred is taken again, settling
    /// longer, up to this many times, 0 to 5 (0: never; then a photo's
    /// upload does not wait for its judgement).
    pub retakes: u32,
    /// Least sharpness over the object.
    pub min_sharpness: f32,
    /// Largest share of blown-out pixels, 0 to 1.
    pub max_clipped: f32,
    /// Largest share of pixels sunk to black, 0 to 1.
    pub max_crushed: f32,
    /// Least share of the frame the object fills, 0 to 1.
    pub min_fill: f32,
    /// `[quality.max_edge]`: largest share of each edge the object covers.
    pub max_edge: MaxEdge,
    /// `settle_ms = "auto"`: the settle of the reference photo, and the
    /// most ever learned, milliseconds.
    pub auto_settle_safe_ms: u64,
    /// `settle_ms = "auto"`: a photo is as sharp as the reference when its
    /// sharpness is at least this share of the reference's, 0.5 to 1.
    pub auto_settle_as_sharp: f32,
}

/// What is kept on top of the shortest settle found as sharp: a fifth, for
/// a sway that is not the same every time (a real rig's varies with the
/// load on the table). The simulated rig's sway dies down twentyfold every
/// 150 ms; past the ~250 ms it needs, 20 % more (50 ms) leaves a third of
/// the sway that remained.
pub(crate) const AUTO_SETTLE_MARGIN: f32 = 0.2;

/// `quality.on_problem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acting {
    /// Pause the scan for the operator.
    Pause,
    /// Go on, the photo flagged.
    Flag,
}

/// `[quality.max_edge]`, 0 to 1 each.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaxEdge {
    /// The top edge.
    pub top: f32,
    /// The bottom edge.
    pub bottom: f32,
    /// The left edge.
    pub left: f32,
    /// The right edge.
    pub right: f32,
}

impl Default for MaxEdge {
    fn default() -> Self {
        let Edges {
            top,
            bottom,
            left,
            right,
        } = QualityLimits::default().max_edge;
        MaxEdge {
            top,
            bottom,
            left,
            right,
        }
    }
}

impl Default for Quality {
    fn default() -> Self {
        let limits = QualityLimits::default();
        Quality {
            enabled: true,
            on_problem: Acting::Flag,
            queue: 8,
            retakes: 2,
            min_sharpness: limits.min_sharpness,
            max_clipped: limits.max_clipped,
            max_crushed: limits.max_crushed,
            min_fill: limits.min_fill,
            max_edge: MaxEdge::default(),
            auto_settle_safe_ms: 1000,
            auto_settle_as_sharp: 0.95,
        }
    }
}

impl Quality {
    /// The limits a photo is held to.
    pub fn limits(&self) -> QualityLimits {
        let e = self.max_edge;
        QualityLimits {
            min_sharpness: self.min_sharpness,
            max_clipped: self.max_clipped,
            max_crushed: self.max_crushed,
            min_fill: self.min_fill,
            max_edge: Edges {
                top: e.top,
                bottom: e.bottom,
                left: e.left,
                right: e.right,
            },
        }
    }

    /// How the judge runs, when judging is on; a photo judged blurred at
    /// the settle time `settle` keeps lengthens it.
    pub fn config(&self, settle: SettleStore) -> Option<JudgeConfig> {
        self.enabled.then(|| JudgeConfig {
            limits: self.limits(),
            queue: self.queue,
            settle: Some(settle),
        })
    }

    /// How the rig learns its settle time (`settle_ms = "auto"`).
    pub fn auto_settle(&self) -> AutoSettle {
        AutoSettle {
            safe_ms: self.auto_settle_safe_ms,
            as_sharp: self.auto_settle_as_sharp,
            margin: AUTO_SETTLE_MARGIN,
        }
    }

    /// What a problem does to the scan, when judging is on.
    pub fn on_problem(&self) -> Option<OnProblem> {
        self.enabled.then_some(match self.on_problem {
            Acting::Pause => OnProblem::Pause,
            Acting::Flag => OnProblem::Flag,
        })
    }
}

/// What is wrong with `[quality]`: (key, reason).
pub fn quality_problems(q: &Quality) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !(1..=64).contains(&q.queue) {
        out.push((
            "quality.queue".to_owned(),
            format!("must be 1 to 64 photos, found {}", q.queue),
        ));
    }
    if !(q.min_sharpness.is_finite() && q.min_sharpness >= 0.0) {
        out.push((
            "quality.min_sharpness".to_owned(),
            format!(
                "must be a sharpness of 0 or more (20 by default; 0 never finds a photo blurred), found {}",
                q.min_sharpness
            ),
        ));
    }
    if q.retakes > 5 {
        out.push((
            "quality.retakes".to_owned(),
            format!(
                "must be 0 to 5 retakes of a blurred shot (2 by default; 0 never retakes), found {}",
                q.retakes
            ),
        ));
    }
    if !(100..=60_000).contains(&q.auto_settle_safe_ms) {
        out.push((
            "quality.auto_settle_safe_ms".to_owned(),
            format!(
                "must be 100 to 60000 milliseconds (1000 by default), found {}",
                q.auto_settle_safe_ms
            ),
        ));
    }
    if !(0.5..=1.0).contains(&q.auto_settle_as_sharp) {
        out.push((
            "quality.auto_settle_as_sharp".to_owned(),
            format!(
                "must be a share of 0.5 to 1 (0.95 by default), found {}",
                q.auto_settle_as_sharp
            ),
        ));
    }
    let e = q.max_edge;
    let shares = [
        ("max_clipped", q.max_clipped),
        ("max_crushed", q.max_crushed),
        ("min_fill", q.min_fill),
        ("max_edge.top", e.top),
        ("max_edge.bottom", e.bottom),
        ("max_edge.left", e.left),
        ("max_edge.right", e.right),
    ];
    for (key, share) in shares {
        if !(0.0..=1.0).contains(&share) {
            out.push((
                format!("quality.{key}"),
                format!("must be a share from 0 to 1 (0.05 is 5 %), found {share}"),
            ));
        }
    }
    out
}
