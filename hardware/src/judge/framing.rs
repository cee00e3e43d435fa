//! Where the object is: every pixel that differs from the backdrop, the
//! largest patch of them (with the holes in it filled) taken as the object,
//! how much of the frame it fills and how much of each edge it covers.

use serde::{Deserialize, Serialize};

use super::exposure::{median, CLIPPED, CRUSHED};
use super::Picture;

/// A pixel is the object's when one of its channels differs from the
/// backdrop by more than this many levels (of 255), or by four times the
/// backdrop's own spread along the border, whichever is more. The
/// simulated backdrop varies by ±2 levels in its JPEGs; a real paper or
/// cloth backdrop under soft light by about ±8.
pub const MIN_DIFFERENCE: f32 = 24.0;

/// A patch smaller than this share of the frame is noise, dust or a
/// caption, never the object.
const MIN_PATCH: f64 = 0.001;

/// An object that fills less of the frame than this is too little to
/// measure the sharpness and exposure over: they are measured over the
/// whole frame instead.
pub const MIN_OBJECT: f32 = 0.01;

/// What the object was told apart from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackdropFrom {
    /// The colour along the frame's border (most of it is backdrop).
    Border,
    /// A background frame, taken without the object.
    Frame,
    /// Not seen: the border is no one colour, so the object (or a far from
    /// even backdrop) fills the frame; all of it counts as the object.
    Unseen,
}

/// How much of each edge of the frame the object covers, 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Edges {
    /// The top edge.
    pub top: f32,
    /// The bottom edge.
    pub bottom: f32,
    /// The left edge.
    pub left: f32,
    /// The right edge.
    pub right: f32,
}

/// One edge of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    /// The top edge.
    Top,
    /// The bottom edge.
    Bottom,
    /// The left edge.
    Left,
    /// The right edge.
    Right,
}

impl Edge {
    /// The edge's name, as a person says it.
    pub fn name(self) -> &'static str {
        match self {
            Edge::Top => "top",
            Edge::Bottom => "bottom",
            Edge::Left => "left",
            Edge::Right => "right",
        }
    }
}

impl Edges {
    /// Each edge with its figure.
    pub fn each(&self) -> [(Edge, f32); 4] {
        [
            (Edge::Top, self.top),
            (Edge::Bottom, self.bottom),
            (Edge::Left, self.left),
            (Edge::Right, self.right),
        ]
    }

    /// The figure of `edge`.
    pub fn get(&self, edge: Edge) -> f32 {
        match edge {
            Edge::Top => self.top,
            Edge::Bottom => self.bottom,
            Edge::Left => self.left,
            Edge::Right => self.right,
        }
    }
}

/// The object in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Framing {
    /// The share of the frame the object fills, 0..=1.
    pub fill: f32,
    /// How much of each edge it covers.
    pub edges: Edges,
    /// What the backdrop was estimated from.
    pub backdrop: BackdropFrom,
    /// The backdrop is blown out to white (or sunk to black): the object's
    /// own clipped parts cannot be told from it.
    pub backdrop_clipped: bool,
}

/// The object's pixels (`true`) and what is known of the frame.
pub(crate) struct Found {
    pub(crate) mask: Vec<bool>,
    pub(crate) framing: Framing,
}

