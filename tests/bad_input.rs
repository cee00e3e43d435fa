//! Bad configuration, profiles, environment and command lines: refused with exit 2, a message naming the file (or variable) and the key, and nothing half-done.

mod common;

use std::path::Path;

use common::{Output, Rig, Running, DEADLINE};

/// Checks a refused run: exit 2, every `needles` on stderr, and nothing
/// started: no destination folder and no scan (nor any file) in the spool.
fn assert_refused(case: &str, rig: &Rig, out: &Output, needles: &[&str]) {
    assert_eq!(
        out.code,
        Some(2),
        "{case}: exit code\n--- stdout:\n{}\n--- stderr:\n{}",
        out.stdout,
        out.stderr
    );
    for needle in needles {
        assert!(
            out.stderr.contains(needle),
            "{case}: stderr should name `{needle}`:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("panicked"), "{case}:\n{}", out.stderr);
    assert!(
        !rig.photos.exists(),
        "{case}: a destination folder was made"
    );
    assert_eq!(
        common::entries(&rig.spool),
        Vec::<String>::new(),
        "{case}: the spool is not empty"
    );
}

/// Checks that nothing at all was created in the rig's temp dir besides
/// what the test wrote itself (the config file and the profile folder).
fn assert_untouched(case: &str, rig: &Rig, also: &[&str]) {
    let mut expected: Vec<String> = ["config.toml", "profiles"]
        .iter()
        .chain(also)
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(
        common::entries(rig.root()),
        expected,
        "{case}: files were created"
    );
}

/// `<origin>: <key>: ` as problems are printed.
fn problem(origin: &Path, key: &str) -> String {
    format!("{}: {key}: ", origin.display())
}

#[test]
fn broken_config_files_are_refused_naming_the_file_and_the_key() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown key",
            "[upload]\nwrokers = 2\n",
            &["upload.wrokers"],
        ),
        (
            "unknown section",
            "[cammera.sim]\nwidth = 100\n",
            &["cammera"],
        ),
        (
            "wrong type",
            "[camera.sim]\nexpose_ms = \"fast\"\n",
            &["camera.sim.expose_ms"],
        ),
        (
            "workers = 0",
            "[upload]\nworkers = 0\n",
            &["upload.workers"],
        ),
        (
            "workers = 17",
            "[upload]\nworkers = 17\n",
            &["upload.workers"],
        ),
        (
            "max_restarts = 0",
            "[supervision]\nmax_restarts = 0\n",
            &["supervision.max_restarts"],
        ),
        (
            "negative speed",
            "[turntable.sim]\nmax_speed_dps = -1.0\n",
            &["turntable.sim.max_speed_dps"],
        ),
        (
            "unknown backend",
            "[camera]\nbackend = \"gphoto\"\n",
            &["camera.backend"],
        ),
        (
            "a pin used twice",
            "[turntable]\nbackend = \"stepper\"\n[turntable.stepper]\nstep_pin = 17\ndir_pin = 17\n",
            &["turntable.stepper.dir_pin"],
        ),
        (
            "a pin that is not on the header",
            "[buttons]\nbackend = \"gpio\"\n[buttons.gpio]\nled_pin = 40\n",
            &["buttons.gpio.led_pin"],
        ),
        (
            "a motor pin also used by a button",
            "[tilt]\nbackend = \"stepper\"\n[buttons]\nbackend = \"gpio\"\n[buttons.gpio]\nstart_pin = 23\n",
            &["buttons.gpio.start_pin"],
        ),
        (
            "zero steps per revolution",
            "[turntable]\nbackend = \"stepper\"\n[turntable.stepper]\nfull_steps_per_rev = 0\n",
            &["turntable.stepper.full_steps_per_rev"],
        ),
        (
            "a speed the driver cannot be stepped at",
            "[turntable]\nbackend = \"stepper\"\n[turntable.stepper]\nmicrosteps = 256\ngear_ratio = 4.0\nmax_speed_dps = 3600.0\n",
            &["turntable.stepper.max_speed_dps"],
        ),
        (
            "two problems at once",
            "[upload]\nworkers = 0\nqueue = \"many\"\n",
            &["upload.workers", "upload.queue"],
        ),
    ];
    for (case, overrides, keys) in cases {
        let rig = Rig::with(overrides);
        for args in [&["check-config"][..], &["scan", "--profile", "demo"]] {
            let out = rig.run(args);
            let needles: Vec<String> = keys.iter().map(|k| problem(&rig.config, k)).collect();
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            assert_refused(&format!("{case} ({args:?})"), &rig, &out, &needles);
            assert_untouched(case, &rig, &[]);
        }
    }
}

