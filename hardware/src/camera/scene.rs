//! What the simulated camera sees: a textured box and a textured vase
//! standing on a textured turntable, lit, in front of a plain backdrop,
//! through a pinhole lens — so that a reconstruction tool can rebuild a
//! simulated scan. Seen from below, the table's underside hides what stands
//! on it; after a [`Slip`] the objects stand elsewhere on the table.
//!
//! The rig is modelled as it stands in the lab, on its own terms (not from
//! the pose exporter's formulas, so that the two cannot share a sign
//! error): the camera's arm pivots about a horizontal axis on the lab's −Y
//! side of the table and stays where the rig holds it; the objects turn
//! with the table by the table's own angle and direction; the lamp stays
//! put. Each pixel's ray goes from the lens into the lab, is turned back by
//! the table's angle into the table's own frame, and meets the objects
//! there.

use std::sync::OnceLock;

use crate::Degrees;

/// The rig as it stands: where the camera's arm pivots, where the lens
/// sits on it, which way the table turns, and the lens and sensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Horizontal distance from the table's axis to the arm's pivot, metres.
    pub distance_m: f64,
    /// Height of the pivot above the table's top, metres.
    pub height_m: f64,
    /// With the arm level, how far beyond the pivot the lens sits, metres.
    pub arm_out_m: f64,
    /// With the arm level, how far above the pivot the lens sits, metres.
    pub arm_up_m: f64,
    /// A positive table angle turns the table clockwise, seen from above.
    pub clockwise: bool,
    /// The lens's focal length, millimetres.
    pub focal_mm: f64,
    /// The sensor's width, millimetres.
    pub sensor_width_mm: f64,
    /// The sensor's height, millimetres.
    pub sensor_height_mm: f64,
    /// The camera's own tilt on its mount, degrees, added to the arm's (a
    /// camera of a column; 0 for a camera on the arm).
    pub tilt_deg: f64,
}

impl Default for Stage {
    /// A camera on a tripod half a metre from the table, 10 cm up (a tilt
    /// turns it in place), a 35 mm lens on an APS-C sensor.
    fn default() -> Self {
        Stage {
            distance_m: 0.5,
            height_m: 0.1,
            arm_out_m: 0.0,
            arm_up_m: 0.0,
            clockwise: false,
            focal_mm: 35.0,
            sensor_width_mm: 23.5,
            sensor_height_mm: 15.6,
            tilt_deg: 0.0,
        }
    }
}

/// The objects slipping on the table after some shot: moved and turned.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Slip {
    /// After this many photos the objects have slipped; 0: never.
    pub after_shots: u32,
    /// How far they slid across the table (along its own +X), millimetres.
    pub mm: f64,
    /// How far they turned about the table's axis, degrees (positive:
    /// counter-clockwise seen from above).
    pub deg: f64,
}

type V3 = [f64; 3];

fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn mul(a: V3, k: f64) -> V3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn unit(a: V3) -> V3 {
    mul(a, 1.0 / dot(a, a).sqrt())
}

/// Turns `v` by `angle` radians about the vertical (counter-clockwise seen
/// from above for a positive angle).
fn about_z(v: V3, angle: f64) -> V3 {
    let (s, c) = angle.sin_cos();
    [c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]]
}

/// Side of the square textures, texels.
const TEXELS: usize = 256;

/// The textures: the table's top, the box's four sides and top, the vase's
/// side and top.
const TEXTURES: usize = 8;

/// One texture, RGB, row-major, a byte a channel (the eight take 1.5 MB).
struct Texture(Vec<[u8; 3]>);

impl Texture {
    /// Bilinear sample at `u`, `v` in 0..=1.
    fn sample(&self, u: f64, v: f64) -> [f32; 3] {
        let max = (TEXELS - 1) as f64;
        let x = (u.clamp(0.0, 1.0) * max) as f32;
        let y = (v.clamp(0.0, 1.0) * max) as f32;
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(TEXELS - 1), (y0 + 1).min(TEXELS - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |x: usize, y: usize| self.0[y * TEXELS + x].map(|c| f32::from(c) / 255.0);
        let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
        [0, 1, 2].map(|i| {
            let top = a[i] + (b[i] - a[i]) * fx;
            let bottom = c[i] + (d[i] - c[i]) * fx;
            top + (bottom - top) * fy
        })
    }
}

/// A reproducible hash of a few integers to 0..1 (splitmix64).
fn hash(parts: [u64; 4]) -> f32 {
    let mut z = parts.iter().fold(0x9E37_79B9_7F4A_7C15u64, |h, p| {
        (h ^ p).wrapping_mul(0xBF58_476D_1CE4_E5B9)
    });
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 24) as f32
}

