//! A TCP proxy on loopback in front of a storage server (S3, WebDAV, SFTP) that misbehaves as a failing network does, at a seeded rate.
//!
//! It cuts connections (before the request, in the middle of it, or after
//! the server received it all, so that the client cannot know whether it
//! took effect), stalls answers, adds latency each way, and, when it speaks
//! HTTP, answers 500 or 503 itself to a share of the requests without
//! passing them on. In HTTP mode every request gets a connection of its
//! own (`Connection: close` is set on the way in), so the rate applies per
//! request; in raw TCP mode (SFTP) it applies per connection, a cut coming
//! after a random number of bytes.
//!
//! The dice are a xorshift generator seeded by the test, so a run's faults
//! follow from its seed and the order connections arrive in. [`Tally`]
//! counts what was done, so that a test can check the faults happened.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the proxy understands of the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes only (SFTP): faults per connection.
    Tcp,
    /// HTTP/1.1 requests (S3, WebDAV): faults per request, and answers
    /// 500/503 of its own.
    Http,
}

/// How often and how the proxy misbehaves. Shares are of connections (raw
/// TCP) or requests (HTTP), each in 0..=1, together at most 1.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Seeds the dice.
    pub seed: u64,
    /// Share cut (reset).
    pub cut: f64,
    /// Share whose answer is held for [`Faults::stall_for`].
    pub stall: f64,
    /// Share answered 500 or 503 by the proxy (HTTP only).
    pub error: f64,
    /// How long a stalled answer is held.
    pub stall_for: Duration,
    /// Added to every byte's trip, each way.
    pub latency: Duration,
    /// In raw TCP mode, a cut comes within this many bytes from the client.
    pub cut_within: u64,
    /// HTTP requests carrying this header (its name, lower-case) are
    /// answered this status by the proxy, as a server that does not
    /// implement what the header asks for (`("if-none-match", 501)`).
    pub refuse_header: Option<(&'static str, u16)>,
    /// Every HTTP request is answered this status and XML body by the
    /// proxy, none passed on: a server refusing everything for one reason
    /// (S3's `RequestTimeTooSkewed`, say).
    pub answer_all: Option<(u16, &'static str)>,
}

impl Faults {
    /// No faults and no latency: a plain proxy.
    pub fn none() -> Faults {
        Faults {
            seed: 1,
            cut: 0.0,
            stall: 0.0,
            error: 0.0,
            stall_for: Duration::from_secs(1),
            latency: Duration::ZERO,
            cut_within: 256 * 1024,
            refuse_header: None,
            answer_all: None,
        }
    }

    /// `rate` of the connections or requests go wrong, shared evenly among
    /// the faults `mode` can make: cuts, stalls of `stall_for`, and for
    /// HTTP 500/503 answers.
    pub fn at(seed: u64, rate: f64, mode: Mode, stall_for: Duration) -> Faults {
        let kinds = if mode == Mode::Http { 3.0 } else { 2.0 };
        Faults {
            seed: seed | 1,
            cut: rate / kinds,
            stall: rate / kinds,
            error: if mode == Mode::Http {
                rate / kinds
            } else {
                0.0
            },
            stall_for,
            ..Faults::none()
        }
    }

    /// The same with `latency` added each way.
    pub fn with_latency(self, latency: Duration) -> Faults {
        Faults { latency, ..self }
    }
}

/// What the proxy has done so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Connections accepted.
    pub connections: u64,
    /// Requests seen (HTTP).
    pub requests: u64,
    /// Connections cut.
    pub cuts: u64,
    /// Of those, cut after the whole request reached the server (HTTP).
    pub cuts_after_request: u64,
    /// Answers held.
    pub stalls: u64,
    /// 500/503 answers of its own.
    pub errors: u64,
    /// Requests refused for a header they carry, or answered by
    /// [`Faults::answer_all`].
    pub refused: u64,
}

/// The proxy; it stops when dropped.
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    target: SocketAddr,
    mode: Mode,
    faults: Mutex<Faults>,
    dice: Mutex<u64>,
    stopping: AtomicBool,
    connections: AtomicU64,
    requests: AtomicU64,
    cuts: AtomicU64,
    cuts_after_request: AtomicU64,
    stalls: AtomicU64,
    errors: AtomicU64,
    refused: AtomicU64,
}

