//! How the photo is exposed: the share of blown highlights and of crushed
//! shadows, the median level and a histogram of luma.

use serde::{Deserialize, Serialize};

use super::Picture;

/// A pixel whose every channel is at least this level is clipped: white
/// with nothing left of its detail (JPEG's own ripple keeps a blown area a
/// few levels below 255).
pub const CLIPPED: u8 = 250;
/// A pixel whose every channel is at most this level is crushed: black.
pub const CRUSHED: u8 = 5;
/// Bins of the histogram, each 8 levels of luma wide.
pub const BINS: usize = 32;

/// Which pixels the clipped and crushed shares and the median count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// The object only: the backdrop may be blown out or black on purpose.
    Object,
    /// The whole frame: too little of an object was found (see
    /// [`super::MIN_OBJECT`]), or the backdrop is itself clipped or
    /// crushed, so the object's clipped parts would pass for it.
    Frame,
}

/// The photo's exposure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    /// The share of the region's pixels that are clipped, 0..=1.
    pub clipped: f32,
    /// The share of the region's pixels that are crushed, 0..=1.
    pub crushed: f32,
    /// The region's median luma, 0..=255.
    pub median: u8,
    /// What was counted.
    pub over: Region,
    /// The whole frame's luma in `BINS` bins of 8 levels, each bin's share
    /// in thousandths.
    pub histogram: Vec<u16>,
}

/// Measures the exposure of the pixels of `picture` where `region` is true
/// (or of all of them if `region` is `None`).
pub(crate) fn measure(picture: &Picture, region: Option<&[bool]>) -> Exposure {
    let rgb = picture.rgb();
    let luma = picture.luma();
    let counted = |i: usize| region.is_none_or(|r| r[i]);
    let mut levels = [0usize; 256];
    let (mut clipped, mut crushed, mut n) = (0usize, 0usize, 0usize);
    for (i, c) in rgb.iter().enumerate().filter(|(i, _)| counted(*i)) {
        n += 1;
        clipped += usize::from(c.iter().all(|&v| v >= CLIPPED));
        crushed += usize::from(c.iter().all(|&v| v <= CRUSHED));
        levels[luma[i].round().clamp(0.0, 255.0) as usize] += 1;
    }
    let mut bins = [0usize; BINS];
    for &l in luma {
        bins[(l.round().clamp(0.0, 255.0) as usize) * BINS / 256] += 1;
    }
    let share = |k: usize, of: usize| k as f32 / of.max(1) as f32;
    Exposure {
        clipped: share(clipped, n),
        crushed: share(crushed, n),
        median: median(&levels),
        over: if region.is_some() {
            Region::Object
        } else {
            Region::Frame
        },
        histogram: bins
            .iter()
            .map(|&k| (1000.0 * share(k, luma.len())).round() as u16)
            .collect(),
    }
}

/// The median level of a histogram of 256 levels (0 when it is empty).
pub(crate) fn median(levels: &[usize; 256]) -> u8 {
    let n: usize = levels.iter().sum();
    let mut seen = 0;
    levels
        .iter()
        .position(|&k| {
            seen += k;
            2 * seen > n
        })
        .map_or(0, |level| level as u8)
}
