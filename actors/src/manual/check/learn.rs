//! The check's calibration of the settle time (`settle_ms = "auto"`): the
//! [`Calibration`]'s steps carried out at the check's first pose, each
//! photo taken like the check's own after moving away and back.

use scanrig_hardware::Degrees;

use super::{Check, CheckPose, Walk};
use crate::clock::unix_now;
use crate::manual::ManualError;
use crate::settle::{AutoSettle, Calibration, Learned, Step};

impl Walk {
    /// Learns the settle time at `pose`, moving away to the plan's next
    /// other place and back before each photo (named `stem` and the
    /// settle).
    pub(super) async fn learn(
        &self,
        check: &Check,
        auto: AutoSettle,
        pose: &CheckPose,
        stem: &str,
    ) -> Result<Learned, ManualError> {
        let away = away_from(check, pose).ok_or_else(|| {
            ManualError::Settle(
                "the profile has one pose only, and the rig must move away and back to measure its sway; give it a second shot".to_owned(),
            )
        })?;
        let (mut calibration, mut step) = Calibration::start(auto, unix_now());
        loop {
            let settle = match step {
                Step::Shoot { settle } => settle,
                Step::Done(learned) => return Ok(learned),
            };
            self.move_to(away.0, away.1).await?;
            self.move_to(Degrees(pose.azimuth), Degrees(pose.tilt))
                .await?;
            tokio::time::sleep(settle).await;
            let name = format!("{stem}_settle{:04}ms", settle.as_millis());
            let shot = self.shoot(check, name, pose.clone()).await?;
            let Some(judgement) = shot.judgement else {
                return Err(ManualError::Settle(format!(
                    "its photo {} could not be judged; set the camera's image format to JPEG or RAW + JPEG",
                    shot.photo
                )));
            };
            step = calibration.measured(judgement.sharpness.object);
        }
    }
}

/// Where to move away to from `pose`: the plan's first shot at the same
/// tilt elsewhere, else its first shot elsewhere.
fn away_from(check: &Check, pose: &CheckPose) -> Option<(Degrees, Degrees)> {
    let elsewhere = |s: &&crate::model::ShotPlan| s.azimuth.get() != pose.azimuth;
    let shots = &check.plan.shots;
    shots
        .iter()
        .filter(elsewhere)
        .find(|s| s.tilt.get() == pose.tilt)
        .or_else(|| {
            shots
                .iter()
                .find(|s| elsewhere(s) || s.tilt.get() != pose.tilt)
        })
        .map(|s| (s.azimuth, s.tilt))
}
