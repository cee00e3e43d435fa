//! `manifest.json`: the list of every photo of a scan, with where and when it
//! was taken, its checksum and its id at the destination. Written last.

use serde::Serialize;

use crate::clock::rfc3339_millis;
use crate::journal::{take_of, ScanRecord};
use crate::model::{CameraName, Frame, Outcome, Quality, ShotId};

/// The manifest of a scan.
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    /// The scan's id (also its folder name).
    pub scan: &'a str,
    /// The profile it followed.
    pub profile: &'a str,
    /// Start time, RFC 3339.
    pub started_at: String,
    /// Completed or stopped.
    pub outcome: Option<Outcome>,
    /// Shots planned.
    pub planned: usize,
    /// Some captured photo is not at the destination (see `missing`).
    pub partial: bool,
    /// Captured photos that are not at the destination, and why.
    pub missing: Vec<Missing<'a>>,
    /// Photos the judges found a problem in (the object out of frame or
    /// cut off, blurred, over- or underexposed), for a reconstruction to
    /// leave out; the pose priors mark them too.
    pub flagged: Vec<Flagged<'a>>,
    /// Every captured shot, in capture order.
    pub shots: Vec<ManifestShot<'a>>,
    /// The pose priors beside the photos (`colmap/`, the Metashape CSV,
    /// the XMP and JSON sidecars), as `[geometry]` gave them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub poses: Vec<ExtraFile<'a>>,
}

/// A file of the scan other than its photos.
#[derive(Debug, Serialize)]
pub struct ExtraFile<'a> {
    /// Its name inside the scan's folder.
    pub name: &'a str,
    /// Its id at the destination.
    pub destination_id: &'a str,
}

/// A photo with a problem.
#[derive(Debug, Serialize)]
pub struct Flagged<'a> {
    /// Its shot.
    pub shot: ShotId,
    /// Its file name.
    pub photo: &'a str,
    /// Each problem, in words.
    pub problems: Vec<String>,
}

/// A captured shot whose photo never reached the destination.
#[derive(Debug, Serialize)]
pub struct Missing<'a> {
    /// Number in the scan, from 1.
    pub shot: ShotId,
    /// Its file name(s).
    pub files: Vec<&'a str>,
    /// The column camera whose photo it is, when that photo alone is
    /// missing (absent: the whole shot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<&'a CameraName>,
    /// Why it is not there.
    pub reason: &'a str,
}

/// Why a shot triggered on a wired camera has no photo yet.
const ON_CARD: &str = "on the camera's card, fired by a wire: `scanrig import` brings it in";

/// One captured shot.
#[derive(Debug, Serialize)]
pub struct ManifestShot<'a> {
    /// Number in the scan, from 1.
    pub shot: ShotId,
    /// Ring, from 1.
    pub ring: u32,
    /// Number within the ring, from 1.
    pub index: u32,
    /// Turntable angle, degrees.
    pub azimuth: f64,
    /// Tilt angle, degrees.
    pub tilt: f64,
    /// When the shot was captured, RFC 3339.
    pub captured_at: String,
    /// The take kept: 2 or more when a blurred photo was taken again (its
    /// files' names end `_take<n>`); absent for the first.
    #[serde(skip_serializing_if = "is_first")]
    pub take: u32,
    /// The takes given up because a photo came out blurred, in order:
    /// never uploaded (a shot's upload waits for its judgement).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retaken: Vec<RetakenTake<'a>>,
    /// Its file(s).
    pub files: Vec<ManifestFile<'a>>,
}

fn is_first(take: &u32) -> bool {
    *take <= 1
}

/// A take of a shot given up for a retake.
#[derive(Debug, Serialize)]
pub struct RetakenTake<'a> {
    /// Which take.
    pub take: u32,
    /// Its photos' file names.
    pub files: &'a [String],
    /// Why it was taken again.
    pub why: &'a str,
}

