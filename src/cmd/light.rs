//! `scanrig light NAME on|off|PCT`: sets a light of the daemon running on this machine, through its REST API (the daemon owns the pins).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

use super::Failure;
use crate::settings::Settings;

/// The brightness `word` asks for: `on` (100), `off` (0) or a percent.
fn percent(word: &str) -> Result<i64, Failure> {
    let percent = match word {
        "on" => 100,
        "off" => 0,
        p => p.trim_end_matches('%').parse::<i64>().map_err(|_| {
            Failure::Usage(format!(
                "`{word}` is no brightness: give on, off or a percent from 0 to 100"
            ))
        })?,
    };
    crate::remote::brightness(percent).map_err(Failure::Usage)?;
    Ok(percent)
}

/// Where on this machine the daemon's API answers: the address it
/// listens on, loopback for an unspecified one.
fn daemon_address(settings: &Settings) -> Result<SocketAddr, Failure> {
    let listen = &settings.web.listen;
    if listen.is_empty() {
        return Err(Failure::Usage(
            "the daemon's web side is off (web.listen is empty), and `scanrig light` asks the daemon through it; set web.listen = \"127.0.0.1:8080\" (or \"0.0.0.0:8080\") and restart the daemon".into(),
        ));
    }
    let mut addr: SocketAddr = listen
        .parse()
        .map_err(|_| Failure::Usage(format!("web.listen {listen:?} is not an address")))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Ok(addr)
}

/// Sets the light `name` as `word` says and prints every light.
pub fn run(settings: &Settings, name: &str, word: &str) -> Result<ExitCode, Failure> {
    let percent = percent(word)?;
    if !crate::settings::valid_light_name(name) {
        let known: Vec<&str> = settings.lights.iter().map(|l| l.name.as_str()).collect();
        return Err(Failure::Usage(format!(
            "there is no light named `{name}`; the lights are: {}",
            known.join(", ")
        )));
    }
    let addr = daemon_address(settings)?;
    let token = crate::web::token(settings)?;
    let (status, json) = ask(addr, name, &token, percent)?;
    match status {
        200 => {
            for light in json["lights"].as_array().into_iter().flatten() {
                println!(
                    "{}: {} %",
                    light["name"].as_str().unwrap_or("?"),
                    light["brightness"]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        400 | 404 => Err(Failure::Usage(error_words(&json, status))),
        _ => Err(anyhow::anyhow!("the daemon refused: {}", error_words(&json, status)).into()),
    }
}

/// POSTs the brightness to the daemon; its answer's status and JSON.
fn ask(addr: SocketAddr, name: &str, token: &str, percent: i64) -> anyhow::Result<(u16, Value)> {
    let body = json!({ "brightness": percent }).to_string();
    let request = format!(
        "POST /api/v1/lights/{name} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).with_context(|| {
            format!("cannot reach the daemon at {addr} (is `scanrig daemon` running?)")
        })?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .context("the daemon's answer was cut off")?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    Ok((status, json))
}

fn error_words(json: &Value, status: u16) -> String {
    json["error"]
        .as_str()
        .map_or_else(|| format!("HTTP {status}"), str::to_owned)
}
