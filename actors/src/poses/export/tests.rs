//! Every format is read back here, with each tool's documented conventions
//! written out independently, into the poses it was made from.

use super::*;
use crate::poses::tests::rotation_of_quaternion;
use crate::poses::{Geometry, Turn};

const ARM: Geometry = Geometry {
    distance_m: 0.1,
    height_m: 0.12,
    arm_out_m: 0.45,
    arm_up_m: 0.02,
    table_turns: Turn::Counterclockwise,
    focal_mm: 50.0,
    sensor_width_mm: 36.0,
    sensor_height_mm: 24.0,
    position_accuracy_m: 0.005,
    angle_accuracy_deg: 2.0,
};

fn photos() -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    for (ring, tilt) in [-20.0, 0.0, 15.0, 45.0].into_iter().enumerate() {
        for i in 0..6 {
            let azimuth = f64::from(i) * 60.0 + 5.0;
            out.push((format!("p_{ring}_{i}.jpg"), azimuth, tilt));
        }
    }
    out
}

fn posed(list: &[(String, f64, f64)]) -> Vec<Posed<'_>> {
    list.iter()
        .map(|(name, azimuth, tilt)| Posed {
            name,
            azimuth: *azimuth,
            tilt: *tilt,
            pose: ARM.pose(*azimuth, *tilt),
            problems: Vec::new(),
        })
        .collect()
}

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

fn assert_same(a: [[f64; 3]; 3], b: [[f64; 3]; 3], what: &str) {
    for i in 0..3 {
        for j in 0..3 {
            assert!((a[i][j] - b[i][j]).abs() < 1e-9, "{what}: {a:?} != {b:?}");
        }
    }
}

fn matmul(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|i| [0, 1, 2].map(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

#[test]
fn colmap_images_read_back_as_the_poses() {
    let list = photos();
    let photos = posed(&list);
    let camera = ARM.intrinsics(1200, 800);
    let [cameras, images, points] = colmap_model(&photos, &camera);
    let data: Vec<&str> = cameras.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(data.len(), 1);
    let fields: Vec<&str> = data[0].split(' ').collect();
    assert_eq!(fields[..4], ["1", "PINHOLE", "1200", "800"]);
    let params = numbers(&fields[4..].join(" "));
    let want = [50.0 / 36.0 * 1200.0, 50.0 / 24.0 * 800.0, 600.0, 400.0];
    assert!(
        params.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9),
        "{params:?}"
    );
    assert!(points.lines().all(|l| l.starts_with('#')));
    // Two lines per image, the second (its 2-D points) empty.
    let lines: Vec<&str> = images.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2 * photos.len());
    for (pair, photo) in lines.chunks(2).zip(&photos) {
        assert_eq!(pair[1], "");
        let fields: Vec<&str> = pair[0].split(' ').collect();
        assert_eq!(fields.len(), 10);
        assert_eq!(fields[9], photo.name);
        let v: Vec<f64> = fields[1..8].iter().map(|f| f.parse().unwrap()).collect();
        // COLMAP: the quaternion (w first) rotates world into camera.
        let r = rotation_of_quaternion([v[0], v[1], v[2], v[3]]);
        assert_same(r, photo.pose.rotation, photo.name);
        // The centre is -Rᵀ t.
        let t = [v[4], v[5], v[6]];
        for (k, want) in photo.pose.centre.iter().enumerate() {
            let c = -(0..3).map(|i| r[i][k] * t[i]).sum::<f64>();
            assert!((c - want).abs() < 1e-9, "{}", photo.name);
        }
    }
    let reference = colmap_reference(&photos);
    for (line, photo) in reference.lines().zip(&photos) {
        let (name, xyz) = line.split_once(' ').unwrap();
        assert_eq!(name, photo.name);
        assert_eq!(numbers(xyz), photo.pose.centre.to_vec());
    }
}

#[test]
fn colmap_numbers_images_in_the_order_of_their_names() {
    // A column's photos come in the column's order (high, low, mid here);
    // COLMAP's feature extractor numbers them by name.
    let list: Vec<(String, f64, f64)> = ["s_0001_high.jpg", "s_0001_low.jpg", "s_0001_mid.jpg"]
        .iter()
        .rev()
        .chain(["s_0002_mid.jpg", "s_0002_high.jpg"].iter())
        .map(|name| ((*name).to_owned(), 0.0, 10.0))
        .collect();
    let [_, images, _] = colmap_model(&posed(&list), &ARM.intrinsics(1200, 800));
    let ids: Vec<(&str, &str)> = images
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0], f[9])
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("1", "s_0001_high.jpg"),
            ("2", "s_0001_low.jpg"),
            ("3", "s_0001_mid.jpg"),
            ("4", "s_0002_high.jpg"),
            ("5", "s_0002_mid.jpg"),
        ]
    );
}

