//! Wall-clock time as text: UTC timestamps for ids, journals and manifests.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Milliseconds since the Unix epoch now.
pub fn unix_millis_now() -> u64 {
    unix_millis(SystemTime::now())
}

/// Milliseconds since the Unix epoch at `t`.
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `YYYYMMDDTHHMMSSZ`, for ids and folder names.
pub fn compact_utc(unix: u64) -> String {
    let t = utc(unix, 0);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 3339 with milliseconds, e.g. `2026-11-22T10:15:00.250Z`.
pub fn rfc3339_millis(unix_millis: u64) -> String {
    let t = utc(unix_millis / 1000, unix_millis % 1000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The UTC date and time `unix` seconds and `millis` after the epoch (the
/// latest one `time` knows, past its range).
fn utc(unix: u64, millis: u64) -> time::OffsetDateTime {
    let at = i128::from(unix) * 1_000_000_000 + i128::from(millis) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(at)
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59.999 UTC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(compact_utc(0), "19700101T000000Z");
        // 2026-11-22 01:55:35 UTC
        assert_eq!(compact_utc(1_795_312_535), "20261122T015535Z");
        assert_eq!(rfc3339_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(compact_utc(u64::MAX), "99991231T235959Z");
    }
}
