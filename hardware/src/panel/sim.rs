//! Simulated operator panel: buttons pressed from code and a status light that records what it showed.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{ButtonEvent, ButtonHandler, Buttons, Indicator, Result, Status};
use crate::recent::Recent;

type SharedHandler = Arc<dyn Fn(ButtonEvent) + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Simulated buttons. Clones share the listener, so a test keeps one clone
/// to [`press`](SimButtons::press) while the other is handed to the rig.
#[derive(Clone, Default)]
pub struct SimButtons {
    handler: Arc<Mutex<Option<SharedHandler>>>,
}

impl SimButtons {
    /// Buttons nobody listens to yet.
    pub fn new() -> SimButtons {
        SimButtons::default()
    }

    /// Delivers a press like an interrupt would, on the caller's thread;
    /// `false` when nobody listens yet.
    pub fn press(&self, event: ButtonEvent) -> bool {
        // Call outside the lock: the handler may take its time or press again.
        let handler = lock(&self.handler).clone();
        match handler {
            Some(handler) => {
                handler(event);
                true
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for SimButtons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimButtons")
            .field("listening", &lock(&self.handler).is_some())
            .finish()
    }
}

impl Buttons for SimButtons {
    /// Starts delivering presses to `handler`, replacing any earlier one.
    fn listen(&mut self, handler: ButtonHandler) -> Result<()> {
        *lock(&self.handler) = Some(Arc::from(handler));
        Ok(())
    }
}

/// A simulated status light that remembers what it showed. Clones share the
/// history.
#[derive(Debug, Clone, Default)]
pub struct SimIndicator {
    history: Arc<Mutex<Recent<Status>>>,
}

impl SimIndicator {
    /// A light that has shown nothing yet.
    pub fn new() -> SimIndicator {
        SimIndicator::default()
    }

    /// The statuses shown, oldest first (the latest thousand); repeats of
    /// the same status in a row are recorded once.
    pub fn history(&self) -> Vec<Status> {
        lock(&self.history).to_vec()
    }

    /// What the light shows now, `None` before the first `show`.
    pub fn current(&self) -> Option<Status> {
        lock(&self.history).last().copied()
    }
}

impl Indicator for SimIndicator {
    fn show(&mut self, status: Status) -> Result<()> {
        let mut history = lock(&self.history);
        if history.last() != Some(&status) {
            history.push(status);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::Button;

    #[test]
    fn presses_reach_the_listener_on_the_callers_thread() {
        let buttons = SimButtons::new();
        let event = ButtonEvent {
            button: Button::Stop,
            long: true,
        };
        assert!(!buttons.press(event), "nobody listens yet");

        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let caller = std::thread::current().id();
        let mut rig_side = buttons.clone();
        rig_side
            .listen(Box::new(move |e| {
                assert_eq!(std::thread::current().id(), caller);
                sink.lock().unwrap().push(e);
            }))
            .unwrap();
        let start = ButtonEvent {
            button: Button::Start,
            long: false,
        };
        assert!(buttons.press(start));
        assert!(buttons.press(event));
        assert_eq!(*seen.lock().unwrap(), vec![start, event]);
    }

    #[test]
    fn indicator_records_changes_and_collapses_repeats() {
        let light = SimIndicator::new();
        assert_eq!(light.current(), None);
        let mut rig_side = light.clone();
        for s in [
            Status::Idle,
            Status::Scanning,
            Status::Scanning,
            Status::Paused,
            Status::Scanning,
        ] {
            rig_side.show(s).unwrap();
        }
        assert_eq!(
            light.history(),
            vec![
                Status::Idle,
                Status::Scanning,
                Status::Paused,
                Status::Scanning
            ]
        );
        assert_eq!(light.current(), Some(Status::Scanning));
    }

    #[test]
    fn a_light_shown_for_months_keeps_only_the_latest_changes() {
        let mut light = SimIndicator::new();
        for _ in 0..crate::recent::KEPT {
            light.show(Status::Scanning).unwrap();
            light.show(Status::Idle).unwrap();
        }
        let history = light.history();
        assert_eq!(history.len(), crate::recent::KEPT);
        assert_eq!(
            history[history.len() - 2..],
            [Status::Scanning, Status::Idle]
        );
    }
}
