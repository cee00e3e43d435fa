//! The daemon's memory over many scans: `scanrig daemon` with its web page
//! on, a page listening to its events, scans of 6 small photos started one
//! after another through the REST API; its resident memory, threads and
//! open files read every so often.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

use super::{child_files, wait4};

/// Shots in each scan.
const SHOTS: u32 = 6;

/// Longest wait for the daemon to answer or a scan to end.
const PATIENCE: Duration = Duration::from_secs(60);

/// The daemon's memory, read after some scans.
#[derive(Debug, Serialize)]
pub(super) struct Sample {
    /// Scans done.
    scans: u32,
    /// VmRSS, KiB.
    rss_kib: u64,
    /// RssAnon (the heap and stacks; the rest maps the binary), KiB.
    anon_kib: u64,
    threads: u64,
    open_files: usize,
}

/// Runs `scans` scans through a daemon's API, reading its memory before
/// the first and after every `every`.
pub(super) fn run(tmp: &Path, scans: u32, every: u32) -> anyhow::Result<Vec<Sample>> {
    let name = "daemon-memory";
    let (config, _) = child_files(tmp, name, 0, SHOTS)?;
    let dir = tmp.join(name);
    // Small photos, so that scans follow one another quickly; at level
    // info the daemon logs its web page's address.
    let text = fs::read_to_string(&config)?
        .replace(
            "[camera.sim]\n",
            "[camera.sim]\nwidth = 160\nheight = 120\n",
        )
        .replace("level = \"warn\"", "level = \"info\"");
    fs::write(
        &config,
        format!(
            "{text}[web]\nlisten = \"127.0.0.1:0\"\n[daemon]\nprofile = \"{name}\"\n\
             [profiles]\ndirs = [{dir:?}]\n"
        ),
    )?;
    let mut daemon = Command::new(std::env::current_exe()?)
        .args(["--config", &config, "daemon"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start scanrig daemon")?;
    let result = drive(&mut daemon, name, scans, every);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    let (status, _) = wait4(daemon.id() as libc::pid_t)?;
    let samples = result?;
    if status != 0 {
        bail!("the daemon did not stop cleanly (wait status {status})");
    }
    Ok(samples)
}

fn drive(daemon: &mut Child, profile: &str, scans: u32, every: u32) -> anyhow::Result<Vec<Sample>> {
    let port = web_port(daemon)?;
    let pid = daemon.id();
    let mut events = Events::open(port)?;
    let mut samples = vec![sample(pid, 0)?];
    for n in 1..=scans {
        let reply = request(
            port,
            "POST",
            "/api/v1/scans",
            &format!("{{\"profile\":\"{profile}\"}}"),
        )?;
        if !reply.starts_with("HTTP/1.1 202") {
            bail!("scan {n} was refused: {reply}");
        }
        events.until("finished", |_| true)?;
        events.until("status", |s| s["state"] == "idle")?;
        if n % every == 0 || n == scans {
            samples.push(sample(pid, n)?);
        }
    }
    Ok(samples)
}

/// The web page's port, from the daemon's log; the rest of the log is
/// read on (and dropped) so that the daemon never waits to write it.
fn web_port(daemon: &mut Child) -> anyhow::Result<u16> {
    let stderr = daemon.stderr.take().context("no stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let port = line
                .split("url: http://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .and_then(|port| port.parse::<u16>().ok());
            if let Some(port) = port {
                let _ = tx.send(port);
            }
        }
    });
    rx.recv_timeout(PATIENCE)
        .context("the daemon logged no web address")
}

/// Prints the samples, one line each.
pub(super) fn print(samples: &[Sample]) {
    println!("  daemon, scans of {SHOTS} shots through the web API, one after another:");
    for s in samples {
        println!(
            "    after {:4} scans: RSS {:6.1} MB (anonymous {:5.1} MB), {} threads, {} open files",
            s.scans,
            s.rss_kib as f64 / 1024.0,
            s.anon_kib as f64 / 1024.0,
            s.threads,
            s.open_files
        );
    }
}

/// The daemon's memory now.
fn sample(pid: u32, scans: u32) -> anyhow::Result<Sample> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |key: &str| -> anyhow::Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {key} in /proc/{pid}/status"))
    };
    Ok(Sample {
        scans,
        rss_kib: field("VmRSS:")?,
        anon_kib: field("RssAnon:")?,
        threads: field("Threads:")?,
        open_files: fs::read_dir(format!("/proc/{pid}/fd"))?.count(),
    })
}

fn connect(port: u16) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).context("cannot reach the web page")?;
    stream.set_read_timeout(Some(PATIENCE))?;
    Ok(stream)
}

/// One request, the whole reply.
fn request(port: u16, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    let mut stream = connect(port)?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // In one write, so that the server has the whole request at once.
    stream.write_all(request.as_bytes())?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .with_context(|| format!("no answer to {method} {path}"))?;
    Ok(reply)
}

/// The page's event stream.
struct Events(BufReader<TcpStream>);

impl Events {
    fn open(port: u16) -> anyhow::Result<Events> {
        let mut stream = connect(port)?;
        write!(
            stream,
            "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )?;
        Ok(Events(BufReader::new(stream)))
    }

    /// Reads events until one named `kind` whose data satisfies `pred`.
    fn until(
        &mut self,
        kind: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<()> {
        let (mut line, mut name) = (String::new(), String::new());
        loop {
            line.clear();
            if self.0.read_line(&mut line).context("the event stream")? == 0 {
                bail!("the event stream ended");
            }
            let line = line.trim_end();
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                if name == kind && pred(&serde_json::from_str(data)?) {
                    return Ok(());
                }
            }
        }
    }
}