#[test]
fn bad_lights_are_refused_naming_the_file_the_light_and_what_is_expected() {
    let light = |fields: &str| format!("[[lights]]\nname = \"ring\"\npin = 18\n{fields}\n");
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "a pin that is not on the header",
            "[[lights]]\nname = \"ring\"\npin = 30\n".into(),
            "lights[1].pin",
            "GPIO 30 is not on the Raspberry Pi's header; use a BCM GPIO number from 2 to 27",
        ),
        (
            "a pin used by two lights",
            format!("{}[[lights]]\nname = \"back\"\npin = 18\n", light("")),
            "lights[2].pin",
            "GPIO 18 is already used by lights[1].pin; every pin can do one job",
        ),
        (
            "a light on the turntable's STEP pin",
            "[turntable]\nbackend = \"stepper\"\n[[lights]]\nname = \"ring\"\npin = 17\n".into(),
            "lights[1].pin",
            "GPIO 17 is already used by turntable.stepper.step_pin",
        ),
        (
            "a light on the stop button's pin",
            "[buttons]\nbackend = \"gpio\"\n[[lights]]\nname = \"ring\"\npin = 13\n".into(),
            "lights[1].pin",
            "GPIO 13 is already used by buttons.gpio.stop_pin",
        ),
        (
            "a PWM frequency out of range",
            light("pwm_hz = 5"),
            "lights[1].pwm_hz",
            "must be 0 (switched on and off only) or 50 to 20000 Hz, found 5",
        ),
        (
            "a name that cannot be a topic",
            "[[lights]]\nname = \"ring light\"\npin = 18\n".into(),
            "lights[1].name",
            "must be 1 to 32 letters, digits, - or _",
        ),
        (
            "two lights on one hardware PWM channel",
            format!(
                "[lighting]\nbackend = \"gpio\"\n{}[[lights]]\nname = \"back\"\npin = 12\npwm_hz = 1000\n",
                light("pwm_hz = 1000")
            ),
            "lights[2].pin",
            "GPIO 12 shares hardware PWM channel 0 with lights[1]",
        ),
        (
            "a warm-up too long",
            light("warmup_ms = 60000"),
            "lights[1].warmup_ms",
            "must be 0 to 30000 milliseconds, found 60000",
        ),
        (
            "a brightness in the configuration",
            light("brightness = 50"),
            "lights[1].brightness",
            "",
        ),
    ];
    for (case, overrides, key, reason) in &cases {
        let rig = Rig::with(overrides);
        let out = rig.run(&["check-config"]);
        let needle = format!("{}{reason}", problem(&rig.config, key));
        assert_refused(case, &rig, &out, &[&needle]);
    }
}

#[test]
fn a_config_file_that_is_not_toml_is_refused_naming_the_file_and_the_line() {
    let rig = Rig::new();
    std::fs::write(&rig.config, "[upload]\nworkers = = 2\n").expect("write");
    let out = rig.run(&["scan", "--profile", "demo"]);
    let origin = format!("{}: invalid TOML at line 2", rig.config.display());
    assert_refused("invalid TOML", &rig, &out, &[&origin]);
    assert_untouched("invalid TOML", &rig, &[]);
}

