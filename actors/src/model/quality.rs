//! What the judges made of one photo, as the journal records it and the
//! manifest, the sidecars and the page show it: the measures, the problems
//! found against the scan's limits, or why the photo was not judged.

use scanrig_hardware::judge::{Judgement, Problem};
use serde::{Deserialize, Serialize};

/// One photo, judged or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "judged", rename_all = "snake_case")]
pub enum Quality {
    /// Measured: what, and the problems found (none for a good photo).
    Measured {
        /// The measures.
        judgement: Box<Judgement>,
        /// Each problem found against the limits of `[quality]`.
        problems: Vec<Problem>,
    },
    /// Not judged, and why (a photo the judges cannot read, the judging
    /// queue full).
    NotJudged {
        /// Why, in words.
        reason: String,
    },
}

impl Quality {
    /// The problems found (none when not judged).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Quality::Measured { problems, .. } => problems,
            Quality::NotJudged { .. } => &[],
        }
    }

    /// The photo `name` flagged, in words (`<name>: <problem>; <problem>`),
    /// if a problem was found.
    pub fn flag(&self, name: &str) -> Option<String> {
        let problems = self.problems();
        let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
        (!said.is_empty()).then(|| format!("{name}: {}", said.join("; ")))
    }
}
