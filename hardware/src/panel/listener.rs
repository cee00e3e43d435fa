//! The button driver's thread: owns a [`Debouncer`], takes raw edges from interrupt callbacks and calls the handler.
//!
//! Interrupt callbacks (any thread, any number) send raw edges through an
//! [`EdgeSender`]; the [`ButtonListener`]'s one thread feeds them to its
//! debouncer and sleeps on the channel with `recv_timeout` until the
//! debouncer's next deadline (when a press settles, or a hold becomes a long
//! press), or blocks without a timeout when nothing is in progress. Every
//! debounced press goes to the handler, on that thread. No polling.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use super::{Button, ButtonEvent, ButtonHandler, Debouncer, PanelError, Result};

type SharedHandler = Arc<dyn Fn(ButtonEvent) + Send + Sync>;

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the listener's thread is told.
enum Message {
    /// A raw edge: the button's input became active (or inactive) then.
    Edge(Button, bool, Instant),
    /// Finish and end.
    Stop,
}

/// Feeds raw edges to a [`ButtonListener`]; cheap to clone, one per
/// interrupt callback.
#[derive(Debug, Clone)]
pub struct EdgeSender {
    tx: Sender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Edge(button, active, _) => write!(f, "Edge({button:?}, {active})"),
            Message::Stop => f.write_str("Stop"),
        }
    }
}

impl EdgeSender {
    /// Reports that `button`'s input became `active` (pressed) or inactive
    /// at `at`; `false` once the listener has stopped.
    pub fn edge(&self, button: Button, active: bool, at: Instant) -> bool {
        self.tx.send(Message::Edge(button, active, at)).is_ok()
    }
}

/// A thread that debounces raw edges and calls a handler for every press;
/// see the [module docs](self). Dropping it stops the thread (edges sent
/// afterwards are ignored).
pub struct ButtonListener {
    tx: Sender<Message>,
    handler: Arc<Mutex<SharedHandler>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ButtonListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ButtonListener").finish_non_exhaustive()
    }
}

impl ButtonListener {
    /// Starts the thread with `debouncer`, calling `handler` for every
    /// press.
    pub fn spawn(debouncer: Debouncer, handler: ButtonHandler) -> Result<ButtonListener> {
        let handler: Arc<Mutex<SharedHandler>> = Arc::new(Mutex::new(Arc::from(handler)));
        let (tx, rx) = mpsc::channel();
        let shared = Arc::clone(&handler);
        let thread = std::thread::Builder::new()
            .name("panel-buttons".into())
            .spawn(move || run(debouncer, &rx, &shared))
            .map_err(|e| PanelError::Driver {
                reason: format!("cannot start the buttons' thread: {e}"),
            })?;
        Ok(ButtonListener {
            tx,
            handler,
            thread: Some(thread),
        })
    }

    /// A sender for raw edges, for an interrupt callback.
    pub fn sender(&self) -> EdgeSender {
        EdgeSender {
            tx: self.tx.clone(),
        }
    }

    /// Sends presses to `handler` from now on instead.
    pub fn set_handler(&self, handler: ButtonHandler) {
        *lock(&self.handler) = Arc::from(handler);
    }
}

impl Drop for ButtonListener {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            // Dropped from the handler itself: the thread ends on its own.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The listener's thread.
fn run(mut debouncer: Debouncer, rx: &Receiver<Message>, handler: &Mutex<SharedHandler>) {
    loop {
        let received = match debouncer.next_deadline() {
            Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Message::Edge(button, active, at)) => debouncer.edge(button, active, at),
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        for event in debouncer.due(Instant::now()) {
            // Call outside the lock: the handler may replace itself.
            let handler = Arc::clone(&lock(handler));
            // A panicking handler must not take the stop button down with it.
            let _ = catch_unwind(AssertUnwindSafe(|| handler(event)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SETTLE: Duration = Duration::from_millis(20);
    const LONG: Duration = Duration::from_millis(200);

    fn listen() -> (ButtonListener, Receiver<(ButtonEvent, Instant)>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let handler: ButtonHandler = Box::new(move |e| {
            let _ = lock(&tx).send((e, Instant::now()));
        });
        (
            ButtonListener::spawn(Debouncer::new(SETTLE, LONG), handler).unwrap(),
            rx,
        )
    }

    #[test]
    fn presses_arrive_on_the_listeners_thread_without_further_edges() {
        let (listener, presses) = listen();
        let edges = listener.sender();
        let t0 = Instant::now();
        edges.edge(Button::Start, true, t0);
        edges.edge(Button::Start, false, t0 + Duration::from_millis(1));
        edges.edge(Button::Start, true, t0 + Duration::from_millis(2));
        edges.edge(Button::Start, false, t0 + Duration::from_millis(50));
        // Nothing more is sent: the thread wakes itself when the release settles.
        let (event, at) = presses.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            event,
            ButtonEvent {
                button: Button::Start,
                long: false
            }
        );
        assert!(at >= t0 + Duration::from_millis(70));

        // A hold: the long press fires at the threshold, while still held.
        let t1 = Instant::now();
        edges.edge(Button::Stop, true, t1);
        let (event, at) = presses.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            event,
            ButtonEvent {
                button: Button::Stop,
                long: true
            }
        );
        assert!(at >= t1 + LONG);
        edges.edge(Button::Stop, false, Instant::now());
        assert!(
            presses.recv_timeout(SETTLE * 3).is_err(),
            "nothing on release"
        );
    }

    #[test]
    fn a_panicking_handler_does_not_stop_the_buttons_and_can_be_replaced() {
        let listener = ButtonListener::spawn(
            Debouncer::new(SETTLE, LONG),
            Box::new(|_| panic!("handler bug")),
        )
        .unwrap();
        let edges = listener.sender();
        let t0 = Instant::now();
        edges.edge(Button::Pause, true, t0);
        edges.edge(Button::Pause, false, t0 + Duration::from_millis(30));
        let (tx, presses) = mpsc::channel();
        let tx = Mutex::new(tx);
        // Either handler may see this press; the next one reaches the new one.
        std::thread::sleep(Duration::from_millis(100));
        listener.set_handler(Box::new(move |e| {
            let _ = lock(&tx).send(e);
        }));
        let t1 = Instant::now();
        edges.edge(Button::Pause, true, t1);
        edges.edge(Button::Pause, false, t1 + Duration::from_millis(30));
        let event = presses.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(event.button, Button::Pause);
        drop(listener);
        assert!(!edges.edge(Button::Pause, true, Instant::now()), "stopped");
    }
}