#[test]
fn an_unwritable_spool_folder_is_refused_naming_the_file_and_spool_dir() {
    let rig = Rig::new();
    // A folder below a regular file can never be made, even by root.
    let blocker = rig.root().join("blocker");
    std::fs::write(&blocker, b"a file").expect("blocker");
    rig.configure(&format!(
        "[spool]\ndir = {}\n",
        toml::Value::String(blocker.join("spool").display().to_string())
    ));
    let out = rig.run(&["scan", "--profile", "demo"]);
    assert_refused(
        "unwritable spool",
        &rig,
        &out,
        &[
            &problem(&rig.config, "spool.dir"),
            "choose a writable folder",
        ],
    );
    assert_untouched("unwritable spool", &rig, &["blocker"]);
}

#[test]
fn a_bad_environment_value_is_refused_naming_the_variable_and_the_key() {
    let rig = Rig::new();
    let mut cmd = rig.command(&["scan", "--profile", "demo"]);
    cmd.env("SCANRIG_UPLOAD__WORKERS", "abc");
    let out = Running::start(cmd).wait(DEADLINE);
    assert_refused(
        "SCANRIG_UPLOAD__WORKERS=abc",
        &rig,
        &out,
        &["environment SCANRIG_UPLOAD__WORKERS: upload.workers: "],
    );
    assert_untouched("SCANRIG_UPLOAD__WORKERS=abc", &rig, &[]);

    let mut cmd = rig.command(&["check-config"]);
    cmd.env("SCANRIG_UPLOAD__WORKERS", "0");
    let out = Running::start(cmd).wait(DEADLINE);
    assert_refused(
        "SCANRIG_UPLOAD__WORKERS=0",
        &rig,
        &out,
        &["environment SCANRIG_UPLOAD__WORKERS: upload.workers: must be 1 to 16"],
    );
}

#[test]
fn an_environment_value_that_is_not_utf8_is_refused_naming_the_variable() {
    use std::os::unix::ffi::OsStrExt;
    let rig = Rig::new();
    for (var, value) in [
        ("SCANRIG_UPLOAD__WORKERS", &b"2\xff"[..]),
        ("SCANRIG_SPOOL__DIR", &b"/srv/sp\xff"[..]),
    ] {
        let mut cmd = rig.command(&["scan", "--profile", "demo"]);
        cmd.env(var, std::ffi::OsStr::from_bytes(value));
        let out = Running::start(cmd).wait(DEADLINE);
        assert_refused(
            var,
            &rig,
            &out,
            &[&format!("environment {var}: "), "not valid UTF-8"],
        );
        assert_untouched(var, &rig, &[]);
    }
}

#[test]
fn broken_profiles_are_refused_naming_the_profile_file_and_the_key() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "zero shots",
            "settle_ms = 5\n[[rings]]\ntilt = 0.0\nshots = 0\n",
            &["rings[1].shots"],
        ),
        (
            "negative settle_ms",
            "settle_ms = -5\n[[rings]]\ntilt = 0.0\nshots = 4\n",
            &["settle_ms"],
        ),
        (
            "tilt 95",
            "[[rings]]\ntilt = 95.0\nshots = 4\n",
            &["rings[1].tilt"],
        ),
        ("empty rings", "settle_ms = 5\nrings = []\n", &["rings"]),
        ("no rings", "settle_ms = 5\n", &["rings"]),
        (
            "ring without shots",
            "[[rings]]\ntilt = 0.0\n",
            &["rings[1].shots"],
        ),
        (
            "second ring broken",
            "[[rings]]\ntilt = 0.0\nshots = 4\n[[rings]]\ntilt = -91.0\nshots = 721\n",
            &["rings[2].tilt", "rings[2].shots"],
        ),
        (
            "unknown key",
            "settle = 5\n[[rings]]\ntilt = 0.0\nshots = 4\n",
            &["settle"],
        ),
        (
            "bad prefix",
            "[naming]\nprefix = \"a b\"\n[[rings]]\ntilt = 0.0\nshots = 4\n",
            &["naming.prefix"],
        ),
    ];
    for (case, text, keys) in cases {
        let rig = Rig::new();
        let path = rig.profile("bad", text);
        let out = rig.run(&["scan", "--profile", &path.display().to_string()]);
        let needles: Vec<String> = keys.iter().map(|k| problem(&path, k)).collect();
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        assert_refused(case, &rig, &out, &needles);
        // Found by name in the profile folder, it is refused the same way.
        let out = rig.run(&["scan", "--profile", "bad"]);
        assert_refused(case, &rig, &out, &needles);
        // `profiles` shows it as broken, and fails.
        let out = rig.run(&["profiles"]);
        assert_eq!(out.code, Some(2), "{case}: profiles\n{}", out.stdout);
        assert!(out.stdout.contains("BROKEN"), "{case}:\n{}", out.stdout);
        assert!(out.stdout.contains(needles[0]), "{case}:\n{}", out.stdout);
    }
}

