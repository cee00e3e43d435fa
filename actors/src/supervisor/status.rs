//! What the rig is doing, for the web page and scripts: its state, the scan
//! in hand, the upload backlog, the last error and each device's health.

use actix::prelude::*;
use scanrig_hardware::panel::Status;
use serde::Serialize;

use super::{ScanSummary, Spooled, Supervisor};
use crate::clock::unix_millis_now;
use crate::coverage::{self, ShotView};
use crate::manual::Motion;
use crate::model::Device;
use crate::sequence::{Event, PauseReason};

/// The rig as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RigState {
    /// Waiting for a scan.
    Idle,
    /// Taking photos.
    Scanning,
    /// A scan waits for the operator.
    Paused,
    /// A scan stopped on a fault and waits for the operator.
    Fault,
    /// No scan runs; photos are still being uploaded.
    Uploading,
}

/// The last thing that went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// When, Unix milliseconds.
    pub at_ms: u64,
    /// What, in words.
    pub message: String,
}

/// How a device is doing, as far as its last use tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// No error since its last success.
    pub ok: bool,
    /// The error, or what it is.
    pub detail: String,
}

impl Health {
    pub(super) fn ok(detail: &str) -> Health {
        Health {
            ok: true,
            detail: detail.to_owned(),
        }
    }
}

/// One camera of a column and how it is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraHealth {
    /// Its name.
    pub name: crate::model::CameraName,
    /// How it is doing.
    #[serde(flatten)]
    pub health: Health,
}

/// The devices' health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Devices {
    /// The camera (of a column: any of them).
    pub camera: Health,
    /// Each camera of a column (none for a rig's only camera).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<CameraHealth>,
    /// The turntable and tilt arm.
    pub turntable: Health,
    /// Where photos go.
    pub destination: Health,
}

impl Devices {
    /// Nothing seen yet, of a rig with `cameras` (a column when they are
    /// named).
    pub(super) fn with_cameras(destination: &str, cameras: &[super::Fired]) -> Devices {
        let mut devices = Devices::new(destination);
        devices.cameras = cameras
            .iter()
            .filter_map(|c| c.name.clone())
            .map(|name| CameraHealth {
                name,
                health: Health::ok("no error seen"),
            })
            .collect();
        devices
    }

    /// Nothing seen yet.
    pub(super) fn new(destination: &str) -> Devices {
        Devices {
            camera: Health::ok("no error seen"),
            cameras: Vec::new(),
            turntable: Health::ok("no error seen"),
            destination: Health::ok(destination),
        }
    }
}

/// The status of the rig.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RigStatus {
    /// Its state.
    pub state: RigState,
    /// The scan being taken, or else one whose uploads are being finished,
    /// or else the last one that ended (its `outcome` set).
    pub scan: Option<ScanSummary>,
    /// Why the scan is paused, in words.
    pub paused: Option<String>,
    /// The ring whose check found the object moved, while the scan waits
    /// for the operator (the check's pictures are in the scan's `checks`
    /// folder).
    pub moved: Option<u32>,
    /// Photos journaled but not at the destination, of every scan in the
    /// spool: what `scanrig uploads` lists as waiting.
    pub backlog: usize,
    /// Of those, the photos not at each destination yet, by its name, for
    /// scans sent to several destinations.
    pub backlog_at: std::collections::BTreeMap<String, usize>,
    /// The last error.
    pub last_error: Option<LastError>,
    /// The devices.
    pub devices: Devices,
    /// A live preview can be had (no scan is running).
    pub preview: bool,
    /// A motion asked for by hand, while it runs.
    pub motion: Option<Motion>,
    /// The shot the scan being taken is at or turning to (from 1).
    pub current_shot: Option<u32>,
    /// How long the scan being taken should still take.
    pub remaining: Option<std::time::Duration>,
    /// The Pi's own health, as last read.
    pub health: crate::health::PiHealth,
}

/// Asks for the [`RigStatus`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "RigStatus")]
pub struct GetStatus;

