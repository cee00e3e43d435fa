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