#[test]
fn an_unknown_profile_name_is_refused_listing_the_available_ones() {
    let rig = Rig::new();
    let out = rig.run(&["scan", "--profile", "nosuch"]);
    assert_refused(
        "--profile nosuch",
        &rig,
        &out,
        &[
            "nosuch: profile: no profile of that name",
            "available: demo, object-3ring, sphere-130, turntable-36",
        ],
    );
}

#[test]
fn an_unknown_daemon_profile_is_refused_naming_the_config_file_and_daemon_profile() {
    let rig = Rig::with("[daemon]\nprofile = \"nosuch\"\n");
    let needle = problem(&rig.config, "daemon.profile");
    for args in [&["check-config"][..], &["daemon"], &["scan"]] {
        let out = rig.run(args);
        assert_refused(
            &format!("daemon.profile = nosuch ({args:?})"),
            &rig,
            &out,
            &[&needle, "no profile of that name: `nosuch`"],
        );
    }
    // Set by the environment, the variable is named instead.
    let mut cmd = rig.command(&["check-config"]);
    cmd.env("SCANRIG_DAEMON__PROFILE", "/nowhere/p.toml");
    let out = Running::start(cmd).wait(DEADLINE);
    assert_refused(
        "SCANRIG_DAEMON__PROFILE",
        &rig,
        &out,
        &["environment SCANRIG_DAEMON__PROFILE: daemon.profile: cannot read the profile"],
    );
}

#[test]
fn a_daemon_profile_that_is_no_profile_is_refused_naming_daemon_profile() {
    let rig = Rig::with("[daemon]\nprofile = \"../../../../../../../../etc/passwd\"\n");
    let needle = problem(&rig.config, "daemon.profile");
    for args in [&["check-config"][..], &["daemon"], &["scan"]] {
        let out = rig.run(args);
        assert_refused(
            &format!("daemon.profile = /etc/passwd ({args:?})"),
            &rig,
            &out,
            &[&needle, "is not a usable scan profile", "scanrig profiles"],
        );
    }
}

