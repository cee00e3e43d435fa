//! Runs one scan in the foreground (`scanrig scan`, `scanrig resume`):
//! starts the actors, finishes earlier uploads, runs the scan with a
//! progress bar, stops safely on SIGINT or SIGTERM, and reports.

use std::io::IsTerminal;
use std::path::Path;

use actix::prelude::*;
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::journal::{self, JournalWriter, Record, ScanRecord};
use scanrig_actors::model::{Place, ScanId, ScanPlan};
use scanrig_actors::sequence::PauseReason;
use scanrig_actors::supervisor::{Progress, Rig, ScanSummary, StartScan, Summarise, Supervisor};
use slog::{info, Logger};

use crate::hooks::HookRunner;
use crate::keyboard;
use crate::scans::{SpoolLock, SpoolState};
use crate::session::{Action, Driver, Session, Shutdown};

/// What to run.
pub enum Start {
    /// A new scan.
    New(Box<ScanPlan>),
    /// An interrupted scan, from its journal.
    Resume {
        /// What the journal says of it.
        record: Box<ScanRecord>,
        /// Move it to this place first (journaled before anything is sent).
        move_to: Option<Place>,
    },
}

/// How a foreground scan ended.
#[derive(Debug)]
pub struct Report {
    /// The scan's summary.
    pub summary: ScanSummary,
    /// The operator quit before the scan ended; it can be resumed.
    pub interrupted: bool,
    /// The rig refused what the profile asks (nothing moved); why.
    pub refused: Option<String>,
    /// The most memory this process held at once (its VmHWM), in KiB.
    pub peak_rss_kib: Option<u64>,
}

impl Report {
    /// Whether everything went well: the scan ended and every photo arrived.
    pub fn success(&self) -> bool {
        !self.interrupted
            && self.refused.is_none()
            && self.summary.paused.is_none()
            && self.summary.upload_failed == 0
    }
}

/// Runs a scan on `rig` to its end and reports; then delivers the
/// scan-done hooks due (`hooks`), once each, before the spool is let go
/// (a hook that fails waits for the next run or the daemon).
pub fn run(
    rig: Rig,
    start: Start,
    show_progress: bool,
    hooks: Option<HookRunner>,
    log: Logger,
) -> anyhow::Result<Report> {
    let _lock = SpoolLock::take(&rig.spool)?;
    let state = SpoolState::recover(&rig, &log)?;
    let (plan, resume) = match start {
        Start::New(plan) => (*plan, None),
        Start::Resume { record, move_to } => {
            // Read again under the lock, after any repair of the journal.
            let record = state
                .scans
                .iter()
                .find(|s| s.id() == record.id())
                .with_context(|| format!("scan {} is no longer in the spool", record.id()))?;
            let record = match move_to {
                Some(to) => move_scan(&rig.spool, record, to)?,
                None => record.clone(),
            };
            (record.plan.clone(), Some(record))
        }
    };
    let scan = plan.scan.clone();
    let drains: Vec<_> = state
        .due(&rig.spool, unix_millis_now())
        .into_iter()
        .filter(|d| *d.record.id() != scan)
        .collect();
    let destination = match &plan.destination {
        Some(place) => place.to_string(),
        None => rig.destinations.default().describe(),
    };
    let report = System::new().block_on(async move {
        let mut session = Session::start(rig, drains, log.clone()).await?;
        let sup = session.sup.clone();
        let planned = plan.shots.len();
        sup.send(StartScan { plan, resume }).await??;
        info!(log, "photos go to {destination}"; "scan" => %scan);
        if std::io::stdin().is_terminal() {
            keyboard::listen(sup.clone().recipient());
        }
        let mut foreground = Foreground {
            bar: progress_bar(show_progress, planned),
            scan: scan.clone(),
            summary: None,
            refused: None,
        };
        session
            .run(Shutdown::foreground(scan.clone()), &mut foreground)
            .await;
        let Foreground {
            bar,
            summary,
            refused,
            ..
        } = foreground;
        bar.finish_and_clear();
        let interrupted = summary.is_none();
        let summary = match summary {
            Some(s) => s,
            None => sup
                .send(Summarise(scan.clone()))
                .await?
                .context("the scan vanished")?,
        };
        session.end();
        Ok::<_, anyhow::Error>(Report {
            summary,
            interrupted,
            refused,
            peak_rss_kib: peak_rss_kib(),
        })
    })?;
    if let Some(hooks) = hooks {
        hooks.deliver_due();
    }
    Ok(report)
}

