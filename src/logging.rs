//! Logging: slog, human-readable lines on stderr.

use std::sync::Mutex;

use slog::{o, Drain, Level, Logger};

use crate::settings::LogLevel;

/// A logger writing to stderr at `level` and above.
pub fn logger(level: LogLevel) -> Logger {
    let decorator = slog_term::TermDecorator::new().stderr().build();
    let drain = slog_term::FullFormat::new(decorator).build();
    let drain = slog::LevelFilter::new(drain, slog_level(level));
    Logger::root(Mutex::new(drain).fuse(), o!())
}

fn slog_level(level: LogLevel) -> Level {
    match level {
        LogLevel::Error => Level::Error,
        LogLevel::Warn => Level::Warning,
        LogLevel::Info => Level::Info,
        LogLevel::Debug => Level::Debug,
        LogLevel::Trace => Level::Trace,
    }
}
