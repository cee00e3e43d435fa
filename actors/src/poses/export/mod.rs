//! Pose priors in the forms reconstruction tools read, from the poses of
//! [`super`] (object frame, world-to-camera rotation, camera x right, y
//! down, z forward):
//! - COLMAP's text model (`cameras.txt`, `images.txt`, an empty
//!   `points3D.txt`) for `colmap point_triangulator`, and the reference
//!   file of camera centres (`name x y z`) for `colmap model_aligner`;
//! - Agisoft Metashape's reference CSV (label, x, y, z, yaw, pitch, roll,
//!   accuracies), imported with columns `nxyzabcXYZABC`, one header row;
//! - RealityCapture / RealityScan XMP sidecars (`xcr:Rotation`, row-major
//!   world-to-camera, and `xcr:Position`, the camera centre);
//! - a JSON sidecar per photo, for scripts.
//!
//! A photo the judges flagged (its problems in the manifest) is marked for
//! a reconstruction to leave out: COLMAP's `images.txt` and `reference.txt`
//! leave it out (named in a comment; the other images keep the ids they
//! have with it in the folder), Metashape's CSV leaves it out,
//! RealityCapture's XMP keeps its pose but takes it out of meshing and
//! texturing, and the JSON sidecar says `flagged` and why.

use std::fmt::Write;
use std::path::Path;

use serde_json::json;

use super::{Intrinsics, Pose};
use crate::journal::ScanRecord;
use crate::model::{CameraName, Format, Geometry, Priors, SpoolFile};

/// The files of every format of `priors` for the photos of a finished scan
/// that reached its destination: names inside the scan's folder (`/`
/// between folders) and contents. None when no photo's size is known (a
/// scan of RAW files only).
pub fn files_of(priors: &Priors, record: &ScanRecord) -> Vec<(String, String)> {
    // Each camera of a column (or the one camera) with its geometry and
    // the tilt it adds.
    let one = [(priors.geometry, 0.0, None)];
    let column: Vec<(Geometry, f64, Option<&CameraName>)> = priors
        .cameras
        .iter()
        .map(|c| {
            let geometry = Geometry {
                height_m: c.height_m,
                ..priors.geometry
            };
            (geometry, c.tilt, Some(&c.name))
        })
        .collect();
    let cameras = if column.is_empty() {
        &one[..]
    } else {
        &column[..]
    };
    // A bracketed shot's frames (and merged image) all stand where the
    // shot does: each gets the pose.
    let bracketed = record.plan.bracket.is_some();
    let shots: Vec<_> = record
        .captured
        .iter()
        .filter(|(id, _)| record.uploaded.contains_key(id))
        .flat_map(|(id, (_, files))| {
            let plan = record.plan.shot(*id);
            cameras.iter().flat_map(move |(geometry, tilt, camera)| {
                let mine: Vec<_> = files
                    .iter()
                    .filter(|f| f.camera.as_ref() == *camera)
                    .collect();
                let posed: Vec<&SpoolFile> = if bracketed {
                    mine.into_iter().filter(|f| f.pixels.is_some()).collect()
                } else {
                    photo_of(&mine, |f| &f.name, |f| f.pixels)
                        .into_iter()
                        .copied()
                        .collect()
                };
                let tilt = plan.tilt.get() + tilt;
                posed
                    .into_iter()
                    .map(move |file| (file, plan.azimuth.get(), tilt, geometry))
            })
        })
        .collect();
    let Some([width, height]) = shots.iter().find_map(|(f, _, _, _)| f.pixels) else {
        return Vec::new();
    };
    let photos: Vec<Posed> = shots
        .iter()
        .map(|(file, azimuth, tilt, geometry)| Posed {
            name: &file.name,
            azimuth: *azimuth,
            tilt: *tilt,
            pose: geometry.pose(*azimuth, *tilt),
            problems: record
                .judged
                .get(&file.name)
                .map(|q| q.problems().iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
        })
        .collect();
    let camera = priors.geometry.intrinsics(width, height);
    priors
        .formats
        .iter()
        .flat_map(|f| files(*f, &photos, &camera, priors.geometry.accuracy()))
        .collect()
}

/// The file of a shot its pose is written for: one whose size is known,
/// else a JPEG by its name (a JPEG + RAW pair), else the first.
pub fn photo_of<T>(
    files: &[T],
    name: impl Fn(&T) -> &str,
    pixels: impl Fn(&T) -> Option<[u32; 2]>,
) -> Option<&T> {
    let jpeg = |f: &&T| {
        let n = name(f).to_ascii_lowercase();
        n.ends_with(".jpg") || n.ends_with(".jpeg")
    };
    files
        .iter()
        .find(|f| pixels(f).is_some())
        .or_else(|| files.iter().find(jpeg))
        .or_else(|| files.first())
}

/// The files of one format: names inside the scan's folder (`/` between
/// folders) and contents.
pub fn files(
    format: Format,
    photos: &[Posed],
    camera: &Intrinsics,
    accuracy: Accuracy,
) -> Vec<(String, String)> {
    let stem = |name: &str| {
        Path::new(name)
            .file_stem()
            .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned())
    };
    match format {
        Format::Colmap => {
            let [cameras, images, points] = colmap_model(photos, camera);
            vec![
                ("colmap/cameras.txt".into(), cameras),
                ("colmap/images.txt".into(), images),
                ("colmap/points3D.txt".into(), points),
                ("colmap/reference.txt".into(), colmap_reference(photos)),
            ]
        }
        Format::Metashape => vec![(
            "metashape_reference.csv".into(),
            metashape_csv(photos, accuracy),
        )],
        Format::Realitycapture => photos
            .iter()
            .map(|p| {
                (
                    format!("{}.xmp", stem(p.name)),
                    realitycapture_xmp(p, camera),
                )
            })
            .collect(),
        Format::Json => photos
            .iter()
            .map(|p| {
                let json = json_sidecar(p, camera);
                (format!("{}.pose.json", stem(p.name)), format!("{json:#}\n"))
            })
            .collect(),
    }
}

