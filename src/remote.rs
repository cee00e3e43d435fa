//! What a remote client may ask of the rig — start a scan (or continue an
//! interrupted one), pause, resume, stop, home, pick a profile — and the
//! rig's status as JSON, with the
//! rules every way of asking shares: the REST API and MQTT both come here and map the typed
//! [`CommandError`] to their answers, so a rig answers the same whichever
//! way it is asked.

use std::path::PathBuf;

use actix::{Addr, MailboxError};
use scanrig_actors::lights::{GetLights, LightState, SetLight};
use scanrig_actors::manual::{Busy, HomeAll, ManualError};
use scanrig_actors::moved::Picture;
use scanrig_actors::supervisor::{
    Control, GetStatus, Lights, Manual, Refusal, RigState, RigStatus, StartScan, Supervisor,
};
use scanrig_hardware::light::{Brightness, LightError};
use serde_json::{json, Value};

use crate::config_error::ConfigErrors;
use crate::profile::Profile;
use crate::scans::{new_plan, SpoolState};
use crate::settings::Settings;
use crate::web::checks::check_url;

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Not a profile name (a remote client names no file).
    #[error("{0:?} is not a profile name; see GET /api/v1/profiles")]
    NotAProfileName(String),
    /// No profile of that name.
    #[error("{0}")]
    NoProfile(ConfigErrors),
    /// The profile is broken, or does not fit the rig.
    #[error("{0}")]
    BadProfile(ConfigErrors),
    /// Not an action.
    #[error("{0:?} is not an action; use pause, resume or stop")]
    NotAnAction(String),
    /// No interrupted scan of that id.
    #[error("no interrupted scan {0} on this rig; see GET /api/v1/scans for those whose state is interrupted")]
    NotInterrupted(String),
    /// The scan's state does not allow it.
    #[error("{refusal} (the rig is {})", json!(state).as_str().unwrap_or("busy"))]
    Refused {
        /// Why not.
        refusal: Refusal,
        /// What the rig is doing.
        state: RigState,
    },
    /// A scan runs, or the motors are busy.
    #[error("{0}")]
    Busy(#[from] Busy),
    /// Done by hand, and it failed.
    #[error("{0}")]
    Manual(#[from] ManualError),
    /// A light was not set.
    #[error("{0}")]
    Light(#[from] LightError),
    /// A light asked for in a way that is no light's.
    #[error("{0}")]
    BadLight(String),
    /// The rig did not answer.
    #[error("the rig did not answer: {0}")]
    Lost(#[from] MailboxError),
    /// Something on this machine failed (reading the spool, a thread).
    #[error("{0}")]
    Internal(String),
}

impl CommandError {
    /// Its status, as the REST API answers it (and MQTT repeats it).
    pub fn status(&self) -> u16 {
        self.answer().0
    }

    /// Its code: a word more precise than the status.
    pub fn code(&self) -> &'static str {
        self.answer().1
    }

    /// The status and code, from the error's type, never from its words.
    fn answer(&self) -> (u16, &'static str) {
        match self {
            CommandError::NotAProfileName(_)
            | CommandError::BadProfile(_)
            | CommandError::BadLight(_) => (400, "bad_request"),
            CommandError::NoProfile(_)
            | CommandError::NotAnAction(_)
            | CommandError::NotInterrupted(_) => (404, "not_found"),
            CommandError::Refused { .. } => (409, "conflict"),
            CommandError::Busy(busy) => busy_answer(busy),
            CommandError::Manual(e) => manual_answer(e),
            CommandError::Light(LightError::Unknown { .. }) => (404, "not_found"),
            CommandError::Light(LightError::Driver { .. }) => (503, "light_failed"),
            CommandError::Lost(_) => (503, "unavailable"),
            CommandError::Internal(_) => (500, "internal"),
        }
    }
}

fn busy_answer(busy: &Busy) -> (u16, &'static str) {
    match busy {
        Busy::Scanning(_) => (409, "scan_running"),
        Busy::Moving(_) => (409, "motors_busy"),
    }
}

/// Every light of the rig, as it is now.
pub async fn lights(sup: &Addr<Supervisor>) -> Result<Vec<LightState>, CommandError> {
    Ok(sup.send(Lights).await?.send(GetLights).await?)
}

/// Sets the light `name` to `level` by hand; answers every light as it
/// is then.
pub async fn set_light(
    sup: &Addr<Supervisor>,
    name: String,
    level: Brightness,
) -> Result<Vec<LightState>, CommandError> {
    let lights = sup.send(Lights).await?;
    lights.send(SetLight { name, level }).await??;
    Ok(lights.send(GetLights).await?)
}

/// A brightness asked for from outside, 0 to 100 %.
pub fn brightness(percent: i64) -> Result<Brightness, String> {
    u8::try_from(percent)
        .ok()
        .and_then(Brightness::new)
        .ok_or_else(|| {
            format!(
                "brightness must be a whole number of percent from 0 (off) to 100, found {percent}"
            )
        })
}

/// The status and code of a failure by hand.
pub fn manual_answer(e: &ManualError) -> (u16, &'static str) {
    use scanrig_hardware::axis::AxisError;
    use scanrig_hardware::camera::CameraError;
    match e {
        ManualError::Busy(busy) => busy_answer(busy),
        ManualError::Motor(AxisError::NoTiltAxis) => (409, "no_tilt_axis"),
        ManualError::Motor(AxisError::BeyondLimit { .. }) => (400, "beyond_limit"),
        ManualError::Motor(AxisError::Stopped { .. }) | ManualError::Stopped => (409, "stopped"),
        ManualError::Camera(
            CameraError::UnknownSetting { .. } | CameraError::InvalidValue { .. },
        ) => (400, "bad_setting"),
        ManualError::Motor(AxisError::HomingTimeout { .. }) => (503, "homing_failed"),
        _ => (503, "unavailable"),
    }
}

/// A profile by name (never a path: a remote client reads no file it
/// names), checked for this rig.
pub async fn find_profile(settings: &Settings, name: String) -> Result<Profile, CommandError> {
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.ends_with(".toml") {
        return Err(CommandError::NotAProfileName(name));
    }
    load_profile(settings, name).await
}

/// A profile by name or file, checked for this rig.
async fn load_profile(settings: &Settings, name_or_path: String) -> Result<Profile, CommandError> {
    let dirs = settings.profiles.dirs.clone();
    let limits = settings.limits();
    let found = actix_web::web::block(move || {
        Profile::find(&name_or_path, &dirs).and_then(|p| p.for_rig(&limits))
    })
    .await
    .map_err(|e| CommandError::Internal(e.to_string()))?;
    found.map_err(|e| match e.is_not_found() {
        true => CommandError::NoProfile(e),
        false => CommandError::BadProfile(e),
    })
}

/// Starts a scan of `profile` (the message the Start button leads to);
/// the new scan's id.
pub async fn start(
    settings: &Settings,
    sup: &Addr<Supervisor>,
    profile: String,
) -> Result<String, CommandError> {
    let profile = find_profile(settings, profile).await?;
    start_profile(settings, sup, profile).await
}

/// Starts a scan of the rig's own profile, `daemon.profile` (a name or a
/// file: the rig's configuration names it, not a remote client).
pub async fn start_configured(
    settings: &Settings,
    sup: &Addr<Supervisor>,
) -> Result<String, CommandError> {
    let profile = load_profile(settings, settings.daemon.profile.clone()).await?;
    start_profile(settings, sup, profile).await
}

async fn start_profile(
    settings: &Settings,
    sup: &Addr<Supervisor>,
    profile: Profile,
) -> Result<String, CommandError> {
    let spool = settings.spool_dir();
    let (settle, safe_ms) = (
        settings.settle_store(),
        settings.quality.auto_settle_safe_ms,
    );
    let plan = actix_web::web::block(move || new_plan(&profile, &spool, &settle, safe_ms))
        .await
        .map_err(|e| CommandError::Internal(e.to_string()))?
        .map_err(|e| CommandError::Internal(format!("{e:#}")))?;
    let scan = plan.scan.to_string();
    sup.send(StartScan { plan, resume: None }).await??;
    Ok(scan)
}

/// Continues the interrupted scan `id` from its next shot not taken, in
/// the folder it started with (what Start on the rig does for the latest).
pub async fn resume(
    sup: &Addr<Supervisor>,
    spool: PathBuf,
    id: String,
) -> Result<(), CommandError> {
    let wanted = id.clone();
    let record = actix_web::web::block(move || {
        SpoolState::read(&spool).map(|state| state.resumable(Some(&wanted)).cloned())
    })
    .await
    .map_err(|e| CommandError::Internal(e.to_string()))?
    .map_err(|e| CommandError::Internal(format!("{e:#}")))?
    .ok_or(CommandError::NotInterrupted(id))?;
    let plan = record.plan.clone();
    sup.send(StartScan {
        plan,
        resume: Some(record),
    })
    .await??;
    Ok(())
}

/// The operator's request an action names (`pause`, `resume`, `stop`).
pub fn action(name: &str) -> Result<Control, CommandError> {
    match name {
        "pause" => Ok(Control::Pause),
        "resume" => Ok(Control::Resume),
        "stop" => Ok(Control::Stop),
        other => Err(CommandError::NotAnAction(other.to_owned())),
    }
}

/// Pauses, resumes or stops the scan; the scan's sequence refuses what
/// its state does not allow, and the refusal says the rig's state.
pub async fn control(sup: &Addr<Supervisor>, control: Control) -> Result<(), CommandError> {
    let Err(refusal) = sup.send(control).await? else {
        return Ok(());
    };
    let state = sup.send(GetStatus).await?.state;
    Err(CommandError::Refused { refusal, state })
}

/// Homes every axis, once nothing else moves them; `origin` says who asked.
pub async fn home(sup: &Addr<Supervisor>, origin: String) -> Result<(), CommandError> {
    let manual = sup.send(Manual).await?;
    manual.send(HomeAll { origin }).await??;
    Ok(())
}

/// The status as the API shows it.
pub fn status_json(s: &RigStatus) -> Value {
    let scan = s.scan.as_ref().map(|x| {
        json!({
            "id": x.scan,
            "profile": x.profile,
            "planned": x.planned,
            "captured": x.captured,
            "uploaded": x.uploaded,
            "upload_failed": x.upload_failed,
            "judged": x.judged,
            "flagged": x.flagged,
            "outcome": x.outcome,
            "paused": s.paused,
            "moved": s.moved.map(|ring| json!({
                "ring": ring,
                "photo": check_url(&x.scan, ring, Picture::Photo),
                "frame": check_url(&x.scan, ring, Picture::Frame),
            })),
            "current_shot": s.current_shot,
            "remaining_s": s.remaining.map(|r| r.as_secs_f64().round()),
            "destination": x.destination,
            "wall_s": (x.wall.as_secs_f64() * 10.0).round() / 10.0,
            "stages": {
                "moving_s": x.stages.moving.as_secs_f64(),
                "settling_s": x.stages.settling.as_secs_f64(),
                "exposing_s": x.stages.exposing.as_secs_f64(),
                "downloading_s": x.stages.downloading.as_secs_f64(),
                "uploading_s": x.stages.uploading.as_secs_f64(),
                "checking_s": x.stages.checking.as_secs_f64(),
            },
        })
    });
    json!({
        "state": s.state,
        "scan": scan,
        "backlog": s.backlog,
        "backlog_at": s.backlog_at,
        "last_error": s.last_error,
        "devices": s.devices,
        "preview": s.preview,
        "motion": s.motion,
        "health": s.health,
    })
}
