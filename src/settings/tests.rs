//! Unit tests of the settings: the good paths, and a table of broken inputs
//! checked for the origin, key and reason of the problem reported.

use super::*;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Options reading `file` (if any) with only `env`, the spool under `tmp`.
fn opts(tmp: &Path, file: Option<&str>, env: &[(&str, &str)]) -> LoadOptions {
    let config_file = file.map(|text| {
        let path = tmp.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.push(("STATE_DIRECTORY".into(), tmp.display().to_string()));
    LoadOptions {
        config_file,
        system_file: tmp.join("no-such-system.toml"),
        env,
        not_utf8: Vec::new(),
    }
}

fn load_err(tmp: &Path, file: Option<&str>, env: &[(&str, &str)]) -> ConfigErrors {
    Settings::load(&opts(tmp, file, env)).expect_err("should fail")
}

#[test]
fn defaults_load_and_match_serde_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Settings::load(&opts(tmp.path(), None, &[])).unwrap();
    assert_eq!(
        s,
        Settings {
            fallback_spool: s.fallback_spool.clone(),
            sources: s.sources.clone(),
            ..Settings::default()
        }
    );
    assert_eq!(s.sources(), ["shipped defaults"]);
    assert_eq!(s.spool_dir(), tmp.path().join("spool"));
    assert!(tmp.path().join("spool").is_dir());
    assert_eq!(s.tilt.sim, SimAxis::tilt_default());
    assert_eq!(s.profiles.dirs, [PathBuf::from("/etc/scanrig/profiles")]);
    // Deserializing default.toml alone gives the same as the serde defaults.
    let direct: Settings = toml::from_str(DEFAULTS_TOML).unwrap();
    assert_eq!(direct, Settings::default());
    // The effective settings print as TOML (for check-config) and read back.
    let printed = toml::to_string(&s).unwrap();
    assert_eq!(
        toml::from_str::<Settings>(&printed).unwrap(),
        Settings::default()
    );
    // An empty document too.
    assert_eq!(toml::from_str::<Settings>("").unwrap(), Settings::default());
}

#[test]
fn user_file_overrides_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "[upload]\nworkers = 2\n[tilt]\nbackend = \"none\"\n[profiles]\ndirs = []\n[destination.local]\ndir = \"/srv/photos\"\n";
    let s = Settings::load(&opts(tmp.path(), Some(text), &[])).unwrap();
    assert_eq!((s.upload.workers, s.upload.queue), (2, 16));
    assert_eq!(s.tilt.backend, TiltBackend::None);
    assert!(s.profiles.dirs.is_empty());
    assert_eq!(s.destination.kind, DestinationKind::Local);
    assert_eq!(s.destination.local.dir, Path::new("/srv/photos"));
    assert_eq!(
        s.sources(),
        [
            "shipped defaults".to_string(),
            tmp.path().join("config.toml").display().to_string()
        ]
    );
}

#[test]
fn system_file_is_read_when_present() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(tmp.path(), None, &[]);
    o.system_file = tmp.path().join("system.toml");
    std::fs::write(&o.system_file, "[buttons]\nlong_press_ms = 900\n").unwrap();
    assert_eq!(Settings::load(&o).unwrap().buttons.long_press_ms, 900);
}

