//! A real SFTP server for the tests: OpenSSH's sshd (Debian's
//! openssh-server) run as the test's own user on loopback, from a config,
//! host key and client key generated in a temp folder, with its internal
//! SFTP server. Without sshd a test says so and skips, unless
//! `SFTP_REQUIRED` is set (as in CI).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; stopped when dropped.
pub struct Sshd {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The user it lets in: the test's own.
    pub user: String,
    dir: TempDir,
}

impl Sshd {
    /// Starts sshd, or `None` (and a line saying why) when it is not
    /// installed and `SFTP_REQUIRED` is not set.
    pub fn start() -> Option<Sshd> {
        if !Path::new(SSHD).is_file() {
            assert!(
                std::env::var_os("SFTP_REQUIRED").is_none(),
                "SFTP_REQUIRED is set but {SSHD} is missing: run .ci/deps"
            );
            eprintln!("skipped: no SFTP server ({SSHD} is missing; apt install openssh-server)");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("client_key"));
        std::fs::copy(
            dir.path().join("client_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .expect("authorized_keys");
        std::fs::create_dir(dir.path().join("scans")).expect("the folder");
        let user = run("id", &["-un"]).trim().to_owned();
        if run("id", &["-u"]).trim() == "0" {
            // sshd started by root separates privileges into this folder,
            // which a system without a running sshd may lack.
            std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        }
        // sshd cannot listen on port 0 and say which port it got: a port
        // free a moment ago is taken, and another tried if sshd cannot
        // bind it (someone took it in between).
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            if let Some(child) = listen(dir.path(), port) {
                return Some(Sshd {
                    child,
                    port,
                    user,
                    dir,
                });
            }
        }
        panic!("sshd could not listen on any of five free ports");
    }

    /// The folder scans go in (absolute, so the user's home does not
    /// matter).
    pub fn served(&self) -> PathBuf {
        self.dir.path().join("scans")
    }

    /// The client's private key, which the server takes.
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// The server's known_hosts line.
    pub fn known_host(&self) -> String {
        self.known_host_at(self.port)
    }

    /// Its known_hosts line for another port of 127.0.0.1 (a proxy's).
    pub fn known_host_at(&self, port: u16) -> String {
        host_line(port, &self.dir.path().join("host_key.pub"))
    }

    /// The server's host key's fingerprint, as `ssh-keygen -l` shows it.
    pub fn fingerprint(&self) -> String {
        let path = self.dir.path().join("host_key.pub");
        let out = run("ssh-keygen", &["-l", "-f", &path.display().to_string()]);
        out.split_whitespace()
            .nth(1)
            .expect("fingerprint")
            .to_owned()
    }
}

/// A known_hosts line for the public key in `public` at 127.0.0.1:`port`.
pub fn host_line(port: u16, public: &Path) -> String {
    let key = std::fs::read_to_string(public).expect("public key");
    let mut parts = key.split_whitespace();
    let (kind, blob) = (parts.next().expect("type"), parts.next().expect("key"));
    format!("[127.0.0.1]:{port} {kind} {blob}\n")
}

/// Makes an ed25519 key pair without a passphrase at `path` (and `.pub`).
pub fn keygen(path: &Path) {
    let p = path.display().to_string();
    run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", &p]);
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("text")
}

/// Starts sshd on `port`: the child once it listens, `None` when it could
/// not bind.
fn listen(dir: &Path, port: u16) -> Option<Child> {
    let config = dir.join("sshd_config");
    let d = dir.display();
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nPubkeyAuthentication yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
        ),
    )
    .expect("sshd_config");
    let mut child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sshd");
    // Its log, line by line, for as long as it runs.
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("sshd: {line}");
            let _ = tx.send(line);
        }
    });
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.contains("Server listening on") => return Some(child),
            Ok(line) if line.contains("Bind to port") || line.contains("Cannot bind") => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("sshd did not start listening: {e}");
            }
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
