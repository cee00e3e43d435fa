//! One run of the actors, as the foreground scan and the daemon both have
//! it: a [`Session`] starts the supervisor (finishing earlier scans'
//! uploads), and hands out what happens — progress and signals — one
//! [`Input`] at a time; [`Shutdown`] decides, without any I/O, when and how
//! the run ends.

use std::pin::Pin;

use actix::prelude::*;
use anyhow::Context as _;
use scanrig_actors::model::ScanId;
use scanrig_actors::sequence::PauseReason;
use scanrig_actors::supervisor::{Control, Drain, Leaving, Progress, Rig, StopMotors, Supervisor};
use slog::Logger;
use tokio::signal::unix::{signal, Signal as Watch, SignalKind};
use tokio::sync::mpsc::UnboundedReceiver;

/// A signal the run reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (a shutdown).
    Terminate,
    /// SIGUSR1 (the daemon's stand-in for Start).
    User1,
    /// SIGUSR2 (the daemon's stand-in for Pause).
    User2,
}

/// What happened next.
#[derive(Debug, Clone)]
pub enum Input {
    /// The supervisor told how things go (boxed: a summary is large).
    Progress(Box<Progress>),
    /// A signal came.
    Signal(Signal),
    /// The timer given to [`Session::next`] ran out.
    Timer,
    /// The supervisor is gone.
    Closed,
}

/// The supervisor of one run, its progress and the signals.
pub struct Session {
    /// The supervisor.
    pub sup: Addr<Supervisor>,
    progress: UnboundedReceiver<Progress>,
    signals: [Watch; 4],
}

impl Session {
    /// Starts the supervisor on `rig` and hands it the earlier scans whose
    /// uploads (or manifest) are still to be sent. Runs inside an actix
    /// system.
    pub async fn start(rig: Rig, drains: Vec<Drain>, log: Logger) -> anyhow::Result<Session> {
        let watch = |kind, name| signal(kind).with_context(|| format!("cannot catch {name}"));
        let signals = [
            watch(SignalKind::interrupt(), "SIGINT")?,
            watch(SignalKind::terminate(), "SIGTERM")?,
            watch(SignalKind::user_defined1(), "SIGUSR1")?,
            watch(SignalKind::user_defined2(), "SIGUSR2")?,
        ];
        let sup = Supervisor::start(rig, log);
        let progress = scanrig_actors::supervisor::progress(&sup).await?;
        for drain in drains {
            sup.do_send(drain);
        }
        Ok(Session {
            sup,
            progress,
            signals,
        })
    }

    /// The next thing that happens, or [`Input::Timer`] when `timer`
    /// (if any) runs out first.
    pub async fn next(&mut self, timer: Option<&mut Pin<Box<tokio::time::Sleep>>>) -> Input {
        let due = async {
            match timer {
                Some(timer) => timer.await,
                None => std::future::pending().await,
            }
        };
        let [int, term, usr1, usr2] = &mut self.signals;
        tokio::select! {
            progress = self.progress.recv() => progress.map_or(Input::Closed, |p| Input::Progress(Box::new(p))),
            _ = int.recv() => Input::Signal(Signal::Interrupt),
            _ = term.recv() => Input::Signal(Signal::Terminate),
            _ = usr1.recv() => Input::Signal(Signal::User1),
            _ = usr2.recv() => Input::Signal(Signal::User2),
            () = due => Input::Timer,
        }
    }

    /// Runs until [`Shutdown`] says the run is over (or the supervisor is
    /// gone): every input goes to `driver`, then to the shutdown rules,
    /// whose actions are carried out here. The daemon, a foreground scan
    /// and `uploads retry` all run this one loop.
    pub(crate) async fn run(&mut self, mut shutdown: Shutdown, driver: &mut impl Driver) {
        loop {
            let actions = match self.next(driver.timer()).await {
                Input::Timer => {
                    driver.timer_due(&self.sup, &shutdown).await;
                    Vec::new()
                }
                Input::Progress(progress) => {
                    driver.progress(&self.sup, &progress).await;
                    shutdown.on_progress(&progress)
                }
                Input::Signal(signal) => {
                    driver.signal(&self.sup, signal);
                    shutdown.on_signal(signal)
                }
                Input::Closed => return,
            };
            for action in actions {
                match action {
                    Action::Quit => return,
                    Action::EmergencyStop => self.sup.do_send(StopMotors { emergency: true }),
                    Action::Leave => self.sup.do_send(Leaving),
                    Action::StopScan => {
                        driver.stopping(action);
                        self.sup.do_send(Control::Stop);
                    }
                    Action::SayStopping => driver.stopping(action),
                }
            }
        }
    }

    /// Ends the run: the actor system stops.
    pub fn end(self) {
        System::current().stop();
    }
}