#[test]
fn env_overrides_file() {
    let tmp = tempfile::tempdir().unwrap();
    let env = [
        ("SCANRIG_UPLOAD__WORKERS", "3"),
        ("SCANRIG_LOG__LEVEL", "debug"),
        ("SCANRIG_PROFILES__DIRS", "/a:/b"),
        ("SCANRIG_TURNTABLE__SIM__MAX_SPEED_DPS", "90"),
        ("SCANRIG_DAEMON__PROFILE", "demo"),
        ("SCANRIG_SPOOL__KEEP_UPLOADED", "true"),
    ];
    let s = Settings::load(&opts(
        tmp.path(),
        Some("[upload]\nworkers = 2\nqueue = 8\n"),
        &env,
    ))
    .unwrap();
    assert_eq!((s.upload.workers, s.upload.queue), (3, 8));
    assert_eq!(s.log.level, LogLevel::Debug);
    assert_eq!(s.profiles.dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
    assert_eq!(s.turntable.sim.max_speed_dps, 90.0);
    assert_eq!(s.daemon.profile, "demo");
    assert!(s.spool.keep_uploaded);
    assert!(s
        .sources()
        .last()
        .unwrap()
        .starts_with("environment (SCANRIG_DAEMON__PROFILE, "));
}

#[test]
fn spool_dir_setting_and_fallbacks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my spool");
    let text = format!("[spool]\ndir = {:?}\n", dir.display().to_string());
    let s = Settings::load(&opts(tmp.path(), Some(&text), &[])).unwrap();
    assert_eq!(s.spool_dir(), dir);
    assert!(dir.is_dir());
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let all = env(&[
        ("HOME", "/h"),
        ("XDG_STATE_HOME", "/x"),
        ("STATE_DIRECTORY", "/s:/t"),
    ]);
    assert_eq!(fallback_spool(&all).0, Path::new("/s/spool"));
    assert_eq!(fallback_spool(&all[..2]).0, Path::new("/x/scanrig/spool"));
    assert_eq!(
        fallback_spool(&env(&[("HOME", "/h"), ("XDG_STATE_HOME", "rel")])).0,
        Path::new("/h/.local/state/scanrig/spool")
    );
    assert_eq!(fallback_spool(&[]).0, Path::new("/var/lib/scanrig/spool"));
}

/// Environment variables of a test case.
type Env = &'static [(&'static str, &'static str)];

/// (file text, env, origin: "file" or the variable, key, words in the reason)
type Case = (
    Option<&'static str>,
    Env,
    &'static str,
    &'static str,
    &'static [&'static str],
);

