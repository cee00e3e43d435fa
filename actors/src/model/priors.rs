//! The pose priors a scan writes: the rig's geometry and lens, where each
//! camera of a column stands, and the tools' formats. The poses
//! themselves are computed in [`crate::poses`].

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::CameraName;

/// Which way a positive table angle turns the table, seen from above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Turn {
    /// Counter-clockwise (mathematically positive).
    #[default]
    Counterclockwise,
    /// Clockwise.
    Clockwise,
}

/// The rig's geometry and lens (`[geometry]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Geometry {
    /// Horizontal distance from the turntable's axis to the tilt pivot (or
    /// to the camera's optical centre without a tilt arm), metres.
    pub distance_m: f64,
    /// Height of the tilt pivot (or of the camera) above the table, metres.
    pub height_m: f64,
    /// At tilt 0, how much further out than the pivot the optical centre
    /// sits, metres.
    pub arm_out_m: f64,
    /// At tilt 0, how much higher than the pivot the optical centre sits,
    /// metres.
    pub arm_up_m: f64,
    /// Which way a positive table angle turns the table.
    pub table_turns: Turn,
    /// The lens's focal length, millimetres.
    pub focal_mm: f64,
    /// The sensor's width, millimetres (the long side of the photo).
    pub sensor_width_mm: f64,
    /// The sensor's height, millimetres.
    pub sensor_height_mm: f64,
    /// How far off the camera positions may be, metres (for the tools
    /// that weigh priors).
    pub position_accuracy_m: f64,
    /// How far off the camera angles may be, degrees.
    pub angle_accuracy_deg: f64,
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            distance_m: 0.0,
            height_m: 0.05,
            arm_out_m: 0.5,
            arm_up_m: 0.0,
            table_turns: Turn::Counterclockwise,
            focal_mm: 35.0,
            sensor_width_mm: 23.5,
            sensor_height_mm: 15.6,
            position_accuracy_m: 0.01,
            angle_accuracy_deg: 2.0,
        }
    }
}

/// Which tool the poses are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// COLMAP's text model (`colmap/cameras.txt`, `images.txt`,
    /// `points3D.txt`) and `colmap/reference.txt` for `model_aligner`.
    Colmap,
    /// Agisoft Metashape's reference CSV (`metashape_reference.csv`).
    Metashape,
    /// RealityCapture / RealityScan: one `<photo>.xmp` beside each photo.
    Realitycapture,
    /// One `<photo>.pose.json` per photo, for scripts.
    Json,
}

impl Format {
    /// Every format, as the configuration and the command line name them.
    pub const ALL: [Format; 4] = [
        Format::Colmap,
        Format::Metashape,
        Format::Realitycapture,
        Format::Json,
    ];

    /// Its name in the configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Colmap => "colmap",
            Format::Metashape => "metashape",
            Format::Realitycapture => "realitycapture",
            Format::Json => "json",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format `{s}`; expected one of {}", names.join(", "))
            })
    }
}

/// The pose priors a scan writes beside its manifest: the rig's geometry
/// when it started, and the formats. Journaled in its plan, so that a
/// resumed scan writes what it was started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priors {
    /// The rig's geometry and lens.
    pub geometry: Geometry,
    /// Which tools' files to write.
    pub formats: Vec<Format>,
    /// The cameras of a column, each with its place on it; empty: the
    /// rig's one camera, where `geometry` puts it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cameras: Vec<ColumnPlace>,
}

/// Where a camera of a column stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnPlace {
    /// Its name, the end of its photos' names (`<shot>_<name>.jpg`).
    pub name: CameraName,
    /// Its tilt on the column, degrees, added to the ring's.
    pub tilt: f64,
    /// Its height above the turntable's top, metres.
    pub height_m: f64,
}
