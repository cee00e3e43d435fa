//! The fake Google Drive (tests/fake_drive) checked with a raw HTTP client,
//! so that tests built on it can trust what it answers.

mod fake_drive;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use fake_drive::{FakeDrive, Fault, Faults};
use md5::{Digest, Md5};
use serde_json::Value;

const KIB256: usize = 256 * 1024;

/// A response as read off the wire.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn reason(&self) -> String {
        self.json()["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// One keep-alive connection to the fake.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(drive: &FakeDrive) -> Conn {
        let root = drive.root_url();
        let addr = root.trim_start_matches("http://").trim_end_matches('/');
        let stream = TcpStream::connect(addr).expect("connect to the fake");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        Conn {
            reader: BufReader::new(stream),
        }
    }

    /// Sends a request with a `Content-Length` body.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Reply> {
        let mut out = format!(
            "{method} /{path} HTTP/1.1\r\nHost: fake\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes)
    }

    fn send_raw(&mut self, bytes: &[u8]) -> io::Result<Reply> {
        self.reader.get_mut().write_all(bytes)?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        let status_line = self.line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header line");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        let len: usize = reply
            .header("content-length")
            .map_or(0, |v| v.parse().expect("a length"));
        reply.body = vec![0; len];
        self.reader.read_exact(&mut reply.body)?;
        Ok(reply)
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn refresh(conn: &mut Conn, token: &str) -> Reply {
    let body =
        format!("grant_type=refresh_token&refresh_token={token}&client_id=c&client_secret=s");
    conn.send(
        "POST",
        "token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .expect("token reply")
}

/// Starts a resumable session; returns the session's path.
fn start_session(conn: &mut Conn, auth: &str, total: usize) -> String {
    let total = total.to_string();
    let reply = conn
        .send(
            "POST",
            "upload/drive/v3/files?uploadType=resumable",
            &[
                ("Authorization", auth),
                ("Content-Type", "application/json; charset=UTF-8"),
                ("X-Upload-Content-Length", &total),
            ],
            br#"{"name":"a.jpg","mimeType":"image/jpeg","parents":["root"],"appProperties":{"shot":"1"}}"#,
        )
        .expect("session start");
    assert_eq!(reply.status, 200);
    let location = reply.header("Location").expect("a Location").to_owned();
    location
        .split_once("/upload-session/")
        .map(|(_, sid)| format!("upload-session/{sid}"))
        .expect("session path")
}

fn put_chunk(
    conn: &mut Conn,
    session: &str,
    bytes: &[u8],
    start: usize,
    total: usize,
) -> io::Result<Reply> {
    let range = format!("bytes {}-{}/{total}", start, start + bytes.len() - 1);
    conn.send("PUT", session, &[("Content-Range", &range)], bytes)
}

fn status_query(conn: &mut Conn, session: &str, total: usize) -> Reply {
    let range = format!("bytes */{total}");
    conn.send("PUT", session, &[("Content-Range", &range)], b"")
        .expect("status reply")
}

fn only(kind: Fault) -> Faults {
    Faults {
        fail_ratio: 1.0,
        seed: 7,
        kinds: vec![kind],
    }
}

fn multipart(boundary: &str, meta: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{meta}\r\n--{boundary}\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[test]
fn tokens_refresh_expire_and_revoke() {
    let drive = FakeDrive::start();
    let mut conn = Conn::open(&drive);

    let about = conn
        .send("GET", "drive/v3/about?fields=user", &[], b"")
        .unwrap();
    assert_eq!(about.status, 401);
    assert_eq!(about.reason(), "authError");

    let reply = refresh(&mut conn, &drive.valid_refresh_token());
    assert_eq!(reply.status, 200);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    let auth = bearer(&token);
    let about = conn
        .send(
            "GET",
            "drive/v3/about?fields=user",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(about.status, 200);
    assert_eq!(about.json()["user"]["emailAddress"], "rig@example.com");

    let bad = refresh(&mut conn, "nope");
    assert_eq!(
        (bad.status, bad.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    drive.expire_access_tokens();
    let about = conn
        .send("GET", "drive/v3/about", &[("Authorization", &auth)], b"")
        .unwrap();
    assert_eq!(about.status, 401);
    assert_eq!(refresh(&mut conn, &drive.valid_refresh_token()).status, 200);

    drive.revoke();
    assert_eq!(refresh(&mut conn, &drive.valid_refresh_token()).status, 400);

    let stats = drive.stats();
    assert_eq!((stats.token_refreshes, stats.unauthorized), (2, 2));
}

#[test]
fn device_flow_is_pending_once_then_authorised() {
    let drive = FakeDrive::start();
    let mut conn = Conn::open(&drive);
    let code = conn
        .send("POST", "device/code", &[], b"client_id=c&scope=s")
        .unwrap();
    assert_eq!(code.json()["device_code"], "dev-1");
    let poll = b"client_id=c&client_secret=s&code=dev-1&grant_type=http%3A%2F%2Foauth.net%2Fgrant_type%2Fdevice%2F1.0";
    assert_eq!(conn.send("POST", "token", &[], poll).unwrap().status, 428);
    let done = conn.send("POST", "token", &[], poll).unwrap();
    assert_eq!(done.status, 200);
    assert_eq!(done.json()["refresh_token"], "fake-refresh-1");
    let jwt = b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c";
    assert_eq!(conn.send("POST", "token", &[], jwt).unwrap().status, 200);
}

#[test]
fn multipart_creates_and_queries_find_by_app_properties() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let mut conn = Conn::open(&drive);
    let folder_meta =
        r#"{"name":"scan-1","mimeType":"application/vnd.google-apps.folder","parents":["root"]}"#;
    let ct = "multipart/related; boundary=\"b0undary\"";
    let reply = conn
        .send(
            "POST",
            "upload/drive/v3/files?uploadType=multipart",
            &[("Authorization", &auth), ("Content-Type", ct)],
            &multipart("b0undary", folder_meta, b""),
        )
        .unwrap();
    assert_eq!(reply.status, 200);
    let folder = reply.json()["id"].as_str().unwrap().to_owned();

    // The photo goes in chunked transfer encoding.
    let content = data(1000);
    let meta = format!(
        r#"{{"name":"it's.jpg","parents":["{folder}"],"appProperties":{{"shot":"r1-007","scan":"s1"}}}}"#
    );
    let body = multipart("xyz", &meta, &content);
    let (a, b) = body.split_at(100);
    let mut raw = format!(
        "POST /upload/drive/v3/files?uploadType=multipart HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: multipart/related; boundary=xyz\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        a.len()
    )
    .into_bytes();
    raw.extend_from_slice(a);
    raw.extend_from_slice(format!("\r\n{:x};ext=1\r\n", b.len()).as_bytes());
    raw.extend_from_slice(b);
    raw.extend_from_slice(b"\r\n0\r\n\r\n");
    let reply = conn.send_raw(&raw).unwrap();
    assert_eq!(reply.status, 200);
    let file = reply.json();
    assert_eq!(file["mimeType"], "image/jpeg");
    assert_eq!(file["md5Checksum"], md5_hex(&content).as_str());
    assert_eq!(file["size"], "1000");
    assert_eq!(file["appProperties"]["shot"], "r1-007");

    let q = format!(
        "'{folder}' in parents and name = 'it\\'s.jpg' and appProperties has {{ key='shot' and value='r1-007' }} and mimeType != 'application/vnd.google-apps.folder' and trashed = false"
    );
    let path = format!(
        "drive/v3/files?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q)
            .append_pair("fields", "files(id)")
            .finish()
    );
    let list = conn
        .send("GET", &path, &[("Authorization", &auth)], b"")
        .unwrap();
    assert_eq!(list.status, 200);
    let files = list.json()["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["id"], file["id"]);

    let miss =
        "drive/v3/files?q=appProperties+has+%7B+key%3D%27shot%27+and+value%3D%27r1-008%27+%7D";
    let list = conn
        .send("GET", miss, &[("Authorization", &auth)], b"")
        .unwrap();
    assert_eq!(list.json()["files"].as_array().map(Vec::len), Some(0));

    let bad = conn
        .send(
            "GET",
            "drive/v3/files?q=name+contains+%27x%27",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!((bad.status, bad.reason()), (400, "invalidQuery".to_owned()));

    let id = file["id"].as_str().unwrap();
    let gone = conn
        .send(
            "DELETE",
            &format!("drive/v3/files/{id}"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(gone.status, 204);
    let again = conn
        .send(
            "GET",
            &format!("drive/v3/files/{id}"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!((again.status, again.reason()), (404, "notFound".to_owned()));
    assert_eq!(drive.files().len(), 1);
    let stats = drive.stats();
    assert_eq!((stats.list_queries, stats.deletes), (2, 1));
}

#[test]
fn resumable_session_in_two_chunks_with_a_status_query() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let mut conn = Conn::open(&drive);
    let content = data(KIB256 + 1000);
    let total = content.len();
    let session = start_session(&mut conn, &auth, total);

    assert_eq!(
        status_query(&mut conn, &session, total).header("Range"),
        None
    );
    let first = put_chunk(&mut conn, &session, &content[..KIB256], 0, total).unwrap();
    assert_eq!(first.status, 308);
    assert_eq!(first.header("Range"), Some("bytes=0-262143"));
    let status = status_query(&mut conn, &session, total);
    assert_eq!(
        (status.status, status.header("Range")),
        (308, Some("bytes=0-262143"))
    );

    // Overlap is allowed: resend from a bit earlier.
    let from = KIB256 - 10;
    let last = put_chunk(&mut conn, &session, &content[from..], from, total).unwrap();
    assert_eq!(last.status, 200);
    let file = last.json();
    assert_eq!(file["md5Checksum"], md5_hex(&content).as_str());
    assert_eq!(file["size"], total.to_string().as_str());
    assert_eq!(file["appProperties"]["shot"], "1");

    let done = status_query(&mut conn, &session, total);
    assert_eq!((done.status, &done.json()["id"]), (200, &file["id"]));
    assert_eq!(drive.files().len(), 1);
    assert_eq!(drive.files()[0].content, content);
    let stats = drive.stats();
    assert_eq!(
        (
            stats.sessions_started,
            stats.chunk_requests,
            stats.status_queries
        ),
        (1, 2, 3)
    );

    let unknown = status_query(&mut conn, "upload-session/nope", total);
    assert_eq!(unknown.status, 404);
}

#[test]
fn short_confirm_keeps_less_than_was_sent() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let mut conn = Conn::open(&drive);
    let content = data(4 * KIB256);
    let total = content.len();
    let session = start_session(&mut conn, &auth, total);

    drive.set_faults(only(Fault::ShortConfirm));
    let reply = put_chunk(&mut conn, &session, &content, 0, total).unwrap();
    assert_eq!(
        (reply.status, reply.header("Range")),
        (308, Some("bytes=0-524287"))
    );
    // Elsewhere it is a server error.
    let about = conn
        .send("GET", "drive/v3/about", &[("Authorization", &auth)], b"")
        .unwrap();
    assert!(about.status >= 500, "{}", about.status);

    drive.set_faults(Faults::default());
    let rest = put_chunk(
        &mut conn,
        &session,
        &content[2 * KIB256..],
        2 * KIB256,
        total,
    )
    .unwrap();
    assert_eq!(rest.status, 200);
    assert_eq!(rest.json()["md5Checksum"], md5_hex(&content).as_str());
    assert_eq!(drive.stats().faults_injected, 2);
}

#[test]
fn reset_mid_body_keeps_whole_256k_blocks_of_what_arrived() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let content = data(4 * KIB256 + 100);
    let total = content.len();
    let session = start_session(&mut Conn::open(&drive), &auth, total);

    drive.set_faults(only(Fault::ResetMidBody));
    let mut conn = Conn::open(&drive);
    let kind = put_chunk(&mut conn, &session, &content, 0, total).map(|r| r.status);
    let kind = kind.expect_err("no answer after a reset").kind();
    assert!(
        matches!(
            kind,
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{kind:?}"
    );
    // Without a body: reset at once, no answer.
    let reply = Conn::open(&drive).send("GET", "drive/v3/about", &[("Authorization", &auth)], b"");
    let kind = reply.map(|r| r.status).expect_err("no answer").kind();
    assert_eq!(kind, io::ErrorKind::ConnectionReset);

    drive.set_faults(Faults::default());
    let mut conn = Conn::open(&drive);
    let status = status_query(&mut conn, &session, total);
    assert_eq!(
        (status.status, status.header("Range")),
        (308, Some("bytes=0-524287"))
    );
    // The token endpoint is never faulted.
    drive.set_faults(only(Fault::ResetMidBody));
    assert_eq!(refresh(&mut conn, &drive.valid_refresh_token()).status, 200);
}

#[test]
fn simple_faults_answer_like_drive() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let mut conn = Conn::open(&drive);
    let about = |conn: &mut Conn| {
        conn.send("GET", "drive/v3/about", &[("Authorization", &auth)], b"")
            .unwrap()
    };

    drive.set_faults(only(Fault::TooManyRequests));
    let reply = about(&mut conn);
    assert_eq!(
        (reply.status, reply.header("Retry-After")),
        (429, Some("1"))
    );
    drive.set_faults(only(Fault::RateLimited));
    assert_eq!(
        (about(&mut conn).reason(), about(&mut conn).reason()),
        ("userRateLimitExceeded".into(), "rateLimitExceeded".into())
    );
    drive.set_faults(only(Fault::ServerError));
    assert_eq!(
        (about(&mut conn).status, about(&mut conn).status),
        (500, 503)
    );

    drive.set_faults(Faults {
        fail_ratio: 0.5,
        seed: 42,
        kinds: vec![Fault::ServerError],
    });
    let failed = (0..200).filter(|_| about(&mut conn).status != 200).count();
    assert!((60..140).contains(&failed), "{failed}");

    drive.set_faults(Faults::default());
    drive.set_quota_exceeded(true);
    let ct = "multipart/related; boundary=b";
    let create = |conn: &mut Conn| {
        conn.send(
            "POST",
            "upload/drive/v3/files?uploadType=multipart",
            &[("Authorization", &auth), ("Content-Type", ct)],
            &multipart("b", r#"{"name":"x"}"#, b"hello"),
        )
        .unwrap()
    };
    let full = create(&mut conn);
    assert_eq!(
        (full.status, full.reason()),
        (403, "storageQuotaExceeded".to_owned())
    );
    drive.set_quota_exceeded(false);
    drive.corrupt_next_uploads(1);
    let stored = create(&mut conn);
    assert_ne!(stored.json()["md5Checksum"], md5_hex(b"hello").as_str());
    assert_eq!(
        create(&mut conn).json()["md5Checksum"],
        md5_hex(b"hello").as_str()
    );

    let junk = Conn::open(&drive)
        .send_raw(b"NOT HTTP AT ALL\r\n\r\n")
        .unwrap();
    assert_eq!(junk.status, 400);
    let bad_length = Conn::open(&drive)
        .send_raw(b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
        .unwrap();
    assert_eq!(bad_length.status, 400);
}

#[test]
fn held_chunks_wait_until_released() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let content = data(2 * KIB256);
    let total = content.len();
    let session = start_session(&mut Conn::open(&drive), &auth, total);

    let hold = drive.hold_uploads();
    let (tx, rx) = mpsc::channel();
    let mut conn = Conn::open(&drive);
    let first = content[..KIB256].to_vec();
    let sender = thread::spawn(move || {
        let reply = put_chunk(&mut conn, &session, &first, 0, total).map(|r| r.status);
        let _ = tx.send(reply.ok());
    });
    assert!(drive.wait_for_session_bytes(KIB256 as u64, Duration::from_secs(5)));
    assert!(!drive.wait_for_session_bytes(KIB256 as u64 + 1, Duration::from_millis(20)));
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "answered while held"
    );
    drop(hold);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Some(308));
    sender.join().unwrap();
}

#[test]
fn odd_input_gets_400_and_the_fake_keeps_working() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let odd: [&[u8]; 8] = [
        b"GET /drive/v3/about HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /drive/v3/about HTTP/2\r\n\r\n",
        b"GET /drive/%zz HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nX: \xff\xfe\r\n\r\n",
        b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
        b"POST /token HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"PUT /upload-session/x HTTP/1.1\r\nContent-Range: bytes 9-3/2\r\n\r\n",
    ];
    for request in odd {
        let reply = Conn::open(&drive).send_raw(request).unwrap();
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(request));
    }
    let mut conn = Conn::open(&drive);
    let bad_meta = conn
        .send(
            "POST",
            "upload/drive/v3/files?uploadType=resumable",
            &[("Authorization", &auth)],
            b"{\"name\": 5}",
        )
        .unwrap();
    assert_eq!(bad_meta.status, 400);
    let gap = {
        let session = start_session(&mut conn, &auth, 10);
        put_chunk(&mut conn, &session, b"abc", 5, 10).unwrap()
    };
    assert_eq!(gap.status, 400);
    let about = conn
        .send("GET", "drive/v3/about", &[("Authorization", &auth)], b"")
        .unwrap();
    assert_eq!(about.status, 200);
}

#[test]
fn creates_take_generated_ids_once_and_say_409_after() {
    let drive = FakeDrive::start();
    let auth = bearer(&drive.access_token());
    let mut conn = Conn::open(&drive);
    let reply = conn
        .send(
            "GET",
            "drive/v3/files/generateIds?count=3&space=drive",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(reply.status, 200);
    let generated = reply.json();
    assert_eq!(
        (&generated["kind"], &generated["space"]),
        (&Value::from("drive#generatedIds"), &Value::from("drive"))
    );
    let ids: Vec<String> = generated["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    let too_many = conn
        .send(
            "GET",
            "drive/v3/files/generateIds?count=1001",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(too_many.status, 400);

    let ct = "multipart/related; boundary=b";
    let create = |conn: &mut Conn, id: &str| {
        let meta = format!(r#"{{"id":"{id}","name":"colmap","parents":["root"]}}"#);
        conn.send(
            "POST",
            "upload/drive/v3/files?uploadType=multipart",
            &[("Authorization", &auth), ("Content-Type", ct)],
            &multipart("b", &meta, b"hello"),
        )
        .unwrap()
    };
    let made = create(&mut conn, &ids[0]);
    assert_eq!(made.status, 200);
    assert_eq!(made.json()["id"], ids[0].as_str());
    let again = create(&mut conn, &ids[0]);
    assert_eq!(
        (again.status, again.reason()),
        (409, "fileIdInUse".to_owned())
    );
    assert_eq!(
        again.json()["error"]["message"],
        "A file already exists with the provided ID."
    );
    let unknown = create(&mut conn, "1notgenerated");
    assert_eq!(unknown.status, 400);
    assert_eq!(drive.files().len(), 1);

    // The file the 409 is about, by id.
    let got = conn
        .send(
            "GET",
            &format!("drive/v3/files/{}?fields=id,name", ids[0]),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["name"], "colmap");

    // A metadata-only create and a resumable session take ids too.
    let folder = format!(
        r#"{{"id":"{}","name":"f","mimeType":"application/vnd.google-apps.folder"}}"#,
        ids[1]
    );
    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let made = conn
        .send("POST", "drive/v3/files", &json, folder.as_bytes())
        .unwrap();
    assert_eq!(
        (made.status, made.json()["id"].clone()),
        (200, Value::from(ids[1].as_str()))
    );
    let taken = conn
        .send("POST", "drive/v3/files", &json, folder.as_bytes())
        .unwrap();
    assert_eq!(taken.status, 409);
    let session_meta = format!(r#"{{"id":"{}","name":"a.jpg"}}"#, ids[0]);
    let session = conn
        .send(
            "POST",
            "upload/drive/v3/files?uploadType=resumable",
            &json,
            session_meta.as_bytes(),
        )
        .unwrap();
    assert_eq!(
        (session.status, session.reason()),
        (409, "fileIdInUse".to_owned())
    );

    // Faults apply to generateIds like to any request.
    drive.set_faults(only(Fault::ServerError));
    let failed = conn
        .send(
            "GET",
            "drive/v3/files/generateIds?count=1",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap();
    assert_eq!(failed.status, 500);
}