/// A rich random texture: coloured value noise over five octaves, with
/// dark and bright spots on top (blobs at every scale, which is what
/// feature detectors find and match).
fn texture(seed: u64) -> Texture {
    const OCTAVES: [(usize, f32); 5] = [(64, 0.3), (32, 0.25), (16, 0.2), (8, 0.15), (4, 0.1)];
    let mut texels = vec![[0f32; 3]; TEXELS * TEXELS];
    for (octave, (cell, weight)) in OCTAVES.iter().enumerate() {
        let lattice = |x: usize, y: usize, c: usize| {
            hash([seed, octave as u64, (x * 4096 + y) as u64, c as u64])
        };
        for y in 0..TEXELS {
            let (gy, fy) = (y / cell, (y % cell) as f32 / *cell as f32);
            let sy = fy * fy * (3.0 - 2.0 * fy);
            for x in 0..TEXELS {
                let (gx, fx) = (x / cell, (x % cell) as f32 / *cell as f32);
                let sx = fx * fx * (3.0 - 2.0 * fx);
                let texel = &mut texels[y * TEXELS + x];
                for (c, value) in texel.iter_mut().enumerate() {
                    let top = lattice(gx, gy, c) * (1.0 - sx) + lattice(gx + 1, gy, c) * sx;
                    let bottom =
                        lattice(gx, gy + 1, c) * (1.0 - sx) + lattice(gx + 1, gy + 1, c) * sx;
                    *value += weight * (top * (1.0 - sy) + bottom * sy);
                }
            }
        }
    }
    for spot in 0..400u64 {
        let at = |k: u64| hash([seed, 1000 + spot, k, 0]);
        let (cx, cy) = (at(0) * TEXELS as f32, at(1) * TEXELS as f32);
        let radius = 1.5 + at(2) * 5.0;
        let colour =
            [at(3), at(4), at(5)].map(|c| if at(6) < 0.5 { c * 0.3 } else { 0.7 + c * 0.3 });
        let (x0, x1) = (
            (cx - radius).max(0.0) as usize,
            ((cx + radius) as usize).min(TEXELS - 1),
        );
        let (y0, y1) = (
            (cy - radius).max(0.0) as usize,
            ((cy + radius) as usize).min(TEXELS - 1),
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                if dx * dx + dy * dy <= radius * radius {
                    texels[y * TEXELS + x] = colour;
                }
            }
        }
    }
    // Stretch the noise's contrast (it gathers around the middle).
    let byte = |v: f32| (((v - 0.5) * 2.4 + 0.5).clamp(0.02, 0.98) * 255.0).round() as u8;
    Texture(texels.into_iter().map(|t| t.map(byte)).collect())
}

/// The textures, made once per process.
fn textures() -> &'static [Texture] {
    static MADE: OnceLock<Vec<Texture>> = OnceLock::new();
    MADE.get_or_init(|| {
        (0..TEXTURES as u64)
            .map(|i| texture(0x5CA4_0000 + i))
            .collect()
    })
}

/// Where a ray met the scene: the distance along it, the surface's normal
/// (in the table's frame) and its colour there.
struct Hit {
    t: f64,
    normal: V3,
    colour: [f32; 3],
}

/// The backdrop's colour.
const BACKDROP: [f32; 3] = [0.78, 0.78, 0.8];

/// The colour of the table's underside: plain dark wood.
const UNDERSIDE: [f32; 3] = [0.3, 0.24, 0.18];

