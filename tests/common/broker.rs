//! A real Mosquitto broker for one test, on a free loopback port, with a
//! password file and an ACL that lets each rig write only its own topics
//! (the same rules as deploy/mosquitto/), and MQTT clients to watch and
//! steer it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use tempfile::TempDir;

/// The users every broker knows, beside the rigs: `studio` steers every
/// rig, `viewer` may only read.
pub const STUDIO: &str = "studio";
pub const VIEWER: &str = "viewer";

/// A user's password in these tests.
pub fn password(user: &str) -> String {
    format!("pw-{user}")
}

/// A Mosquitto process and its files.
pub struct Broker {
    dir: TempDir,
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// The persistence settings of deploy/mosquitto/scanrig.conf.
fn shipped_persistence() -> String {
    let conf = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto/scanrig.conf"),
    )
    .expect("deploy/mosquitto/scanrig.conf");
    conf.lines()
        .filter(|l| l.starts_with("persistence ") || l.starts_with("autosave_"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Where Debian puts the broker.
fn mosquitto() -> Option<PathBuf> {
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

impl Broker {
    /// Starts a broker knowing `rigs`; `None` (the test is skipped) when
    /// Mosquitto is not installed, unless `MQTT_REQUIRED` is set.
    pub fn start(rigs: &[&str]) -> Option<Broker> {
        if mosquitto().is_none() {
            assert!(
                std::env::var_os("MQTT_REQUIRED").is_none(),
                "mosquitto is not installed (apt install mosquitto, or .ci/deps)"
            );
            eprintln!("skipped: mosquitto is not installed");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let users: Vec<&str> = rigs.iter().copied().chain([STUDIO, VIEWER]).collect();
        let passwd = dir.path().join("passwd");
        let plain: String = users
            .iter()
            .map(|u| format!("{u}:{}\n", password(u)))
            .collect();
        std::fs::write(&passwd, plain).expect("password file");
        let hashed = Command::new("mosquitto_passwd")
            .arg("-U")
            .arg(&passwd)
            .status()
            .expect("mosquitto_passwd runs");
        assert!(hashed.success(), "mosquitto_passwd -U failed");
        let acl = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto/acl"),
        )
        .expect("deploy/mosquitto/acl");
        std::fs::write(dir.path().join("acl"), acl).expect("acl");
        std::fs::create_dir(dir.path().join("data")).expect("data folder");
        let root = unsafe { libc::geteuid() } == 0;
        let config = format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {d}/passwd\nacl_file {d}/acl\n\
             {persistence}persistence_location {d}/data/\nset_tcp_nodelay true\nlog_dest stderr\n{user}",
            d = dir.path().display(),
            persistence = shipped_persistence(),
            user = if root { "user root\n" } else { "" },
        );
        std::fs::write(dir.path().join("mosquitto.conf"), config).expect("config");
        let mut broker = Broker {
            dir,
            child: None,
            port,
        };
        broker.run();
        Some(broker)
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Starts the process (again) and waits until it takes connections.
    pub fn run(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("mosquitto.log")).expect("log");
        let child = Command::new(mosquitto().expect("mosquitto"))
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        super::wait_for("the broker to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
    }

    /// Stops the process with `signal` and waits for it (SIGTERM: it saves
    /// its sessions; SIGKILL: it dies).
    pub fn halt(&mut self, signal: i32) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc::kill(child.id() as i32, signal) };
            let _ = child.wait();
        }
    }

    /// When the broker last saved its state (sessions, retained
    /// messages) to disk, if it has.
    pub fn saved_at(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.dir.path().join("data/mosquitto.db"))
            .and_then(|m| m.modified())
            .ok()
    }

    /// What the broker logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// The `[mqtt]` section of rig `name`: its own user, a password file
    /// of mode 0600 in `dir`.
    pub fn rig_config(&self, name: &str, dir: &Path, extra: &str) -> String {
        let file = dir.join(format!("mqtt-password-{name}"));
        std::fs::write(&file, format!("{}\n", password(name))).expect("password file");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        format!(
            "[mqtt]\nbroker = \"{}\"\nrig = \"{name}\"\nusername = \"{name}\"\npassword_file = \"{}\"\nkeep_alive_s = 5\n{extra}\n",
            self.url(),
            file.display()
        )
    }

    /// A client of `user`, subscribed to `topics`; what arrives is read
    /// from [`Client::messages`].
    pub fn client(&self, user: &str, topics: &[&str]) -> TestClient {
        let id = format!(
            "test-{user}-{}",
            CLIENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut opts = MqttOptions::new(id, "127.0.0.1", self.port);
        opts.set_credentials(user, password(user))
            .set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = Client::new(opts, 64);
        for t in topics {
            client.subscribe(*t, QoS::AtLeastOnce).expect("subscribe");
        }
        let (tx, messages) = mpsc::channel();
        let (acked_tx, acked) = mpsc::channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let text = String::from_utf8_lossy(&p.payload).into_owned();
                        if tx
                            .send(Message {
                                topic: p.topic,
                                text,
                                retain: p.retain,
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_) | Packet::PubAck(_))) => {
                        let _ = acked_tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        });
        // Subscribed before the test goes on.
        for _ in topics {
            acked
                .recv_timeout(Duration::from_secs(10))
                .expect("the broker acknowledges the subscription");
        }
        TestClient {
            client,
            messages,
            acked,
        }
    }
}

static CLIENTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Broker {
    fn drop(&mut self) {
        self.halt(libc::SIGKILL);
    }
}

/// A message received.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub text: String,
    pub retain: bool,
}

impl Message {
    /// Its payload as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.topic, self.text))
    }
}

/// A test's MQTT client.
pub struct TestClient {
    client: Client,
    messages: mpsc::Receiver<Message>,
    acked: mpsc::Receiver<()>,
}

impl TestClient {
    /// Publishes QoS 1 and waits for the broker's acknowledgement.
    pub fn publish(&self, topic: &str, retain: bool, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .expect("publish");
        self.acked
            .recv_timeout(Duration::from_secs(10))
            .expect("the broker acknowledges the message");
    }

    /// The first message for which `pick` is true, within `within`;
    /// messages before it are passed over.
    pub fn wait(
        &self,
        what: &str,
        within: Duration,
        pick: impl FnMut(&Message) -> bool,
    ) -> Message {
        self.try_wait(within, pick)
            .unwrap_or_else(|| panic!("no message {what} within {within:?}"))
    }

    /// The first message for which `pick` is true, or `None` if none comes
    /// within `within`.
    pub fn try_wait(
        &self,
        within: Duration,
        mut pick: impl FnMut(&Message) -> bool,
    ) -> Option<Message> {
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) if pick(&m) => return Some(m),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Every message that arrives within `within`.
    pub fn gather(&self, within: Duration) -> Vec<Message> {
        let end = Instant::now() + within;
        let mut out = Vec::new();
        while let Ok(m) = self
            .messages
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            out.push(m);
        }
        out
    }
}
