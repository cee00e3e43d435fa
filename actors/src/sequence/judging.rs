//! A shot's photos judged: blurred shots taken again while retakes help,
//! and a photo out of frame pausing the scan.

use std::collections::BTreeMap;

use scanrig_hardware::judge::Problem;

use super::{
    idx, is_framing_or_clipping, Command, Mode, OnProblem, PauseReason, Sequence, ShotState, Table,
};
use crate::model::{Frame, PhotoName, ShotId};

impl Sequence {
    /// A shot's photos judged: a blurred one is taken again while retakes
    /// are left and each take comes out sharper than the one before (a
    /// retake no sharper says the object itself measures soft: the shot is
    /// kept as it is, and after a few such shots with none made sharp,
    /// the scan retakes no more).
    pub(super) fn judged(
        &mut self,
        shot: ShotId,
        problems: &[(String, Problem)],
        out: &mut Vec<Command>,
    ) {
        self.judging.remove(&shot);
        // A frame of a bracketed set is not held to it: a focus stack's
        // frames are each sharp in a slice only (their merged image is).
        let blurred = problems
            .iter()
            .filter(|(photo, p)| {
                let bracket =
                    PhotoName::of_file(photo).is_some_and(|n| matches!(n.frame, Frame::Bracket(_)));
                matches!(p, Problem::Blurred { .. }) && !bracket
            })
            .min_by(|(_, a), (_, b)| sharpness(a).total_cmp(&sharpness(b)));
        let take = self.take(shot);
        let Some((photo, problem)) = blurred else {
            if take > 1 {
                self.retaken.helped += 1;
            }
            self.retaken.softest.remove(&shot);
            return self.judged_framing(problems);
        };
        let measured = sharpness(problem);
        let sharper = self
            .retaken
            .softest
            .insert(shot, measured)
            .is_none_or(|before| measured >= before * RETAKE_GAIN);
        if !sharper {
            self.retaken.fruitless += 1;
            if let Some(why) = self.retaken.given_up(problem) {
                out.push(Command::RetakesStopped(why));
            }
        }
        let shooting = matches!(self.mode, Mode::Running | Mode::Paused(_));
        if shooting
            && sharper
            && self.retaking()
            && take <= self.config.retakes
            && self.shot(shot) == ShotState::Captured
        {
            self.takes[idx(shot)] = take + 1;
            self.set(shot, ShotState::Pending);
            out.push(Command::Retake {
                shot,
                take: take + 1,
                why: format!("{photo}: {problem}"),
            });
            if self.table == Table::At(shot) {
                // Standing there since: settle again, for longer.
                self.table = Table::Settling(shot);
                out.push(Command::Settle(shot));
            }
            return;
        }
        self.judged_framing(problems);
    }

    /// With `on_problem = "pause"`, a photo with the object out of frame or
    /// cut off, or overexposed, pauses the scan.
    fn judged_framing(&mut self, problems: &[(String, Problem)]) {
        if self.config.quality != Some(OnProblem::Pause) || self.mode != Mode::Running {
            return;
        }
        let mut found = problems.iter().filter(|(_, p)| is_framing_or_clipping(p));
        if let Some((photo, problem)) = found.next() {
            self.pause(PauseReason::Photo(format!(
                "{photo}: {problem}; then resume (or set [quality] on_problem = \"flag\" to go on past such photos)"
            )));
        }
    }

    /// Whether blurred photos are taken again (then a shot's upload waits
    /// for its judgement).
    pub(super) fn retaking(&self) -> bool {
        self.config.quality.is_some() && self.config.retakes > 0 && !self.retaken.stopped
    }
}

/// How much sharper a retake must come out than the take before for
/// retaking that shot to go on: a swaying rig settled longer comes out
/// much sharper; an object that is soft itself measures the same again.
const RETAKE_GAIN: f32 = 1.1;

/// Shots whose retake came out no sharper, with none made sharp by a
/// retake, after which the scan retakes no more.
const FRUITLESS_RETAKES: u32 = 3;

/// What retaking blurred shots has done in this scan.
#[derive(Debug, Default)]
pub(super) struct RetakeTally {
    /// The least sharpness of each shot's last take judged blurred.
    softest: BTreeMap<ShotId, f32>,
    /// Retakes that came out sharp.
    helped: u32,
    /// Retakes that came out no sharper than the take before.
    fruitless: u32,
    /// Retaking was given up for the rest of the scan.
    stopped: bool,
}

impl RetakeTally {
    /// Gives retaking up, once, when it has not made a shot sharp in
    /// [`FRUITLESS_RETAKES`] tries: why, in words.
    fn given_up(&mut self, last: &Problem) -> Option<String> {
        let Problem::Blurred { sharpness, least } = last else {
            return None;
        };
        if self.stopped || self.helped > 0 || self.fruitless < FRUITLESS_RETAKES {
            return None;
        }
        self.stopped = true;
        Some(format!(
            "{} shots came out no sharper when taken again, and none was made sharp: \
             the object itself measures soft (sharpness {sharpness:.0}, at least {least:.0} \
             expected); blurred shots are kept as they are \
             for the rest of the scan (flagged): set [quality] min_sharpness lower for such \
             an object, or check the focus",
            self.fruitless
        ))
    }
}

/// The sharpness a blurred photo measured (none for other problems).
fn sharpness(problem: &Problem) -> f32 {
    match problem {
        Problem::Blurred { sharpness, .. } => *sharpness,
        _ => f32::INFINITY,
    }
}