/// One shot's view: the camera placed in the table's frame.
pub(crate) struct View {
    /// The lens's centre, in the table's frame.
    origin: V3,
    /// Per pixel step along the sensor's rows and columns, and the ray to
    /// the sensor's top-left pixel's centre, in the table's frame.
    step_x: V3,
    step_y: V3,
    corner: V3,
    /// Towards the lamp, in the table's frame.
    light: V3,
    /// The objects' size: the height of the view at the table's axis.
    scale: f64,
    /// From the lens to the table's axis, metres: where the lens is
    /// focused before any focus drive.
    reach: f64,
    /// The lens's focal length and a pixel's size on the sensor, mm.
    focal_mm: f64,
    pitch_mm: f64,
    /// Where the objects slipped to: their shift on the table, metres,
    /// and their turn about its axis, radians.
    slip: ([f64; 2], f64),
}

impl View {
    /// The view of a `width` × `height` photo taken with the table at
    /// `azimuth` and the arm at `tilt` (and the camera at the stage's own
    /// tilt on it).
    pub(crate) fn new(
        stage: &Stage,
        width: u32,
        height: u32,
        azimuth: Degrees,
        tilt: Degrees,
    ) -> View {
        // The arm turns about the pivot's axis, which runs along the lab's
        // X: tilting up by t turns it by −t about +X, which raises the lens
        // (it sits on the −Y side) and points the view down.
        let (s, c) = (-(tilt.get() + stage.tilt_deg).to_radians()).sin_cos();
        let about_x = |v: V3| [v[0], c * v[1] - s * v[2], s * v[1] + c * v[2]];
        let pivot = [0.0, -stage.distance_m, stage.height_m];
        let lens = add(pivot, about_x([0.0, -stage.arm_out_m, stage.arm_up_m]));
        let forward = about_x([0.0, 1.0, 0.0]);
        let right = [1.0, 0.0, 0.0];
        let down = cross(forward, right);
        // A point of the table at p (table frame) is at about_z(p, a) in
        // the lab once the table turned by a; back into the table's frame
        // is the other way.
        let turned = azimuth.get().to_radians() * if stage.clockwise { -1.0 } else { 1.0 };
        let back = |v: V3| about_z(v, -turned);
        // The sensor, in millimetres, behind the lens; the picture on it
        // is read upright (x right, y down). A photo of another shape than
        // the sensor is cut from its middle, as large as fits: its pixels
        // are square.
        let (w, h) = (f64::from(width), f64::from(height));
        let pitch = (stage.sensor_width_mm / w).min(stage.sensor_height_mm / h);
        let (pitch_x, pitch_y) = (pitch, pitch);
        let corner = add(
            mul(forward, stage.focal_mm),
            add(
                mul(right, (0.5 - w / 2.0) * pitch_x),
                mul(down, (0.5 - h / 2.0) * pitch_y),
            ),
        );
        let reach = (stage.distance_m + stage.arm_out_m).abs().max(0.05);
        View {
            origin: back(lens),
            step_x: back(mul(right, pitch_x)),
            step_y: back(mul(down, pitch_y)),
            corner: back(corner),
            light: back(unit([-0.35, -0.6, 0.75])),
            scale: reach * pitch * h / stage.focal_mm,
            reach,
            focal_mm: stage.focal_mm,
            pitch_mm: pitch,
            slip: ([0.0, 0.0], 0.0),
        }
    }

    /// The same view with the objects slid `mm` across the table (along
    /// its own +X) and turned `deg` about its axis.
    pub(crate) fn slipped(self, mm: f64, deg: f64) -> View {
        View {
            slip: ([mm / 1000.0, 0.0], deg.to_radians()),
            ..self
        }
    }

    /// Pixels per millimetre at the table's axis.
    pub(crate) fn px_per_mm(&self) -> f64 {
        self.focal_mm / (self.reach * 1000.0 * self.pitch_mm)
    }

    /// The diameter, in pixels, of the blur circle of a point `depth`
    /// metres in front of the lens, the lens at f-number `f_number` and
    /// focused `focus` metres away (a thin lens).
    pub(crate) fn blur_px(&self, depth: f64, focus: f64, f_number: f64) -> f64 {
        let f = self.focal_mm;
        let (d, s) = (depth * 1000.0, (focus * 1000.0).max(f + 1.0));
        if !d.is_finite() {
            return f * f / (f_number * (s - f)) / self.pitch_mm;
        }
        f * f / (f_number * (s - f)) * (d - s).abs() / d.max(f) / self.pitch_mm
    }

