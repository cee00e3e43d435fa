//! `scanrig daemon`: waits for the Start button and runs scans, finishing
//! earlier uploads first. SIGUSR1 and SIGUSR2 press Start and Pause (handy
//! without buttons); SIGINT and SIGTERM stop the scan safely and exit once
//! the photos on their way are uploaded (photos waiting for a later try
//! stay in the spool); a second SIGINT or SIGTERM exits at once. Under systemd it reports `READY=1` once the
//! actors run, keeps `STATUS=` up to date and pings the watchdog while the
//! actor system answers.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use scanrig_actors::buttons::Pressed;
use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::destination::Destination;
use scanrig_actors::model::Outcome;
use scanrig_actors::sequence::PauseReason;
use scanrig_actors::supervisor::{Ping, Progress, StartScan, Supervisor};
use scanrig_hardware::panel::{Button, ButtonEvent};
use slog::{error, info, warn, Logger};

use crate::hooks::{HookRunner, HookThread};
use crate::notify::{self, watchdog, watchdog_interval};
use crate::profile::Profile;
use crate::rig;
use crate::scans::{new_plan, SpoolLock, SpoolState};
use crate::session::{Action, Driver, Session, Shutdown, Signal};
use crate::settings::Settings;

/// Runs the daemon until SIGINT or SIGTERM.
pub fn run(settings: Settings, log: Logger) -> anyhow::Result<()> {
    let rig = rig::build(&settings, None, &log)?;
    let _lock = SpoolLock::take(&rig.spool)?;
    for (name, destination) in rig.destinations.each() {
        check_destination(name, destination, &log);
    }
    let state = SpoolState::recover(&rig, &log)?;
    let hooks =
        HookRunner::new(&settings.spool_dir(), &settings.hooks, &log)?.map(HookThread::start);
    let mqtt = crate::mqtt::prepare(&settings)?;
    System::new().block_on(async move {
        let drains = state.due(&settings.spool_dir(), unix_millis_now());
        let mut session = Session::start(rig, drains, log.clone()).await?;
        let sup = session.sup.clone();
        sup.do_send(state.waiting());
        // Scanning goes on without the page if it cannot be served.
        let web = match crate::web::start(&settings, sup.clone(), &log).await {
            Ok(web) => web,
            Err(e) => {
                error!(log, "the web page is off"; "error" => format!("{e:#}"));
                None
            }
        };
        let mqtt = match mqtt {
            Some(prepared) => Some(crate::mqtt::start(prepared, &settings, sup.clone(), &log).await?),
            None => None,
        };
        let status = StatusLine::default();
        let _ = notify::ready(&status.idle());
        if let Some(interval) = watchdog_interval() {
            let sup = sup.clone();
            let alive = move || {
                let sup = sup.clone();
                async move { sup.send(Ping).await.is_ok() }
            };
            actix::spawn(watchdog(interval, alive, notify::ping));
        }
        info!(log, "ready; press Start (or send SIGUSR1) to scan"; "profile" => &settings.daemon.profile);
        let shutdown = Shutdown::daemon();
        let mut daemon = Daemon {
            settings: &settings,
            status,
            hooks: hooks.as_ref(),
            // Photos left waiting by an earlier run are tried again even
            // if nothing happens before.
            retry: retry_timer(&settings),
            log: &log,
        };
        session.run(shutdown, &mut daemon).await;
        if let Some(web) = web {
            web.stop().await;
        }
        if let Some(mqtt) = mqtt {
            mqtt.stop().await;
        }
        info!(log, "daemon stopped");
        session.end();
        Ok(())
    })
}

