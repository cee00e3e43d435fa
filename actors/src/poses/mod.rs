//! Where the camera stood for every shot, in the object's frame: the rig's
//! geometry (`[geometry]`) and a shot's table angle and tilt give each
//! photo's camera pose, which reconstruction tools take as a prior.
//!
//! # Conventions (written down once; every exporter derives from these)
//! - **Object frame.** The turntable's axis is +Z, pointing up; the origin
//!   is the centre of the table's top; units are metres. +X points from the
//!   axis towards the camera when the table stands at 0°, +Y completes a
//!   right-handed frame. The object turns with the table, so in this frame
//!   it is the camera that goes round: by the table's angle, the other way.
//! - **Table angle.** A shot's azimuth is the table's angle. With
//!   `table_turns = "counterclockwise"` (seen from above; the default) a
//!   positive angle turns the table counter-clockwise, so the camera stands
//!   at `-azimuth` around +Z in the object frame.
//! - **Tilt.** The camera sits on an arm that pivots about a horizontal
//!   axis (the pivot) `distance_m` from the turntable's axis and
//!   `height_m` above the table; at tilt 0 its optical centre is `arm_out_m`
//!   further out and `arm_up_m` higher than the pivot, and it looks
//!   horizontally at the turntable's axis. A positive tilt swings the arm up:
//!   the camera rises and looks down at the object. Without a tilt arm, the
//!   pivot is the camera (`arm_out_m = arm_up_m = 0`).
//! - **Camera frame** (as COLMAP and OpenCV): +x to the right of the
//!   image, +y down the image, +z forward along the optical axis.
//! - **Pose.** `rotation` maps object coordinates to camera coordinates
//!   (world-to-camera; its rows are the camera's axes in the object frame);
//!   `centre` is the camera's optical centre in the object frame; a point
//!   `p` is seen at `rotation · (p − centre)`.

use crate::model::{Geometry, ShotPlan, Turn};

pub mod export;

/// A camera pose in the object frame (see the module's conventions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Object-to-camera rotation; row i is camera axis i in the object frame.
    pub rotation: [[f64; 3]; 3],
    /// The optical centre, metres.
    pub centre: [f64; 3],
}

/// A pinhole camera: focal lengths and principal point in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intrinsics {
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Focal length along x, pixels.
    pub fx: f64,
    /// Focal length along y, pixels.
    pub fy: f64,
    /// Principal point, pixels from the left edge.
    pub cx: f64,
    /// Principal point, pixels from the top edge.
    pub cy: f64,
}

impl Geometry {
    /// The pose of the camera for a shot at table angle `azimuth_deg` and
    /// tilt `tilt_deg`.
    pub fn pose(&self, azimuth_deg: f64, tilt_deg: f64) -> Pose {
        let tilt = tilt_deg.to_radians();
        let (st, ct) = tilt.sin_cos();
        // In the vertical plane through the axis and the camera (r outward
        // from the axis, v up), the arm turns by the tilt about the pivot.
        let r = self.distance_m + self.arm_out_m * ct - self.arm_up_m * st;
        let v = self.height_m + self.arm_out_m * st + self.arm_up_m * ct;
        // With the table at 0° that plane is the XZ plane, r along +X.
        let centre = [r, 0.0, v];
        let forward = [-ct, 0.0, -st];
        let down = [st, 0.0, -ct];
        let right = [0.0, 1.0, 0.0];
        // The object turned by the table's angle: the camera, seen from
        // the object, turned the other way.
        let turned = match self.table_turns {
            Turn::Counterclockwise => azimuth_deg,
            Turn::Clockwise => -azimuth_deg,
        };
        let back = rotate_z(-turned.to_radians());
        Pose {
            rotation: [back(right), back(down), back(forward)],
            centre: back(centre),
        }
    }

    /// The pose of a planned shot.
    pub fn shot_pose(&self, shot: &ShotPlan) -> Pose {
        self.pose(shot.azimuth.get(), shot.tilt.get())
    }

    /// How sure the priors are, as the configuration says.
    pub fn accuracy(&self) -> export::Accuracy {
        export::Accuracy {
            position_m: self.position_accuracy_m,
            angle_deg: self.angle_accuracy_deg,
        }
    }

