//! `scanrig daemon`: waits for the Start button and runs scans, finishing
//! earlier uploads first. SIGUSR1 and SIGUSR2 press Start and Pause (handy
//! without buttons); SIGINT and SIGTERM stop the scan safely and exit once
//! captured photos are uploaded.

use actix::prelude::*;
use anyhow::Context as _;
use scanrig_actors::buttons::Pressed;
use scanrig_actors::supervisor::{Control, Drain, Progress, StartScan, Subscribe, Supervisor};
use scanrig_hardware::panel::{Button, ButtonEvent};
use slog::{error, info, warn, Logger};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::profile::Profile;
use crate::rig;
use crate::runner::Forward;
use crate::scans::{new_plan, SpoolState};
use crate::settings::Settings;

/// Runs the daemon until SIGINT or SIGTERM.
pub fn run(settings: Settings, log: Logger) -> anyhow::Result<()> {
    let rig = rig::build(&settings, None)?;
    let state = SpoolState::recover(&rig.spool, rig.keep_uploaded, &log)?;
    System::new().block_on(async move {
        let sup = Supervisor::start(rig, log.clone());
        let (tx, mut rx) = mpsc::unbounded_channel();
        sup.send(Subscribe(Forward(tx).start().recipient())).await?;
        for record in state.unsettled().cloned() {
            sup.do_send(Drain(record));
        }
        let mut sigint = signal(SignalKind::interrupt()).context("cannot catch SIGINT")?;
        let mut sigterm = signal(SignalKind::terminate()).context("cannot catch SIGTERM")?;
        let mut usr1 = signal(SignalKind::user_defined1()).context("cannot catch SIGUSR1")?;
        let mut usr2 = signal(SignalKind::user_defined2()).context("cannot catch SIGUSR2")?;
        info!(log, "ready; press Start (or send SIGUSR1) to scan"; "profile" => &settings.daemon.profile);
        let mut quitting = false;
        let mut stop_sent = false;
        let mut quiet = state.unsettled().next().is_none();
        loop {
            tokio::select! {
                progress = rx.recv() => match progress {
                    Some(Progress::StartRequested) => start_scan(&settings, &sup, &log).await,
                    Some(Progress::Quiet) => quiet = true,
                    Some(Progress::Started { .. }) => quiet = false,
                    Some(Progress::Finished(summary)) => {
                        info!(log, "scan summary"; "scan" => &summary.scan, "captured" => summary.captured,
                            "uploaded" => summary.uploaded, "upload_failed" => summary.upload_failed);
                    }
                    Some(_) => {}
                    None => break,
                },
                _ = sigint.recv() => quitting = true,
                _ = sigterm.recv() => quitting = true,
                _ = usr1.recv() => sup.do_send(press(Button::Start)),
                _ = usr2.recv() => sup.do_send(press(Button::Pause)),
            }
            if quitting && quiet {
                break;
            }
            if quitting && !stop_sent {
                stop_sent = true;
                info!(log, "stopping: the scan ends after the step in flight, then uploads finish");
                sup.do_send(Control::Stop);
            }
        }
        info!(log, "daemon stopped");
        System::current().stop();
        Ok(())
    })
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
    // Journals and profiles are files: read them off the actor threads.
    let start = tokio::task::spawn_blocking(move || -> anyhow::Result<StartScan> {
        let state = SpoolState::read(&spool)?;
        if let Some(record) = state.resumable(None) {
            return Ok(StartScan {
                plan: record.plan.clone(),
                resume: Some(record.clone()),
            });
        }
        let profile = Profile::find(&profile, &dirs)?;
        Ok(StartScan {
            plan: new_plan(&profile, &spool),
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
