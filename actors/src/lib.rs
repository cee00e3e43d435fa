//! scanrig's actors and the pieces they share. The actors talk in typed
//! messages; devices are reached only through the `scanrig-hardware` traits,
//! and every blocking device call runs on a thread of its own.
//!
//! # Layout
//! - [`model`]: what a scan is — ids, camera and photo names, the plan,
//!   its place, its priors, faults and outcomes; everything else builds on
//!   it and it on nothing.
//! - [`sequence`]: the scan as a pure state machine (events in, commands out).
//! - [`restart`]: backoff and the restart budget.
//! - [`settle`]: learning the settle time (a pure state machine).
//! - [`journal`]: the append-only, fsync'd scan journal and its replay.
//! - [`history`]: the scans index, where finished scans are compacted.
//! - [`hooks`]: the queue of scan-done hooks (a command, a webhook).
//! - [`backlog`]: the photos waiting after a failed run, and when each is
//!   due again.
//! - [`destination`]: where photos go (trait) and the local-folder one.
//! - [`poses`]: each shot's camera pose from the rig's geometry.
//! - [`coverage`]: where each shot of a scan stands, for its picture.
//! - [`manifest`]: the `manifest.json` written beside each scan's photos.
//! - actors: [`turntable`], [`camera`], [`uploader`], [`buttons`],
//!   [`recorder`] (the journal's writer thread), [`merge`] (bracketed sets
//!   merged), [`judge`] (each photo measured as it lands), [`moved`]
//!   (whether the object moved during a ring), [`lights`] (on for a scan,
//!   off after it, by hand, the idle timeout), [`manual`] (the rig by
//!   hand: jogs, homing, the camera's preview, settings, test shots and the
//!   setup check) and [`supervisor`], which carries out the sequence's
//!   commands.
//! - [`health`]: the Pi's own health read from the kernel's files, and the
//!   actor reading it every few seconds.
//! - [`clock`]: UTC timestamps as text.
#![warn(missing_docs, unreachable_pub)]

pub mod backlog;
pub mod buttons;
pub mod camera;
pub mod clock;
pub mod coverage;
pub mod destination;
pub mod health;
pub mod history;
pub mod hooks;
pub mod journal;
pub mod judge;
pub mod lights;
pub mod manifest;
pub mod manual;
pub mod merge;
pub mod model;
pub mod moved;
pub mod poses;
pub mod recorder;
pub mod restart;
pub mod sequence;
pub mod settle;
pub mod supervisor;
pub mod turntable;
pub mod uploader;