/// One file of a shot.
#[derive(Debug, Serialize)]
pub struct ManifestFile<'a> {
    /// File name.
    pub name: &'a str,
    /// sha256, lower-case hex.
    pub sha256: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Width and height in pixels, for a JPEG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixels: Option<[u32; 2]>,
    /// The column camera that took it (absent: the rig's only camera).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<&'a CameraName>,
    /// Which frame of a bracketed set it is (a number from 1), or the
    /// image merged from the set (`fused`, `stacked`); absent: the shot's
    /// one frame.
    #[serde(skip_serializing_if = "Frame::is_only")]
    pub frame: Frame,
    /// Id at the destination (`None` if it never got there).
    pub destination_id: Option<&'a str>,
    /// What the judges made of it: its measures and problems, or why it
    /// was not judged (absent: judging is off, or this is the RAW file of
    /// a pair whose JPEG was judged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<&'a Quality>,
}

impl<'a> Manifest<'a> {
    /// The manifest of a scan as its journal tells it.
    pub fn from_record(record: &'a ScanRecord) -> Manifest<'a> {
        let shots = record
            .captured
            .iter()
            .map(|(id, (at, files))| {
                let plan = record.plan.shot(*id);
                let remote = record.uploaded.get(id);
                let take = take_of(files);
                let retaken = record.retaken.get(id).into_iter().flatten();
                ManifestShot {
                    take,
                    retaken: retaken
                        .filter(|r| r.take != take)
                        .map(|r| RetakenTake {
                            take: r.take,
                            files: &r.files,
                            why: &r.why,
                        })
                        .collect(),
                    shot: *id,
                    ring: plan.ring,
                    index: plan.index,
                    azimuth: plan.azimuth.get(),
                    tilt: plan.tilt.get(),
                    captured_at: rfc3339_millis(*at),
                    files: files
                        .iter()
                        .enumerate()
                        .map(|(i, f)| ManifestFile {
                            name: &f.name,
                            sha256: &f.sha256,
                            size: f.size,
                            pixels: f.pixels,
                            camera: f.camera.as_ref(),
                            frame: f.frame,
                            destination_id: remote.and_then(|r| r.get(i)).map(String::as_str),
                            quality: record.judged.get(&f.name),
                        })
                        .collect(),
                }
            })
            .collect();
        let missing: Vec<Missing<'a>> = record
            .captured
            .iter()
            .filter(|(id, _)| !record.uploaded.contains_key(id))
            .map(|(id, (_, files))| Missing {
                shot: *id,
                files: files.iter().map(|f| f.name.as_str()).collect(),
                camera: None,
                reason: record
                    .damaged
                    .get(id)
                    .or_else(|| record.failed.get(id))
                    .map_or("not sent yet", String::as_str),
            })
            .chain(
                record
                    .not_imported
                    .iter()
                    .map(|((id, camera), why)| Missing {
                        shot: *id,
                        files: Vec::new(),
                        camera: camera.as_ref(),
                        reason: why,
                    }),
            )
            .chain(
                record
                    .awaiting_import()
                    .into_iter()
                    .map(|(id, camera)| Missing {
                        shot: *id,
                        files: Vec::new(),
                        camera: camera.as_ref(),
                        reason: ON_CARD,
                    }),
            )
            .collect();
        let flagged = record
            .captured
            .iter()
            .flat_map(|(id, (_, files))| files.iter().map(move |f| (*id, f)))
            .filter_map(|(shot, f)| {
                let problems = record.judged.get(&f.name)?.problems();
                (!problems.is_empty()).then(|| Flagged {
                    shot,
                    photo: &f.name,
                    problems: problems.iter().map(ToString::to_string).collect(),
                })
            })
            .collect();
        Manifest {
            flagged,
            scan: record.plan.scan.as_str(),
            partial: !missing.is_empty(),
            missing,
            profile: &record.plan.profile,
            started_at: rfc3339_millis(record.started_at),
            outcome: record.finished,
            planned: record.plan.shots.len(),
            shots,
            poses: record
                .extra
                .iter()
                .map(|(name, id)| ExtraFile {
                    name,
                    destination_id: id,
                })
                .collect(),
        }
    }

    /// Pretty JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a manifest always serialises");
        bytes.push(b'\n');
        bytes
    }
}
