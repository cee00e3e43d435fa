//! The storage tests' fault proxy itself: what passes arrives whole, and the faults it counts are the ones a client sees.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::fault_proxy::{FaultProxy, Faults, Mode};

/// An HTTP server on loopback that answers every request with its body.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if conn.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                let mut body = vec![0u8; len];
                if conn.read_exact(&mut body).is_err() {
                    return;
                }
                let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
                let _ = conn.write_all(&body);
            });
        }
    });
    addr
}

/// What a client got for one request: the status and body, or `None` if
/// the connection broke or no answer came in time.
fn request(addr: SocketAddr, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    write!(
        conn,
        "PUT /x HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .ok()?;
    conn.write_all(body).ok()?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12)?.parse().ok()?;
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((status, raw[at..].to_vec()))
}

#[test]
fn http_faults_come_at_the_rate_asked_and_what_passes_is_whole() {
    let faults = Faults::at(7, 0.3, Mode::Http, Duration::from_secs(2));
    let proxy = FaultProxy::start(echo_server(), Mode::Http, faults);
    let (mut whole, mut errors, mut broken) = (0, 0, 0);
    for i in 0..150u32 {
        let body: Vec<u8> = (0..20_000u32).map(|b| (b ^ i) as u8).collect();
        match request(proxy.addr, &body) {
            Some((200, got)) => {
                assert_eq!(got, body, "request {i}: the body came back changed");
                whole += 1;
            }
            Some((500 | 503, _)) => errors += 1,
            Some((status, _)) => panic!("request {i}: status {status}"),
            None => broken += 1,
        }
    }
    let tally = proxy.tally();
    eprintln!("{tally:?}; whole {whole}, errors {errors}, broken {broken}");
    assert_eq!(tally.requests, 150);
    assert_eq!(errors, tally.errors);
    // A stalled answer outlasts the client's patience; a cut breaks it.
    assert_eq!(broken, tally.cuts + tally.stalls);
    let faulty = tally.cuts + tally.stalls + tally.errors;
    assert!((25..=65).contains(&faulty), "{tally:?}");
    assert!(
        tally.cuts_after_request > 0 && tally.errors > 0,
        "{tally:?}"
    );
}

#[test]
fn raw_tcp_mode_cuts_within_the_bytes_asked_and_latency_delays_each_way() {
    let faults = Faults {
        latency: Duration::from_millis(40),
        ..Faults::none()
    };
    let proxy = FaultProxy::start(echo_server(), Mode::Tcp, faults);
    let started = Instant::now();
    let (status, body) = request(proxy.addr, b"hello").expect("an answer");
    assert_eq!((status, &body[..]), (200, &b"hello"[..]));
    assert!(started.elapsed() >= Duration::from_millis(80));

    proxy.set(Faults {
        cut: 1.0,
        cut_within: 64 * 1024,
        ..Faults::none()
    });
    for _ in 0..5 {
        assert_eq!(request(proxy.addr, &[1u8; 100_000]), None);
    }
    assert_eq!(proxy.tally().cuts, 5);
}
