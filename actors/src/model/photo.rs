//! A photo's identity and its name: which shot, which camera of the column,
//! which frame of the set (or the image merged from it). The identity is a
//! value the journal records; a file name is made from it
//! ([`PhotoName`]'s `Display`), and read back into it only for journals
//! written before files carried it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{BracketKind, CameraName};

/// Which frame of a shot's set a photo is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "FrameRepr", into = "FrameRepr")]
pub enum Frame {
    /// The shot's one frame (no bracket).
    #[default]
    Only,
    /// Frame `k` of a bracketed set, from 1 (`_b<k>`).
    Bracket(u32),
    /// The image merged from the set: fused exposures (`_fused`) or a
    /// focus stack (`_stacked`).
    Merged(BracketKind),
}

/// How a [`Frame`] is written in the journal: a bracket frame's number,
/// else its mark.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FrameRepr {
    Number(u32),
    Mark(String),
}

impl From<Frame> for FrameRepr {
    fn from(f: Frame) -> FrameRepr {
        match f {
            Frame::Bracket(k) => FrameRepr::Number(k),
            Frame::Only => FrameRepr::Mark("only".into()),
            other => FrameRepr::Mark(other.mark().unwrap_or_default()),
        }
    }
}

impl TryFrom<FrameRepr> for Frame {
    type Error = String;

    fn try_from(r: FrameRepr) -> Result<Frame, String> {
        match r {
            FrameRepr::Number(k) if k > 0 => Ok(Frame::Bracket(k)),
            FrameRepr::Mark(m) if m == "only" => Ok(Frame::Only),
            FrameRepr::Mark(m) => Frame::from_mark(&m).ok_or(m),
            FrameRepr::Number(k) => Err(k.to_string()),
        }
        .map_err(|bad| {
            format!("`{bad}` is not a frame (a number from 1, `fused`, `stacked` or `only`)")
        })
    }
}

impl Frame {
    /// The end of a photo's name that says the frame (`b2`, `fused`,
    /// `stacked`); none for a shot's one frame.
    pub fn mark(self) -> Option<String> {
        match self {
            Frame::Only => None,
            Frame::Bracket(k) => Some(format!("b{k}")),
            Frame::Merged(BracketKind::Exposure) => Some("fused".into()),
            Frame::Merged(BracketKind::Focus) => Some("stacked".into()),
        }
    }

    /// The frame a name's last part marks, if it is a mark.
    pub fn from_mark(mark: &str) -> Option<Frame> {
        match mark {
            "fused" => Some(Frame::Merged(BracketKind::Exposure)),
            "stacked" => Some(Frame::Merged(BracketKind::Focus)),
            _ => {
                let digits = mark.strip_prefix('b')?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse().ok().filter(|&k| k > 0).map(Frame::Bracket)
            }
        }
    }

    /// Whether this is a shot's one frame (not written in the journal).
    pub fn is_only(&self) -> bool {
        *self == Frame::Only
    }
}

/// A photo's name without its extension:
/// `<shot's stem>[_<camera>][_b<k>|_fused|_stacked][_take<n>]`, e.g.
/// `demo_0003_r1_az090.0_t+00.0_high_b2`. A RAW + JPEG pair shares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhotoName {
    /// The shot's stem (`ShotPlan::stem`).
    pub shot: String,
    /// The column camera that took it; `None` for a rig's only camera.
    pub camera: Option<CameraName>,
    /// Which frame of the set.
    pub frame: Frame,
    /// Which take of the shot: 1 for the first, 2 for the first retake
    /// of a blurred one (`_take2`), and so on.
    pub take: u32,
}

/// The end of a photo's name that says its take (`take2`), from the
/// second take on.
fn take_mark(take: u32) -> Option<String> {
    (take > 1).then(|| format!("take{take}"))
}

/// The take a name's last part marks, if it is a take's mark.
pub(crate) fn take_of_mark(mark: &str) -> Option<u32> {
    let digits = mark.strip_prefix("take")?;
    if !all_digits(digits) {
        return None;
    }
    digits.parse().ok().filter(|&k| k > 1)
}

impl PhotoName {
    /// The file name with extension `ext` (without its dot).
    pub fn file(&self, ext: &str) -> String {
        format!("{self}.{ext}")
    }

    /// The name of a photo file (`<name>.<ext>`), if it is one.
    pub fn of_file(file: &str) -> Option<PhotoName> {
        let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
        stem.parse().ok()
    }
}

