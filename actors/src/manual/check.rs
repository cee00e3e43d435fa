//! The setup check before a scan: the profile's extreme poses (its lowest
//! and highest tilt, each with every camera of the column that shoots
//! there) visited under the profile's camera settings, a photo judged at
//! each, and the rig returned to where it stood (or home). Its photos go
//! to a folder of their own, never to a scan or a destination. For a
//! profile with `settle_ms = "auto"` the check first learns the settle
//! time at its first pose.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix::prelude::*;
use scanrig_hardware::camera::{CameraError, CaptureRequest};
use scanrig_hardware::judge::{judge, Judgement, Pose, Problem, QualityLimits, Ring};
use scanrig_hardware::Degrees;
use serde::Serialize;

use super::{done, Handler, ManualActor, ManualError, Motion};
use crate::camera::{ApplySettings, CameraActor, Download, Expose};
use crate::clock::unix_now;
use crate::lights::{Darken, Illuminate, LightsActor};
use crate::model::{CameraName, ScanPlan, ShotPlan};
use crate::settle::{AutoSettle, Learned};
use crate::supervisor::Fired;
use crate::turntable::{MoveTo, Ready, Stand, TurntableActor};
use scanrig_hardware::axis::{TableWay, Ticket};

mod learn;

/// How a check photo's name begins: `check_<unix seconds>_<pose>_t<tilt>[_<camera>]`.
pub const PHOTO_PREFIX: &str = "check_";

/// Checks the set-up for a scan of `plan`; taken like a motion (refused
/// while a scan runs or the motors are busy, and no scan starts before it
/// ends).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<CheckReport, ManualError>")]
pub struct Check {
    /// The scan the check is for: its shots, settle time and settings.
    pub plan: ScanPlan,
    /// Where the check's photos go (a folder of their own, emptied of
    /// the last check's first).
    pub dir: PathBuf,
    /// What a good photo is.
    pub limits: QualityLimits,
    /// Learn the settle time first, and check with it (`settle_ms =
    /// "auto"`).
    pub learn: Option<AutoSettle>,
    /// Who asked.
    pub origin: String,
    /// The rig has no tilt motor: only the tilt a scan begins at (where
    /// the arm stands before a scan) is checked.
    pub manual_tilt: bool,
}

/// A pose the check visits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckPose {
    /// The turntable's angle.
    pub azimuth: f64,
    /// The tilt.
    pub tilt: f64,
    /// Where the tilt stands among the profile's.
    pub ring: Ring,
    /// The camera of a column; `None` for a rig's only camera.
    pub camera: Option<CameraName>,
}

/// What the check found at one pose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoseCheck {
    /// The pose.
    #[serde(flatten)]
    pub pose: CheckPose,
    /// The photo's file name, in the check's folder.
    pub photo: String,
    /// What the judges measured (`None`: the photo could not be judged).
    pub judgement: Option<Judgement>,
    /// Each problem found.
    pub problems: Vec<Problem>,
    /// What is wrong here and what to change, one sentence a problem;
    /// empty for a good pose.
    pub advice: Vec<String>,
}

impl PoseCheck {
    /// Nothing to change at this pose.
    pub fn is_good(&self) -> bool {
        self.advice.is_empty()
    }
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The profile checked.
    pub profile: String,
    /// Each pose visited, in order.
    pub poses: Vec<PoseCheck>,
    /// Where the rig was returned to, `[azimuth, tilt]`: where it stood
    /// before the check (an axis not homed yet: home).
    pub returned_to: (f64, f64),
    /// Some axis had not been homed: the check homed it first.
    pub homed: bool,
    /// The profile's tilts not checked: a rig without a tilt motor checks
    /// only the one a scan begins at.
    pub unchecked_tilts: Vec<f64>,
    /// The settle time learned (`settle_ms = "auto"`).
    pub settle: Option<Learned>,
}

impl CheckReport {
    /// Every pose is good.
    pub fn is_good(&self) -> bool {
        self.poses.iter().all(PoseCheck::is_good)
    }
}

