//! The scene is checked against the rig as a user sees it, with no pose
//! formulas: what is in front of the camera, which way things move when
//! the table turns or the arm tilts.

use super::*;

const W: u32 = 320;
const H: u32 = 240;

fn view(stage: &Stage, azimuth: f64, tilt: f64) -> View {
    View::new(stage, W, H, Degrees(azimuth), Degrees(tilt))
}

/// Pixels of the photo that show something other than the backdrop.
fn object_pixels(view: &View) -> Vec<(u32, u32)> {
    let backdrop = BACKDROP.map(|c| (c * 255.0).round() as u8);
    let mut out = Vec::new();
    for y in 0..H {
        for x in 0..W {
            let (r, g, b) = view.pixel(x, y);
            if [r, g, b] != backdrop {
                out.push((x, y));
            }
        }
    }
    out
}

/// A long arm pivoting at the objects' middle, the lens half a metre out.
fn arm() -> Stage {
    Stage {
        distance_m: 0.0,
        height_m: 0.05,
        arm_out_m: 0.5,
        ..Stage::default()
    }
}

fn centroid(pixels: &[(u32, u32)]) -> (f64, f64) {
    let n = pixels.len() as f64;
    let sx: f64 = pixels.iter().map(|p| f64::from(p.0)).sum();
    let sy: f64 = pixels.iter().map(|p| f64::from(p.1)).sum();
    (sx / n, sy / n)
}

#[test]
fn the_objects_fill_part_of_the_photo_and_are_textured() {
    let v = view(&Stage::default(), 0.0, 0.0);
    let seen = object_pixels(&v);
    let share = seen.len() as f64 / f64::from(W * H);
    assert!(
        (0.1..0.8).contains(&share),
        "objects cover {share:.2} of the photo"
    );
    let colours: std::collections::BTreeSet<_> = seen.iter().map(|&(x, y)| v.pixel(x, y)).collect();
    assert!(
        colours.len() > seen.len() / 4,
        "rich texture: {} colours",
        colours.len()
    );
}

#[test]
fn a_camera_above_the_table_sees_the_objects_below_the_middle_of_the_photo() {
    // The lens 16 cm above the table, level: the objects stand lower.
    let high = Stage {
        height_m: 0.16,
        ..Stage::default()
    };
    let (_, y) = centroid(&object_pixels(&view(&high, 0.0, 0.0)));
    assert!(y > f64::from(H) * 0.6, "centroid at row {y}");
}

#[test]
fn tilting_the_arm_up_looks_down_at_the_objects() {
    // A long arm pivoting at the objects' middle: tilting it up raises the
    // lens and turns it down, so the table's top shows more.
    let arm = arm();
    let level = object_pixels(&view(&arm, 0.0, 0.0)).len();
    let above = object_pixels(&view(&arm, 0.0, 40.0)).len();
    let below = object_pixels(&view(&arm, 0.0, -5.0)).len();
    assert!(
        above > level && level > below,
        "{above} > {level} > {below}"
    );
}

#[test]
fn a_camera_tilted_on_its_mount_sees_what_the_arm_tilted_as_much_sees() {
    // A column's camera at 25° on its mount, the arm at 10°: the view of
    // the arm at 35°, and not that of the arm at 10°.
    let arm = arm();
    let mounted = Stage {
        tilt_deg: 25.0,
        ..arm
    };
    let pixels = |v: &View| -> Vec<(u8, u8, u8)> {
        (0..H)
            .step_by(7)
            .flat_map(|y| (0..W).step_by(5).map(move |x| (x, y)))
            .map(|(x, y)| v.pixel(x, y))
            .collect()
    };
    let seen = pixels(&view(&mounted, 30.0, 10.0));
    assert_eq!(seen, pixels(&view(&arm, 30.0, 35.0)));
    assert_ne!(seen, pixels(&view(&arm, 30.0, 10.0)));
}

