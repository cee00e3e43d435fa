//! Which photo on a card is which shot: the camera clock's offset from
//! the rig's found from the capture times, then the shots and the photos
//! walked in order, a photo paired with the shot whose trigger it follows
//! by that offset. A trigger with no photo near it is missing, a photo
//! with no trigger near it is extra: neither is guessed.

/// How the card's photos matched the shots triggered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// The camera's clock less the rig's, milliseconds: the median, over
    /// the pairs, of a photo's capture time less its trigger time.
    pub offset_ms: i64,
    /// Pairs of a trigger and a photo, by their places in the lists
    /// given, in order.
    pub pairs: Vec<(usize, usize)>,
    /// The triggers without a photo.
    pub missing: Vec<usize>,
    /// The photos without a trigger.
    pub extra: Vec<usize>,
}

/// The nearest a photo, less the clock's offset, must lie to its trigger
/// when triggers come close together: EXIF counts whole seconds.
const MIN_TOLERANCE_MS: i64 = 1_500;
/// The nearest a photo must lie to its trigger when triggers are far
/// apart (a long exposure is stamped when it starts).
const MAX_TOLERANCE_MS: i64 = 10_000;

/// How near a photo, less the clock's offset, must lie to its trigger:
/// half the shortest time between two triggers, within
/// [`MIN_TOLERANCE_MS`]..=[`MAX_TOLERANCE_MS`].
fn tolerance(triggers: &[i64]) -> i64 {
    let gap = triggers.windows(2).map(|w| w[1] - w[0]).min();
    gap.map_or(MAX_TOLERANCE_MS, |g| g / 2)
        .clamp(MIN_TOLERANCE_MS, MAX_TOLERANCE_MS)
}

/// Matches photos taken at `photos` (the camera's clock, milliseconds) to
/// shots triggered at `triggers` (the rig's clock); both in ascending
/// order. Every offset that would pair some photo with some trigger is
/// tried; the one that pairs the most (the closest, among equals) wins,
/// and the median of its pairs' offsets gives the final match.
pub fn match_times(triggers: &[i64], photos: &[i64]) -> Matching {
    let tol = tolerance(triggers);
    let mut best: Option<((usize, i64), i64)> = None;
    for t in triggers {
        for p in photos {
            let offset = p - t;
            let m = walk(triggers, photos, offset, tol);
            let residual: i64 = m
                .pairs
                .iter()
                .map(|&(i, j)| (photos[j] - triggers[i] - offset).abs())
                .sum();
            let score = (m.pairs.len(), -residual);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, offset));
            }
        }
    }
    let guess = best.map_or(0, |(_, offset)| offset);
    let first = walk(triggers, photos, guess, tol);
    let mut offsets: Vec<i64> = first
        .pairs
        .iter()
        .map(|&(i, j)| photos[j] - triggers[i])
        .collect();
    offsets.sort_unstable();
    match offsets.get(offsets.len() / 2) {
        Some(&median) => walk(triggers, photos, median, tol),
        None => first,
    }
}

/// The two lists walked in order at `offset`: a photo within `tol` of the
/// next trigger is its photo; one before it is extra; a trigger before
/// the next photo is missing.
fn walk(triggers: &[i64], photos: &[i64], offset: i64, tol: i64) -> Matching {
    let mut m = Matching {
        offset_ms: offset,
        pairs: Vec::new(),
        missing: Vec::new(),
        extra: Vec::new(),
    };
    let (mut i, mut j) = (0, 0);
    while i < triggers.len() && j < photos.len() {
        let off = photos[j] - offset - triggers[i];
        if off < -tol {
            m.extra.push(j);
            j += 1;
        } else if off > tol {
            m.missing.push(i);
            i += 1;
        } else {
            m.pairs.push((i, j));
            i += 1;
            j += 1;
        }
    }
    m.missing.extend(i..triggers.len());
    m.extra.extend(j..photos.len());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    /// A shot every `every` ms from `start`, `n` of them.
    fn triggers(start: i64, every: i64, n: i64) -> Vec<i64> {
        (0..n).map(|k| start + k * every).collect()
    }

    /// The time a camera whose clock runs `offset` ahead stamps a photo
    /// taken at `t`, in whole seconds as EXIF has it.
    fn stamped(t: i64, offset: i64) -> i64 {
        (t + offset).div_euclid(1000) * 1000
    }

    #[test]
    fn a_clock_seven_minutes_ahead_with_a_photo_missing_and_one_extra() {
        let t = triggers(1_800_000_000_250, 3_700, 12);
        let offset = 7 * MINUTE;
        // A test shot before the scan; shot 5's photo never made.
        let mut photos = vec![stamped(t[0] - 2 * MINUTE, offset)];
        photos.extend(
            t.iter()
                .enumerate()
                .filter(|(k, _)| *k != 4)
                .map(|(_, &at)| stamped(at, offset)),
        );
        let m = match_times(&t, &photos);
        assert_eq!(m.missing, [4]);
        assert_eq!(m.extra, [0]);
        let expected: Vec<(usize, usize)> = (0..12)
            .filter(|k| *k != 4)
            .map(|k| (k, if k < 4 { k + 1 } else { k }))
            .collect();
        assert_eq!(m.pairs, expected);
        assert!(
            (m.offset_ms - offset).abs() < 1000,
            "offset {} ms",
            m.offset_ms
        );
    }

    #[test]
    fn a_clock_hours_behind_in_another_time_zone_matches_all_the_same() {
        let t = triggers(1_800_000_000_000, 9_000, 5);
        let offset = -5 * 60 * MINUTE - 13_000;
        let photos: Vec<i64> = t.iter().map(|&at| stamped(at, offset)).collect();
        let m = match_times(&t, &photos);
        assert_eq!(m.pairs, (0..5).map(|k| (k, k)).collect::<Vec<_>>());
        assert!(m.missing.is_empty() && m.extra.is_empty());
        assert!((m.offset_ms - offset).abs() < 1000, "{}", m.offset_ms);
    }

    #[test]
    fn photos_of_another_day_match_no_shot_and_nothing_is_guessed() {
        let t = triggers(1_800_000_000_000, 4_000, 3);
        // Photos seconds apart at a pace no trigger had: at best one
        // lines up by chance with each offset tried.
        let photos = vec![1_700_000_000_000, 1_700_000_050_000, 1_700_000_051_000];
        let m = match_times(&t, &photos);
        assert!(m.pairs.len() <= 1, "{m:?}");
        assert_eq!(m.pairs.len() + m.missing.len(), 3);
        assert_eq!(m.pairs.len() + m.extra.len(), 3);
    }

    #[test]
    fn an_empty_card_leaves_every_shot_missing() {
        let t = triggers(0, 4_000, 3);
        let m = match_times(&t, &[]);
        assert_eq!(m.missing, [0, 1, 2]);
        assert!(m.pairs.is_empty() && m.extra.is_empty());
    }
}