#[test]
fn numbers_from_the_environment_get_the_checks_a_file_gets() {
    let rig = Rig::new();
    let max = i64::MAX.to_string();
    let cases = [
        (
            "SCANRIG_UPLOAD__WORKERS",
            "upload.workers",
            "2.5",
            "number `2.5`, expected a whole number",
        ),
        (
            "SCANRIG_SPOOL__MIN_FREE_MB",
            "spool.min_free_mb",
            "1e30",
            "wrong type: number",
        ),
        (
            "SCANRIG_SPOOL__MIN_FREE_MB",
            "spool.min_free_mb",
            "18446744073709551616",
            "18446744073709551616 is too large",
        ),
        (
            "SCANRIG_SPOOL__MIN_FREE_MB",
            "spool.min_free_mb",
            &max,
            "0 to 1000000000 MB",
        ),
        (
            "SCANRIG_CAMERA__SIM__EXPOSE_MS",
            "camera.sim.expose_ms",
            "inf",
            "wrong type",
        ),
        (
            "SCANRIG_SPOOL__KEEP_UPLOADED",
            "spool.keep_uploaded",
            "1",
            "wrong type",
        ),
    ];
    for (var, key, value, words) in cases {
        let mut cmd = rig.command(&["check-config"]);
        cmd.env(var, value);
        let out = Running::start(cmd).wait(DEADLINE);
        let needle = format!("environment {var}: {key}: ");
        assert_refused(&format!("{var}={value}"), &rig, &out, &[&needle, words]);
    }
    // A stepper's backlash out of range: every problem it makes is the
    // variable's, none is blamed on the shipped defaults.
    let mut cmd = rig.command(&["check-config"]);
    let var = "SCANRIG_TURNTABLE__STEPPER__BACKLASH_DEG";
    cmd.env("SCANRIG_TURNTABLE__BACKEND", "stepper")
        .env(var, "1e12");
    let out = Running::start(cmd).wait(DEADLINE);
    let needle = format!("environment {var}: turntable.stepper.backlash_deg: ");
    assert_refused("backlash", &rig, &out, &[&needle, "0 (off) to 45 degrees"]);
    assert!(!out.stderr.contains("shipped defaults"), "{}", out.stderr);
    // The same values written in the file are refused the same way.
    rig.configure(&format!("[spool]\nmin_free_mb = {}\n", i64::MAX));
    let out = rig.run(&["check-config"]);
    let needle = problem(&rig.config, "spool.min_free_mb");
    assert_refused(
        "min_free_mb in the file",
        &rig,
        &out,
        &[&needle, "0 to 1000000000 MB"],
    );
}

#[test]
fn a_nul_byte_in_a_folder_name_is_refused() {
    let rig = Rig::with("[destination.local]\ndir = \"ph\\u0000otos\"\n");
    let out = rig.run(&["check-config"]);
    let needle = problem(&rig.config, "destination.local.dir");
    assert_refused("NUL", &rig, &out, &[&needle, "NUL byte"]);
}

#[test]
fn a_dest_folder_that_is_not_utf8_or_holds_a_control_character_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let rig = Rig::new();
    let bad: [&[u8]; 4] = [b"bad\xff", b"a\nb", b"a\x01b", b"t\x1b]0;x\x07"];
    for name in bad {
        let dest = rig.root().join(std::ffi::OsStr::from_bytes(name));
        for args in [&["scan", "--profile", "demo"][..], &["resume"]] {
            let mut cmd = rig.command(args);
            cmd.arg("--dest").arg(&dest);
            let out = Running::start(cmd).wait(DEADLINE);
            let case = format!("{args:?} --dest {dest:?}");
            let why = if name == b"bad\xff" {
                "not valid UTF-8"
            } else {
                "control character"
            };
            assert_refused(&case, &rig, &out, &["--dest", why]);
            assert_untouched(&case, &rig, &[]);
        }
    }
    let rig = Rig::with("[destination.local]\ndir = \"ph\\notos\"\n");
    let out = rig.run(&["check-config"]);
    let needle = problem(&rig.config, "destination.local.dir");
    assert_refused("a line break", &rig, &out, &[&needle, "control character"]);
}

