//! Whether the object moved: a check frame taken back at a ring's first
//! pose held against that ring's first photo. Both are shrunk to a coarse
//! grid, softened, divided by their mean brightness, and the frame's
//! levels matched to the photo's (a preview is exposed unlike a photo, a
//! bracket's frame unlike the camera's own exposure), the best of a few
//! small shifts is kept (the rig shakes a little), and the share of cells
//! still unlike is the measure.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{NotJudged, Picture};

/// Columns of the grid both pictures are shrunk to (the rows follow the
/// photo's shape): 10 × 10 pixels of a 640 × 480 photo a cell, so the
/// noise of single pixels averages out.
pub const GRID: usize = 64;

/// Largest shift tried each way, in cells: ±2 of 64 is ±3 % of the
/// frame's width, more than a settling rig or a refocused lens moves the
/// picture, less than a slipped object does (3 cm is 9 % of the frame at
/// the shipped geometry).
pub const MAX_SHIFT: usize = 2;

/// A cell differs when its brightness, as a share of its picture's mean,
/// differs by more than this, each cell averaged with its neighbours
/// first: a 1-pixel shift of a sharp black-and-white edge changes a cell
/// by a tenth, a photo smeared by the rig's sway or sensor noise by less.
pub const CELL_CHANGE: f32 = 0.15;

/// The largest share of the frame that may differ before the object
/// counts as moved (the default of `[moved] max_changed`). Measured on
/// drawn 640 × 480 pictures of a textured box filling 6 % of the frame
/// (`tests/moved.rs`): slipped by 3 cm 6.3 % differs, by 0.5 cm nothing;
/// with noise of ±8 levels, the picture shaken by 1 or 12 px, exposed 30 %
/// darker, or 60 % brighter with its backdrop blown out, at most 0.08 %.
/// The simulated camera's check frame against its photo of the same pose:
/// nothing, also when the photo was smeared by 3.5 mm of sway; the
/// objects slipped 3 cm: 14 %; the table turned 10° under them: 6–8 %.
pub const MAX_CHANGED: f32 = 0.03;

/// How unlike a check frame is to the photo it is held against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    /// The share of the frame (0..=1) that differs once the best shift is
    /// applied.
    pub changed: f32,
    /// The best shift, in cells of the grid (x to the right, y down).
    pub shift: (i32, i32),
}

/// Why a check frame was not compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotCompared {
    /// One of the two pictures did not decode.
    #[error("{which} {reason}")]
    Undecodable {
        /// "the photo" or "the check frame".
        which: &'static str,
        /// Why.
        reason: NotJudged,
    },
    /// The two are not the same shape, so they do not frame the same view.
    #[error(
        "the check frame is {frame:?} pixels and the photo {photo:?}: they are not the same \
         shape; set the camera's live view to the photos' aspect ratio"
    )]
    Shape {
        /// The photo's size.
        photo: (u32, u32),
        /// The check frame's size.
        frame: (u32, u32),
    },
}

/// Compares `frame` (the camera's preview, a JPEG) with `photo` (a JPEG,
/// or a RAW file with a preview), both taken from the same pose.
pub fn compare_files(photo: &[u8], frame: &[u8]) -> Result<Movement, NotCompared> {
    compare_decoded(Picture::decode(photo), frame)
}

/// As [`compare_files`], the photo read from its file at `photo` as the
/// judges read one ([`decode_file`](super::decode_file): a plain JPEG is
/// never held whole). The outer error: the file could not be read.
pub fn compare_file(photo: &Path, frame: &[u8]) -> io::Result<Result<Movement, NotCompared>> {
    Ok(compare_decoded(super::decode_file(photo)?, frame))
}

/// Compares the decoded photo (or why it could not be) with `frame`.
fn compare_decoded(
    photo: Result<Picture, NotJudged>,
    frame: &[u8],
) -> Result<Movement, NotCompared> {
    let undecodable = |which| move |reason| NotCompared::Undecodable { which, reason };
    let photo = photo.map_err(undecodable("the photo"))?;
    let frame = Picture::decode(frame).map_err(undecodable("the check frame"))?;
    compare(&photo, &frame)
}