/// What a run does beside the shutdown rules: the daemon's status and
/// start requests, the foreground's progress bar, the uploads counted.
pub(crate) trait Driver {
    /// A timer the run also waits for, if any.
    fn timer(&mut self) -> Option<&mut Pin<Box<tokio::time::Sleep>>> {
        None
    }

    /// The timer ran out.
    async fn timer_due(&mut self, _sup: &Addr<Supervisor>, _shutdown: &Shutdown) {}

    /// Progress came (before the shutdown rules see it).
    async fn progress(&mut self, _sup: &Addr<Supervisor>, _progress: &Progress) {}

    /// A signal came (before the shutdown rules see it).
    fn signal(&mut self, _sup: &Addr<Supervisor>, _signal: Signal) {}

    /// The run stops its scan ([`Action::StopScan`]) or says it is going
    /// ([`Action::SayStopping`]): the words for it.
    fn stopping(&mut self, _action: Action) {}
}

/// Something the run must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ask the scan to stop after the step in flight (and say so).
    StopScan,
    /// Stop stepping at once and release the motors.
    EmergencyStop,
    /// The daemon is going: say so to systemd.
    SayStopping,
    /// The process is going: photos waiting for a later try are not
    /// waited for ([`Leaving`]).
    Leave,
    /// End the run now.
    Quit,
}

/// Whose run it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// One scan in a terminal: it ends with the scan.
    Foreground(ScanId),
    /// The service: it ends on a signal, once nothing is in flight.
    Daemon,
    /// The photos waiting sent (`uploads retry`): it ends once nothing is
    /// in flight, or on a signal.
    Uploads,
}

/// When and how a run ends: signals and progress in, [`Action`]s out.
#[derive(Debug, Clone)]
pub struct Shutdown {
    role: Role,
    /// Interrupting signals so far.
    stops: u32,
    /// Nothing is moving, shooting or uploading.
    quiet: bool,
    /// The foreground scan ended, or stands paused by a fault.
    ended: bool,
}

impl Shutdown {
    /// For a scan in the foreground.
    pub fn foreground(scan: ScanId) -> Shutdown {
        Shutdown {
            role: Role::Foreground(scan),
            stops: 0,
            quiet: false,
            ended: false,
        }
    }

    /// For the daemon. It starts quiet, as the supervisor does: photos
    /// waiting but not due are not being sent, and a stop does not wait
    /// for them; what is sent makes the supervisor say it is busy.
    pub fn daemon() -> Shutdown {
        Shutdown {
            role: Role::Daemon,
            stops: 0,
            quiet: true,
            ended: false,
        }
    }

    /// For sending the photos waiting.
    pub fn uploads() -> Shutdown {
        Shutdown {
            role: Role::Uploads,
            stops: 0,
            quiet: false,
            ended: false,
        }
    }

    /// Whether nothing is in flight.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Whether the run is being stopped.
    pub fn is_stopping(&self) -> bool {
        self.stops > 0
    }

    /// What a signal asks for. In the foreground the first SIGINT stops the
    /// scan and a second quits at once; SIGTERM also stops the motors at
    /// once and leaves the photos waiting for a later try. The daemon stops
    /// the scan, if any, leaves the photos waiting for a later try and quits
    /// once what is being sent is done; a second signal quits at once (what
    /// was being sent goes on at the next start).
    pub fn on_signal(&mut self, signal: Signal) -> Vec<Action> {
        let emergency = signal == Signal::Terminate;
        if !matches!(signal, Signal::Interrupt | Signal::Terminate) {
            return Vec::new();
        }
        self.stops += 1;
        match (&self.role, self.stops) {
            (Role::Foreground(_), 1) if emergency => {
                vec![Action::EmergencyStop, Action::StopScan, Action::Leave]
            }
            (Role::Foreground(_), 1) => vec![Action::StopScan],
            (Role::Foreground(_), _) => vec![Action::Quit],
            (Role::Daemon, 1) if self.quiet => vec![Action::SayStopping, Action::Quit],
            (Role::Daemon, 1) => vec![Action::SayStopping, Action::StopScan, Action::Leave],
            (Role::Daemon, _) => vec![Action::Quit],
            (Role::Uploads, _) => vec![Action::Quit],
        }
    }

