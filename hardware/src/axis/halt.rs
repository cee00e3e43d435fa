//! Stopping a move from another thread. A move (or homing) holds a
//! [`Ticket`] taken when it was asked for; any [`Halt::request`] made after
//! that stops it: a controlled stop decelerates along the ramp and stands
//! still where the counted steps say, an emergency stop ends stepping at
//! once and releases the motor. A move asked for after the request is not
//! stopped by it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopKind {
    /// Slow down along the ramp and hold the position (Pause, Stop).
    Controlled,
    /// Stop stepping now and release the motor; the position is lost
    /// (a long press of Stop, the web's emergency stop).
    Emergency,
}

#[derive(Debug, Default)]
struct State {
    /// Requests so far.
    requests: AtomicU64,
    /// The number of the last emergency request (0: none).
    emergency_at: AtomicU64,
    /// Wakes those waiting in [`Ticket::wait_until`].
    lock: Mutex<()>,
    wake: Condvar,
}

/// The rig's stop signal; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Halt(Arc<State>);

impl Halt {
    /// A stop signal nothing has been asked of yet.
    pub fn new() -> Halt {
        Halt::default()
    }

    /// A ticket for a move asked for now.
    pub fn ticket(&self) -> Ticket {
        Ticket {
            halt: self.clone(),
            since: self.0.requests.load(Ordering::SeqCst),
        }
    }

    /// Stops every move whose ticket was taken before now.
    pub fn request(&self, kind: StopKind) {
        let n = self.0.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if kind == StopKind::Emergency {
            self.0.emergency_at.fetch_max(n, Ordering::SeqCst);
        }
        let _woken = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.0.wake.notify_all();
    }
}

/// What a move asks, after each step, to know whether to stop.
#[derive(Debug, Clone)]
pub struct Ticket {
    halt: Halt,
    since: u64,
}

impl Ticket {
    /// A ticket that nothing stops (a test, or a command-line move that
    /// is stopped by ending the process).
    pub fn unstoppable() -> Ticket {
        Halt::new().ticket()
    }

    /// Whether a stop was asked for since the ticket was taken, and the
    /// strongest kind asked for.
    pub fn stop(&self) -> Option<StopKind> {
        let state = &self.halt.0;
        if state.emergency_at.load(Ordering::SeqCst) > self.since {
            Some(StopKind::Emergency)
        } else if state.requests.load(Ordering::SeqCst) > self.since {
            Some(StopKind::Controlled)
        } else {
            None
        }
    }

    /// Waits until `deadline`, or less if a stop is asked for; returns the
    /// stop, if one came.
    pub fn wait_until(&self, deadline: Instant) -> Option<StopKind> {
        let state = &self.halt.0;
        let mut guard = state.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(kind) = self.stop() {
                return Some(kind);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            guard = state
                .wake
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_request_stops_earlier_tickets_only_and_emergency_wins() {
        let halt = Halt::new();
        let early = halt.ticket();
        assert_eq!(early.stop(), None);
        halt.request(StopKind::Controlled);
        let late = halt.ticket();
        assert_eq!(early.stop(), Some(StopKind::Controlled));
        assert_eq!(late.stop(), None, "asked for after the stop");
        halt.request(StopKind::Emergency);
        halt.request(StopKind::Controlled);
        assert_eq!(early.stop(), Some(StopKind::Emergency));
        assert_eq!(late.stop(), Some(StopKind::Emergency));
        assert_eq!(halt.ticket().stop(), None);
        assert_eq!(Ticket::unstoppable().stop(), None);
    }

    #[test]
    fn a_wait_ends_at_its_deadline_or_at_once_on_a_request() {
        let halt = Halt::new();
        let ticket = halt.ticket();
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(ticket.wait_until(soon), None);
        assert!(Instant::now() >= soon);
        let waiter = std::thread::spawn(move || {
            let started = Instant::now();
            let kind = ticket.wait_until(started + Duration::from_secs(60));
            (kind, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(20));
        halt.request(StopKind::Emergency);
        let (kind, waited) = waiter.join().unwrap();
        assert_eq!(kind, Some(StopKind::Emergency));
        assert!(waited < Duration::from_secs(10), "{waited:?}");
    }
}
