//! What a scan is, as every other part of scanrig speaks of it: plain
//! values, no actors, no I/O, and no imports from the rest of the crate
//! but the clock. The journal writes them, the sequence and the exporters
//! read them.
//!
//! # Layout
//! - [`ids`]: a scan's and a shot's ids.
//! - [`camera`]: a column camera's name, checked once.
//! - [`photo`]: a photo's identity (shot, camera, frame), its name, a
//!   stop's parts, and a photo file as the spool holds it.
//! - [`plan`]: the shots a scan takes, its bracket, and each photo's name.
//! - [`place`]: where a scan's photos go.
//! - [`priors`]: the rig's geometry and the pose formats a scan writes.
//! - [`quality`]: what the judges made of a photo.
//! - [`outcome`]: the devices faults concern, their classes, and how a
//!   scan ended.

pub mod camera;
pub mod ids;
pub mod outcome;
pub mod photo;
pub mod place;
pub mod plan;
pub mod priors;
pub mod quality;

pub use camera::{CameraName, CameraNameError};
pub use ids::{ScanId, ShotId};
pub use outcome::{Device, FaultKind, Outcome};
pub use photo::{Frame, Part, PhotoName, SpoolFile};
pub use place::{Place, Sent, Target};
pub use plan::{number_width, Bracket, BracketKind, ScanPlan, SettleFrom, ShotPlan, Station};
pub use priors::{ColumnPlace, Format, Geometry, Priors, Turn};
pub use quality::Quality;
