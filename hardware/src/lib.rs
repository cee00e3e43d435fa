//! scanrig's device seam: one synchronous trait per device, with a simulator
//! beside each real driver. Nothing here knows about actors; every call may
//! block, so callers run them on a thread of their own.
//!
//! # Layout
//! - [`units`]: `Degrees`, the one unit of angle used everywhere.
//! - [`axis`]: the `Axis` trait (turntable, tilt), trapezoidal motion math and
//!   `SimAxis`.
//! - [`camera`]: the `Camera` trait, `SimCamera` and the synthetic JPEGs it
//!   writes.
//! - [`panel`]: the operator panel: `Buttons` (start, pause, stop) and the
//!   status `Indicator`, with simulated ones.
//! - [`light`]: the rig's lights (`Light`, switched or dimmed by PWM),
//!   with recording outputs and the simulated room's lighting.
//! - [`fsutil`]: durable file writes (temp file, fsync, rename) and sha256.
//! - [`jpeg`]: a photo's size in pixels, from its JPEG header.
//! - `recent`: the simulators' records of what they were asked, kept to
//!   the latest entries.
//! - [`judge`]: a photo judged from a reduced decode: sharpness, exposure,
//!   the object in frame.
#![warn(missing_docs, unreachable_pub)]

pub mod axis;
pub mod camera;
pub mod fsutil;
pub mod jpeg;
pub mod judge;
pub mod light;
pub mod panel;
mod recent;
pub mod units;

pub use units::Degrees;