/// What one connection (raw TCP) or request (HTTP) gets.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Pass,
    /// Cut after this many bytes from the client; `None`: after the whole
    /// request, once the server starts answering.
    Cut(Option<u64>),
    Stall,
    Error(u16),
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `target`.
    pub fn start(target: SocketAddr, mode: Mode, faults: Faults) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().expect("the fault proxy's address");
        let shared = Arc::new(Shared {
            target,
            mode,
            dice: Mutex::new(faults.seed | 1),
            faults: Mutex::new(faults),
            stopping: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            cuts_after_request: AtomicU64::new(0),
            stalls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        eprintln!("fault proxy {addr} → {target} ({mode:?}): {faults:?}");
        let s = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                s.connections.fetch_add(1, Ordering::SeqCst);
                let s = s.clone();
                thread::spawn(move || {
                    let _ = s.serve(client);
                });
            }
        });
        FaultProxy { addr, shared }
    }

    /// `http://127.0.0.1:<port>`, the proxy's address as a URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the faults from the next connection or request on (e.g.
    /// none, to let a test's last pass through).
    pub fn set(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap() = faults;
    }

    /// What it has done so far.
    pub fn tally(&self) -> Tally {
        let s = &self.shared;
        let n = |c: &AtomicU64| c.load(Ordering::SeqCst);
        Tally {
            connections: n(&s.connections),
            requests: n(&s.requests),
            cuts: n(&s.cuts),
            cuts_after_request: n(&s.cuts_after_request),
            stalls: n(&s.stalls),
            errors: n(&s.errors),
            refused: n(&s.refused),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees it is to stop.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Shared {
    /// A number in 0..1 from the dice.
    fn roll(&self) -> f64 {
        let mut x = self.dice.lock().unwrap();
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x % 1_000_003) as f64 / 1_000_003.0
    }

    /// The fate of the next connection or request; `request` is the size
    /// of an HTTP request's head and body (if known), `None` in raw mode.
    fn fate(&self, request: Option<(u64, Option<u64>)>) -> Fate {
        let f = *self.faults.lock().unwrap();
        let u = self.roll();
        if u < f.cut {
            self.cuts.fetch_add(1, Ordering::SeqCst);
            let at = match request {
                // Before the request, in its middle, or after it all.
                Some((head, body)) => match (self.roll() * 3.0) as u32 {
                    0 => Some(0),
                    1 => Some(head + (self.roll() * body.unwrap_or(0) as f64) as u64),
                    _ => {
                        self.cuts_after_request.fetch_add(1, Ordering::SeqCst);
                        None
                    }
                },
                None => Some((self.roll() * f.cut_within as f64) as u64),
            };
            Fate::Cut(at)
        } else if u < f.cut + f.stall {
            self.stalls.fetch_add(1, Ordering::SeqCst);
            Fate::Stall
        } else if request.is_some() && u < f.cut + f.stall + f.error {
            self.errors.fetch_add(1, Ordering::SeqCst);
            Fate::Error(if self.roll() < 0.5 { 500 } else { 503 })
        } else {
            Fate::Pass
        }
    }

    fn serve(self: &Arc<Self>, mut client: TcpStream) -> io::Result<()> {
        let (head, body, fate) = match self.mode {
            Mode::Tcp => (Vec::new(), None, self.fate(None)),
            Mode::Http => {
                let Some((head, body)) = read_head(&mut client)? else {
                    return Ok(());
                };
                self.requests.fetch_add(1, Ordering::SeqCst);
                let f = *self.faults.lock().unwrap();
                if let Some((status, xml)) = f.answer_all {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                    return answer(client, status, body, Some(xml));
                }
                if let Some((name, status)) = f.refuse_header {
                    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                    if text.contains(&format!("\r\n{name}:")) {
                        self.refused.fetch_add(1, Ordering::SeqCst);
                        return answer(client, status, body, None);
                    }
                }
                let fate = self.fate(Some((head.len() as u64, body)));
                (head, body, fate)
            }
        };
        if let Fate::Error(status) = fate {
            return answer(client, status, body, None);
        }
        if let Fate::Cut(Some(0)) = fate {
            return cut(&client);
        }
        let server = TcpStream::connect(self.target)?;
        let f = *self.faults.lock().unwrap();
        let (mut up, up_rx) = delay_line(server.try_clone()?, f.latency);
        up.write_all(&head)?;
        let cut_at = match fate {
            Fate::Cut(at) => at,
            _ => None,
        };
        let (client_r, server_r) = (client.try_clone()?, server.try_clone()?);
        let upstream = thread::spawn(move || {
            let _ = copy(
                client_r,
                &mut up,
                cut_at.map(|n| n.saturating_sub(head.len() as u64)),
            );
            drop(up);
            let _ = up_rx.join();
        });
        let (mut down, down_rx) = delay_line(client.try_clone()?, f.latency);
        let mut first = [0u8; 16 * 1024];
        let mut server_r = server_r;
        let n = server_r.read(&mut first)?;
        match fate {
            Fate::Cut(None) => {
                // The server took the whole request and answers: the client
                // never learns what came of it.
                let _ = cut(&client);
                drop(down);
                let _ = down_rx.join();
                let _ = server.shutdown(Shutdown::Both);
                let _ = upstream.join();
                return Ok(());
            }
            Fate::Stall => thread::sleep(f.stall_for),
            _ => {}
        }
        down.write_all(&first[..n])?;
        let _ = copy(server_r, &mut down, None);
        drop(down);
        let _ = down_rx.join();
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
        let _ = upstream.join();
        Ok(())
    }
}

/// Reads an HTTP request's head from `client`, rewritten to close the
/// connection after it, and its body's length if it says it. `None`: the
/// client closed before sending one.
fn read_head(client: &mut TcpStream) -> io::Result<Option<(Vec<u8>, Option<u64>)>> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(None);
        }
        raw.push(byte[0]);
        if raw.len() > 64 * 1024 {
            return Err(io::Error::other("request head over 64 KiB"));
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    let mut body = None;
    lines.retain(|line| {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        if name == "content-length" {
            body = value.trim().parse().ok();
        }
        name != "connection" && name != "keep-alive"
    });
    lines.push("Connection: close");
    let head = format!("{}\r\n\r\n", lines.join("\r\n")).into_bytes();
    Ok(Some((head, body)))
}

