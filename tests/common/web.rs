//! The daemon with its web side, for the tests of the REST API.

use super::{ring_profile, Rig, Running, DEADLINE};

/// A daemon on the simulated rig (no tilt motor, unless `extra`, TOML
/// merged on top, gives one) with its web side on a free port of
/// `listen`'s address; returns it and its base URL.
pub fn web_daemon(listen: &str, extra: &str) -> (Rig, Running, String) {
    let base = format!(
        "[web]\nlisten = \"{listen}\"\n[daemon]\nprofile = \"api\"\n[tilt]\nbackend = \"none\"\n"
    );
    let mut table: toml::Table = base.parse().expect("base");
    super::merge(&mut table, &extra.parse().expect("extra is TOML"));
    let rig = Rig::with(&table.to_string());
    rig.profile("api", &ring_profile(6, 5));
    let (daemon, base) = serve(&rig);
    (rig, daemon, base)
}

/// Starts `rig`'s daemon (again): it and its API's base address.
pub fn serve(rig: &Rig) -> (Running, String) {
    let mut daemon = rig.spawn(&["daemon"]);
    daemon.wait_for_stderr("ready; press Start", DEADLINE);
    let stderr = daemon.stderr();
    let port = stderr
        .split("url: http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|hostport| hostport.rsplit(':').next())
        .unwrap_or_else(|| panic!("no web URL logged:\n{stderr}"))
        .to_owned();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    (daemon, base)
}

/// An error answer's status, code and words.
pub fn error_of(reply: &super::http::Reply) -> (u16, String, String) {
    let v = reply.json();
    (
        reply.status,
        v["code"].as_str().unwrap_or_default().to_owned(),
        v["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The state of each shot of `scan`, as `GET /scans/{id}/shots` lists them.
pub fn shot_states(base: &str, scan: &str) -> Vec<String> {
    let shots = super::http::get(&format!("{base}/scans/{scan}/shots")).json();
    shots["shots"]
        .as_array()
        .expect("a list of shots")
        .iter()
        .map(|s| s["state"].as_str().expect("a state").to_owned())
        .collect()
}

/// Stops the daemon as systemd would; it must exit cleanly.
pub fn stop(daemon: Running) {
    daemon.signal(libc::SIGTERM);
    daemon.wait(DEADLINE).expect_code(0);
}

/// Asserts that an answer carries the security headers every answer has.
pub fn assert_rules(reply: &super::http::Reply) {
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
}
