//! Unit tests of the poses: checked against what the rig looks like, not
//! against numbers the code produced.

use super::*;

/// A camera on a tripod, 0.6 m from the axis and 0.15 m up, with the
/// default lens: 35 mm on a 23.5 × 15.6 mm sensor.
fn tripod() -> Geometry {
    Geometry {
        distance_m: 0.6,
        height_m: 0.15,
        arm_out_m: 0.0,
        arm_up_m: 0.0,
        ..Geometry::default()
    }
}

/// The rotation of a unit quaternion `[w, x, y, z]` (Hamilton's, the
/// convention of COLMAP's `images.txt`).
pub(crate) fn rotation_of_quaternion([w, x, y, z]: [f64; 4]) -> [[f64; 3]; 3] {
    [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[test]
fn every_rotation_is_a_proper_rotation() {
    let arm = Geometry {
        arm_out_m: 0.3,
        arm_up_m: 0.05,
        ..tripod()
    };
    for az in (0..360).step_by(17) {
        for tilt in [-60.0, -20.0, 0.0, 15.0, 45.0, 89.0] {
            let r = arm.pose(f64::from(az), tilt).rotation;
            for i in 0..3 {
                for j in 0..3 {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!(close(dot(r[i], r[j]), want), "{az} {tilt}: {r:?}");
                }
            }
            // x × y = z: a right-handed camera frame.
            let [x, y, z] = r;
            let cross = [
                x[1] * y[2] - x[2] * y[1],
                x[2] * y[0] - x[0] * y[2],
                x[0] * y[1] - x[1] * y[0],
            ];
            assert!((0..3).all(|k| close(cross[k], z[k])), "{az} {tilt}");
        }
    }
}

#[test]
fn the_camera_goes_round_the_other_way_from_the_table() {
    // The table turns 90° counter-clockwise: what faced the camera now
    // faces +Y, so the camera, seen from the object, stands at -Y.
    let pose = tripod().pose(90.0, 0.0);
    let [x, y, z] = pose.centre;
    assert!(
        close(x, 0.0) && close(y, -0.6) && close(z, 0.15),
        "{pose:?}"
    );
    let cw = Geometry {
        table_turns: Turn::Clockwise,
        ..tripod()
    };
    let [x, y, _] = cw.pose(90.0, 0.0).centre;
    assert!(close(x, 0.0) && close(y, 0.6));
    for az in [0.0, 10.0, 123.0, 359.0] {
        let c = tripod().pose(az, 0.0).centre;
        assert!(close(c[0].hypot(c[1]), 0.6), "distance to the axis at {az}");
    }
}

#[test]
fn a_level_camera_looks_at_the_axis_with_the_right_hand_side_to_plus_y() {
    let pose = tripod().pose(0.0, 0.0);
    let camera = tripod().intrinsics(1200, 800);
    // The axis at the camera's height is in the middle of the photo.
    let [u, v] = pose.project(&camera, [0.0, 0.0, 0.15]).expect("in front");
    assert!(close(u, 600.0) && close(v, 400.0), "{u} {v}");
    // Standing at +X looking at the axis, +Y is on the right...
    let [u, _] = pose.project(&camera, [0.0, 0.1, 0.15]).unwrap();
    assert!(u > 600.0, "{u}");
    // ...and up is up the photo (y grows downwards).
    let [_, v] = pose.project(&camera, [0.0, 0.0, 0.25]).unwrap();
    assert!(v < 400.0, "{v}");
    // Behind the camera nothing is seen.
    assert!(pose.project(&camera, [1.0, 0.0, 0.15]).is_none());
}

#[test]
fn an_arm_pivoting_at_the_object_keeps_it_in_the_middle_and_rises_with_the_tilt() {
    // The pivot on the axis 0.1 m above the table, the camera 0.5 m out.
    let arm = Geometry {
        distance_m: 0.0,
        height_m: 0.1,
        arm_out_m: 0.5,
        ..tripod()
    };
    let camera = arm.intrinsics(800, 600);
    let mut last_height = f64::MIN;
    for tilt in [-30.0, 0.0, 15.0, 45.0, 80.0] {
        for az in [0.0, 45.0, 200.0] {
            let pose = arm.pose(az, tilt);
            let [u, v] = pose.project(&camera, [0.0, 0.0, 0.1]).expect("seen");
            assert!(close(u, 400.0) && close(v, 300.0), "{tilt} {az}: {u} {v}");
            let d = [pose.centre[0], pose.centre[1], pose.centre[2] - 0.1];
            assert!(close(dot(d, d).sqrt(), 0.5), "on the arm's circle");
        }
        let height = arm.pose(0.0, tilt).centre[2];
        assert!(height > last_height, "a higher tilt stands higher");
        last_height = height;
    }
    // Straight up at 90°, looking down.
    let top = arm.pose(0.0, 90.0);
    assert!(close(top.centre[2], 0.6) && close(top.centre[0], 0.0));
    assert!(close(top.rotation[2][2], -1.0), "forward is -Z");
}

#[test]
fn the_quaternion_is_the_rotation() {
    let arm = Geometry {
        arm_out_m: 0.2,
        ..tripod()
    };
    for (az, tilt) in [
        (0.0, 0.0),
        (90.0, 30.0),
        (180.0, -20.0),
        (270.0, 60.0),
        (33.0, 89.0),
    ] {
        let pose = arm.pose(az, tilt);
        let q = pose.quaternion();
        assert!(q[0] >= 0.0);
        let m = rotation_of_quaternion(q);
        let cells = |r: [[f64; 3]; 3]| r.into_iter().flatten().collect::<Vec<_>>();
        let pairs = cells(m).into_iter().zip(cells(pose.rotation));
        assert!(pairs.into_iter().all(|(a, b)| close(a, b)), "{az} {tilt}");
        // The translation puts the centre at the camera's origin.
        let t = pose.translation();
        let r = pose.rotation;
        let c = pose.centre;
        for i in 0..3 {
            assert!(close(dot(r[i], c) + t[i], 0.0));
        }
    }
}

#[test]
fn intrinsics_follow_the_lens_and_the_sensor() {
    let camera = tripod().intrinsics(2350, 1560);
    assert!(close(camera.fx, 3500.0) && close(camera.fy, 3500.0));
    assert!(close(camera.cx, 1175.0) && close(camera.cy, 780.0));
    // 4:3 on a 3:2 sensor: the full height, square pixels.
    let camera = tripod().intrinsics(800, 600);
    assert!(close(camera.fx, 35.0 / (15.6 / 600.0)) && close(camera.fy, camera.fx));
    // 16:9: the full width.
    let camera = tripod().intrinsics(1600, 900);
    assert!(close(camera.fx, 35.0 / (23.5 / 1600.0)) && close(camera.fy, camera.fx));
}