/// Answers `status` itself (403, 500, 501 or 503) with `xml`, or else a
/// line of its own, after reading the request's body (if its length is
/// known), and closes the connection.
fn answer(
    mut client: TcpStream,
    status: u16,
    body: Option<u64>,
    xml: Option<&str>,
) -> io::Result<()> {
    if let Some(n) = body {
        io::copy(&mut (&client).take(n), &mut io::sink())?;
    }
    let reason = match status {
        403 => "Forbidden",
        503 => "Service Unavailable",
        501 => "Not Implemented",
        _ => "Internal Server Error",
    };
    let (kind, text) = match xml {
        Some(xml) => ("application/xml", xml.to_owned()),
        None => (
            "text/plain",
            format!("{status} {reason}, made by the fault proxy\n"),
        ),
    };
    write!(
        client,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    client.shutdown(Shutdown::Both)
}

/// Resets the connection: it closes with a RST, not a FIN.
fn cut(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO))?;
    stream.shutdown(Shutdown::Both)
}

/// Copies `from` into `to`, up to `limit` bytes, after which `from` is cut.
fn copy(mut from: TcpStream, to: &mut DelayLine, limit: Option<u64>) -> io::Result<()> {
    let mut left = limit.unwrap_or(u64::MAX);
    let mut buf = [0u8; 16 * 1024];
    loop {
        if left == 0 {
            return cut(&from);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = from.read(&mut buf[..want])?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
        left -= n as u64;
    }
}

/// The sending end of a delay line: what is written reaches the stream
/// `latency` later, in order, without slowing the writer down.
struct DelayLine {
    tx: mpsc::Sender<(Instant, Vec<u8>)>,
    latency: Duration,
}

impl Write for DelayLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .send((Instant::now() + self.latency, buf.to_vec()))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A delay line into `to`, and the thread that delivers it (it ends, and
/// shuts `to`'s writing side, once the line is dropped and emptied).
fn delay_line(mut to: TcpStream, latency: Duration) -> (DelayLine, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let deliver = thread::spawn(move || {
        for (due, bytes) in rx {
            let now = Instant::now();
            if due > now {
                // The line's own clock: each chunk waits out its latency.
                thread::sleep(due - now);
            }
            if to.write_all(&bytes).is_err() {
                return;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    (DelayLine { tx, latency }, deliver)
}
