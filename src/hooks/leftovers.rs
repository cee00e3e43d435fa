//! Processes left running by an earlier try of a hook's command (started
//! in the background by a command killed with the process that ran it):
//! found by the delivery id and the rig's spool in their environment
//! (another rig on the machine may deliver a scan of the same id), killed
//! and waited for before the command runs again, so a delivery never runs
//! beside itself.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Kills every process but this one whose environment holds every one of
/// `vars` (`var=value`), and waits until they have ended (at most
/// `within`); says how many there were.
pub(super) fn end(vars: &[(&str, &str)], within: Duration) -> io::Result<usize> {
    let needle: Vec<Vec<u8>> = vars
        .iter()
        .map(|(var, value)| format!("{var}={value}").into_bytes())
        .collect();
    let deadline = Instant::now() + within;
    let mut ended = 0;
    // A process killed may have started others meanwhile: look again
    // until none is left.
    loop {
        let killed: Vec<OwnedFd> = carrying(&needle)?
            .into_iter()
            .filter_map(|pid| kill(pid, &needle))
            .collect();
        if killed.is_empty() {
            return Ok(ended);
        }
        ended += killed.len();
        wait(killed, deadline)?;
    }
}

/// The processes (but this one) whose environment holds all of `needle`;
/// those whose environment cannot be read (another user's) are not among
/// them.
fn carrying(needle: &[Vec<u8>]) -> io::Result<Vec<i32>> {
    let own = std::process::id() as i32;
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if pid != own && holds(pid, needle) {
            found.push(pid);
        }
    }
    Ok(found)
}

/// Whether process `pid`'s environment holds every variable of `needle`.
fn holds(pid: i32, needle: &[Vec<u8>]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
        needle
            .iter()
            .all(|want| env.split(|b| *b == 0).any(|var| var == want.as_slice()))
    })
}

/// Kills `pid` if it still carries `needle`: a pidfd names the process
/// itself, so the check after opening it rules out a pid used again.
fn kill(pid: i32, needle: &[Vec<u8>]) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a descriptor just returned, owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if !holds(pid, needle) {
        return None;
    }
    // SAFETY: signals the process the descriptor names; no memory effects.
    let sent = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    (sent == 0).then_some(fd)
}

/// Waits until every process in `fds` has ended, or fails at `deadline`.
fn wait(mut fds: Vec<OwnedFd>, deadline: Instant) -> io::Result<()> {
    while !fds.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{} killed processes have not ended", fds.len()),
            ));
        }
        let mut polls: Vec<libc::pollfd> = fds
            .iter()
            .map(|fd| libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `polls` is a valid array of its length for the call.
        if unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, ms) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let mut ready = polls.iter().map(|p| p.revents != 0);
        fds.retain(|_| !ready.next().unwrap_or(false));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_processes_carrying_the_variables_are_killed_and_waited_for_and_no_other() {
        let spawn = |value: &str, rig: &str| {
            Command::new("sleep")
                .arg("600")
                .env("SCANRIG_TEST_DELIVERY", value)
                .env("SCANRIG_TEST_SPOOL", rig)
                .spawn()
                .unwrap()
        };
        let mut ours = [spawn("a", "here"), spawn("a", "here")];
        // Another delivery, and the same delivery of another rig.
        let mut others = [spawn("b", "here"), spawn("a", "there")];
        let vars = [
            ("SCANRIG_TEST_DELIVERY", "a"),
            ("SCANRIG_TEST_SPOOL", "here"),
        ];
        let n = end(&vars, Duration::from_secs(10)).unwrap();
        assert_eq!(n, 2);
        for child in &mut ours {
            let status = child.wait().unwrap();
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&status),
                Some(libc::SIGKILL)
            );
        }
        for other in &mut others {
            assert!(other.try_wait().unwrap().is_none(), "not ours: it runs on");
        }
        assert_eq!(end(&vars, Duration::from_secs(10)).unwrap(), 0);
        for mut other in others {
            other.kill().unwrap();
            other.wait().unwrap();
        }
    }
}