/// One photo and where its camera stood.
#[derive(Debug, Clone)]
pub struct Posed<'a> {
    /// The photo's file name.
    pub name: &'a str,
    /// The table's angle, degrees.
    pub azimuth: f64,
    /// The tilt, degrees.
    pub tilt: f64,
    /// The pose.
    pub pose: Pose,
    /// What the judges found wrong with it (none: it is not flagged).
    pub problems: Vec<String>,
}

impl Posed<'_> {
    /// The judges flagged it: a reconstruction should leave it out.
    pub fn is_flagged(&self) -> bool {
        !self.problems.is_empty()
    }
}

/// How sure the priors are: position in metres, angles in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// Of each camera centre coordinate.
    pub position_m: f64,
    /// Of each angle.
    pub angle_deg: f64,
}

/// COLMAP's text model: one shared PINHOLE camera, every image with its
/// pose, no points. Returns `cameras.txt`, `images.txt`, `points3D.txt`.
///
/// Images are numbered in the byte order of their names, as COLMAP's
/// `feature_extractor` numbers a folder's images in its database: the
/// `point_triangulator` refuses a model whose ids name other images. (A
/// column's photos are taken in the column's order, which need not be
/// their names' order.)
pub fn colmap_model(photos: &[Posed], camera: &Intrinsics) -> [String; 3] {
    let cameras = format!(
        "# Camera list with one line of data per camera:\n\
         #   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n\
         1 PINHOLE {} {} {} {} {} {}\n",
        camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy
    );
    let mut images = String::from(
        "# Image list with two lines of data per image:\n\
         #   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n\
         #   POINTS2D[] as (X, Y, POINT3D_ID)\n",
    );
    let mut by_name: Vec<&Posed> = photos.iter().collect();
    by_name.sort_by(|a, b| a.name.cmp(b.name));
    for (i, photo) in by_name.into_iter().enumerate() {
        if photo.is_flagged() {
            let _ = writeln!(
                images,
                "# {} left out (flagged: {})",
                photo.name,
                photo.problems.join("; ")
            );
            continue;
        }
        let [qw, qx, qy, qz] = photo.pose.quaternion();
        let [tx, ty, tz] = photo.pose.translation();
        // The second line (the image's 2-D points) is empty, and must be
        // there: COLMAP reads images two lines at a time.
        let _ = writeln!(
            images,
            "{} {qw} {qx} {qy} {qz} {tx} {ty} {tz} 1 {}\n",
            i + 1,
            photo.name
        );
    }
    let points = String::from(
        "# 3D point list with one line of data per point:\n\
         #   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n",
    );
    [cameras, images, points]
}

/// The camera centres for `colmap model_aligner --ref_images_path`: one
/// `name x y z` line per photo, metres, no header.
pub fn colmap_reference(photos: &[Posed]) -> String {
    let mut out = String::new();
    for photo in photos.iter().filter(|p| !p.is_flagged()) {
        let [x, y, z] = photo.pose.centre;
        let _ = writeln!(out, "{} {x} {y} {z}", photo.name);
    }
    out
}

/// Metashape's yaw, pitch and roll (degrees) of a pose: the angles its
/// `ypr2mat` turns into the camera-to-world rotation of the classic
/// photogrammetric camera (x right, y up, z backwards); (0, 0, 0) looks
/// straight down with the top of the photo towards +Y, pitch 90 is level,
/// yaw turns clockwise from +Y.
pub fn yaw_pitch_roll(pose: &Pose) -> [f64; 3] {
    // Camera-to-world, with the camera's y and z flipped to the classic frame.
    let c2w = pose.camera_to_world();
    let m = [0, 1, 2].map(|i| [c2w[i][0], -c2w[i][1], -c2w[i][2]]);
    let level = m[2][0].hypot(m[2][2]);
    let pitch = m[2][1].atan2(level);
    if level < 1e-9 {
        // Level camera (pitch ±90°): only yaw − roll is defined; roll 0.
        let yaw = (-m[1][0]).atan2(m[0][0]);
        return [yaw.to_degrees(), pitch.to_degrees(), 0.0];
    }
    let roll = (-m[2][0]).atan2(m[2][2]).to_degrees();
    let yaw = m[0][1].atan2(m[1][1]).to_degrees();
    let pitch = pitch.to_degrees();
    // The same rotation is also (yaw + 180, 180 − pitch, roll + 180): keep
    // the roll small, so that a camera looking up has a pitch above 90.
    if roll.abs() > 90.0 {
        let yaw = if yaw > 0.0 { yaw - 180.0 } else { yaw + 180.0 };
        let roll = if roll > 0.0 {
            roll - 180.0
        } else {
            roll + 180.0
        };
        return [yaw, 180.0 - pitch, roll];
    }
    [yaw, pitch, roll]
}