/// Checks, on a thread of its own, that the destination can be reached
/// (without writing) and logs what is wrong: the daemon starts anyway, and
/// photos wait in the spool until the destination takes them.
fn check_destination(name: Option<String>, destination: Arc<dyn Destination>, log: &Logger) {
    let quiet = match name {
        Some(name) => log.new(slog::o!("name" => name)),
        None => log.clone(),
    };
    let checked = std::thread::Builder::new()
        .name("destination-check".into())
        .spawn(move || match destination.probe(false) {
            Ok(()) => info!(quiet, "the destination answers"; "destination" => destination.describe()),
            Err(e) => error!(quiet, "the destination cannot be reached; photos wait in the spool until it can (`scanrig destination test` checks it)";
                "destination" => destination.describe(), "problem" => %e),
        });
    if let Err(e) = checked {
        warn!(log, "cannot check the destination"; "error" => %e);
    }
}

/// The daemon's part of the run: `STATUS=` kept up to date, Start acted
/// on, SIGUSR1 and SIGUSR2 as buttons, hooks woken and photos still
/// waiting tried again once all is quiet.
struct Daemon<'a> {
    settings: &'a Settings,
    status: StatusLine,
    hooks: Option<&'a HookThread>,
    /// Armed when all is quiet: then photos still waiting are tried again.
    retry: Option<Pin<Box<tokio::time::Sleep>>>,
    log: &'a Logger,
}

impl Driver for Daemon<'_> {
    fn timer(&mut self) -> Option<&mut Pin<Box<tokio::time::Sleep>>> {
        self.retry.as_mut()
    }

    async fn timer_due(&mut self, sup: &Addr<Supervisor>, shutdown: &Shutdown) {
        // Again later: this pass may find nothing due yet.
        self.retry = retry_timer(self.settings);
        if shutdown.is_quiet() && !shutdown.is_stopping() {
            retry_waiting(sup, self.settings, self.log).await;
        }
    }

    async fn progress(&mut self, sup: &Addr<Supervisor>, progress: &Progress) {
        if let Some(line) = self.status.update(progress) {
            let _ = notify::status(&line);
        }
        match progress {
            Progress::StartRequested => start_scan(self.settings, sup, self.log).await,
            Progress::Quiet => {
                // Scans may have been retired: their hooks are due.
                if let Some(hooks) = self.hooks {
                    hooks.wake();
                }
                self.retry = retry_timer(self.settings);
            }
            Progress::Started { .. } => self.retry = None,
            Progress::Finished(summary) => {
                info!(self.log, "scan summary"; "scan" => &summary.scan, "captured" => summary.captured,
                    "uploaded" => summary.uploaded, "upload_failed" => summary.upload_failed);
            }
            _ => {}
        }
    }

    fn signal(&mut self, sup: &Addr<Supervisor>, signal: Signal) {
        match signal {
            Signal::User1 => sup.do_send(press(Button::Start)),
            Signal::User2 => sup.do_send(press(Button::Pause)),
            Signal::Interrupt | Signal::Terminate => {}
        }
    }

    fn stopping(&mut self, action: Action) {
        match action {
            Action::SayStopping => {
                let _ = notify::stopping(
                    "stopping: finishing the step in flight and the uploads on their way",
                );
            }
            Action::StopScan => {
                info!(
                    self.log,
                    "stopping: the scan ends after the step in flight, then the uploads on their way finish; \
                     photos waiting for a later try stay in the spool (SIGTERM again to stop at once)"
                )
            }
            Action::EmergencyStop | Action::Leave | Action::Quit => {}
        }
    }
}

/// The timer after which the photos still waiting are tried again, if
/// they are ever (`upload.retry_every_s`).
fn retry_timer(settings: &Settings) -> Option<Pin<Box<tokio::time::Sleep>>> {
    let every = Duration::from_secs(settings.upload.retry_every_s);
    (!every.is_zero()).then(|| Box::pin(tokio::time::sleep(every)))
}

/// Drains the scans in the spool with photos still waiting (read off the
/// actor thread).
async fn retry_waiting(sup: &Addr<Supervisor>, settings: &Settings, log: &Logger) {
    let spool = settings.spool_dir();
    let state = match tokio::task::spawn_blocking(move || SpoolState::read(&spool)).await {
        Ok(Ok(state)) => state,
        Ok(Err(e)) => return warn!(log, "cannot read the spool to retry uploads"; "error" => %e),
        Err(e) => return warn!(log, "cannot read the spool to retry uploads"; "error" => %e),
    };
    sup.do_send(state.waiting());
    for drain in state.due(&settings.spool_dir(), unix_millis_now()) {
        info!(log, "trying the photos still waiting again"; "scan" => %drain.record.id());
        sup.do_send(drain);
    }
}