/// Compares two decoded pictures of the same pose.
pub fn compare(photo: &Picture, frame: &Picture) -> Result<Movement, NotCompared> {
    let ((pw, ph), (fw, fh)) = (photo.size(), frame.size());
    let aspect = |w: usize, h: usize| w as f32 / h as f32;
    if (aspect(pw, ph) / aspect(fw, fh) - 1.0).abs() > 0.03 {
        return Err(NotCompared::Shape {
            photo: photo.photo_size(),
            frame: frame.photo_size(),
        });
    }
    let rows = (GRID * ph).div_ceil(pw).max(2 * MAX_SHIFT + 1);
    let a = shrink(photo, rows);
    let b = matched(&shrink(frame, rows), &a);
    let m = MAX_SHIFT;
    let inner = (GRID - 2 * m) * (rows - 2 * m);
    let mut best = Movement {
        changed: f32::INFINITY,
        shift: (0, 0),
    };
    for dy in 0..=2 * m {
        for dx in 0..=2 * m {
            let differing = (m..rows - m)
                .flat_map(|y| (m..GRID - m).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    let moved = (y + dy - m) * GRID + (x + dx - m);
                    (a[y * GRID + x] - b[moved]).abs() > CELL_CHANGE
                })
                .count();
            let changed = differing as f32 / inner as f32;
            let shift = (dx as i32 - m as i32, dy as i32 - m as i32);
            let farther = shift.0.abs() + shift.1.abs() > best.shift.0.abs() + best.shift.1.abs();
            if changed < best.changed || (changed == best.changed && !farther) {
                best = Movement { changed, shift };
            }
        }
    }
    Ok(best)
}

/// `picture`'s luma averaged over a grid of [`GRID`] × `rows` cells, each
/// divided by the picture's mean.
fn shrink(picture: &Picture, rows: usize) -> Vec<f32> {
    let (w, h) = picture.size();
    let luma = picture.luma();
    let mut sums = vec![0f32; GRID * rows];
    let mut counts = vec![0u32; GRID * rows];
    for y in 0..h {
        let gy = y * rows / h;
        for x in 0..w {
            let cell = gy * GRID + x * GRID / w;
            sums[cell] += luma[y * w + x];
            counts[cell] += 1;
        }
    }
    let cells: Vec<f32> = sums
        .iter()
        .zip(&counts)
        .map(|(&s, &n)| s / n.max(1) as f32)
        .collect();
    let mean = (cells.iter().sum::<f32>() / cells.len() as f32).max(1.0);
    blur(&cells, rows).into_iter().map(|c| c / mean).collect()
}

/// `cells` given the levels of `like`, rank for rank: the darkest cell
/// the darkest level of `like`, and so on. Any exposure (a preview's, a
/// bracket's frame blown out to white where the other is not) then counts
/// for nothing; where things stand still does.
fn matched(cells: &[f32], like: &[f32]) -> Vec<f32> {
    let mut levels = like.to_vec();
    levels.sort_by(f32::total_cmp);
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by(|&i, &j| cells[i].total_cmp(&cells[j]));
    let mut out = vec![0.0; cells.len()];
    for (rank, i) in order.into_iter().enumerate() {
        out[i] = levels[rank];
    }
    out
}

/// Each cell of a grid of [`GRID`] × `rows` averaged with its eight
/// neighbours (those inside the grid).
fn blur(cells: &[f32], rows: usize) -> Vec<f32> {
    let near = |i: usize, n: usize| i.saturating_sub(1)..(i + 2).min(n);
    (0..rows)
        .flat_map(|y| (0..GRID).map(move |x| (x, y)))
        .map(|(x, y)| {
            let (mut sum, mut count) = (0.0, 0.0);
            for ny in near(y, rows) {
                for nx in near(x, GRID) {
                    sum += cells[ny * GRID + nx];
                    count += 1.0;
                }
            }
            sum / count
        })
        .collect()
}