/// Metashape's reference CSV: a header row, then one camera per row. Import
/// it with File > Import > Import Reference, columns `nxyzabcXYZABC`,
/// delimiter comma, one row skipped, rotation angles set to yaw, pitch,
/// roll, in a local coordinate system in metres.
pub fn metashape_csv(photos: &[Posed], accuracy: Accuracy) -> String {
    let mut out = String::from(
        "label,x,y,z,yaw,pitch,roll,accuracy_x,accuracy_y,accuracy_z,accuracy_yaw,accuracy_pitch,accuracy_roll\n",
    );
    let (p, a) = (accuracy.position_m, accuracy.angle_deg);
    for photo in photos.iter().filter(|p| !p.is_flagged()) {
        let [x, y, z] = photo.pose.centre;
        let [yaw, pitch, roll] = yaw_pitch_roll(&photo.pose);
        let _ = writeln!(
            out,
            "{},{x},{y},{z},{yaw},{pitch},{roll},{p},{p},{p},{a},{a},{a}",
            photo.name
        );
    }
    out
}

/// A RealityCapture / RealityScan XMP sidecar for one photo: its pose as an
/// initial prior (the alignment may move it), in absolute coordinates, and
/// the lens as an initial calibration. Saved beside the photo as
/// `<photo stem>.xmp`.
pub fn realitycapture_xmp(photo: &Posed, camera: &Intrinsics) -> String {
    let r = &photo.pose.rotation;
    let rotation = r
        .iter()
        .flatten()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let [x, y, z] = photo.pose.centre;
    // The focal length as on a 36 mm wide frame, over the photo's long side.
    let long = f64::from(camera.width.max(camera.height));
    let focal_35mm = camera.fx * 36.0 / long;
    let used = if photo.is_flagged() { 0 } else { 1 };
    format!(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
         \x20 <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         \x20   <rdf:Description xmlns:xcr=\"http://www.capturingreality.com/ns/xcr/1.1#\"\n\
         \x20      xcr:Version=\"3\" xcr:PosePrior=\"initial\" xcr:Coordinates=\"absolute\"\n\
         \x20      xcr:CalibrationPrior=\"initial\" xcr:FocalLength35mm=\"{focal_35mm}\"\n\
         \x20      xcr:Skew=\"0\" xcr:AspectRatio=\"1\" xcr:PrincipalPointU=\"0\" xcr:PrincipalPointV=\"0\"\n\
         \x20      xcr:InMeshing=\"{used}\" xcr:InTexturing=\"{used}\">\n\
         \x20     <xcr:Rotation>{rotation}</xcr:Rotation>\n\
         \x20     <xcr:Position>{x} {y} {z}</xcr:Position>\n\
         \x20   </rdf:Description>\n\
         \x20 </rdf:RDF>\n\
         </x:xmpmeta>\n"
    )
}

/// The JSON sidecar of one photo: the pose as a 4×4 camera-to-object
/// matrix and as world-to-camera rotation and centre, the shot's angles,
/// the camera's distance from the origin, and the lens.
pub fn json_sidecar(photo: &Posed, camera: &Intrinsics) -> serde_json::Value {
    let pose = &photo.pose;
    let c2w = pose.camera_to_world();
    let c = pose.centre;
    let matrix: Vec<[f64; 4]> = (0..3)
        .map(|i| [c2w[i][0], c2w[i][1], c2w[i][2], c[i]])
        .chain(std::iter::once([0.0, 0.0, 0.0, 1.0]))
        .collect();
    json!({
        "image": photo.name,
        "frame": "object: +Z up the turntable's axis, origin at the table's centre, metres; camera: x right, y down, z forward",
        "azimuth_deg": photo.azimuth,
        "tilt_deg": photo.tilt,
        "distance_m": c.iter().map(|v| v * v).sum::<f64>().sqrt(),
        "camera_to_object": matrix,
        "rotation_object_to_camera": pose.rotation,
        "centre": c,
        "flagged": photo.is_flagged(),
        "problems": photo.problems,
        "intrinsics": {
            "width": camera.width,
            "height": camera.height,
            "fx": camera.fx,
            "fy": camera.fy,
            "cx": camera.cx,
            "cy": camera.cy,
        },
    })
}

#[cfg(test)]
mod tests;