#[test]
fn check_config_refuses_the_mqtt_settings_the_daemon_would_refuse() {
    use std::os::unix::fs::PermissionsExt;
    let rig = Rig::new();
    let secret = rig.root().join("pw");
    let ca = rig.root().join("ca.pem");
    let mqtt = |broker: &str, extra: &str| {
        format!("[mqtt]\nbroker = \"{broker}\"\nusername = \"studio\"\n{extra}")
    };
    let password = format!("password_file = \"{}\"\n", secret.display());
    /// A case, its config, the password file's content and mode (0: no
    /// file), and the key and words of the problem.
    type Case<'a> = (&'a str, String, &'a [u8], u32, &'a str, &'a str);
    let cases: [Case; 7] = [
        (
            "missing password file",
            mqtt("mqtt://127.0.0.1", &password),
            b"",
            0,
            "mqtt.password_file",
            "cannot read",
        ),
        (
            "world-readable password file",
            mqtt("mqtt://127.0.0.1", &password),
            b"s3cret\n",
            0o644,
            "mqtt.password_file",
            "chmod 600",
        ),
        (
            "empty password file",
            mqtt("mqtt://127.0.0.1", &password),
            b"\n",
            0o600,
            "mqtt.password_file",
            "is empty",
        ),
        (
            "missing CA file",
            mqtt(
                "mqtts://127.0.0.1",
                &format!("ca_file = \"{}\"\n", ca.display()),
            ),
            b"",
            0,
            "mqtt.ca_file",
            "cannot read",
        ),
        (
            "a port past 65535",
            mqtt("mqtt://127.0.0.1:99999", ""),
            b"",
            0,
            "mqtt.broker",
            "1 to 65535",
        ),
        (
            "port 0",
            mqtt("mqtt://127.0.0.1:0", ""),
            b"",
            0,
            "mqtt.broker",
            "1 to 65535",
        ),
        (
            "a password in the address",
            mqtt("mqtt://u:hunter2@127.0.0.1", ""),
            b"",
            0,
            "mqtt.broker",
            "mqtt.password_file",
        ),
    ];
    for (case, config, content, mode, key, why) in cases {
        let _ = std::fs::remove_file(&secret);
        if mode != 0 {
            std::fs::write(&secret, content).unwrap();
            std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let file = rig.root().join("mqtt.toml");
        std::fs::write(&file, config).unwrap();
        let out = rig.run_with(&file, &["check-config"]);
        assert_refused(case, &rig, &out, &[&problem(&file, key), why]);
        assert!(!out.stderr.contains("hunter2"), "{case}: {}", out.stderr);
    }
}

#[test]
fn a_camera_setting_the_camera_refuses_is_bad_input_and_nothing_moves() {
    let rig = Rig::new();
    let text = format!("{}[camera]\niso = \"-1\"\n", common::ring_profile(4, 0));
    let file = rig.profile("badiso", &text);
    let out = rig.run(&["scan", "--profile", "badiso", "--json"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    for words in [
        &format!("{}: ", file.display()),
        "the camera's 'iso' cannot be '-1'; choose one of",
        "nothing moved",
    ] {
        assert!(out.stderr.contains(words), "{}", out.stderr);
    }
    assert!(
        !out.stderr.contains("axes homed"),
        "a motor moved:\n{}",
        out.stderr
    );
    assert!(!rig.photos.exists(), "a destination folder was made");
    assert_eq!(
        common::folders(&rig.spool),
        Vec::<String>::new(),
        "a scan was kept"
    );
    // Nothing is left to resume.
    let out = rig.run(&["resume"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("no interrupted scan"), "{}", out.stderr);
}

#[test]
fn a_missing_config_file_is_refused_naming_it() {
    let rig = Rig::new();
    let missing = rig.root().join("nope.toml");
    let out = rig.run_with(&missing, &["scan", "--profile", "demo"]);
    let needle = format!("{}: cannot read the settings file", missing.display());
    assert_refused(
        "--config nope.toml",
        &rig,
        &out,
        &[&needle, "check the --config path"],
    );
    // Not even the fallback spool folder under $HOME was made.
    assert_untouched("--config nope.toml", &rig, &[]);
}

#[test]
fn unknown_subcommands_and_flags_are_usage_errors() {
    let rig = Rig::new();
    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["scan", "--bogus"], "unexpected argument '--bogus'"),
        (&["scan", "--profile"], "a value is required for '--profile"),
        (&["resume", "--scan"], "a value is required for '--scan"),
        (&[], "Usage: scanrig"),
    ];
    for (args, needle) in cases {
        let out = rig.run(args);
        assert_refused(&format!("{args:?}"), &rig, &out, &[needle]);
        assert_untouched(&format!("{args:?}"), &rig, &[]);
    }
}

#[test]
fn a_listing_cut_short_by_its_reader_ends_quietly() {
    // `scanrig profiles | head -1`: the reader stops after its first line.
    let rig = Rig::new();
    for i in 0..3000 {
        rig.profile(&format!("p{i:04}"), "[[rings]]\ntilt = 0\nshots = 4\n");
    }
    let mut child = rig
        .command(&["profiles"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("a first line");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