/// This process's peak resident memory (VmHWM of /proc/self/status), in
/// KiB: its own, unlike a parent's view through `wait4`, which also counts
/// what the parent held when it started the process.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A scan in the foreground: its progress on the bar, and what the
/// report needs.
struct Foreground {
    bar: ProgressBar,
    scan: ScanId,
    summary: Option<ScanSummary>,
    refused: Option<String>,
}

impl Driver for Foreground {
    async fn progress(&mut self, _: &Addr<Supervisor>, progress: &Progress) {
        let bar = &self.bar;
        match progress {
            Progress::Started { done, .. } => bar.set_position(*done as u64),
            Progress::Captured { scan, name, .. } if *scan == self.scan => {
                bar.inc(1);
                bar.set_message(name.clone());
            }
            Progress::Paused { scan, reason } if *scan == self.scan => match reason {
                PauseReason::Fault(why) => bar.println(format!("scan paused: {why}")),
                PauseReason::Refused(why) => self.refused = Some(why.clone()),
                PauseReason::Disconnected(why) => {
                    bar.println(format!("scan paused: {why} (or type s and Enter to stop)"))
                }
                PauseReason::Manual(what)
                | PauseReason::Photo(what)
                | PauseReason::Moved { message: what, .. } => {
                    bar.println(format!("{what} (or type r and Enter)"))
                }
                PauseReason::Operator => bar.println("paused: press p to resume, s to stop"),
            },
            Progress::Finished(s) if s.scan == self.scan.as_str() => {
                self.summary = Some((**s).clone())
            }
            _ => {}
        }
    }

    fn stopping(&mut self, action: Action) {
        if action == Action::StopScan {
            self.bar.println(
                "stopping after the step in flight; captured photos still upload \
                 (press Ctrl-C again to quit now: uploads go on at the next start)",
            );
        }
    }
}

/// Journals the move of a scan to another place and reads it back.
fn move_scan(spool: &Path, record: &ScanRecord, to: Place) -> anyhow::Result<ScanRecord> {
    let dir = spool.join(record.id().as_str());
    let moved = Record::DestinationMoved {
        at: unix_millis_now(),
        from: record.plan.destination.clone(),
        to,
    };
    JournalWriter::open(&dir)
        .and_then(|mut j| j.append(&moved))
        .with_context(|| format!("cannot journal the move of scan {}", record.id()))?;
    Ok(journal::replay(&dir)?)
}

fn progress_bar(show: bool, planned: usize) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(planned as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Uploads everything the spool still holds (`scanrig uploads retry`),
/// until done or Ctrl-C; returns how many photos went up.
pub fn upload_pending(rig: Rig, log: Logger) -> anyhow::Result<usize> {
    let _lock = SpoolLock::take(&rig.spool)?;
    let state = SpoolState::recover(&rig, &log)?;
    let drains = state.everything();
    if drains.is_empty() {
        return Ok(0);
    }
    System::new().block_on(async move {
        let mut session = Session::start(rig, drains, log).await?;
        let mut counted = Uploads(0);
        session.run(Shutdown::uploads(), &mut counted).await;
        session.end();
        Ok(counted.0)
    })
}

/// The photos sent so far by `uploads retry`.
struct Uploads(usize);

impl Driver for Uploads {
    async fn progress(&mut self, _: &Addr<Supervisor>, progress: &Progress) {
        if let Progress::Uploaded { .. } = progress {
            self.0 += 1;
        }
    }
}