/// Finds the object in `picture`, against `background` if given, else
/// against the colour of the frame's border.
pub(crate) fn find(picture: &Picture, background: Option<&Picture>) -> Found {
    let (w, h) = picture.size();
    let rgb = picture.rgb();
    let differs =
        |a: [u8; 3], b: [u8; 3], by: f32| (0..3).any(|i| f32::from(a[i].abs_diff(b[i])) > by);
    let (raw, backdrop, level): (Vec<bool>, _, [u8; 3]) = match background {
        Some(bg) => {
            let mask = rgb
                .iter()
                .zip(bg.rgb())
                .map(|(&a, &b)| differs(a, b, MIN_DIFFERENCE))
                .collect();
            let level = median_colour(border(bg.rgb(), w, h));
            (mask, BackdropFrom::Frame, level)
        }
        None => {
            let edge: Vec<[u8; 3]> = border(rgb, w, h).collect();
            let colour = median_colour(edge.iter().copied());
            let mut spread = [0usize; 256];
            for c in &edge {
                let off = (0..3).map(|i| c[i].abs_diff(colour[i])).max().unwrap_or(0);
                spread[usize::from(off)] += 1;
            }
            let spread = f32::from(median(&spread));
            if spread > MIN_DIFFERENCE {
                // Most of the border is no one colour: the object fills
                // the frame (or the backdrop is far from even).
                (vec![true; w * h], BackdropFrom::Unseen, colour)
            } else {
                let by = MIN_DIFFERENCE.max(4.0 * spread);
                let mask = rgb.iter().map(|&a| differs(a, colour, by)).collect();
                (mask, BackdropFrom::Border, colour)
            }
        }
    };
    let mask = fill_holes(largest_patches(raw, w, h), w, h);
    let count = mask.iter().filter(|&&m| m).count();
    let share = |n: usize, of: usize| n as f32 / of as f32;
    let covered = |cells: &mut dyn Iterator<Item = usize>, of: usize| {
        share(cells.filter(|&i| mask[i]).count(), of)
    };
    let edges = Edges {
        top: covered(&mut (0..w), w),
        bottom: covered(&mut ((h - 1) * w..h * w), w),
        left: covered(&mut (0..h).map(|y| y * w), h),
        right: covered(&mut (0..h).map(|y| y * w + w - 1), h),
    };
    let framing = Framing {
        fill: share(count, w * h),
        edges,
        backdrop,
        backdrop_clipped: backdrop != BackdropFrom::Unseen
            && (level.iter().all(|&c| c >= CLIPPED) || level.iter().all(|&c| c <= CRUSHED)),
    };
    Found { mask, framing }
}

/// The pixels along the frame's four edges, a thirty-second of the
/// shorter side deep.
fn border(rgb: &[[u8; 3]], w: usize, h: usize) -> impl Iterator<Item = [u8; 3]> + '_ {
    let depth = (w.min(h) / 32).max(1);
    (0..h).flat_map(move |y| {
        let edge_row = y < depth || y >= h - depth;
        (0..w)
            .filter(move |&x| edge_row || x < depth || x >= w - depth)
            .map(move |x| rgb[y * w + x])
    })
}

/// Each channel's median.
fn median_colour(colours: impl Iterator<Item = [u8; 3]>) -> [u8; 3] {
    let mut counts = [[0usize; 256]; 3];
    for c in colours {
        for i in 0..3 {
            counts[i][usize::from(c[i])] += 1;
        }
    }
    counts.map(|levels| median(&levels))
}

/// The patches (4-connected) of `mask` at least a quarter the size of
/// the largest and at least `MIN_PATCH` of the frame.
fn largest_patches(mask: Vec<bool>, w: usize, h: usize) -> Vec<bool> {
    let (labels, sizes) = label(&mask, w, h, true);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let least = (largest / 4).max((MIN_PATCH * (w * h) as f64).ceil() as usize);
    labels
        .iter()
        .map(|&l| l != 0 && sizes[l - 1] >= least)
        .collect()
}

/// `mask` with every patch of the backdrop that does not reach the frame's
/// edge (a hole in the object) filled.
fn fill_holes(mask: Vec<bool>, w: usize, h: usize) -> Vec<bool> {
    let (labels, _) = label(&mask, w, h, false);
    let mut outside = vec![false; labels.iter().copied().max().unwrap_or(0) + 1];
    for y in 0..h {
        for x in 0..w {
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                outside[labels[y * w + x]] = true;
            }
        }
    }
    labels
        .iter()
        .map(|&l| l != 0 && !outside[l])
        .zip(&mask)
        .map(|(hole, &m)| hole || m)
        .collect()
}

/// Numbers the 4-connected patches of pixels whose mask is `value` from 1
/// (0: the other pixels) and counts each one's pixels.
fn label(mask: &[bool], w: usize, h: usize, value: bool) -> (Vec<usize>, Vec<usize>) {
    let mut labels = vec![0usize; w * h];
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if mask[start] != value || labels[start] != 0 {
            continue;
        }
        sizes.push(0);
        let id = sizes.len();
        labels[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            sizes[id - 1] += 1;
            let (x, y) = (i % w, i / w);
            let near = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in near.into_iter().flatten() {
                if mask[j] == value && labels[j] == 0 {
                    labels[j] = id;
                    stack.push(j);
                }
            }
        }
    }
    (labels, sizes)
}