#[rustfmt::skip]
const BROKEN: &[Case] = &[
    (Some("bogus = 1\n"), &[], "file", "bogus", &["unknown key", "expected one of spool, destination"]),
    (Some("[upload]\nwrkers = 2\n"), &[], "file", "upload.wrkers", &["unknown key; expected one of workers, queue", "did you mean `workers`?"]),
    (Some("[camera.sim]\nwidht = 2\n"), &[], "file", "camera.sim.widht", &["unknown key", "width"]),
    (Some("[upload]\nworkers = \"four\"\n"), &[], "file", "upload.workers", &["wrong type", "string \"four\"", "whole number"]),
    (Some("[turntable.sim]\naccel_dps2 = true\n"), &[], "file", "turntable.sim.accel_dps2", &["wrong type", "number"]),
    (Some("[upload]\nworkers = 0\n"), &[], "file", "upload.workers", &["must be 1 to 16 workers, found 0"]),
    (Some("[upload]\nqueue = 5000\n"), &[], "file", "upload.queue", &["1 to 1000"]),
    (Some("[upload]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n"), &[], "file", "upload.retry_max_ms", &["at least upload.retry_initial_ms (5000)", "found 1000"]),
    (Some("[upload]\nretry_initial_ms = 90000\n"), &[], "file", "upload.retry_max_ms", &["at least upload.retry_initial_ms (90000)"]),
    (Some("[supervision]\nmax_restarts = 0\n"), &[], "file", "supervision.max_restarts", &["found 0"]),
    (Some("[supervision]\nbackoff_max_ms = 1\n"), &[], "file", "supervision.backoff_max_ms", &["at least supervision.backoff_initial_ms"]),
    (Some("[tilt.sim]\nmax_speed_dps = 0.0\n"), &[], "file", "tilt.sim.max_speed_dps", &["above 0"]),
    (Some("[camera.sim]\nwidth = 8\n"), &[], "file", "camera.sim.width", &["16 to 8192 pixels, found 8"]),
    (Some("[tilt.sim]\nshake_mm = 80.0\n"), &[], "file", "tilt.sim.shake_mm", &["0 to 50 millimetres, found 80"]),
    (Some("[camera.sim]\nslip_deg = 400.0\n"), &[], "file", "camera.sim.slip_deg", &["-180 to 180 degrees, found 400"]),
    (Some("[turntable]\nbackend = \"servo\"\n"), &[], "file", "turntable.backend", &["unknown value `servo`; expected sim or stepper"]),
    (Some("[tilt]\nmove = \"both\"\n"), &[], "file", "tilt.move", &["unknown value `both`; expected together or one_after_the_other"]),
    (Some("[log]\nlevel = \"loud\"\n"), &[], "file", "log.level", &["expected one of error, warn, info"]),
    (Some("[destination]\nkind = \"ftp\"\n"), &[], "file", "destination.kind", &["unknown value `ftp`; expected one of local, drive, s3, webdav, sftp"]),
    (Some("[destination]\ndir = \"x\"\n"), &[], "file", "destination.dir", &["unknown key", "kind"]),
    (Some("[destination.drive]\nchunk_kb = 1000\n"), &[], "file", "destination.drive.chunk_kb", &["multiple of 256", "found 1000"]),
    (Some("[destination.drive]\nretry_initial_ms = 10\nretry_max_ms = 5\n"), &[], "file", "destination.drive.retry_max_ms", &["at least destination.drive.retry_initial_ms (10)"]),
    (Some("[destination.drive]\napi_url = \"ftp://x/\"\n"), &[], "file", "destination.drive.api_url", &["http:// or https://"]),
    (Some("[destination.drive]\nfolder = \" / \"\n"), &[], "file", "destination.drive.folder", &["is empty"]),
    (Some("[destination]\nkind = \"drive\"\n[destination.drive]\nclient_secret = \"/nonexistent/client.json\"\n"), &[], "file", "destination.drive.client_secret", &["/nonexistent/client.json: not found", "TVs and Limited Input devices"]),
    (Some("[geometry]\nfocal_mm = 0.0\n"), &[], "file", "geometry.focal_mm", &["must be 0.1 to 10000 millimetres, found 0"]),
    (Some("[geometry]\ndistance_m = -0.5\n"), &[], "file", "geometry.distance_m", &["0 to 100 metres"]),
    (Some("[geometry]\ntable_turns = \"left\"\n"), &[], "file", "geometry.table_turns", &["unknown value `left`; expected counterclockwise or clockwise"]),
    (Some("[spool]\ncommit_delay_ms = 500\n"), &[], "file", "spool.commit_delay_ms", &["0 to 50 milliseconds"]),
    (Some("[moved]\nmax_changed = 4\n"), &[], "file", "moved.max_changed", &["above 0 and below 1", "found 4"]),
    (Some("[upload\nworkers = 1\n"), &[], "file", "", &["invalid TOML at line 1"]),
    (None, &[("SCANRIG_UPLOAD__WORKERS", "abc")], "SCANRIG_UPLOAD__WORKERS", "upload.workers", &["string \"abc\"", "whole number"]),
    (None, &[("SCANRIG_UPLOAD__NOPE", "1")], "SCANRIG_UPLOAD__NOPE", "upload.nope", &["unknown key; expected one of workers"]),
    (None, &[("SCANRIG_NOPE", "1")], "SCANRIG_NOPE", "nope", &["unknown key"]),
    (None, &[("SCANRIG_UPLOAD__WORKERS", "99")], "SCANRIG_UPLOAD__WORKERS", "upload.workers", &["1 to 16"]),
    (Some("[upload]\nworkers = 2\n"), &[("SCANRIG_UPLOAD__WORKERS", "-1")], "SCANRIG_UPLOAD__WORKERS", "upload.workers", &["-1"]),
];

#[test]
fn broken_inputs_name_origin_key_and_reason() {
    for (file, env, origin, key, words) in BROKEN {
        let tmp = tempfile::tempdir().unwrap();
        let err = load_err(tmp.path(), *file, env);
        let case = format!("case {file:?} {env:?}:\n{err}");
        assert_eq!(err.problems.len(), 1, "{case}");
        let p = &err.problems[0];
        let want_origin = match *origin {
            "file" => tmp.path().join("config.toml").display().to_string(),
            var => format!("environment {var}"),
        };
        assert_eq!(
            (p.origin.as_str(), p.key.as_str()),
            (want_origin.as_str(), *key),
            "{case}"
        );
        for w in *words {
            assert!(p.reason.contains(w), "{case}\nreason lacks {w:?}");
        }
    }
}

#[test]
fn missing_config_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(tmp.path(), None, &[]);
    o.config_file = Some(tmp.path().join("nope.toml"));
    let err = Settings::load(&o).unwrap_err();
    assert_eq!(
        err.problems[0].origin,
        tmp.path().join("nope.toml").display().to_string()
    );
    assert!(
        err.problems[0].reason.contains("check the --config path"),
        "{err}"
    );
}

