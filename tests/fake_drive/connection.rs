//! Connections: accepting, serving requests, injecting faults, resetting mid-body.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::http::{
    read_body, read_chunked, read_exact_body, read_head, send_continue, Framing, Head, HttpError,
    Request,
};
use super::replies::bad_request;
use super::response::{write_response, Response};
use super::routes::{dispatch, route, Route};
use super::session::Chunk;
use super::state::Shared;
use super::Fault;

/// How long a [`Fault::Slow`] request waits.
const SLOW_FAULT: Duration = Duration::from_secs(2);

pub(super) fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        match conn {
            Ok(stream) => spawn_connection(&shared, stream),
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn spawn_connection(shared: &Arc<Shared>, stream: TcpStream) {
    let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    if let Ok(clone) = stream.try_clone() {
        shared.conns().insert(id, clone);
    }
    let for_thread = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name(format!("fake-drive-conn-{id}"))
        .spawn(move || {
            let end = serve_connection(&for_thread, &stream);
            // The registry's clone must be closed first: the reset happens
            // when the socket's last descriptor closes.
            for_thread.conns().remove(&id);
            if end == End::Reset {
                set_linger_zero(&stream);
            }
            drop(stream);
        });
    if spawned.is_err() {
        shared.conns().remove(&id);
    }
}

/// How a connection ended.
#[derive(Debug, PartialEq)]
enum End {
    Closed,
    Reset,
}

/// What handling a request led to.
enum Outcome {
    Reply(Response),
    Reset,
}

/// Serves requests on one connection until it closes.
fn serve_connection(shared: &Shared, stream: &TcpStream) -> End {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    loop {
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(HttpError::Closed) => return End::Closed,
            Err(HttpError::Bad) => {
                let _ = write_response(stream, &bad_request("Malformed HTTP request."), true);
                return End::Closed;
            }
        };
        let outcome = handle(shared, &head, &mut reader, stream);
        let latency = shared.lock().latency;
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        match outcome {
            Outcome::Reset => return End::Reset,
            Outcome::Reply(response) => {
                let close = head.wants_close() || response.close;
                if write_response(stream, &response, close).is_err() || close {
                    return End::Closed;
                }
            }
        }
    }
}

/// Reads the body of one request, applies any fault, and handles it.
fn handle(shared: &Shared, head: &Head, reader: &mut impl BufRead, stream: &TcpStream) -> Outcome {
    let route = route(&head.method, &head.segments);
    let oauth = matches!(route, Route::Token | Route::DeviceCode);
    let fault = {
        let mut st = shared.lock();
        st.stats.requests += 1;
        if oauth {
            st.token_faults.pop()
        } else {
            st.draw_fault()
        }
    };
    let Some(framing) = head.framing() else {
        return Outcome::Reply(bad_request("Bad Content-Length or Transfer-Encoding.").closing());
    };
    let chunk = match route {
        Route::Session(_) => head.content_range().and_then(|r| r.chunk()),
        _ => None,
    };
    if fault == Some(Fault::ResetMidBody) {
        reset_mid_body(shared, head, reader, stream, framing, route, chunk);
        return Outcome::Reset;
    }
    let body = match read_body(head, reader, stream, framing) {
        Ok(body) => body,
        Err(_) => return Outcome::Reply(bad_request("Malformed request body.").closing()),
    };
    let short = match fault {
        Some(Fault::Slow) => {
            thread::sleep(SLOW_FAULT);
            false
        }
        Some(Fault::ShortConfirm) if chunk.is_some() => true,
        Some(fault) => return Outcome::Reply(shared.lock().fault_response(&fault)),
        None => false,
    };
    let request = Request { head, body };
    Outcome::Reply(dispatch(shared, &request, route, short))
}

/// Reads half the body (storing a session chunk's part), before a reset.
fn reset_mid_body(
    shared: &Shared,
    head: &Head,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    framing: Framing,
    route: Route<'_>,
    chunk: Option<Chunk>,
) {
    if framing == Framing::Length(0) {
        return;
    }
    if send_continue(head, stream).is_err() {
        return;
    }
    let partial = match framing {
        Framing::Length(n) => read_exact_body(reader, n / 2),
        Framing::Chunked => read_chunked(reader).map(|mut body| {
            body.truncate(body.len() / 2);
            body
        }),
    };
    if let (Ok(partial), Route::Session(sid), Some(chunk)) = (partial, route, chunk) {
        let mut st = shared.lock();
        st.keep_partial_chunk(sid, chunk.start, &partial);
        shared.changed.notify_all();
    }
}

/// Makes closing the socket send a reset.
fn set_linger_zero(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open (owned by `stream`), and the option
    // value is a properly sized, initialised `linger`.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast::<libc::c_void>(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
