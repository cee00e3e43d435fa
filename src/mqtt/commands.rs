//! Commands on `<prefix>/<rig>/cmd` and their answers on `…/reply`.
//!
//! A command is JSON: `{"id": "…", "command": "start", "profile": "demo",
//! "sent_ms": 1733529600000}`; `command` is one of start, pause, resume,
//! stop, home, select (the profile a Start without one uses) and light
//! (`"light": "ring", "brightness": 60`, percent, 0 for off). The
//! answer carries the same id: `{"id", "command", "ok": true, …}` or
//! `{"id", "command", "ok": false, "status", "code", "error"}` with the
//! status, code and words the REST API gives for the same refusal. One
//! sent longer than `mqtt.command_max_age_s` ago is refused (`expired`),
//! and so is one from a clock ahead of the rig's (`clock_ahead`).
//!
//! The broker may deliver a command more than once (QoS 1). Every id is
//! written down (fsync) before the command is carried out, and its answer
//! after; the latest [`REMEMBERED`] are kept across reconnects and
//! restarts, so a command seen again is answered again, never carried out
//! twice.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

use scanrig_hardware::fsutil::DurableFile;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Command ids remembered.
pub(crate) const REMEMBERED: usize = 256;

/// How far ahead of the rig's clock a command's `sent_ms` may be, ms
/// (clocks kept by NTP differ by far less; one further ahead would let a
/// command outlive `mqtt.command_max_age_s`).
pub(crate) const CLOCK_AHEAD_MS: u64 = 10_000;

/// What a command asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verb {
    /// Start a scan of `profile` (or the selected one).
    Start,
    /// Pause the scan.
    Pause,
    /// Resume a paused scan.
    Resume,
    /// Stop the scan after the step in flight.
    Stop,
    /// Home every axis.
    Home,
    /// Choose the profile a Start without one uses.
    Select,
    /// Set `light` to `brightness` percent (0: off).
    Light,
}

/// A command as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Command {
    /// Its id, unique per sender (a UUID, or sender and counter); a
    /// command without one is carried out but cannot be recognised when
    /// delivered again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    /// What it asks.
    pub(crate) command: Verb,
    /// The profile, for start and select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) profile: Option<String>,
    /// The light, for light.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) light: Option<String>,
    /// Its brightness, percent, for light.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) brightness: Option<i64>,
    /// When it was sent, Unix milliseconds; older than
    /// `mqtt.command_max_age_s` it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sent_ms: Option<u64>,
}

impl Command {
    /// Reads a command, or says what is wrong with it (and its id, if that
    /// much could be read).
    pub(crate) fn parse(payload: &[u8]) -> Result<Command, (Option<String>, String)> {
        serde_json::from_slice(payload).map_err(|e| {
            let id = serde_json::from_slice::<Value>(payload)
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_owned));
            (
                id,
                format!("not a command: {e}; send {{\"id\": \"…\", \"command\": \"start|pause|resume|stop|home|select\", \"profile\": \"…\"}}"),
            )
        })
    }
}

impl Command {
    /// Why it is not to be carried out at `now` (Unix ms) when commands
    /// live `max_age_ms`: its code and words; `None` when it is in time
    /// (or says not when it was sent).
    pub(crate) fn untimely(&self, now: u64, max_age_ms: u64) -> Option<(&'static str, String)> {
        let sent = self.sent_ms?;
        if sent > now + CLOCK_AHEAD_MS {
            return Some(("clock_ahead", format!(
                "sent_ms is {} s ahead of this rig's clock (more than {} s): not carried out; set both clocks right (NTP) and send it again",
                (sent - now) / 1000, CLOCK_AHEAD_MS / 1000)));
        }
        let age = now.saturating_sub(sent);
        (age > max_age_ms).then(|| ("expired", format!(
            "sent {} s ago, longer than mqtt.command_max_age_s ({} s): not carried out; send it again",
            age / 1000, max_age_ms / 1000)))
    }
}

/// The answer to a command carried out.
pub(crate) fn accepted(id: Option<&str>, verb: Option<Verb>, result: Value) -> Value {
    let mut answer = json!({"id": id, "command": verb, "ok": true});
    if let (Value::Object(answer), Value::Object(result)) = (&mut answer, result) {
        answer.extend(result);
    }
    answer
}

/// The answer to a command refused.
pub(crate) fn refused(
    id: Option<&str>,
    verb: Option<Verb>,
    status: u16,
    code: &str,
    error: &str,
) -> Value {
    json!({"id": id, "command": verb, "ok": false, "status": status, "code": code, "error": error})
}

/// One remembered command.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    id: String,
    /// Its answer; `None` while it is carried out, or if scanrig stopped
    /// before it was answered.
    answer: Option<Value>,
}

/// What is known of a command id.
#[derive(Debug, PartialEq)]
pub(crate) enum Known {
    /// Never seen: carry it out.
    New,
    /// Seen, and answered with this.
    Answered(Value),
    /// Seen, never answered: being carried out now, or scanrig stopped
    /// while it was.
    Unanswered,
}