/// The poses of `plan` to check: the first shot at its lowest tilt and
/// the first at its highest (`manual_tilt`: among the shots at the tilt
/// the scan begins at, the only one the arm stands at), each with every
/// camera of `cameras` (the column, in its order) that shoots it.
pub fn poses(plan: &ScanPlan, cameras: &[Option<CameraName>], manual_tilt: bool) -> Vec<CheckPose> {
    let begins = plan.shots.first().map(|s| s.tilt);
    let reached = |s: &&ShotPlan| !manual_tilt || Some(s.tilt) == begins;
    let first = |better: fn(f64, f64) -> bool| {
        plan.shots
            .iter()
            .filter(reached)
            .fold(None::<&ShotPlan>, |best, s| match best {
                Some(b) if !better(s.tilt.get(), b.tilt.get()) => Some(b),
                _ => Some(s),
            })
    };
    let (Some(lowest), Some(highest)) = (first(|a, b| a < b), first(|a, b| a > b)) else {
        return Vec::new();
    };
    let ends = if lowest.tilt == highest.tilt {
        vec![(lowest, Ring::Only)]
    } else {
        vec![(lowest, Ring::Lowest), (highest, Ring::Highest)]
    };
    ends.into_iter()
        .flat_map(|(shot, ring)| {
            cameras
                .iter()
                .filter(|c| plan.shoots(shot.id, c.as_ref()))
                .map(move |c| CheckPose {
                    azimuth: shot.azimuth.get(),
                    tilt: shot.tilt.get(),
                    ring,
                    camera: c.clone(),
                })
        })
        .collect()
}

/// On a rig without a tilt motor (`manual_tilt`), the tilts of `plan`
/// none of `poses` stands at, in order; with one, none (those between
/// the extremes are reached on the way).
fn unchecked(plan: &ScanPlan, poses: &[CheckPose], manual_tilt: bool) -> Vec<f64> {
    let mut tilts: Vec<f64> = plan
        .shots
        .iter()
        .map(|s| s.tilt.get())
        .filter(|t| manual_tilt && poses.iter().all(|p| p.tilt != *t))
        .collect();
    tilts.sort_by(f64::total_cmp);
    tilts.dedup();
    tilts
}

impl Handler<Check> for ManualActor {
    type Result = ResponseActFuture<Self, Result<CheckReport, ManualError>>;

    fn handle(&mut self, msg: Check, _: &mut Self::Context) -> Self::Result {
        let motion = Motion::Checking {
            profile: msg.plan.profile.clone(),
            origin: msg.origin.clone(),
        };
        self.leased(Some(motion), move |act| {
            let walk = Walk {
                lights: act.lights.clone(),
                turntable: act.turntable.clone(),
                cameras: act.cameras.clone(),
                timeout: act.camera_timeout,
                ticket: act.halt.ticket(),
                way: msg.plan.table_way,
            };
            Box::pin(walk.check(msg))
        })
    }
}

/// The devices one check uses.
struct Walk {
    lights: Addr<LightsActor>,
    turntable: Addr<TurntableActor>,
    cameras: Vec<Fired>,
    timeout: Duration,
    ticket: Ticket,
    /// Which way the table turns, as the profile's scan would.
    way: TableWay,
}

impl Walk {
    /// Homes each axis not homed yet, visits every pose with the lights
    /// on as the profile sets them (warmed up), as a scan's photos are
    /// lit, then switches them off and returns the rig to where it stood,
    /// even after a failure.
    async fn check(self, check: Check) -> Result<CheckReport, ManualError> {
        let ready = self.turntable.send(Ready(self.ticket.clone())).await;
        let Stand {
            azimuth,
            tilt,
            homed,
        } = done(ready.map_err(lost("turntable")))?;
        let dir = check.dir.clone();
        let emptied = tokio::task::spawn_blocking(move || empty(&dir)).await;
        emptied
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            .map_err(|source| {
                ManualError::Camera(CameraError::Io {
                    path: check.dir.clone(),
                    source,
                })
            })?;
        let names: Vec<_> = self.cameras.iter().map(|c| c.name.clone()).collect();
        let poses = poses(&check.plan, &names, check.manual_tilt);
        let unchecked_tilts = unchecked(&check.plan, &poses, check.manual_tilt);
        let lit = self
            .lights
            .send(Illuminate(check.plan.lights.clone()))
            .await;
        lit.map_err(lost("lights"))?;
        let visited = self.visit(&check, poses).await;
        self.lights.do_send(Darken);
        let back = self.move_to(azimuth, tilt).await;
        let (poses, settle) = visited?;
        back?;
        Ok(CheckReport {
            profile: check.plan.profile,
            poses,
            returned_to: (azimuth.get(), tilt.get()),
            unchecked_tilts,
            homed,
            settle,
        })
    }

