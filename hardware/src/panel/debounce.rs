//! Button debouncing as a pure state machine: raw edges in, one [`ButtonEvent`] per real press out.
//!
//! The [`Debouncer`] does no I/O and has no clock of its own: a driver feeds
//! it raw edges with the time they happened ([`Debouncer::edge`]), collects
//! the presses with [`Debouncer::due`], and sleeps (on a channel, with
//! `recv_timeout`) until [`Debouncer::next_deadline`], when the state machine
//! next has something to decide even if no edge arrives.
//!
//! # Rules
//! - **Settling.** A raw level counts only once it has stayed unchanged for
//!   `settle`. Contact bounce (level changes closer together than that) is
//!   ignored, both on pressing and on releasing; so is a glitch shorter than
//!   `settle` in the middle of a hold, which does not end the hold.
//! - **Short press: at release.** A press shorter than `long_press` is
//!   reported once, when its release has settled; only then is it known that
//!   it was not a long one. `long` is `false`.
//! - **Long press: at the threshold.** When a button has been held for
//!   `long_press` (counted from the edge that started the settled press) the
//!   press is reported at once with `long: true`, while the button is still
//!   down, so "hold stop to abort" acts without waiting for the release. The
//!   release that follows reports nothing: one press, one event.
//! - **Held at start.** Every button starts released. A button already held
//!   when edges start flowing is ignored until it is released and pressed
//!   again (its first edge is a release, which reports nothing).
//! - **Odd input.** An edge that repeats the current level (an edge the
//!   kernel lost in between) restarts the settling like a bounce. An edge
//!   time earlier than the previous one on that button counts as the previous
//!   one. Durations too large to add to an `Instant` mean "never".

use std::time::{Duration, Instant};

use super::{Button, ButtonEvent};

/// How long a level must stay unchanged to count, unless configured otherwise.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(30);

/// How long a button must be held to count as a long press, unless configured
/// otherwise.
pub const DEFAULT_LONG_PRESS: Duration = Duration::from_millis(1500);

/// Every button, in the order the debouncer keeps them.
const BUTTONS: [Button; 3] = [Button::Start, Button::Pause, Button::Stop];

fn slot(button: Button) -> usize {
    match button {
        Button::Start => 0,
        Button::Pause => 1,
        Button::Stop => 2,
    }
}

/// The settled state of one button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Released,
    /// Down since `since` (the raw edge that began the settled press).
    Pressed {
        since: Instant,
        long_sent: bool,
    },
}

/// One button's raw and settled state.
#[derive(Debug, Clone, Copy)]
struct Channel {
    /// The last raw level seen: `true` when active (pressed).
    raw: bool,
    /// When `raw` last changed; `None` before the first edge.
    raw_since: Option<Instant>,
    settled: Settled,
}

impl Channel {
    const fn new() -> Channel {
        Channel {
            raw: false,
            raw_since: None,
            settled: Settled::Released,
        }
    }
}

/// Turns raw, bouncing edges of the start, pause and stop buttons into one
/// [`ButtonEvent`] per real press; see the [module docs](self) for the rules.
#[derive(Debug, Clone)]
pub struct Debouncer {
    settle: Duration,
    long_press: Duration,
    channels: [Channel; 3],
    /// Presses decided but not yet collected by [`due`](Debouncer::due),
    /// with the time each was decided.
    pending: Vec<(Instant, ButtonEvent)>,
}

impl Default for Debouncer {
    /// A debouncer with [`DEFAULT_SETTLE`] and [`DEFAULT_LONG_PRESS`].
    fn default() -> Debouncer {
        Debouncer::new(DEFAULT_SETTLE, DEFAULT_LONG_PRESS)
    }
}

impl Debouncer {
    /// A debouncer that accepts a level once stable for `settle` and reports
    /// a press as long once held for `long_press`. All buttons start
    /// released.
    pub fn new(settle: Duration, long_press: Duration) -> Debouncer {
        Debouncer {
            settle,
            long_press,
            channels: [Channel::new(); 3],
            pending: Vec::new(),
        }
    }

    /// How long a level must stay unchanged to count.
    pub fn settle(&self) -> Duration {
        self.settle
    }

    /// How long a hold must last to be a long press.
    pub fn long_press(&self) -> Duration {
        self.long_press
    }

    /// Feeds one raw edge: `button`'s input became `active` (pressed) or
    /// inactive at `at`. Presses this decides are collected by
    /// [`due`](Debouncer::due).
    pub fn edge(&mut self, button: Button, active: bool, at: Instant) {
        let i = slot(button);
        let at = match self.channels[i].raw_since {
            Some(previous) => at.max(previous),
            None => at,
        };
        // Settle what was due before this edge, with the level as it was.
        self.advance(i, at);
        let channel = &mut self.channels[i];
        channel.raw = active;
        channel.raw_since = Some(at);
        // A glitch that ended after the long-press time fires it now.
        self.advance(i, at);
    }

    /// Every press decided up to `now`, oldest first, each reported once.
    pub fn due(&mut self, now: Instant) -> Vec<ButtonEvent> {
        for i in 0..BUTTONS.len() {
            self.advance(i, now);
        }
        self.pending.sort_by_key(|&(at, _)| at);
        self.pending.drain(..).map(|(_, event)| event).collect()
    }

    /// When [`due`](Debouncer::due) must next be called even if no edge
    /// arrives; `None` when nothing is in progress (wait for the next edge
    /// without a timeout). A deadline in the past means "call `due` now".
    pub fn next_deadline(&self) -> Option<Instant> {
        let pending = self.pending.iter().map(|&(at, _)| at).min();
        let channels = self
            .channels
            .iter()
            .filter_map(|channel| self.channel_deadline(channel));
        pending.into_iter().chain(channels).min()
    }

    /// When `channel` next changes on its own, if the raw level stays.
    fn channel_deadline(&self, channel: &Channel) -> Option<Instant> {
        let raw_since = channel.raw_since?;
        match (channel.settled, channel.raw) {
            (Settled::Released, false) => None,
            (Settled::Released, true) | (Settled::Pressed { .. }, false) => {
                raw_since.checked_add(self.settle)
            }
            (
                Settled::Pressed {
                    long_sent: true, ..
                },
                true,
            ) => None,
            (Settled::Pressed { since, .. }, true) => since.checked_add(self.long_press),
        }
    }

    /// Applies every transition of button `i` due by `now`, given that its
    /// raw level has not changed since `raw_since`.
    fn advance(&mut self, i: usize, now: Instant) {
        // Each pass makes at most one transition; three cover
        // released -> pressed -> long, or pressed -> released.
        for _ in 0..3 {
            let channel = self.channels[i];
            let Some(when) = self.channel_deadline(&channel) else {
                return;
            };
            if when > now {
                return;
            }
            let button = BUTTONS[i];
            let settled = match (channel.settled, channel.raw) {
                (Settled::Released, true) => Settled::Pressed {
                    since: channel.raw_since.unwrap_or(when),
                    long_sent: false,
                },
                (Settled::Pressed { long_sent, .. }, false) => {
                    if !long_sent {
                        self.pending.push((
                            when,
                            ButtonEvent {
                                button,
                                long: false,
                            },
                        ));
                    }
                    Settled::Released
                }
                (Settled::Pressed { since, .. }, true) => {
                    self.pending
                        .push((when, ButtonEvent { button, long: true }));
                    Settled::Pressed {
                        since,
                        long_sent: true,
                    }
                }
                (Settled::Released, false) => return,
            };
            self.channels[i].settled = settled;
        }
    }
}

#[cfg(test)]
#[path = "debounce_tests.rs"]
mod tests;