/// The command ids seen, kept in a file.
#[derive(Debug)]
pub(crate) struct Seen {
    path: PathBuf,
    entries: VecDeque<Entry>,
}

impl Seen {
    /// The ids kept in `path` (none if it does not exist yet).
    pub(crate) fn load(path: &Path) -> io::Result<Seen> {
        let entries = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a list of commands ({e}); remove it to start afresh",
                        path.display()
                    ),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => VecDeque::new(),
            Err(e) => return Err(e),
        };
        Ok(Seen {
            path: path.to_owned(),
            entries,
        })
    }

    /// What is known of `id`.
    pub(crate) fn known(&self, id: &str) -> Known {
        match self.entries.iter().rev().find(|e| e.id == id) {
            None => Known::New,
            Some(Entry {
                answer: Some(a), ..
            }) => Known::Answered(a.clone()),
            Some(_) => Known::Unanswered,
        }
    }

    /// Writes `id` down before it is carried out.
    pub(crate) fn received(&mut self, id: &str) -> io::Result<()> {
        if self.entries.len() == REMEMBERED {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            id: id.to_owned(),
            answer: None,
        });
        self.save()
    }

    /// Writes down the answer to `id`.
    pub(crate) fn answered(&mut self, id: &str, answer: &Value) -> io::Result<()> {
        if let Some(e) = self.entries.iter_mut().rev().find(|e| e.id == id) {
            e.answer = Some(answer.clone());
        }
        self.save()
    }

    fn save(&self) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = DurableFile::create(&self.path)?;
        serde_json::to_writer(&mut file, &self.entries)?;
        file.commit().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_id_is_remembered_with_its_answer_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/mqtt-commands.json");
        let mut seen = Seen::load(&path).unwrap();
        assert_eq!(seen.known("a"), Known::New);
        seen.received("a").unwrap();
        assert_eq!(seen.known("a"), Known::Unanswered);
        let answer = accepted(Some("a"), Some(Verb::Pause), json!({}));
        seen.answered("a", &answer).unwrap();
        seen.received("b").unwrap();
        // Read again, as after a restart.
        let seen = Seen::load(&path).unwrap();
        assert_eq!(seen.known("a"), Known::Answered(answer));
        assert_eq!(seen.known("b"), Known::Unanswered);
        assert_eq!(seen.known("c"), Known::New);
    }

    #[test]
    fn only_the_latest_ids_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Seen::load(&dir.path().join("c.json")).unwrap();
        for n in 0..=REMEMBERED {
            seen.received(&n.to_string()).unwrap();
        }
        assert_eq!(seen.known("0"), Known::New);
        assert_eq!(seen.known("1"), Known::Unanswered);
        assert_eq!(seen.entries.len(), REMEMBERED);
    }

    #[test]
    fn a_command_too_old_or_from_a_clock_ahead_is_untimely() {
        let now = 1_700_000_000_000;
        let sent = |ms| Command {
            id: Some("t".into()),
            command: Verb::Start,
            light: None,
            brightness: None,
            profile: None,
            sent_ms: ms,
        };
        let code = |c: Command| c.untimely(now, 60_000).map(|(code, _)| code);
        assert_eq!(code(sent(None)), None);
        assert_eq!(code(sent(Some(now - 60_000))), None);
        assert_eq!(code(sent(Some(now - 60_001))), Some("expired"));
        assert_eq!(code(sent(Some(now + CLOCK_AHEAD_MS))), None);
        assert_eq!(
            code(sent(Some(now + CLOCK_AHEAD_MS + 1))),
            Some("clock_ahead")
        );
        // A year ahead: not kept for a year.
        let (_, why) = sent(Some(now + 31_536_000_000))
            .untimely(now, 60_000)
            .unwrap();
        assert!(why.contains("31536000 s ahead"), "{why}");
    }

    #[test]
    fn commands_are_read_or_refused_with_their_id() {
        let c = Command::parse(br#"{"id":"7","command":"start","profile":"demo"}"#).unwrap();
        assert_eq!((c.id.as_deref(), c.command), (Some("7"), Verb::Start));
        assert_eq!(c.profile.as_deref(), Some("demo"));
        let (id, why) = Command::parse(br#"{"id":"8","command":"explode"}"#).unwrap_err();
        assert_eq!(id.as_deref(), Some("8"));
        assert!(why.contains("start|pause"), "{why}");
        let (id, _) = Command::parse(b"not json").unwrap_err();
        assert_eq!(id, None);
        let bad = std::env::temp_dir().join(format!("scanrig-seen-{}", std::process::id()));
        std::fs::write(&bad, "{").unwrap();
        let e = Seen::load(&bad).unwrap_err().to_string();
        std::fs::remove_file(&bad).unwrap();
        assert!(e.contains("remove it"), "{e}");
    }
}
