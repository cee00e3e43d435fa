//! A column camera's name, checked once where it enters (configuration,
//! profile, journal) and trusted everywhere after.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest camera name, in bytes.
pub const MAX_CAMERA_NAME: usize = 32;

/// The name of one camera of a column (`[[cameras]] name`): it ends its
/// photos' names (`<shot>_<name>.jpg`) and identifies the camera in the
/// journal, whatever its place in the column's list. A rig's only camera
/// has none (`Option<CameraName>` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CameraName(String);

/// Why a text cannot name a camera.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraNameError {
    /// Empty, too long, or with characters a file name cannot safely hold.
    #[error("{0:?} cannot name a camera in file names: use 1 to 32 letters, digits, `-` or `_`")]
    Characters(String),
    /// It ends like the mark of a bracket's frame, a merged image or a
    /// retake, which its photos' names could not be told from.
    #[error("{0:?} cannot name a camera: it ends like a bracket frame's or a retake's mark (`b1`, `b2`, …, `fused`, `stacked`, `take2`, …), so its photos' names would read as another camera's frames; choose another name")]
    Reserved(String),
}

impl CameraName {
    /// Checks `name`.
    pub fn new(name: &str) -> Result<CameraName, CameraNameError> {
        let fits = !name.is_empty()
            && name.len() <= MAX_CAMERA_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !fits {
            return Err(CameraNameError::Characters(name.to_owned()));
        }
        let last = name.rsplit('_').next().unwrap_or(name);
        if super::photo::Frame::from_mark(last).is_some()
            || super::photo::take_of_mark(last).is_some()
        {
            return Err(CameraNameError::Reserved(name.to_owned()));
        }
        Ok(CameraName(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CameraName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CameraName {
    type Err = CameraNameError;

    fn from_str(s: &str) -> Result<CameraName, CameraNameError> {
        CameraName::new(s)
    }
}

impl TryFrom<String> for CameraName {
    type Error = CameraNameError;

    fn try_from(s: String) -> Result<CameraName, CameraNameError> {
        CameraName::new(&s)
    }
}

impl From<CameraName> for String {
    fn from(name: CameraName) -> String {
        name.0
    }
}

impl PartialEq<str> for CameraName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_fit_a_file_name_are_taken() {
        for ok in ["low", "high-2", "top_cam", "b", "bx2", "fusedcam", "A1"] {
            assert_eq!(CameraName::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn names_a_file_name_cannot_hold_are_refused_with_what_to_use() {
        for bad in ["", "a b", "a/b", "é", &"x".repeat(33)] {
            let e = CameraName::new(bad).unwrap_err();
            assert_eq!(e, CameraNameError::Characters(bad.to_owned()));
            assert!(e.to_string().contains("letters, digits"), "{e}");
        }
    }

    #[test]
    fn names_that_end_like_a_frame_mark_are_refused() {
        for bad in [
            "b2",
            "fused",
            "stacked",
            "low_b1",
            "top_fused",
            "take2",
            "low_take12",
        ] {
            assert_eq!(
                CameraName::new(bad),
                Err(CameraNameError::Reserved(bad.to_owned()))
            );
        }
    }

    #[test]
    fn a_journal_cannot_smuggle_in_a_bad_name() {
        let read: Result<CameraName, _> = serde_json::from_str("\"a/b\"");
        assert!(read.is_err());
        let name: CameraName = serde_json::from_str("\"low\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"low\"");
    }
}
