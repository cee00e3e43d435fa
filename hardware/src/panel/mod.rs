//! The operator panel: start / pause / stop buttons and a status indicator.

pub mod debounce;
#[cfg(feature = "rppal")]
pub mod gpio;
pub mod listener;
pub mod patterns;
mod pins;
mod sim;

use std::fmt;

pub use debounce::Debouncer;
#[cfg(feature = "rppal")]
pub use gpio::{open, GpioButtons, GpioIndicator};
pub use listener::{ButtonListener, EdgeSender};
pub use patterns::PatternPlayer;
pub use pins::{PanelPins, Pull};
pub use sim::{SimButtons, SimIndicator};

/// What can go wrong with the panel.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    /// The GPIO (or other) driver failed.
    #[error("the operator panel failed: {reason}")]
    Driver {
        /// The driver's own words.
        reason: String,
    },
}

/// Result of panel operations.
pub type Result<T, E = PanelError> = std::result::Result<T, E>;

/// A button on the rig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    /// Start a scan, or resume a paused one.
    Start,
    /// Pause the scan (or resume it).
    Pause,
    /// Stop the scan; a long press also aborts and de-energises.
    Stop,
}

/// A debounced press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonEvent {
    /// Which button.
    pub button: Button,
    /// Whether it was held past the long-press time.
    pub long: bool,
}

/// Called from the driver's own thread for every debounced press.
pub type ButtonHandler = Box<dyn Fn(ButtonEvent) + Send + Sync>;

/// Buttons deliver presses as events (interrupts), never by polling.
pub trait Buttons: Send {
    /// Starts delivering presses to `handler`.
    fn listen(&mut self, handler: ButtonHandler) -> Result<()>;
}

/// What the status light shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for a scan.
    Idle,
    /// A scan is running.
    Scanning,
    /// A scan is paused.
    Paused,
    /// No scan runs, but photos are still uploading.
    Uploading,
    /// Something needs the operator.
    Fault,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Idle => "idle",
            Status::Scanning => "scanning",
            Status::Paused => "paused",
            Status::Uploading => "uploading",
            Status::Fault => "fault",
        })
    }
}

/// A status light (and optionally a buzzer).
pub trait Indicator: Send {
    /// Shows a status until the next call.
    fn show(&mut self, status: Status) -> Result<()>;
}