impl fmt::Display for PhotoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shot)?;
        if let Some(camera) = &self.camera {
            write!(f, "_{camera}")?;
        }
        for mark in [self.frame.mark(), take_mark(self.take)]
            .into_iter()
            .flatten()
        {
            write!(f, "_{mark}")?;
        }
        Ok(())
    }
}

/// Why a text is not a photo's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a photo's name (`<prefix>_<number>_r<ring>_az<angle>_t<tilt>[_<camera>][_b<k>|_fused|_stacked][_take<n>]`)")]
pub struct PhotoNameError(String);

impl FromStr for PhotoName {
    type Err = PhotoNameError;

    /// Reads a name back: the shot's stem ends at its tilt (`_t+15.0`),
    /// the last parts may mark the take and the frame, and what lies
    /// between names the camera (camera names never end like a mark:
    /// [`CameraName::new`]).
    fn from_str(s: &str) -> Result<PhotoName, PhotoNameError> {
        let bad = || PhotoNameError(s.to_owned());
        let parts: Vec<&str> = s.split('_').collect();
        let end = (3..parts.len())
            .find(|&i| {
                is_angle(parts[i], "t", true)
                    && is_angle(parts[i - 1], "az", false)
                    && parts[i - 2].strip_prefix('r').is_some_and(all_digits)
                    && all_digits(parts[i - 3])
            })
            .ok_or_else(bad)?;
        let mut rest = &parts[end + 1..];
        let mut take = 1;
        if let Some(k) = rest.last().and_then(|m| take_of_mark(m)) {
            take = k;
            rest = &rest[..rest.len() - 1];
        }
        let mut frame = Frame::Only;
        if let Some(f) = rest.last().and_then(|m| Frame::from_mark(m)) {
            frame = f;
            rest = &rest[..rest.len() - 1];
        }
        let camera = match rest {
            [] => None,
            named => Some(CameraName::new(&named.join("_")).map_err(|_| bad())?),
        };
        Ok(PhotoName {
            shot: parts[..=end].join("_"),
            camera,
            frame,
            take,
        })
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `<prefix><digits>.<digit>`, with a sign first where `signed`.
fn is_angle(s: &str, prefix: &str, signed: bool) -> bool {
    let Some(mut n) = s.strip_prefix(prefix) else {
        return false;
    };
    if signed {
        match n.strip_prefix(['+', '-']) {
            Some(unsigned) => n = unsigned,
            None => return false,
        }
    }
    n.split_once('.')
        .is_some_and(|(whole, tenth)| all_digits(whole) && all_digits(tenth))
}

/// One part of a stop: a camera's frame. A stop shot by a column, or with
/// a bracket, is done once every part of it is in the spool; a crash
/// keeps the parts journaled, and a resume takes only the others — found
/// by the camera's name, whatever its place in the column by then.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Part {
    /// The column camera; `None` for a rig's only camera.
    pub camera: Option<CameraName>,
    /// The frame of the set, from 0 (0 without a bracket).
    pub frame: usize,
}

/// A photo file of a shot, as it lies in the spool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolFile {
    /// File name inside the scan's spool folder (and at the destination).
    pub name: String,
    /// sha256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Width and height in pixels, for a JPEG (absent in older journals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels: Option<[u32; 2]>,
    /// The column camera that took it (absent: the rig's only camera, or
    /// a journal from before files named their camera).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<CameraName>,
    /// Which frame of the shot's set it is (absent: the one frame).
    #[serde(default, skip_serializing_if = "Frame::is_only")]
    pub frame: Frame,
}

impl SpoolFile {
    /// The part of its stop it belongs to; `None` for a merged image,
    /// made from the parts.
    pub fn part(&self) -> Option<Part> {
        let frame = match self.frame {
            Frame::Only => 0,
            Frame::Bracket(k) => k as usize - 1,
            Frame::Merged(_) => return None,
        };
        Some(Part {
            camera: self.camera.clone(),
            frame,
        })
    }

