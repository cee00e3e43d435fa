//! Status-light blink patterns as data, and a [`PatternPlayer`] thread that plays them on any output pin.
//!
//! | status      | pattern                                               |
//! |-------------|-------------------------------------------------------|
//! | `Idle`      | heartbeat: two short blips every 2 s                  |
//! | `Scanning`  | solid on                                              |
//! | `Paused`    | slow blink, 1 s on, 1 s off                           |
//! | `Uploading` | fast blink, 4 Hz                                      |
//! | `Fault`     | triple flash, then 1 s dark; plus one beep on entering |
//!
//! The player never polls: its thread waits on the channel of statuses with
//! `recv_timeout` until the pattern's next edge, and blocks without a
//! timeout while the light is steady.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use embedded_hal::digital::OutputPin;

use super::{Indicator, PanelError, Result, Status};

/// Length of each of the idle heartbeat's two blips.
pub const HEARTBEAT_BLIP: Duration = Duration::from_millis(80);
/// Dark time between the idle heartbeat's two blips.
pub const HEARTBEAT_GAP: Duration = Duration::from_millis(150);
/// Dark time after the second blip; a heartbeat lasts 2 s in all.
pub const HEARTBEAT_REST: Duration = Duration::from_millis(1690);
/// Half period of the paused slow blink (on, then off, this long each).
pub const SLOW_BLINK: Duration = Duration::from_millis(1000);
/// Half period of the uploading fast blink (4 Hz).
pub const FAST_BLINK: Duration = Duration::from_millis(125);
/// On and off time of each of the fault's three flashes.
pub const FAULT_FLASH: Duration = Duration::from_millis(150);
/// Dark time after the fault's three flashes.
pub const FAULT_REST: Duration = Duration::from_millis(1000);
/// How long the buzzer sounds when the status becomes `Fault`.
pub const FAULT_BEEP: Duration = Duration::from_millis(200);
/// The shortest step the player times, whatever the speed-up: keeps a
/// scaled pattern from spinning.
pub const MIN_STEP: Duration = Duration::from_millis(1);

/// One step of a pattern: the light is `lit` (or dark) for `hold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Whether the light is on.
    pub lit: bool,
    /// How long this step lasts; ignored in a steady (one-step) pattern.
    pub hold: Duration,
}

const fn step(lit: bool, hold: Duration) -> Step {
    Step { lit, hold }
}

const IDLE: [Step; 4] = [
    step(true, HEARTBEAT_BLIP),
    step(false, HEARTBEAT_GAP),
    step(true, HEARTBEAT_BLIP),
    step(false, HEARTBEAT_REST),
];
const SCANNING: [Step; 1] = [step(true, Duration::MAX)];
const PAUSED: [Step; 2] = [step(true, SLOW_BLINK), step(false, SLOW_BLINK)];
const UPLOADING: [Step; 2] = [step(true, FAST_BLINK), step(false, FAST_BLINK)];
const FAULT: [Step; 6] = [
    step(true, FAULT_FLASH),
    step(false, FAULT_FLASH),
    step(true, FAULT_FLASH),
    step(false, FAULT_FLASH),
    step(true, FAULT_FLASH),
    step(false, FAULT_REST),
];

/// The light's pattern for `status`: steps played in order and repeated
/// forever, starting with the first. A pattern of one step is steady.
pub fn pattern(status: Status) -> &'static [Step] {
    match status {
        Status::Idle => &IDLE,
        Status::Scanning => &SCANNING,
        Status::Paused => &PAUSED,
        Status::Uploading => &UPLOADING,
        Status::Fault => &FAULT,
    }
}

/// `d` divided by `speedup` (0 counts as 1), but at least [`MIN_STEP`].
fn scaled(d: Duration, speedup: u32) -> Duration {
    (d / speedup.max(1)).max(MIN_STEP)
}

/// Where a pattern is: which step, and when that step ends. Pure: the
/// caller says what time it is.
#[derive(Debug, Clone)]
struct Playback {
    steps: &'static [Step],
    speedup: u32,
    index: usize,
    /// When the current step ends; `None` for a steady light.
    until: Option<Instant>,
}

impl Playback {
    /// The light off, steadily.
    fn off() -> Playback {
        Playback {
            steps: &[],
            speedup: 1,
            index: 0,
            until: None,
        }
    }

    /// Starts `steps` at its first step at `now`.
    fn start(steps: &'static [Step], speedup: u32, now: Instant) -> Playback {
        let until = match steps {
            [first, _, ..] => now.checked_add(scaled(first.hold, speedup)),
            _ => None,
        };
        Playback {
            steps,
            speedup,
            index: 0,
            until,
        }
    }

    /// Whether the light is on in the current step.
    fn lit(&self) -> bool {
        self.steps.get(self.index).is_some_and(|s| s.lit)
    }

    /// When the current step ends, `None` for a steady light.
    fn deadline(&self) -> Option<Instant> {
        self.until
    }

    /// Moves to the next step if the current one has ended by `now`, and
    /// returns its level. Steps are timed from when the previous one was due
    /// to end, so lateness does not add up; a player woken more than a step
    /// late carries on from `now` instead of racing to catch up.
    fn advance(&mut self, now: Instant) -> Option<bool> {
        let until = self.until.filter(|&t| t <= now)?;
        self.index = (self.index + 1) % self.steps.len().max(1);
        let hold = scaled(self.steps.get(self.index)?.hold, self.speedup);
        self.until = until
            .checked_add(hold)
            .filter(|&t| t > now)
            .or_else(|| now.checked_add(hold));
        Some(self.lit())
    }
}