/// The horizontal shift of the scene's middle rows between two table
/// angles, by the brightness profile's best alignment (positive: moved
/// right in the photo).
fn shift(stage: &Stage, from: f64, to: f64) -> i32 {
    let profile = |azimuth: f64| -> Vec<f64> {
        let v = view(stage, azimuth, 0.0);
        (0..W)
            .map(|x| {
                (H / 2..H / 2 + 20)
                    .map(|y| {
                        let (r, g, b) = v.pixel(x, y);
                        f64::from(r) + f64::from(g) + f64::from(b)
                    })
                    .sum()
            })
            .collect()
    };
    let (a, b) = (profile(from), profile(to));
    (-20..=20)
        .min_by_key(|&d: &i32| {
            let cost: f64 = (40..W as i32 - 40)
                .map(|x| (a[x as usize] - b[(x + d) as usize]).abs())
                .sum();
            cost as u64
        })
        .unwrap()
}

#[test]
fn a_counterclockwise_table_carries_the_front_of_the_object_to_the_right() {
    // Seen from the front, a table turning counter-clockwise (from above)
    // moves its near side from left to right.
    let ccw = Stage::default();
    let d = shift(&ccw, 0.0, 2.0);
    assert!(d > 0, "moved by {d} px");
    let cw = Stage {
        clockwise: true,
        ..ccw
    };
    assert!(shift(&cw, 0.0, 2.0) < 0);
    // A clockwise table at +a shows what a counter-clockwise one shows at −a.
    let (a, b) = (view(&cw, 30.0, 0.0), view(&ccw, -30.0, 0.0));
    for (x, y) in [(10, 10), (160, 120), (200, 150), (300, 230)] {
        assert_eq!(a.pixel(x, y), b.pixel(x, y));
    }
}

#[test]
fn a_full_turn_shows_the_same_photo() {
    let stage = Stage::default();
    let (a, b) = (view(&stage, 10.0, 0.0), view(&stage, 370.0, 0.0));
    let differ = (0..H)
        .step_by(7)
        .flat_map(|y| (0..W).step_by(7).map(move |x| (x, y)))
        .filter(|&(x, y)| a.pixel(x, y) != b.pixel(x, y))
        .count();
    assert!(differ < 3, "{differ} pixels differ");
}

#[test]
fn from_below_the_table_hides_the_objects_behind_its_underside() {
    // The lens 33 cm below the table's top, looking up at the objects'
    // middle: the table stands in between.
    let arm = arm();
    let to8 = |c: [f32; 3]| c.map(|c| (c * 255.0).round() as u8);
    let (r, g, b) = (UNDERSIDE[0], UNDERSIDE[1], UNDERSIDE[2]);
    let underside = to8([r * 0.55, g * 0.55, b * 0.55]);
    let below = view(&arm, 0.0, -50.0);
    let (mut table, mut other) = (0, Vec::new());
    for y in 0..H {
        for x in 0..W {
            let (r, g, b) = below.pixel(x, y);
            match [r, g, b] {
                c if c == underside => table += 1,
                c if c == to8(BACKDROP) => {}
                c => other.push((x, y, c)),
            }
        }
    }
    assert!(
        other.is_empty(),
        "{} pixels show more: {:?}",
        other.len(),
        &other[..other.len().min(5)]
    );
    assert!(table > W * H / 10, "the underside covers {table} pixels");
    // From as far above, the objects and the table's top show.
    assert!(object_pixels(&view(&arm, 0.0, 50.0)).len() > (W * H / 5) as usize);
}

#[test]
fn slipped_objects_stand_elsewhere_on_the_table_and_the_table_stays() {
    let stage = Stage::default();
    let (still, slipped) = (
        view(&stage, 0.0, 5.0),
        view(&stage, 0.0, 5.0).slipped(30.0, 20.0),
    );
    let (a, b) = (object_pixels(&still), object_pixels(&slipped));
    let (ca, cb) = (centroid(&a), centroid(&b));
    assert!(
        (ca.0 - cb.0).abs() > 3.0 || (ca.1 - cb.1).abs() > 3.0,
        "{ca:?} {cb:?}"
    );
    // The table's rim, far from the objects, is where it was.
    let rim_row = (0..H)
        .rev()
        .find(|&y| still.pixel(W / 2, y) != to_backdrop())
        .unwrap();
    assert_eq!(still.pixel(W / 2, rim_row), slipped.pixel(W / 2, rim_row));
}

fn to_backdrop() -> (u8, u8, u8) {
    let [r, g, b] = BACKDROP.map(|c| (c * 255.0).round() as u8);
    (r, g, b)
}
