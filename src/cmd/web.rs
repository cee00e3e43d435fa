//! `scanrig web token`: the web page's access token and the address to open.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::Path;
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
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let mdns = Path::new(AVAHI_SOCKET).exists();
        let host = phone_host(addr.ip(), hostname.trim(), mdns, lan_address());
        println!("open http://{host}:{}/?token={token}", addr.port());
    }
    Ok(())
}

/// Avahi's socket: while it is there, Avahi answers for `<hostname>.local`.
const AVAHI_SOCKET: &str = "/run/avahi-daemon/socket";

/// The host a phone on the same network opens the page at: the address
/// listened on, when it is one; else `<hostname>.local` when Avahi answers
/// for it (mDNS); else this machine's address on the network; the bare
/// host name only when there is none (a phone seldom resolves it).
fn phone_host(listen: IpAddr, hostname: &str, mdns: bool, lan: Option<IpAddr>) -> String {
    let ip = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    if !listen.is_unspecified() {
        return ip(listen);
    }
    match (hostname, lan) {
        (name, _) if name.ends_with(".local") => name.to_owned(),
        (name, _) if mdns && !name.is_empty() && !name.contains('.') => format!("{name}.local"),
        (_, Some(lan)) => ip(lan),
        ("", None) => "this-machine".to_owned(),
        (name, None) => name.to_owned(),
    }
}

/// This machine's address on its network: the one its traffic leaves by.
fn lan_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // Connecting a UDP socket sends nothing: it only picks the route.
    socket.connect((Ipv4Addr::new(198, 51, 100, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_is_told_a_host_it_can_reach() {
        let any = IpAddr::from(Ipv4Addr::UNSPECIFIED);
        let lan = Some(IpAddr::from([192, 168, 1, 20]));
        assert_eq!(phone_host(any, "scanpi", true, lan), "scanpi.local");
        assert_eq!(phone_host(any, "scanpi", false, lan), "192.168.1.20");
        assert_eq!(phone_host(any, "scanpi.local", false, lan), "scanpi.local");
        assert_eq!(phone_host(any, "scanpi", false, None), "scanpi");
        let listen = IpAddr::from([10, 0, 0, 7]);
        assert_eq!(phone_host(listen, "scanpi", true, lan), "10.0.0.7");
        let v6 = "fd00::7".parse().unwrap();
        assert_eq!(phone_host(any, "scanpi", false, Some(v6)), "[fd00::7]");
    }
}