    /// The pinhole camera of photos `width` × `height` pixels, the
    /// principal point at their centre. Pixels are square; a photo whose
    /// shape differs from the sensor's is the largest such rectangle in the
    /// sensor's middle (a 4:3 photo on a 3:2 sensor uses its full height,
    /// a 16:9 one its full width).
    pub fn intrinsics(&self, width: u32, height: u32) -> Intrinsics {
        let (w, h) = (f64::from(width), f64::from(height));
        let pixel_mm = (self.sensor_width_mm / w).min(self.sensor_height_mm / h);
        let focal = self.focal_mm / pixel_mm;
        Intrinsics {
            width,
            height,
            fx: focal,
            fy: focal,
            cx: w / 2.0,
            cy: h / 2.0,
        }
    }
}

/// The rotation by `angle` radians about +Z, as a function on vectors.
fn rotate_z(angle: f64) -> impl Fn([f64; 3]) -> [f64; 3] {
    let (s, c) = angle.sin_cos();
    move |[x, y, z]| [c * x - s * y, s * x + c * y, z]
}

impl Pose {
    /// The camera's translation: `-rotation · centre`.
    pub fn translation(&self) -> [f64; 3] {
        let r = &self.rotation;
        let c = &self.centre;
        [0, 1, 2].map(|i| -(r[i][0] * c[0] + r[i][1] * c[1] + r[i][2] * c[2]))
    }

    /// Camera-to-object rotation (the transpose).
    pub fn camera_to_world(&self) -> [[f64; 3]; 3] {
        let r = &self.rotation;
        [0, 1, 2].map(|i| [r[0][i], r[1][i], r[2][i]])
    }

    /// The rotation as a unit quaternion `[w, x, y, z]` with `w ≥ 0`.
    pub fn quaternion(&self) -> [f64; 4] {
        let m = &self.rotation;
        let trace = m[0][0] + m[1][1] + m[2][2];
        let q = if trace > 0.0 {
            let s = (trace + 1.0).sqrt() * 2.0;
            [
                s / 4.0,
                (m[2][1] - m[1][2]) / s,
                (m[0][2] - m[2][0]) / s,
                (m[1][0] - m[0][1]) / s,
            ]
        } else if m[0][0] > m[1][1] && m[0][0] > m[2][2] {
            let s = (1.0 + m[0][0] - m[1][1] - m[2][2]).sqrt() * 2.0;
            [
                (m[2][1] - m[1][2]) / s,
                s / 4.0,
                (m[0][1] + m[1][0]) / s,
                (m[0][2] + m[2][0]) / s,
            ]
        } else if m[1][1] > m[2][2] {
            let s = (1.0 + m[1][1] - m[0][0] - m[2][2]).sqrt() * 2.0;
            [
                (m[0][2] - m[2][0]) / s,
                (m[0][1] + m[1][0]) / s,
                s / 4.0,
                (m[1][2] + m[2][1]) / s,
            ]
        } else {
            let s = (1.0 + m[2][2] - m[0][0] - m[1][1]).sqrt() * 2.0;
            [
                (m[1][0] - m[0][1]) / s,
                (m[0][2] + m[2][0]) / s,
                (m[1][2] + m[2][1]) / s,
                s / 4.0,
            ]
        };
        let sign = if q[0] < 0.0 { -1.0 } else { 1.0 };
        q.map(|v| v * sign)
    }

    /// Where an object point appears in a photo taken by `camera`: pixel
    /// coordinates, or `None` behind the camera.
    pub fn project(&self, camera: &Intrinsics, point: [f64; 3]) -> Option<[f64; 2]> {
        let d = [0, 1, 2].map(|i| point[i] - self.centre[i]);
        let r = &self.rotation;
        let p = [0, 1, 2].map(|i| r[i][0] * d[0] + r[i][1] * d[1] + r[i][2] * d[2]);
        (p[2] > 0.0).then(|| {
            [
                camera.fx * p[0] / p[2] + camera.cx,
                camera.fy * p[1] / p[2] + camera.cy,
            ]
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