#[test]
fn unwritable_spool_dir() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("afile"), "x").unwrap();
    let dir = tmp.path().join("afile/spool");
    let text = format!("[spool]\ndir = {:?}\n", dir.display().to_string());
    let err = load_err(tmp.path(), Some(&text), &[]);
    let p = err.for_key("spool.dir").expect("spool.dir problem");
    assert_eq!(
        p.origin,
        tmp.path().join("config.toml").display().to_string()
    );
    assert!(
        p.reason.contains("choose a writable folder") && p.reason.contains("afile/spool"),
        "{p}"
    );
    // Unset, the fallback folder is blamed with where it came from.
    let mut o = opts(tmp.path(), None, &[]);
    o.env = vec![(
        "STATE_DIRECTORY".into(),
        tmp.path().join("afile").display().to_string(),
    )];
    let err = Settings::load(&o).unwrap_err();
    assert_eq!(err.problems[0].origin, "shipped defaults");
    assert!(
        err.problems[0]
            .reason
            .contains("(from $STATE_DIRECTORY/spool)"),
        "{err}"
    );
}

#[test]
fn several_problems_reported_together() {
    let tmp = tempfile::tempdir().unwrap();
    let text =
        "[upload]\nwrkers = 1\nqueue = 0\nmax_attempts = \"x\"\n[camera.sim]\nwidth = 8\n[nope]\n";
    let env = [
        ("SCANRIG_UPLOAD__WORKERS", "abc"),
        ("SCANRIG_LOG__LEVEL", "warn"),
        ("SCANRIG_TILT__BACKEND", "arm"),
    ];
    let err = load_err(tmp.path(), Some(text), &env);
    let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
    for k in [
        "upload.wrkers",
        "upload.max_attempts",
        "nope",
        "upload.workers",
        "tilt.backend",
        "upload.queue",
        "camera.sim.width",
    ] {
        assert!(keys.contains(&k), "{k} missing from\n{err}");
    }
    assert_eq!(err.problems.len(), 7, "{err}");
    let shown = err.to_string();
    assert_eq!(shown.lines().count(), 7);
    let file = tmp.path().join("config.toml").display().to_string();
    assert!(
        shown.contains(&format!(
            "{file}: upload.queue: must be 1 to 1000 photos, found 0"
        )),
        "{shown}"
    );
    assert!(shown.contains("environment SCANRIG_TILT__BACKEND: tilt.backend: unknown value `arm`; expected one of none, sim, stepper"), "{shown}");
}

#[test]
fn a_refused_configuration_leaves_no_spool_folder_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state/scanrig/spool");
    let text = format!(
        "[spool]\ndir = {:?}\n[upload]\nworkers = 0\n",
        dir.display().to_string()
    );
    let err = load_err(tmp.path(), Some(&text), &[]);
    assert!(err.for_key("upload.workers").is_some(), "{err}");
    assert!(
        !tmp.path().join("state").exists(),
        "spool folders were left"
    );
    // Accepted, it is made.
    let text = format!("[spool]\ndir = {:?}\n", dir.display().to_string());
    Settings::load(&opts(tmp.path(), Some(&text), &[])).unwrap();
    assert!(dir.is_dir());
}

#[test]
fn origin_names_the_layer_that_set_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "[daemon]\nprofile = \"demo\"\n";
    let s = Settings::load(&opts(tmp.path(), Some(text), &[])).unwrap();
    let file = tmp.path().join("config.toml").display().to_string();
    assert_eq!(s.origin("daemon.profile"), file);
    assert_eq!(s.origin("upload.workers"), "shipped defaults");
    let env = [("SCANRIG_DAEMON__PROFILE", "demo")];
    let s = Settings::load(&opts(tmp.path(), Some(text), &env)).unwrap();
    assert_eq!(
        s.origin("daemon.profile"),
        "environment SCANRIG_DAEMON__PROFILE"
    );
}