/// Metashape's `ypr2mat`: the camera-to-world rotation of the classic
/// camera (x right, y up, z back) is Rz(−yaw) · Rx(pitch) · Ry(roll).
fn ypr2mat(yaw: f64, pitch: f64, roll: f64) -> [[f64; 3]; 3] {
    let (sy, cy) = (-yaw).to_radians().sin_cos();
    let (sp, cp) = pitch.to_radians().sin_cos();
    let (sr, cr) = roll.to_radians().sin_cos();
    let rz = [[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]];
    let rx = [[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]];
    let ry = [[cr, 0.0, sr], [0.0, 1.0, 0.0], [-sr, 0.0, cr]];
    matmul(matmul(rz, rx), ry)
}

#[test]
fn metashape_rows_read_back_as_the_poses() {
    let list = photos();
    let photos = posed(&list);
    let accuracy = Accuracy {
        position_m: 0.005,
        angle_deg: 2.0,
    };
    let csv = metashape_csv(&photos, accuracy);
    let mut rows = csv.lines();
    assert!(rows
        .next()
        .unwrap()
        .starts_with("label,x,y,z,yaw,pitch,roll"));
    let flip = [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]];
    for (row, photo) in rows.zip(&photos) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 13);
        assert_eq!(cells[0], photo.name);
        let v: Vec<f64> = cells[1..].iter().map(|c| c.parse().unwrap()).collect();
        assert_eq!(v[..3], photo.pose.centre);
        // Back to the camera frame of the poses (y down, z forward).
        let c2w = matmul(ypr2mat(v[3], v[4], v[5]), flip);
        assert_same(c2w, photo.pose.camera_to_world(), photo.name);
        assert_eq!(v[6..], [0.005, 0.005, 0.005, 2.0, 2.0, 2.0]);
        // A level camera is pitch 90, one looking down less, one looking
        // up more; the camera never rolls.
        assert!((v[4] - (90.0 - photo.tilt)).abs() < 1e-9, "{row}");
        assert!(v[5].abs() < 1e-9, "{row}");
    }
}

#[test]
fn realitycapture_sidecars_read_back_as_the_poses() {
    let list = photos();
    let photos = posed(&list);
    let camera = ARM.intrinsics(1200, 800);
    for photo in &photos {
        let xmp = realitycapture_xmp(photo, &camera);
        let inner = |tag: &str| {
            let open = format!("<xcr:{tag}>");
            let start = xmp.find(&open).unwrap() + open.len();
            let end = xmp[start..].find("</").unwrap() + start;
            numbers(&xmp[start..end])
        };
        // Row-major, world to camera.
        let r = inner("Rotation");
        let rotation = [0, 1, 2].map(|i| [r[3 * i], r[3 * i + 1], r[3 * i + 2]]);
        assert_same(rotation, photo.pose.rotation, photo.name);
        assert_eq!(inner("Position"), photo.pose.centre.to_vec());
        assert!(xmp.contains("xcr:PosePrior=\"initial\""));
        // 50 mm on a 36 mm sensor is 50 mm on a 36 mm frame.
        let at = xmp.find("xcr:FocalLength35mm=\"").unwrap() + 21;
        let focal: f64 = xmp[at..at + xmp[at..].find('"').unwrap()].parse().unwrap();
        assert!((focal - 50.0).abs() < 1e-9, "{xmp}");
    }
}

#[test]
fn json_sidecars_hold_the_pose_both_ways() {
    let list = photos();
    let photos = posed(&list);
    let camera = ARM.intrinsics(1200, 800);
    for photo in &photos {
        let json = json_sidecar(photo, &camera);
        let m: Vec<Vec<f64>> = serde_json::from_value(json["camera_to_object"].clone()).unwrap();
        let r: Vec<Vec<f64>> =
            serde_json::from_value(json["rotation_object_to_camera"].clone()).unwrap();
        // The 4×4 matrix's rotation is the transpose of the other one, its
        // last column the centre.
        for i in 0..3 {
            for j in 0..3 {
                assert!((m[i][j] - r[j][i]).abs() < 1e-12);
            }
            assert_eq!(m[i][3], photo.pose.centre[i]);
        }
        assert_eq!(m[3], [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(json["azimuth_deg"], photo.azimuth);
        assert_eq!(json["image"], photo.name);
    }
}
