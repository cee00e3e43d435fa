//! The daemon's own sections: `[web]`, `[supervision]`, `[buttons]`,
//! `[daemon]`, `[profiles]` and `[log]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::GpioPanel;

/// `[web]`: the daemon's web page and REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Web {
    /// Address and port to listen on; empty turns the web side off.
    pub listen: String,
    /// The access token; empty: generated on first use when one is needed.
    pub token: String,
    /// Live preview frames per second, 1..=30.
    pub preview_fps: u32,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: "127.0.0.1:8080".into(),
            token: String::new(),
            preview_fps: 5,
        }
    }
}

/// `[supervision]`: how failed devices and workers are restarted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Supervision {
    /// Restarts allowed within `window_s` before giving up, at least 1.
    pub max_restarts: u32,
    /// The window, in seconds, at least 1.
    pub window_s: u64,
    /// Wait before the first restart, in milliseconds.
    pub backoff_initial_ms: u64,
    /// Longest wait before a restart, in milliseconds (>= `backoff_initial_ms`).
    pub backoff_max_ms: u64,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            max_restarts: 5,
            window_s: 60,
            backoff_initial_ms: 200,
            backoff_max_ms: 10_000,
        }
    }
}

/// Where button presses come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonsBackend {
    /// Simulated buttons.
    #[default]
    Sim,
    /// Buttons and status light on GPIO, configured by `[buttons.gpio]`.
    Gpio,
}

/// `[buttons]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Buttons {
    /// The driver.
    pub backend: ButtonsBackend,
    /// A press held this long, in milliseconds, is a long press.
    pub long_press_ms: u64,
    /// The GPIO panel's settings.
    pub gpio: GpioPanel,
}

impl Default for Buttons {
    fn default() -> Self {
        Buttons {
            backend: ButtonsBackend::Sim,
            long_press_ms: 1500,
            gpio: GpioPanel::default(),
        }
    }
}

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Daemon {
    /// The profile run on the start button: a name or a path.
    pub profile: String,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            profile: "turntable-36".into(),
        }
    }
}

/// `[profiles]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profiles {
    /// Folders searched for `<name>.toml`, in order, before the shipped profiles.
    pub dirs: Vec<PathBuf>,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles {
            dirs: vec![PathBuf::from("/etc/scanrig/profiles")],
        }
    }
}

/// How much to log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// The normal level.
    #[default]
    Info,
    /// Details for debugging.
    Debug,
    /// Everything.
    Trace,
}

/// `[log]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// The level.
    pub level: LogLevel,
}
