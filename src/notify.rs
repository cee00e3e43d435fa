//! systemd's notification protocol (`sd_notify`): `READY=1`, `STATUS=…`,
//! `STOPPING=1` and watchdog pings, sent as datagrams to `$NOTIFY_SOCKET`.
//! Outside systemd every call does nothing.

use std::future::Future;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Talks to the service manager, if there is one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// The notifier systemd asked for through `$NOTIFY_SOCKET` (a path, or
    /// `@name` for an abstract socket); a silent one without it.
    pub fn from_env() -> io::Result<Notifier> {
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(path) => Notifier::to(&path.to_string_lossy()),
            None => Ok(Notifier { target: None }),
        }
    }

    /// A notifier sending to `socket` (a path, or `@name`).
    pub fn to(socket: &str) -> io::Result<Notifier> {
        let addr = match socket.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
            None => SocketAddr::from_pathname(socket)?,
        };
        Ok(Notifier {
            target: Some((UnixDatagram::unbound()?, addr)),
        })
    }

    /// Whether a service manager listens.
    pub fn is_active(&self) -> bool {
        self.target.is_some()
    }

    /// Sends one notification, e.g. `READY=1`.
    pub fn send(&self, state: &str) -> io::Result<()> {
        match &self.target {
            Some((socket, addr)) => socket.send_to_addr(state.as_bytes(), addr).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Tells systemd the service is up.
    pub fn ready(&self, status: &str) -> io::Result<()> {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)))
    }

    /// Shows what the rig is doing in `systemctl status`.
    pub fn status(&self, status: &str) -> io::Result<()> {
        self.send(&format!("STATUS={}", one_line(status)))
    }

    /// Tells systemd the service is shutting down.
    pub fn stopping(&self, status: &str) -> io::Result<()> {
        self.send(&format!("STOPPING=1\nSTATUS={}", one_line(status)))
    }
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

/// How often to ping the watchdog: half of `$WATCHDOG_USEC`, when systemd
/// set it for this process (`$WATCHDOG_PID`, if set, is ours).
pub fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Pings the watchdog every `interval`, but only after `alive()` answers
/// within that interval: a wedged actor system stops the pings, and systemd
/// restarts the service. Runs until the process ends.
pub async fn watchdog<F, Fut>(notifier: &Notifier, interval: Duration, mut alive: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Ok(true) = tokio::time::timeout(interval, alive()).await {
            let _ = notifier.send("WATCHDOG=1");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener() -> (tempfile::TempDir, UnixDatagram, Notifier) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let notifier = Notifier::to(path.to_str().unwrap()).unwrap();
        (dir, socket, notifier)
    }

    fn recv(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = socket.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn notifications_reach_the_socket() {
        let (_dir, socket, notifier) = listener();
        assert!(notifier.is_active());
        notifier.ready("idle\nwaiting").unwrap();
        assert_eq!(recv(&socket), "READY=1\nSTATUS=idle waiting");
        notifier.status("scanning").unwrap();
        assert_eq!(recv(&socket), "STATUS=scanning");
    }

    #[test]
    fn without_systemd_nothing_is_sent() {
        let silent = Notifier { target: None };
        assert!(!silent.is_active());
        silent.ready("x").unwrap();
    }

    #[test]
    fn the_watchdog_pings_only_while_the_system_answers() {
        let (_dir, socket, notifier) = listener();
        socket
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let interval = Duration::from_millis(20);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // An actor system that never answers: no ping at all.
        runtime.block_on(async {
            let _ = tokio::time::timeout(
                Duration::from_millis(150),
                watchdog(&notifier, interval, std::future::pending::<bool>),
            )
            .await;
        });
        let mut buf = [0u8; 64];
        assert!(socket.recv(&mut buf).is_err(), "a ping without an answer");
        // One that answers: pings.
        runtime.block_on(async {
            let _ = tokio::time::timeout(
                Duration::from_millis(150),
                watchdog(&notifier, interval, || async { true }),
            )
            .await;
        });
        assert_eq!(recv(&socket), "WATCHDOG=1");
    }
}
