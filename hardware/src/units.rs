//! Units of measure shared by every device.

use std::fmt;
use std::ops::{Add, Sub};

/// An angle in degrees. Azimuth on the turntable, elevation on the tilt axis.
#[derive(
    Debug, Clone, Copy, PartialEq, PartialOrd, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Degrees(pub f64);

impl Degrees {
    /// Zero degrees: the home position of every axis.
    pub const ZERO: Degrees = Degrees(0.0);

    /// The angle as a plain number of degrees.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The size of the angle, whatever its sign.
    pub fn abs(self) -> Degrees {
        Degrees(self.0.abs())
    }
}

impl fmt::Display for Degrees {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "{:.*}°", p, self.0),
            None => write!(f, "{:.1}°", self.0),
        }
    }
}

impl Add for Degrees {
    type Output = Degrees;
    fn add(self, rhs: Degrees) -> Degrees {
        Degrees(self.0 + rhs.0)
    }
}

impl Sub for Degrees {
    type Output = Degrees;
    fn sub(self, rhs: Degrees) -> Degrees {
        Degrees(self.0 - rhs.0)
    }
}

/// A duration as people say it: `850 ms`, `12 s`, `4 min 5 s`, `2 h 10 min`.
pub fn duration_words(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 if s % 60 == 0 => format!("{} min", s / 60),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ if s % 3600 < 60 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod words {
    use super::duration_words;
    use std::time::Duration;

    #[test]
    fn durations_read_as_people_say_them() {
        let cases = [
            (850, "850 ms"),
            (12_400, "12 s"),
            (600_000, "10 min"),
            (599_397, "9 min 59 s"),
            (7_800_000, "2 h 10 min"),
            (3_600_000, "1 h"),
        ];
        for (ms, words) in cases {
            assert_eq!(duration_words(Duration::from_millis(ms)), words);
        }
    }
}