#[test]
fn webdav_and_sftp_settings_are_checked_saying_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let password = tmp.path().join("password");
    std::fs::write(&password, "secret\n").unwrap();
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!(
        "[destination]\nkind = \"webdav\"\n[destination.webdav]\nurl = \"https://me:pw@nas/dav\"\npassword_file = {:?}\n",
        password.display().to_string()
    );
    let err = load_err(tmp.path(), Some(&text), &[]);
    let reasons: BTreeMap<&str, &str> = err
        .problems
        .iter()
        .map(|p| (p.key.as_str(), p.reason.as_str()))
        .collect();
    assert!(
        reasons["destination.webdav.url"].contains("user name or password"),
        "{err}"
    );
    assert!(
        reasons["destination.webdav.user"].contains("is empty"),
        "{err}"
    );
    assert!(
        reasons["destination.webdav.password_file"].contains("chmod 600"),
        "{err}"
    );
    assert!(!err.to_string().contains("secret"), "{err}");

    let text = "[destination]\nkind = \"sftp\"\n[destination.sftp]\nuser = \"scan\"\nport = 0\nprivate_key = \"/nowhere/key\"\nknown_hosts = \"/nowhere/known_hosts\"\n";
    let err = load_err(tmp.path(), Some(text), &[]);
    let reasons: BTreeMap<&str, &str> = err
        .problems
        .iter()
        .map(|p| (p.key.as_str(), p.reason.as_str()))
        .collect();
    assert!(
        reasons["destination.sftp.host"].contains("is empty"),
        "{err}"
    );
    assert!(
        reasons["destination.sftp.port"].contains("1 to 65535"),
        "{err}"
    );
    assert!(
        reasons["destination.sftp.private_key"].contains("ssh-keygen"),
        "{err}"
    );
    assert!(
        reasons["destination.sftp.known_hosts"].contains("ssh-keyscan"),
        "{err}"
    );
    // Not the destination: its files are not looked at.
    let text = "[destination.sftp]\nprivate_key = \"/nowhere/key\"\n";
    Settings::load(&opts(tmp.path(), Some(text), &[])).unwrap();
}

#[test]
fn several_destinations_load_each_named_and_a_bad_list_says_where_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let good = "[[destinations]]\nname = \"nas\"\nkind = \"local\"\n[destinations.local]\ndir = \"/srv/nas\"\n\n[[destinations]]\nname = \"offsite\"\nkind = \"local\"\n[destinations.local]\ndir = \"/mnt/usb\"\n";
    let s = Settings::load(&opts(tmp.path(), Some(good), &[])).unwrap();
    let names: Vec<_> = configured(&s).iter().map(|(n, d)| (*n, d.kind)).collect();
    assert_eq!(
        names,
        [
            (Some("nas"), DestinationKind::Local),
            (Some("offsite"), DestinationKind::Local)
        ]
    );
    assert_eq!(s.destinations[1].local.dir, Path::new("/mnt/usb"));
    // Without a list, [destination] alone, unnamed.
    let s = Settings::load(&opts(tmp.path(), None, &[])).unwrap();
    assert_eq!(configured(&s).len(), 1);
    assert_eq!(configured(&s)[0].0, None);

    let bad = "[[destinations]]\nname = \"nas\"\n\n[[destinations]]\nname = \"NAS\"\n\n[[destinations]]\nname = \"off site\"\nkind = \"s3\"\n";
    let err = load_err(tmp.path(), Some(bad), &[]);
    let file = tmp.path().join("config.toml").display().to_string();
    let twice = err
        .for_key("destinations[2].name")
        .expect("a name given twice");
    assert_eq!(twice.origin, file);
    assert!(
        twice.reason.contains("\"NAS\" names two destinations"),
        "{twice}"
    );
    let spaced = err.for_key("destinations[3].name").expect("a name unfit");
    assert!(
        spaced.reason.contains("1 to 32 letters, digits, - or _"),
        "{spaced}"
    );
    // Each destination's own settings are checked, under its own key.
    let bucket = err.for_key("destinations[3].s3.bucket").expect("no bucket");
    assert_eq!(bucket.origin, file);
    assert!(
        err.problems
            .iter()
            .all(|p| !p.key.starts_with("destinations[1]")),
        "the first destination is fine: {err}"
    );
    let same = "[[destinations]]\nname = \"a\"\n[destinations.local]\ndir = \"/srv\"\n[[destinations]]\nname = \"b\"\n[destinations.local]\ndir = \"/srv\"\n";
    let err = load_err(tmp.path(), Some(same), &[]);
    let twice = err.for_key("destinations[2]").expect("one place twice");
    assert!(
        twice.reason.contains("the same place as destinations[1]"),
        "{twice}"
    );
    let unknown = load_err(
        tmp.path(),
        Some("[[destinations]]\nname = \"a\"\nfolder = \"x\"\n"),
        &[],
    );
    assert!(unknown.to_string().contains("folder"), "{unknown}");
}