    /// Where the lens is focused, metres, after `drive` steps of its focus
    /// drive (a step is 0.1 mm; positive: farther).
    pub(crate) fn focus_m(&self, drive: i32) -> f64 {
        self.reach + f64::from(drive) * 1e-4
    }

    /// The colour of pixel (`x`, `y`), each channel 0..=255.
    #[cfg(test)]
    pub(crate) fn pixel(&self, x: u32, y: u32) -> (u8, u8, u8) {
        let (colour, _) = self.sample(x, y);
        let to8 = |c: f32| (c * 255.0).round().clamp(0.0, 255.0) as u8;
        (to8(colour[0]), to8(colour[1]), to8(colour[2]))
    }

    /// The colour of pixel (`x`, `y`), each channel 0..=1, and how far in
    /// front of the lens (along its axis, metres) what it shows stands;
    /// infinite for the backdrop.
    pub(crate) fn sample(&self, x: u32, y: u32) -> ([f32; 3], f64) {
        let dir = add(
            self.corner,
            add(
                mul(self.step_x, f64::from(x)),
                mul(self.step_y, f64::from(y)),
            ),
        );
        match self.trace(dir) {
            Some(hit) => {
                let lit = 0.55 + 0.45 * dot(hit.normal, self.light).max(0.0);
                // `dir` reaches the sensor's plane, `focal_mm` behind the
                // lens along its axis: the hit is `t * focal_mm` in front.
                (hit.colour.map(|c| c * lit as f32), hit.t * self.focal_mm)
            }
            None => (BACKDROP, f64::INFINITY),
        }
    }

    /// The nearest surface along `dir` from the lens.
    fn trace(&self, dir: V3) -> Option<Hit> {
        let s = self.scale;
        let ([sx, sy], turn) = self.slip;
        // Most rays pass the whole scene by: a sphere round it tells (as
        // far out as the objects slid).
        let reach = (0.65 * s + sx.hypot(sy)).powi(2);
        let to_middle = [-self.origin[0], -self.origin[1], 0.2 * s - self.origin[2]];
        let along = dot(to_middle, dir);
        let aside = dot(to_middle, to_middle) - along * along / dot(dir, dir);
        if along <= 0.0 && dot(to_middle, to_middle) > reach || aside > reach {
            return None;
        }
        let tex = textures();
        // Into the objects' frame: where they stand after a slip.
        let origin = about_z(
            [self.origin[0] - sx, self.origin[1] - sy, self.origin[2]],
            -turn,
        );
        let ray = about_z(dir, -turn);
        let turned_back = |hit: Hit| Hit {
            normal: about_z(hit.normal, turn),
            ..hit
        };
        let hits = [
            self.table(dir, 0.6 * s, &tex[0]),
            block(
                origin,
                ray,
                [0.08 * s, -0.05 * s],
                25f64.to_radians(),
                [0.17 * s, 0.12 * s, 0.42 * s],
                &tex[1..6],
            )
            .map(turned_back),
            vase(
                origin,
                ray,
                [-0.22 * s, 0.2 * s],
                0.09 * s,
                0.3 * s,
                &tex[6..8],
            )
            .map(turned_back),
        ];
        hits.into_iter()
            .flatten()
            .min_by(|a, b| a.t.total_cmp(&b.t))
    }

    /// The table: a disc of `radius` at height 0, its top textured, its
    /// underside plain; from below it hides what stands on it.
    fn table(&self, dir: V3, radius: f64, tex: &Texture) -> Option<Hit> {
        let below = self.origin[2] < 0.0;
        if dir[2] == 0.0 || (dir[2] > 0.0) != below {
            return None;
        }
        let t = -self.origin[2] / dir[2];
        let p = add(self.origin, mul(dir, t));
        if p[0].hypot(p[1]) > radius {
            return None;
        }
        Some(if below {
            Hit {
                t,
                normal: [0.0, 0.0, -1.0],
                colour: UNDERSIDE,
            }
        } else {
            Hit {
                t,
                normal: [0.0, 0.0, 1.0],
                colour: tex.sample(p[0] / (2.0 * radius) + 0.5, p[1] / (2.0 * radius) + 0.5),
            }
        })
    }
}

