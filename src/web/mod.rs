//! The daemon's web side (actix-web, beside the actors): one page for a
//! phone ([`assets`]), a REST API under `/api/v1` described by an OpenAPI
//! document, server-sent events, thumbnails and a live camera preview.
//!
//! Bound to loopback by default, where it needs no token. Listening on the
//! network, every API call and the event stream must carry the access token
//! (`Authorization: Bearer …`, or `?token=` where a browser cannot send a
//! header: the event stream, images). The page itself holds no secret.
//! Buttons and the page drive the same supervisor messages.

mod api;
mod archive;
mod check;
pub(crate) mod checks;
mod devices;
pub(crate) mod error;
mod events;
mod guard;
mod history;
mod policy;
mod redact;
mod streams;
mod thumbnail;

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::settings::Settings;
use actix::Addr;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
pub(crate) use events::describe;
use events::Hub;
pub(crate) use redact::Redactor;
use scanrig_actors::manual::ManualActor;
use scanrig_actors::supervisor::{Manual, Supervisor};
use scanrig_hardware::fsutil::DurableFile;
use slog::{info, Logger};

/// How many thumbnails are kept for the page.
const THUMBNAILS: usize = 24;

/// A thumbnail: scan, photo name, JPEG.
type Thumbnail = (String, String, Arc<Vec<u8>>);

/// What every request handler shares.
pub struct Shared {
    /// The supervisor.
    pub sup: Addr<Supervisor>,
    /// The rig by hand.
    pub manual: Addr<ManualActor>,
    /// The rig's settings (profiles, spool).
    pub settings: Settings,
    /// The access token every API call must carry, when one is needed.
    pub token: Option<String>,
    /// Live events for the event streams.
    hub: Hub,
    /// The event and preview streams open.
    slots: streams::Slots,
    /// What the page is not shown.
    redact: redact::Redactor,
    /// The latest thumbnails: (scan, name, JPEG), newest last.
    pub thumbs: Mutex<VecDeque<Thumbnail>>,
    /// The daemon's log.
    pub log: Logger,
}

impl Shared {
    /// Keeps a thumbnail, forgetting the oldest beyond [`THUMBNAILS`].
    pub fn keep_thumbnail(&self, scan: &str, name: &str, jpeg: Vec<u8>) {
        let mut thumbs = self.thumbs.lock().unwrap_or_else(|e| e.into_inner());
        thumbs.retain(|(s, n, _)| !(s == scan && n == name));
        thumbs.push_back((scan.to_owned(), name.to_owned(), Arc::new(jpeg)));
        while thumbs.len() > THUMBNAILS {
            thumbs.pop_front();
        }
    }

    /// A kept thumbnail.
    pub fn thumbnail(&self, scan: &str, name: &str) -> Option<Arc<Vec<u8>>> {
        let thumbs = self.thumbs.lock().unwrap_or_else(|e| e.into_inner());
        thumbs
            .iter()
            .find(|(s, n, _)| s == scan && n == name)
            .map(|(_, _, j)| j.clone())
    }
}

/// The running web side.
pub struct WebServer {
    handle: actix_web::dev::ServerHandle,
    /// The address it listens on.
    pub addr: SocketAddr,
}

