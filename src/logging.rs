//! Logging: slog lines on stderr. In a terminal they read like
//! `Nov 22 10:15:00.470 INFO scan started, planned: 8`; under systemd
//! (`$JOURNAL_STREAM` set) each line starts with its syslog priority
//! (`<6>scan started; scan=…, planned=8`) so the journal files it at the
//! right level, with the fields (scan id, shot, …) as `key=value`. The
//! libraries' own records (actix-web, hyper, rustls, rumqttc, yup-oauth2:
//! `log`, and `tracing` through it) go to the same drain, each with the
//! library as a field: their warnings and errors always, the rest at
//! `log.level = "debug"` or `"trace"`.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::Mutex;

use slog::{b, o, Drain, Level, Logger, OwnedKVList, Record, KV};

use crate::settings::LogLevel;

/// A logger writing to stderr at `level` and above, in the journal's format
/// when systemd collects stderr.
pub fn logger(level: LogLevel) -> Logger {
    let level = slog_level(level);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let drain = slog::LevelFilter::new(JournalDrain::new(std::io::stderr()), level);
        return Logger::root(drain.fuse(), o!());
    }
    let decorator = slog_term::TermDecorator::new().stderr().build();
    let drain = slog_term::FullFormat::new(decorator).build();
    let drain = slog::LevelFilter::new(drain, level);
    Logger::root(Mutex::new(drain).fuse(), o!())
}

/// Sends the libraries' `log` records to `log` (see the module's words on
/// levels) until the guard is dropped. Only the first call of a process
/// takes effect.
pub fn with_libraries(log: &Logger, level: LogLevel) -> slog_scope::GlobalLoggerGuard {
    let verbose = matches!(level, LogLevel::Debug | LogLevel::Trace);
    let libraries = Libraries {
        log: log.clone(),
        verbose,
    };
    let guard = slog_scope::set_global_logger(Logger::root(libraries, o!()));
    let most = match level {
        LogLevel::Trace => ::log::Level::Trace,
        LogLevel::Debug => ::log::Level::Debug,
        _ => ::log::Level::Warn,
    };
    // Set already (a second call in one process): the first stays.
    let _ = slog_stdlog::init_with_level(most);
    guard
}

/// A library's records, passed on with the library (the first part of
/// the record's `log` target, e.g. `rustls`) as a field; below warnings
/// only when `verbose`.
struct Libraries {
    log: Logger,
    verbose: bool,
}

impl Drain for Libraries {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, r: &Record<'_>, _: &OwnedKVList) -> Result<(), slog::Never> {
        if !self.verbose && !r.level().is_at_least(Level::Warning) {
            return Ok(());
        }
        let library = r.tag().split("::").next().unwrap_or_default();
        let info = slog::RecordStatic {
            location: r.location(),
            level: r.level(),
            tag: r.tag(),
        };
        self.log
            .log(&Record::new(&info, r.msg(), b!("library" => library)));
        Ok(())
    }
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

/// Lines with `<N>` syslog priority prefixes, one write per line.
pub struct JournalDrain<W: Write> {
    out: Mutex<W>,
}

impl<W: Write> JournalDrain<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JournalDrain {
            out: Mutex::new(out),
        }
    }
}

/// syslog priorities (sd-daemon.h): err 3, warning 4, notice 5, info 6, debug 7.
fn priority(level: Level) -> u8 {
    match level {
        Level::Critical => 2,
        Level::Error => 3,
        Level::Warning => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

impl<W: Write> Drain for JournalDrain<W> {
    type Ok = ();
    type Err = std::io::Error;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), std::io::Error> {
        let mut fields = Fields(String::new());
        record
            .kv()
            .serialize(record, &mut fields)
            .and_then(|()| values.serialize(record, &mut fields))
            .map_err(std::io::Error::other)?;
        let mut line = format!("<{}>{}", priority(record.level()), record.msg());
        if !fields.0.is_empty() {
            let _ = write!(line, ";{}", fields.0);
        }
        line = line.replace('\n', " ");
        line.push('\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(line.as_bytes())
    }
}

/// Collects `key=value` pairs.
struct Fields(String);

impl slog::Serializer for Fields {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let sep = if self.0.is_empty() { " " } else { ", " };
        let _ = write!(self.0, "{sep}{}={val}", key.replace(' ', "_"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use slog::{error, info, o, warn};

    use super::*;

    /// A shared buffer to read what the drain wrote.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_libraries_warnings_reach_the_drain_and_their_chatter_does_not() {
        let buffer = Buffer::default();
        let log = Logger::root(JournalDrain::new(buffer.clone()).fuse(), o!());
        let _guard = with_libraries(&log, LogLevel::Info);
        ::log::warn!(target: "rustls::conn", "Sending fatal alert BadCertificate");
        ::log::info!(target: "actix_server::builder", "starting 2 workers");
        ::log::error!(target: "rumqttc::eventloop", "connection refused: not authorized");
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "<4>Sending fatal alert BadCertificate; library=rustls",
                "<3>connection refused: not authorized; library=rumqttc",
            ]
        );
    }

    #[test]
    fn lines_carry_their_priority_and_fields() {
        let buffer = Buffer::default();
        let log = Logger::root(
            JournalDrain::new(buffer.clone()).fuse(),
            o!("scan" => "20261122T101500Z-demo"),
        );
        info!(log, "shot captured"; "shot" => 3);
        warn!(log, "upload failed\nretrying");
        error!(log, "scan paused"; "reason" => "the camera failed");
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "<6>shot captured; shot=3, scan=20261122T101500Z-demo",
                "<4>upload failed retrying; scan=20261122T101500Z-demo",
                "<3>scan paused; reason=the camera failed, scan=20261122T101500Z-demo",
            ]
        );
    }
}
