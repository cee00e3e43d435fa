//! The records of the journal, one a line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    CameraName, Device, FaultKind, Outcome, Place, Quality, ScanPlan, ShotId, SpoolFile,
};

/// One line of the journal.
// A record is made, written and dropped one at a time (never kept in
// bulk): the plan of a scan's start is as large as it needs to be.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// A scan began; the plan makes it resumable.
    ScanStarted {
        /// Unix milliseconds.
        at: u64,
        /// What the scan will do.
        plan: ScanPlan,
    },
    /// A shot's file(s) are in the spool, fsync'd.
    ShotCaptured {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// Its file(s): one, or a JPEG+RAW pair.
        files: Vec<SpoolFile>,
    },
    /// Some of a shot's files are in the spool, fsync'd: one camera's
    /// frame of a stop shot by several (a column, a bracketed set). The
    /// shot counts only once `ShotCaptured` lists it whole; until then a
    /// resume takes only the parts not recorded, known by the camera and
    /// frame each file names (journals written before files named them
    /// also hold `camera`, the camera's place in the column then, and
    /// `frame`: both are ignored, and the files' names say instead).
    PartCaptured {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// Its file(s), all of one part.
        files: Vec<SpoolFile>,
    },
    /// A wired camera's shutter fired for a shot (`backend =
    /// "trigger"`): its photo stays on the camera's card until `scanrig
    /// import` brings it into the spool (`ShotCaptured`, with the shot's
    /// other files). The shot's pose is the plan's. The rig's one camera
    /// has taken the shot; a column's camera has taken its part of the
    /// stop, which counts as in the spool (as `PartCaptured` would), and
    /// the shot is captured with the other cameras' photos, or taken
    /// (`whole`) when every camera of the stop keeps its photo on a card.
    ShotTriggered {
        /// The shot.
        shot: ShotId,
        /// When the shutter fired, Unix milliseconds.
        at: u64,
        /// The column's camera fired (absent: the rig's one camera).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        camera: Option<CameraName>,
        /// Every camera of the column's stop is fired by a wire: the shot
        /// is taken, as the rig's one camera's is.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        whole: bool,
    },
    /// `scanrig import` matched a camera card's photos to the shots
    /// triggered: those matched are journaled `ShotCaptured` before it;
    /// the shots it names missing had no photo on the card and stay
    /// missing, and the card's other photos were left alone.
    Imported {
        /// Unix milliseconds.
        at: u64,
        /// The card's folder.
        folder: String,
        /// The camera clock's offset found: its EXIF times minus the
        /// trigger times, milliseconds.
        offset_ms: i64,
        /// Triggered shots with no photo on the card.
        missing: Vec<ShotId>,
        /// The card's photos that match no shot, by path in the folder.
        extra: Vec<String>,
        /// The column's camera whose card it was (absent: the rig's one
        /// camera).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        camera: Option<CameraName>,
    },
    /// A photo of a captured shot was judged (or could not be): written
    /// after the shot's `ShotCaptured`, beside its upload; a photo without
    /// one is judged at the next start.
    PhotoJudged {
        /// The shot.
        shot: ShotId,
        /// The photo's file name.
        photo: String,
        /// Unix milliseconds.
        at: u64,
        /// What the judges made of it.
        quality: Quality,
    },
    /// A photo of a captured shot came out blurred: the shot is taken
    /// again, as take `take`. The earlier take stays in the spool, not
    /// sent, until the new one's `ShotCaptured` replaces it; if the scan
    /// ends first, the earlier take is kept and sent.
    ShotRetaken {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// The new take's number, from 2.
        take: u32,
        /// Why, in words.
        why: String,
    },
    /// A shot's file(s) are at the destination (at one of them, named by
    /// `to`, for a scan sent to several).
    ShotUploaded {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// The destination's id of each file, in the order of `files`.
        remote: Vec<String>,
        /// The files sent, as captured: a capture record lost to a damaged
        /// line is recovered from here (absent in older journals).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<SpoolFile>,
        /// The destination, by name, for a scan sent to several (absent:
        /// its only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// A shot's upload failed for good in this run (it waits in the spool
    /// for `scanrig uploads retry` or the next start).
    UploadFailed {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// Why, in words.
        error: String,
    },
    /// A shot's photo is damaged in the spool (or gone): it can never be
    /// sent, and is not tried again.
    ShotDamaged {
        /// The shot.
        shot: ShotId,
        /// Unix milliseconds.
        at: u64,
        /// What is wrong, in words.
        error: String,
    },
    /// A device failed during the scan: which, how (its class decides
    /// what the scan did: retry, pause, wait for it), and why.
    DeviceFault {
        /// Unix milliseconds.
        at: u64,
        /// The device.
        device: Device,
        /// Its class.
        kind: FaultKind,
        /// What went wrong, in words.
        message: String,
    },
    /// The Pi's supply sagged during the scan (under-voltage): a camera
    /// fault that follows often comes from it.
    PowerFault {
        /// Unix milliseconds.
        at: u64,
        /// What happened, with its time, in words.
        message: String,
    },
    /// The scan ended (no more shots will be taken).
    ScanFinished {
        /// Unix milliseconds.
        at: u64,
        /// Completed or stopped.
        outcome: Outcome,
    },
    /// The operator moved the scan to another destination
    /// (`scanrig resume --dest DIR --move-dest`): what already arrived at
    /// the old place is sent again, to the new one.
    DestinationMoved {
        /// Unix milliseconds.
        at: u64,
        /// Where the photos went until now.
        from: Option<Place>,
        /// Where they go from now on.
        to: Place,
    },
    /// Files of the scan other than its photos (its pose priors) are at
    /// the destination; written before the manifest, which lists them.
    FilesUploaded {
        /// Unix milliseconds.
        at: u64,
        /// Their names inside the scan's folder, and their ids there.
        files: BTreeMap<String, String>,
        /// The destination, by name, for a scan sent to several (absent:
        /// its only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// The check after a ring: the camera's frame from the ring's first
    /// shot, taken once the ring was shot, held against that shot's photo.
    RingChecked {
        /// The ring.
        ring: u32,
        /// Unix milliseconds.
        at: u64,
        /// The share of the frame that differs (`None`: not compared, see
        /// `note`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        changed: Option<f32>,
        /// What was found, in words for the operator, when the object
        /// moved: the scan pauses until the operator goes on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        moved: Option<String>,
        /// Why the frame was not compared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The operator went on after the check of a ring found the object
    /// moved.
    MovedAccepted {
        /// The ring.
        ring: u32,
        /// Unix milliseconds.
        at: u64,
    },
    /// `manifest.json` is at the destination (at the one named by `to`,
    /// for a scan sent to several).
    ManifestUploaded {
        /// Unix milliseconds.
        at: u64,
        /// The destination's id of the manifest.
        remote: String,
        /// The destination, by name, for a scan sent to several (absent:
        /// its only one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
}