impl WebServer {
    /// Stops accepting, lets requests in flight finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Whether `addr` can only be reached from this machine.
fn loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The access token: `web.token`, or else the one kept in the state folder,
/// made (32 random hex digits, mode 0600) if there is none yet.
pub fn token(settings: &Settings) -> anyhow::Result<String> {
    if !settings.web.token.is_empty() {
        return Ok(settings.web.token.clone());
    }
    let path = settings.state_dir().join("web-token");
    match std::fs::read_to_string(&path) {
        Ok(t) if t.trim().len() >= 16 => return Ok(t.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let token = random_token()?;
    store_token(&path, &token)
        .with_context(|| format!("cannot keep the web token in {}", path.display()))?;
    Ok(token)
}

fn random_token() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(scanrig_hardware::fsutil::hex(&bytes))
}

fn store_token(path: &Path, token: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = DurableFile::create_private(path)?;
    io::Write::write_all(&mut file, format!("{token}\n").as_bytes())?;
    file.commit().map(drop)
}

/// Starts the web side on the current actix system, if `web.listen` is set.
pub async fn start(
    settings: &Settings,
    sup: Addr<Supervisor>,
    log: &Logger,
) -> anyhow::Result<Option<WebServer>> {
    if settings.web.listen.is_empty() {
        return Ok(None);
    }
    let wanted: SocketAddr = settings
        .web
        .listen
        .parse()
        .with_context(|| format!("web.listen {:?} is not an address", settings.web.listen))?;
    let listener = TcpListener::bind(wanted)
        .with_context(|| format!("cannot listen on {wanted} (web.listen)"))?;
    let addr = listener.local_addr()?;
    let token = if loopback(&addr) {
        None
    } else {
        Some(token(settings)?)
    };
    let manual = sup
        .send(Manual)
        .await
        .context("cannot reach the supervisor")?;
    let shared = Arc::new(Shared {
        sup: sup.clone(),
        manual,
        settings: settings.clone(),
        token,
        hub: Hub::new(redact::Redactor::new(settings)),
        redact: redact::Redactor::new(settings),
        slots: streams::Slots::default(),
        thumbs: Mutex::new(VecDeque::new()),
        log: log.new(slog::o!("part" => "web")),
    });
    let progress = scanrig_actors::supervisor::progress(&sup)
        .await
        .context("cannot subscribe to the supervisor")?;
    actix::spawn(events::pump(shared.clone(), progress));
    let data = web::Data::from(shared.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(error::json_config())
            .app_data(error::query_config())
            .service(
                web::scope("/api/v1")
                    .wrap(from_fn(redact::answers))
                    .wrap(from_fn(guard::require_token))
                    .configure(api::routes),
            )
            .configure(assets::routes)
            .default_service(web::to(policy::not_found))
            .wrap(policy::headers())
            .wrap(from_fn(policy::log_refusals))
    })
    .on_connect(streams::on_connect)
    .workers(2)
    .disable_signals()
    // Event and preview streams never end by themselves: on exit they are
    // cut after this long.
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix::spawn(async move {
        let _ = server.await;
    });
    let url = format!("http://{addr}/");
    match &shared.token {
        None => info!(log, "web UI listening"; "url" => &url),
        Some(_) => {
            info!(log, "web UI listening; open it with the token shown by `scanrig web token`"; "url" => &url)
        }
    }
    Ok(Some(WebServer { handle, addr }))
}

/// The page, built into the binary.
mod assets {
    use actix_web::{web, HttpResponse};

    use super::policy::Endpoint;

    const HTML: &str = "text/html; charset=utf-8";
    const SCRIPT: &str = "text/javascript; charset=utf-8";
    const STYLE: &str = "text/css; charset=utf-8";
    const SVG: &str = "image/svg+xml";

    /// Each file's path, type and text.
    const FILES: [(&str, &str, &str); 12] = [
        ("/", HTML, include_str!("assets/index.html")),
        ("/app.css", STYLE, include_str!("assets/app.css")),
        ("/app.js", SCRIPT, include_str!("assets/app.js")),
        ("/coverage.js", SCRIPT, include_str!("assets/coverage.js")),
        ("/photos.js", SCRIPT, include_str!("assets/photos.js")),
        ("/rig.js", SCRIPT, include_str!("assets/rig.js")),
        ("/lights.js", SCRIPT, include_str!("assets/lights.js")),
        ("/check.js", SCRIPT, include_str!("assets/check.js")),
        ("/history.js", SCRIPT, include_str!("assets/history.js")),
        (
            "/connection.js",
            SCRIPT,
            include_str!("assets/connection.js"),
        ),
        ("/status.js", SCRIPT, include_str!("assets/status.js")),
        ("/favicon.svg", SVG, include_str!("assets/favicon.svg")),
    ];

    pub(super) fn routes(cfg: &mut web::ServiceConfig) {
        for (path, kind, body) in FILES {
            let answer = move || async move {
                HttpResponse::Ok()
                    .content_type(kind)
                    .insert_header(("Cache-Control", "no-cache"))
                    .body(body)
            };
            cfg.service(Endpoint::new(path).get_head(answer).done());
        }
    }
}