    /// What progress means for the end of the run.
    pub fn on_progress(&mut self, progress: &Progress) -> Vec<Action> {
        match progress {
            Progress::Busy => self.quiet = false,
            Progress::Finished(s) if self.is_ours(&s.scan) => self.ended = true,
            Progress::Paused {
                scan,
                reason: PauseReason::Fault(_) | PauseReason::Refused(_),
            } if self.is_ours(scan.as_str()) => self.ended = true,
            Progress::Quiet => {
                self.quiet = true;
                let done = match self.role {
                    Role::Foreground(_) => self.ended,
                    Role::Daemon => self.stops > 0,
                    Role::Uploads => true,
                };
                if done {
                    return vec![Action::Quit];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn is_ours(&self, scan: &str) -> bool {
        matches!(&self.role, Role::Foreground(id) if id.as_str() == scan)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scanrig_actors::supervisor::{ScanSummary, StageTimes};

    use super::*;

    fn scan() -> ScanId {
        ScanId::from_existing("20260101T000000Z-t")
    }

    fn finished(id: &str) -> Progress {
        Progress::Finished(Box::new(ScanSummary {
            scan: id.to_owned(),
            profile: "t".into(),
            outcome: None,
            paused: None,
            planned: 1,
            captured: 1,
            uploaded: 1,
            upload_failed: 0,
            judged: 1,
            flagged: 0,
            destination: "d".into(),
            wall: Duration::ZERO,
            stages: StageTimes::default(),
        }))
    }

    #[test]
    fn the_foreground_ends_with_its_scan_once_quiet() {
        let mut s = Shutdown::foreground(scan());
        assert!(
            s.on_progress(&Progress::Quiet).is_empty(),
            "not before it ends"
        );
        assert!(s.on_progress(&finished("another")).is_empty());
        assert!(s.on_progress(&finished(scan().as_str())).is_empty());
        assert_eq!(s.on_progress(&Progress::Quiet), [Action::Quit]);
    }

    #[test]
    fn a_fault_ends_the_foreground_once_quiet_and_an_operators_pause_does_not() {
        let paused = |reason| Progress::Paused {
            scan: scan(),
            reason,
        };
        let mut s = Shutdown::foreground(scan());
        s.on_progress(&paused(PauseReason::Operator));
        assert!(s.on_progress(&Progress::Quiet).is_empty());
        s.on_progress(&paused(PauseReason::Disconnected("plug it in".into())));
        assert!(
            s.on_progress(&Progress::Quiet).is_empty(),
            "it waits for the camera"
        );
        s.on_progress(&paused(PauseReason::Fault("homing failed".into())));
        assert_eq!(s.on_progress(&Progress::Quiet), [Action::Quit]);
    }

    #[test]
    fn ctrl_c_stops_the_scan_a_second_quits_and_sigterm_stops_the_motors_too() {
        let mut s = Shutdown::foreground(scan());
        assert_eq!(s.on_signal(Signal::Interrupt), [Action::StopScan]);
        assert_eq!(s.on_signal(Signal::Interrupt), [Action::Quit]);
        let mut s = Shutdown::foreground(scan());
        assert_eq!(
            s.on_signal(Signal::Terminate),
            [Action::EmergencyStop, Action::StopScan, Action::Leave]
        );
        assert!(s.on_signal(Signal::User1).is_empty());
    }

    #[test]
    fn sending_the_waiting_photos_ends_once_quiet_or_on_a_signal() {
        let mut s = Shutdown::uploads();
        assert!(s.on_progress(&finished(scan().as_str())).is_empty());
        assert_eq!(s.on_progress(&Progress::Quiet), [Action::Quit]);
        for signal in [Signal::Interrupt, Signal::Terminate] {
            assert_eq!(Shutdown::uploads().on_signal(signal), [Action::Quit]);
        }
        assert!(Shutdown::uploads().on_signal(Signal::User1).is_empty());
    }

    #[test]
    fn the_daemon_stops_its_scan_and_quits_once_quiet() {
        let mut s = Shutdown::daemon();
        assert_eq!(
            s.on_signal(Signal::Terminate),
            [Action::SayStopping, Action::Quit],
            "nothing in flight: at once"
        );
        let mut s = Shutdown::daemon();
        s.on_progress(&Progress::Started {
            scan: scan(),
            planned: 3,
            done: 0,
        });
        s.on_progress(&Progress::Busy);
        assert!(s.on_progress(&finished(scan().as_str())).is_empty());
        assert_eq!(
            s.on_signal(Signal::Interrupt),
            [Action::SayStopping, Action::StopScan, Action::Leave]
        );
        assert_eq!(s.on_progress(&Progress::Quiet), [Action::Quit]);
        let mut idle = Shutdown::daemon();
        idle.on_progress(&Progress::Busy);
        assert!(idle.on_progress(&Progress::Quiet).is_empty(), "not asked");
    }

    #[test]
    fn a_second_signal_stops_a_busy_daemon_at_once() {
        for second in [Signal::Interrupt, Signal::Terminate] {
            let mut s = Shutdown::daemon();
            s.on_progress(&Progress::Busy);
            assert_eq!(
                s.on_signal(Signal::Interrupt),
                [Action::SayStopping, Action::StopScan, Action::Leave]
            );
            assert_eq!(s.on_signal(second), [Action::Quit]);
        }
    }
}