/// What `systemctl status scanrig` shows.
#[derive(Debug, Default)]
struct StatusLine {
    scan: Option<String>,
    planned: usize,
    captured: usize,
    uploaded: usize,
}

impl StatusLine {
    fn idle(&self) -> String {
        "idle: press Start to scan".to_owned()
    }

    /// The new line after `progress`, if it changes.
    fn update(&mut self, progress: &Progress) -> Option<String> {
        match progress {
            Progress::Started {
                scan,
                planned,
                done,
            } => {
                *self = StatusLine {
                    scan: Some(scan.to_string()),
                    planned: *planned,
                    captured: *done,
                    uploaded: *done,
                };
            }
            Progress::Captured { scan, .. } if Some(scan.to_string()) == self.scan => {
                self.captured += 1
            }
            Progress::Uploaded { scan, .. } if Some(scan.to_string()) == self.scan => {
                self.uploaded += 1
            }
            Progress::Paused { reason, .. } => {
                return Some(match reason {
                    PauseReason::Operator => "paused: press Start to go on".to_owned(),
                    PauseReason::Fault(why) => format!("paused by a fault: {why}"),
                    PauseReason::Refused(why) => format!("cannot scan: {why}"),
                    PauseReason::Manual(what)
                    | PauseReason::Disconnected(what)
                    | PauseReason::Photo(what)
                    | PauseReason::Moved { message: what, .. } => format!("paused: {what}"),
                })
            }
            Progress::Finished(s) => {
                self.scan = None;
                return Some(format!(
                    "idle: scan {} {}, {} of {} uploaded; press Start to scan",
                    s.scan,
                    s.outcome.map_or("paused", |o| match o {
                        Outcome::Completed => "completed",
                        Outcome::Stopped => "stopped",
                    }),
                    s.uploaded,
                    s.planned
                ));
            }
            _ => return None,
        }
        let scan = self.scan.as_deref()?;
        Some(format!(
            "scanning {scan}: {} of {} captured, {} uploaded",
            self.captured, self.planned, self.uploaded
        ))
    }
}

fn press(button: Button) -> Pressed {
    Pressed(ButtonEvent {
        button,
        long: false,
    })
}

/// Continues the latest interrupted scan, or starts the daemon's profile.
async fn start_scan(settings: &Settings, sup: &Addr<Supervisor>, log: &Logger) {
    let spool = settings.spool_dir();
    let profile = settings.daemon.profile.clone();
    let dirs = settings.profiles.dirs.clone();
    let limits = settings.limits();
    let (settle, safe_ms) = (
        settings.settle_store(),
        settings.quality.auto_settle_safe_ms,
    );
    // Journals and profiles are files: read them off the actor threads.
    let start = tokio::task::spawn_blocking(move || -> anyhow::Result<StartScan> {
        let state = SpoolState::read(&spool)?;
        if let Some(record) = state.resumable(None) {
            return Ok(StartScan {
                plan: record.plan.clone(),
                resume: Some(record.clone()),
            });
        }
        let profile = Profile::find(&profile, &dirs)?.for_rig(&limits)?;
        Ok(StartScan {
            plan: new_plan(&profile, &spool, &settle, safe_ms)?,
            resume: None,
        })
    })
    .await;
    match start {
        Ok(Ok(start)) => match sup.send(start).await {
            Ok(Ok(())) => {}
            Ok(Err(busy)) => warn!(log, "cannot start a scan"; "reason" => %busy),
            Err(e) => error!(log, "the supervisor is gone"; "error" => %e),
        },
        Ok(Err(e)) => error!(log, "cannot start a scan"; "reason" => format!("{e:#}")),
        Err(e) => error!(log, "cannot start a scan"; "reason" => %e),
    }
}
