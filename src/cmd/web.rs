//! `scanrig web token`: the web page's access token and the address to open.

use std::process::ExitCode;

use super::Failure;
use crate::settings::Settings;

/// What to tell about the web page.
#[derive(Debug, clap::Subcommand)]
pub enum WebCommand {
    /// Print the access token and the address to open on a phone (making
    /// the token if there is none yet).
    Token,
}

/// Tells what `command` asks about the web page.
pub fn run(settings: &Settings, command: WebCommand) -> Result<ExitCode, Failure> {
    match command {
        WebCommand::Token => token(settings)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the token (making one if needed) and where to open the page.
fn token(settings: &Settings) -> anyhow::Result<()> {
    let listen = &settings.web.listen;
    if listen.is_empty() {
        anyhow::bail!("the web page is off (web.listen is empty); set web.listen = \"0.0.0.0:8080\" to turn it on");
    }
    let token = crate::web::token(settings)?;
    let addr: std::net::SocketAddr = listen.parse()?;
    println!("{token}");
    if addr.ip().is_loopback() {
        println!(
            "the web page listens on {addr}, reachable from this machine only, and needs no token there; \
             to open it on a phone set web.listen = \"0.0.0.0:{}\"",
            addr.port()
        );
    } else {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "this-machine".into());
        println!("open http://{host}:{}/?token={token}", addr.port());
    }
    Ok(())
}