impl Handler<GetStatus> for Supervisor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Self::Context) -> Self::Result {
        let state = match self.status {
            Status::Idle => RigState::Idle,
            Status::Scanning => RigState::Scanning,
            Status::Paused => RigState::Paused,
            Status::Fault => RigState::Fault,
            Status::Uploading => RigState::Uploading,
        };
        let run = self
            .runs
            .values()
            .find(|r| r.active)
            .or_else(|| self.runs.values().next());
        let paused = run.and_then(|r| r.seq.paused()).map(PauseReason::to_string);
        let moved = match run.and_then(|r| r.seq.paused()) {
            Some(PauseReason::Moved { ring, .. }) => Some(*ring),
            _ => None,
        };
        let in_hand: usize = self.runs.values().map(|r| r.seq.waiting()).sum();
        let not_in_hand = self
            .spooled
            .iter()
            .filter(|(scan, _)| !self.runs.contains_key(*scan))
            .map(|(_, waiting)| waiting);
        let mut spooled = 0;
        let mut backlog_at = std::collections::BTreeMap::new();
        let each = self.runs.values().map(|r| r.waiting_at());
        for at in each.chain(not_in_hand.clone().map(|w| w.at.clone())) {
            for (name, n) in at {
                *backlog_at.entry(name).or_insert(0) += n;
            }
        }
        for waiting in not_in_hand {
            spooled += waiting.photos;
        }
        MessageResult(RigStatus {
            state,
            scan: run
                .map(|r| r.summary(None, &self.policy.destination))
                .or_else(|| self.last_finished.clone()),
            paused,
            moved,
            backlog: in_hand + spooled,
            backlog_at,
            last_error: self.last_error.clone(),
            devices: self.devices.clone(),
            preview: self.active().is_none(),
            motion: self.motion.clone(),
            current_shot: run
                .filter(|r| r.active)
                .and_then(|r| coverage::current(r.seq.states())),
            remaining: run.filter(|r| r.active).and_then(|r| r.remaining()),
            health: self.health.clone(),
        })
    }
}

impl Handler<Spooled> for Supervisor {
    type Result = ();

    fn handle(&mut self, Spooled(waiting): Spooled, _: &mut Self::Context) {
        self.spooled = waiting;
    }
}

/// Asks where each shot of a scan the supervisor holds (being taken, or
/// its uploads being finished) stands; `None` for any other scan.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Option<Vec<ShotView>>")]
pub struct GetShots(pub String);

impl Handler<GetShots> for Supervisor {
    type Result = MessageResult<GetShots>;

    fn handle(&mut self, GetShots(scan): GetShots, _: &mut Self::Context) -> Self::Result {
        let run = self.runs.values().find(|r| r.plan.scan.as_str() == scan);
        MessageResult(run.map(|r| coverage::shots(&r.plan, r.seq.states(), &r.flagged)))
    }
}

impl Supervisor {
    /// Notes what an event says about a device's health.
    pub(super) fn note(&mut self, event: &Event) {
        match event {
            Event::DeviceFailed { device, fault, .. } => {
                let health = Health {
                    ok: false,
                    detail: fault.message.clone(),
                };
                match device {
                    Device::Camera => self.devices.camera = health,
                    Device::Table => self.devices.turntable = health,
                    // The camera is fine; the error says what to free.
                    Device::Spool => {}
                }
                self.error(&fault.message);
            }
            Event::SettingsApplied
            | Event::Exposed(_)
            | Event::Downloaded(_)
            | Event::Triggered(_) => {
                self.devices.camera = Health::ok("working");
            }
            Event::Homed | Event::Moved { .. } => {
                self.devices.turntable = Health::ok("working");
            }
            Event::Uploaded(_) => {
                self.devices.destination = Health::ok(&self.policy.destination.to_string());
            }
            Event::PersistFailed(_, message) | Event::SpaceLow(message) => self.error(message),
            _ => {}
        }
    }

    /// Notes a failed upload.
    pub(super) fn note_upload_failure(&mut self, message: String) {
        self.error(&message);
        self.devices.destination = Health {
            ok: false,
            detail: message,
        };
    }

    /// Notes what went wrong last, for the status.
    pub(super) fn error(&mut self, message: &str) {
        self.last_error = Some(LastError {
            at_ms: unix_millis_now(),
            message: message.to_owned(),
        });
    }
}