    /// The profile's settings on each camera (under its own), the settle
    /// time learned at the first pose if asked, then a photo judged at
    /// each pose.
    async fn visit(
        &self,
        check: &Check,
        poses: Vec<CheckPose>,
    ) -> Result<(Vec<PoseCheck>, Option<Learned>), ManualError> {
        for camera in &self.cameras {
            let mut settings = camera.settings.clone();
            settings.extend(check.plan.camera.clone());
            let apply = ApplySettings {
                settings,
                frames: Vec::new(),
            };
            done(self.camera(&camera.addr, apply).await)?;
        }
        let mut checked = Vec::with_capacity(poses.len());
        let stem = format!("{PHOTO_PREFIX}{}", unix_now());
        let learned = match (check.learn, poses.first()) {
            (Some(auto), Some(first)) => Some(self.learn(check, auto, first, &stem).await?),
            _ => None,
        };
        let settle = learned.map_or(check.plan.settle(), |l| l.settle());
        for (i, pose) in poses.into_iter().enumerate() {
            let moved = self
                .move_to(Degrees(pose.azimuth), Degrees(pose.tilt))
                .await?;
            if moved {
                tokio::time::sleep(settle).await;
            }
            let stem = format!("{stem}_{}_t{:+05.1}", i + 1, pose.tilt);
            checked.push(self.shoot(check, stem, pose).await?);
        }
        Ok((checked, learned))
    }

    /// Moves the rig; whether anything moved.
    async fn move_to(&self, azimuth: Degrees, tilt: Degrees) -> Result<bool, ManualError> {
        let reply = self.turntable.send(MoveTo {
            azimuth,
            way: self.way,
            tilt,
            ticket: self.ticket.clone(),
        });
        let moved = done(reply.await.map_err(lost("turntable")))?;
        match moved.stopped {
            Some(_) => Err(ManualError::Stopped),
            None => Ok(!moved.still),
        }
    }

    /// Takes the photo of a pose (named `stem`, and its camera's name) and
    /// judges it.
    async fn shoot(
        &self,
        check: &Check,
        stem: String,
        pose: CheckPose,
    ) -> Result<PoseCheck, ManualError> {
        let camera = self
            .cameras
            .iter()
            .find(|c| c.name == pose.camera)
            .map(|c| c.addr.clone())
            .ok_or(ManualError::Lost("camera", MailboxError::Closed))?;
        let suffix = pose
            .camera
            .as_ref()
            .map(|c| format!("_{c}"))
            .unwrap_or_default();
        let request = CaptureRequest {
            stem: format!("{stem}{suffix}"),
            label: format!("check of {} at tilt {:+.1}", check.plan.profile, pose.tilt),
            azimuth: Degrees(pose.azimuth),
            tilt: Degrees(pose.tilt),
        };
        let exposure = done(self.camera(&camera, Expose::plain(request)).await)?;
        let download = Download {
            exposure,
            dir: check.dir.clone(),
        };
        let files = done(self.camera(&camera, download).await)?;
        let Some(file) = files.first() else {
            return Err(ManualError::Camera(CameraError::Driver {
                during: "download",
                reason: "the camera gave no file".into(),
            }));
        };
        let path = file.path.clone();
        let judged = tokio::task::spawn_blocking(move || judge_file(&path))
            .await
            .unwrap_or_else(|e| Err(format!("the judges failed: {e}")));
        let photo = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(verdict(pose, photo, judged, &check.limits))
    }

    /// Asks a camera `msg` within its time limit.
    async fn camera<M>(&self, camera: &Addr<CameraActor>, msg: M) -> Result<M::Result, ManualError>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        CameraActor: Handler<M>,
    {
        let reply = camera.send(msg).timeout(self.timeout);
        reply.await.map_err(lost("camera"))
    }
}

fn lost(device: &'static str) -> impl Fn(MailboxError) -> ManualError {
    move |e| ManualError::Lost(device, e)
}

/// Makes `dir`, without the check photos it held (blocking).
fn empty(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let ours = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(PHOTO_PREFIX));
        if ours && path.is_file() {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// Reads and judges a photo (blocking).
fn judge_file(path: &Path) -> Result<Judgement, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    judge(&bytes, None).map_err(|e| e.to_string())
}

/// A pose's photo held to `limits`, each problem said at the pose.
fn verdict(
    pose: CheckPose,
    photo: String,
    judged: Result<Judgement, String>,
    limits: &QualityLimits,
) -> PoseCheck {
    let at = Pose {
        tilt: Degrees(pose.tilt),
        ring: pose.ring,
        camera: pose.camera.as_ref().map(CameraName::as_str),
    };
    let (judgement, problems, advice) = match judged {
        Ok(j) => {
            let problems = j.verdict(limits).problems;
            let advice = problems.iter().map(|p| p.at(&at)).collect();
            (Some(j), problems, advice)
        }
        Err(why) => (
            None,
            Vec::new(),
            vec![format!(
                "at tilt {:+.0}°: the photo could not be judged ({why}); set the camera's image format to JPEG or RAW + JPEG",
                pose.tilt
            )],
        ),
    };
    PoseCheck {
        pose,
        photo,
        judgement,
        problems,
        advice,
    }
}

#[cfg(test)]
mod tests;
