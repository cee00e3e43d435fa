//! systemd's notification protocol (`sd_notify`, through the sd-notify
//! crate): `READY=1`, `STATUS=…`, `STOPPING=1` and watchdog pings, sent to
//! `$NOTIFY_SOCKET`. Outside systemd every call does nothing.

use std::future::Future;
use std::io;
use std::time::Duration;

use sd_notify::NotifyState;

/// Tells systemd the service is up.
pub fn ready(status: &str) -> io::Result<()> {
    sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(&one_line(status))])
}

/// Shows what the rig is doing in `systemctl status`.
pub fn status(status: &str) -> io::Result<()> {
    sd_notify::notify(&[NotifyState::Status(&one_line(status))])
}

/// Tells systemd the service is shutting down.
pub fn stopping(status: &str) -> io::Result<()> {
    sd_notify::notify(&[
        NotifyState::Stopping,
        NotifyState::Status(&one_line(status)),
    ])
}

/// Pings systemd's watchdog.
pub fn ping() {
    let _ = sd_notify::notify(&[NotifyState::Watchdog]);
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// How often to ping the watchdog: half of `$WATCHDOG_USEC`, when systemd
/// set it for this process (`$WATCHDOG_PID`, if set, is ours).
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|d| !d.is_zero())
        .map(|d| d / 2)
}

/// Calls `ping` every `interval`, but only after `alive()` answers within
/// that interval: a wedged actor system stops the pings, and systemd
/// restarts the service. Runs until the process ends.
pub async fn watchdog<F, Fut>(interval: Duration, mut alive: F, ping: impl Fn())
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Ok(true) = tokio::time::timeout(interval, alive()).await {
            ping();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Pings counted over 150 ms of watchdog every 20 ms, with `alive`.
    fn pings<Fut: Future<Output = bool>>(alive: impl FnMut() -> Fut) -> u32 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let count = Cell::new(0);
        runtime.block_on(async {
            let _ = tokio::time::timeout(
                Duration::from_millis(150),
                watchdog(Duration::from_millis(20), alive, || {
                    count.set(count.get() + 1)
                }),
            )
            .await;
        });
        count.get()
    }

    #[test]
    fn the_watchdog_pings_only_while_the_system_answers() {
        // An actor system that never answers: no ping at all.
        assert_eq!(pings(std::future::pending::<bool>), 0);
        // One that answers: a ping every interval (the first at once).
        assert_eq!(pings(|| async { true }), 8);
    }
}