    /// A file journaled before files carried their camera and frame:
    /// both read from its name, when it is a photo of shot `stem`.
    pub fn identify(&mut self, stem: &str) {
        if self.camera.is_some() || !self.frame.is_only() {
            return;
        }
        if let Some(name) = PhotoName::of_file(&self.name).filter(|n| n.shot == stem) {
            self.camera = name.camera;
            self.frame = name.frame;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(camera: Option<&str>, frame: Frame) -> PhotoName {
        PhotoName {
            shot: "demo_0002_r1_az045.0_t-15.0".into(),
            camera: camera.map(|c| CameraName::new(c).unwrap()),
            frame,
            take: 1,
        }
    }

    #[test]
    fn a_name_reads_back_into_the_identity_it_was_made_from() {
        let cases = [
            (name(None, Frame::Only), "demo_0002_r1_az045.0_t-15.0"),
            (
                name(Some("low"), Frame::Only),
                "demo_0002_r1_az045.0_t-15.0_low",
            ),
            (
                name(None, Frame::Bracket(3)),
                "demo_0002_r1_az045.0_t-15.0_b3",
            ),
            (
                name(Some("top_cam"), Frame::Bracket(12)),
                "demo_0002_r1_az045.0_t-15.0_top_cam_b12",
            ),
            (
                name(Some("high"), Frame::Merged(BracketKind::Exposure)),
                "demo_0002_r1_az045.0_t-15.0_high_fused",
            ),
            (
                name(None, Frame::Merged(BracketKind::Focus)),
                "demo_0002_r1_az045.0_t-15.0_stacked",
            ),
            (
                PhotoName {
                    take: 2,
                    ..name(None, Frame::Only)
                },
                "demo_0002_r1_az045.0_t-15.0_take2",
            ),
            (
                PhotoName {
                    take: 13,
                    ..name(Some("top_cam"), Frame::Bracket(3))
                },
                "demo_0002_r1_az045.0_t-15.0_top_cam_b3_take13",
            ),
        ];
        for (id, text) in cases {
            assert_eq!(id.to_string(), text);
            assert_eq!(text.parse::<PhotoName>(), Ok(id.clone()), "{text}");
            assert_eq!(PhotoName::of_file(&id.file("jpg")), Some(id));
        }
    }

    #[test]
    fn a_profile_prefix_with_underscores_and_a_camera_named_like_a_number_read_back() {
        let id = PhotoName {
            shot: "my_scan_v2_0010_r3_az350.0_t+90.0".into(),
            camera: Some(CameraName::new("2").unwrap()),
            frame: Frame::Only,
            take: 1,
        };
        assert_eq!(id.to_string().parse::<PhotoName>(), Ok(id));
    }

    #[test]
    fn what_is_not_a_photo_s_name_is_refused() {
        for bad in [
            "",
            "manifest",
            "demo_0001_r1_az000.0",
            "demo_0001_r1_az0_t+0.0",
            "x_r1_az000.0_t+00.0_a b",
        ] {
            assert!(bad.parse::<PhotoName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn frames_are_journaled_as_numbers_or_marks() {
        let json = |f: Frame| serde_json::to_string(&f).unwrap();
        assert_eq!(json(Frame::Bracket(2)), "2");
        assert_eq!(json(Frame::Merged(BracketKind::Focus)), "\"stacked\"");
        for f in [
            Frame::Only,
            Frame::Bracket(7),
            Frame::Merged(BracketKind::Exposure),
        ] {
            assert_eq!(serde_json::from_str::<Frame>(&json(f)).unwrap(), f);
        }
        assert!(serde_json::from_str::<Frame>("0").is_err());
        assert!(serde_json::from_str::<Frame>("\"b2\"").is_ok());
        assert!(serde_json::from_str::<Frame>("\"sideways\"").is_err());
    }

    #[test]
    fn a_file_from_an_older_journal_is_identified_by_its_name_for_its_own_shot_only() {
        let mut f = SpoolFile {
            name: "demo_0002_r1_az045.0_t-15.0_high_b2.jpg".into(),
            sha256: String::new(),
            size: 1,
            pixels: None,
            camera: None,
            frame: Frame::Only,
        };
        let mut other = f.clone();
        other.identify("demo_0003_r1_az090.0_t-15.0");
        assert_eq!((other.camera, other.frame), (None, Frame::Only));
        f.identify("demo_0002_r1_az045.0_t-15.0");
        assert_eq!(f.camera.as_ref().map(CameraName::as_str), Some("high"));
        assert_eq!(f.frame, Frame::Bracket(2));
        assert_eq!(
            f.part(),
            Some(Part {
                camera: Some(CameraName::new("high").unwrap()),
                frame: 1
            })
        );
    }
}