/// The first failure of a pin, kept for [`PatternPlayer::show`] to report.
type Failure = Arc<Mutex<Option<String>>>;

/// The light and optional buzzer, as the player's thread drives them.
struct Outputs<P> {
    led: P,
    buzzer: Option<P>,
    failure: Failure,
}

impl<P: OutputPin> Outputs<P> {
    fn set(pin: &mut P, on: bool) -> std::result::Result<(), P::Error> {
        if on {
            pin.set_high()
        } else {
            pin.set_low()
        }
    }

    /// Sets the light; a failure is kept (the first one) and play goes on.
    fn led(&mut self, lit: bool) {
        if let Err(e) = Self::set(&mut self.led, lit) {
            self.fail(format!("the status light's pin failed: {e:?}"));
        }
    }

    /// Sets the buzzer, if there is one.
    fn buzz(&mut self, on: bool) {
        if let Some(buzzer) = &mut self.buzzer {
            if let Err(e) = Self::set(buzzer, on) {
                self.fail(format!("the buzzer's pin failed: {e:?}"));
            }
        }
    }

    fn fail(&self, reason: String) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert(reason);
    }
}

/// Plays the [`pattern`] of the latest [`Status`] on a light (any
/// `embedded-hal` output pin, high = lit), and sounds an optional buzzer
/// (high = sounding) for [`FAULT_BEEP`] each time the status becomes
/// `Fault`.
///
/// A thread of its own does the timing; `show` only sends it the status.
/// Showing the status already shown changes nothing (the pattern does not
/// restart). Dropping the player stops the thread and leaves the light and
/// the buzzer off.
#[derive(Debug)]
pub struct PatternPlayer {
    tx: Option<Sender<Status>>,
    thread: Option<JoinHandle<()>>,
    failure: Failure,
}

impl PatternPlayer {
    /// Switches `led` (and `buzzer`) off and starts the player's thread,
    /// with real-time patterns.
    pub fn new<P>(led: P, buzzer: Option<P>) -> Result<PatternPlayer>
    where
        P: OutputPin + Send + 'static,
    {
        PatternPlayer::with_speedup(led, buzzer, 1)
    }

    /// Like [`new`](PatternPlayer::new), with every duration divided by
    /// `speedup` (0 counts as 1; no step shorter than [`MIN_STEP`]): for
    /// tests and demos.
    pub fn with_speedup<P>(led: P, buzzer: Option<P>, speedup: u32) -> Result<PatternPlayer>
    where
        P: OutputPin + Send + 'static,
    {
        let failure = Failure::default();
        let mut outputs = Outputs {
            led,
            buzzer,
            failure: Arc::clone(&failure),
        };
        outputs.led(false);
        outputs.buzz(false);
        if let Some(reason) = failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(PanelError::Driver { reason });
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("status-light".into())
            .spawn(move || play(outputs, &rx, speedup))
            .map_err(|e| PanelError::Driver {
                reason: format!("cannot start the status light's thread: {e}"),
            })?;
        Ok(PatternPlayer {
            tx: Some(tx),
            thread: Some(thread),
            failure,
        })
    }

    /// Shows `status` from now on. Fails if a pin has failed (the first
    /// failure is reported, once) or the player's thread is gone.
    pub fn show(&self, status: Status) -> Result<()> {
        if let Some(reason) = self
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(PanelError::Driver { reason });
        }
        let sent = self.tx.as_ref().map(|tx| tx.send(status).is_ok());
        match sent {
            Some(true) => Ok(()),
            _ => Err(PanelError::Driver {
                reason: "the status light's thread has stopped".into(),
            }),
        }
    }
}

impl Indicator for PatternPlayer {
    fn show(&mut self, status: Status) -> Result<()> {
        PatternPlayer::show(self, status)
    }
}

impl Drop for PatternPlayer {
    fn drop(&mut self) {
        // Closing the channel wakes the thread, which switches off and ends.
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The player's thread: waits for a status or the next edge, until the
/// channel closes.
fn play<P: OutputPin>(mut out: Outputs<P>, rx: &mpsc::Receiver<Status>, speedup: u32) {
    let mut current = None;
    let mut playback = Playback::off();
    let mut beep_until: Option<Instant> = None;
    loop {
        let deadline = match (playback.deadline(), beep_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let received = match deadline {
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let now = Instant::now();
        match received {
            Ok(status) if current != Some(status) => {
                current = Some(status);
                playback = Playback::start(pattern(status), speedup, now);
                out.led(playback.lit());
                if status == Status::Fault && out.buzzer.is_some() {
                    out.buzz(true);
                    beep_until = now.checked_add(scaled(FAULT_BEEP, speedup));
                }
            }
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some(lit) = playback.advance(now) {
            out.led(lit);
        }
        if beep_until.is_some_and(|t| t <= now) {
            out.buzz(false);
            beep_until = None;
        }
    }
    out.led(false);
    out.buzz(false);
}

#[cfg(test)]
#[path = "patterns_tests.rs"]
mod tests;
