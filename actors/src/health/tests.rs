//! The health readers on fake roots of the kernel's files: flags decoded, files missing, garbage in them.

use std::path::Path;

use super::*;

/// A fake root with `throttled` and `temp` as the kernel's files (left
/// out when `None`), and a spool folder.
fn root(throttled: Option<&str>, temp: Option<&str>) -> (tempfile::TempDir, HealthReader) {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: Option<&str>| {
        if let Some(text) = text {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    };
    write(THROTTLED_FILE, throttled);
    write(CPU_TEMP_FILE, temp);
    let spool = dir.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let reader = HealthReader {
        root: dir.path().to_path_buf(),
        spool,
    };
    (dir, reader)
}

fn files(unknown: &[(String, String)], root: &Path) -> Vec<String> {
    unknown
        .iter()
        .map(|(f, _)| {
            f.strip_prefix(&format!("{}/", root.display()))
                .unwrap_or(f)
                .to_owned()
        })
        .collect()
}

#[test]
fn the_throttled_flags_are_decoded_now_and_since_boot() {
    // Under-voltage and throttled now, and both since boot.
    let (_d, reader) = root(Some("50005\n"), Some("61835\n"));
    let (health, unknown) = reader.read();
    assert_eq!(unknown, []);
    assert_eq!(health.under_voltage, Some(true));
    assert_eq!(health.throttled, Some(true));
    assert_eq!(health.under_voltage_since_boot, Some(true));
    assert_eq!(health.throttled_since_boot, Some(true));
    assert_eq!(health.cpu_temp_c, Some(61.835));
    assert!(health.spool_free_mb.is_some());
    assert_eq!(
        health.trouble().as_deref(),
        Some("under-voltage now, the CPU is throttled now, under-voltage since boot, the CPU was throttled since boot")
    );

    // Only under-voltage since boot (as vcgencmd writes it, with 0x).
    let (_d, reader) = root(Some("0x10000"), Some("45000"));
    let (health, _) = reader.read();
    assert_eq!(
        (
            health.under_voltage,
            health.throttled,
            health.under_voltage_since_boot,
            health.throttled_since_boot
        ),
        (Some(false), Some(false), Some(true), Some(false))
    );
    // The soft temperature limit counts as throttled.
    assert_eq!(Throttled::parse("8").map(Throttled::throttled), Some(true));
    assert_eq!(
        Throttled::parse("80000").map(Throttled::throttled_since_boot),
        Some(true)
    );

    let (_d, reader) = root(Some("0"), Some("40000"));
    let (health, _) = reader.read();
    assert_eq!(health.trouble(), None, "a healthy Pi");
}

#[test]
fn a_machine_without_the_files_has_unknown_readings_and_no_error() {
    let (dir, reader) = root(None, None);
    let (health, unknown) = reader.read();
    assert_eq!(health.under_voltage, None);
    assert_eq!(health.throttled, None);
    assert_eq!(health.cpu_temp_c, None);
    assert!(health.spool_free_mb.is_some(), "the spool's disk is there");
    assert_eq!(health.trouble(), None);
    assert_eq!(files(&unknown, dir.path()), [THROTTLED_FILE, CPU_TEMP_FILE]);
}

#[test]
fn garbage_in_the_files_is_unknown_and_said_why() {
    let (dir, reader) = root(Some("zz top\n"), Some("hot\n"));
    let (health, unknown) = reader.read();
    assert_eq!((health.under_voltage, health.cpu_temp_c), (None, None));
    assert_eq!(files(&unknown, dir.path()), [THROTTLED_FILE, CPU_TEMP_FILE]);
    assert!(
        unknown[0].1.contains("not hex flags: \"zz top\""),
        "{unknown:?}"
    );
    assert!(
        unknown[1].1.contains("not millidegrees: \"hot\""),
        "{unknown:?}"
    );
    // A spool that is not there: its free space is unknown too.
    let gone = HealthReader {
        root: reader.root.clone(),
        spool: dir.path().join("no-such-spool"),
    };
    assert_eq!(gone.read().0.spool_free_mb, None);
}