/// A box standing on the table, met by a ray from `origin` along `dir`
/// (in the objects' frame): its centre's `at`, turned by `yaw` about the
/// vertical, half-width, half-depth and height `size`.
fn block(origin: V3, dir: V3, at: [f64; 2], yaw: f64, size: V3, tex: &[Texture]) -> Option<Hit> {
    // Into the box's own frame.
    let o = about_z([origin[0] - at[0], origin[1] - at[1], origin[2]], -yaw);
    let d = about_z(dir, -yaw);
    let lo = [-size[0], -size[1], 0.0];
    let hi = [size[0], size[1], size[2]];
    let (mut near, mut far, mut axis) = (0.0f64, f64::INFINITY, None);
    for i in 0..3 {
        if d[i].abs() < 1e-12 {
            if o[i] < lo[i] || o[i] > hi[i] {
                return None;
            }
            continue;
        }
        let (a, b) = ((lo[i] - o[i]) / d[i], (hi[i] - o[i]) / d[i]);
        let (enter, leave) = if a < b { (a, b) } else { (b, a) };
        if enter > near {
            near = enter;
            axis = Some(i);
        }
        far = far.min(leave);
    }
    let axis = axis?;
    if near > far {
        return None;
    }
    let p = add(o, mul(d, near));
    let sign = if d[axis] > 0.0 { -1.0 } else { 1.0 };
    let mut normal = [0.0; 3];
    normal[axis] = sign;
    let (u_side, v_up) = (
        |v: f64, half: f64| v / (2.0 * half) + 0.5,
        1.0 - p[2] / size[2],
    );
    let (face, u, v) = match (axis, sign > 0.0) {
        (0, true) => (0, u_side(p[1], size[1]), v_up),
        (0, false) => (1, u_side(-p[1], size[1]), v_up),
        (1, true) => (2, u_side(-p[0], size[0]), v_up),
        (1, false) => (3, u_side(p[0], size[0]), v_up),
        _ => (4, u_side(p[0], size[0]), u_side(p[1], size[1])),
    };
    Some(Hit {
        t: near,
        normal: about_z(normal, yaw),
        colour: tex[face].sample(u, v),
    })
}

/// A cylinder standing on the table, met by a ray from `origin` along
/// `dir` (in the objects' frame): its axis at `at`, `radius`, `height`;
/// its side and its top textured.
fn vase(
    origin: V3,
    dir: V3,
    at: [f64; 2],
    radius: f64,
    height: f64,
    tex: &[Texture],
) -> Option<Hit> {
    let o = [origin[0] - at[0], origin[1] - at[1], origin[2]];
    let mut best: Option<Hit> = None;
    // The side: |o + t d| = radius in the horizontal plane.
    let a = dir[0] * dir[0] + dir[1] * dir[1];
    let b = 2.0 * (o[0] * dir[0] + o[1] * dir[1]);
    let c = o[0] * o[0] + o[1] * o[1] - radius * radius;
    let disc = b * b - 4.0 * a * c;
    if a > 1e-12 && disc >= 0.0 {
        let t = (-b - disc.sqrt()) / (2.0 * a);
        let p = add(o, mul(dir, t));
        if t > 0.0 && (0.0..=height).contains(&p[2]) {
            let around = p[1].atan2(p[0]) / std::f64::consts::TAU + 0.5;
            best = Some(Hit {
                t,
                normal: [p[0] / radius, p[1] / radius, 0.0],
                colour: tex[0].sample(around, 1.0 - p[2] / height),
            });
        }
    }
    // The top, from above.
    if dir[2] < 0.0 && o[2] > height {
        let t = (height - o[2]) / dir[2];
        let p = add(o, mul(dir, t));
        if p[0].hypot(p[1]) <= radius && best.as_ref().is_none_or(|h| t < h.t) {
            best = Some(Hit {
                t,
                normal: [0.0, 0.0, 1.0],
                colour: tex[1].sample(p[0] / (2.0 * radius) + 0.5, p[1] / (2.0 * radius) + 0.5),
            });
        }
    }
    best
}

#[cfg(test)]
#[path = "scene_tests.rs"]
mod tests;
