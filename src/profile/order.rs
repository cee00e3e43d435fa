//! The order of a scan's shots by move time: the rig's own motion model
//! (a trapezoid per axis; both axes together take the longer of the two,
//! one after the other the sum; the table the shorter way round where
//! the profile lets it and its limits allow) prices every move, and the
//! listed order
//! (for a sphere, its banded serpentine) is improved by 2-opt and Or-opt
//! within each band or ring, from where the rig stands once homed.
//!
//! The work is bounded by a count of moves priced, not by a clock, so a
//! profile always gives the same order (a picture of it before the scan
//! and the scan agree); a scan records its order in its plan, and a
//! resumed scan takes that, never a new one.

use scanrig_actors::model::Station;
use scanrig_hardware::axis::{MotionLimits, MoveOrder, TableWay, Travel};
use scanrig_hardware::Degrees;

/// Moves priced at most while ordering one scan: a few milliseconds of
/// work (130 points: about 3 ms on an x86 laptop core).
pub const BUDGET: u64 = 200_000;

/// An improvement smaller than this (seconds) is none: float noise must
/// not make the search go round in circles.
const EPSILON: f64 = 1e-9;

/// How the rig moves from shot to shot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RigMotion {
    /// The table's speed and acceleration.
    pub table: MotionLimits,
    /// The tilt arm's.
    pub tilt: MotionLimits,
    /// Whether both move at once.
    pub order: MoveOrder,
    /// Where the axes stand once homed (table, tilt): every scan starts
    /// there.
    pub home: (Degrees, Degrees),
    /// Which way the table turns to a shot (the profile's `table_way`).
    pub table_way: TableWay,
    /// The table's soft limits (`turntable.max_turns`).
    pub table_travel: Travel,
}

/// A place of the rig: table and tilt angles, degrees.
type Spot = (f64, f64);

fn spot(s: &Station) -> Spot {
    (s.azimuth.get(), s.tilt.get())
}

impl RigMotion {
    /// Seconds the move from `a` to `b` takes, the table turning as
    /// [`RigMotion::table_way`] says on a table free to turn (the
    /// shorter way, at most half a turn). A move near a soft limit may
    /// take longer: [`RigMotion::moves`] follows the table's turns.
    pub fn secs(&self, a: Spot, b: Spot) -> f64 {
        let turn = b.0 - a.0;
        let turn = match self.table_way {
            TableWay::Shortest => turn - 360.0 * (turn / 360.0).round(),
            TableWay::AsListed => turn,
        };
        self.both(turn, b.1 - a.1)
    }

    /// Seconds a move of the table by `table` degrees and the arm by
    /// `tilt` takes.
    fn both(&self, table: f64, tilt: f64) -> f64 {
        let table = self.table.move_duration(Degrees(table)).as_secs_f64();
        let tilt = self.tilt.move_duration(Degrees(tilt)).as_secs_f64();
        match self.order {
            MoveOrder::Together => table.max(tilt),
            MoveOrder::OneAfterTheOther => table + tilt,
        }
    }

    /// Seconds each move of `shots` takes, from home, in their order: the
    /// table to the turn of each angle the rig picks (within its soft
    /// limits, as the rig's axes do).
    pub fn moves(&self, shots: &[Station]) -> Vec<f64> {
        let (mut table, mut tilt) = self.home;
        shots
            .iter()
            .map(|s| {
                let to = self.table_way.target(table, s.azimuth, &self.table_travel);
                let secs = self.both((to - table).get(), (s.tilt - tilt).get());
                (table, tilt) = (to, s.tilt);
                secs
            })
            .collect()
    }

    /// Seconds all moves of `shots` take, from home, in their order.
    pub fn total(&self, shots: &[Station]) -> f64 {
        self.moves(shots).iter().sum()
    }

    /// `listed` (ring by ring, or band by band) with each ring's shots
    /// in the order that moves the rig least, rings kept whole and in
    /// their order; never slower than `listed`. Shots are numbered
    /// within their ring anew.
    pub fn shortest(&self, listed: Vec<Station>) -> Vec<Station> {
        let mut rings: Vec<Vec<Station>> = Vec::new();
        for s in &listed {
            match rings.last_mut() {
                Some(ring) if ring[0].ring == s.ring => ring.push(s.clone()),
                _ => rings.push(vec![s.clone()]),
            }
        }
        let n = listed.len().max(1) as u64;
        let mut at = (self.home.0.get(), self.home.1.get());
        let mut out = Vec::with_capacity(listed.len());
        for ring in rings {
            let mut budget = BUDGET * ring.len() as u64 / n;
            let spots: Vec<Spot> = ring.iter().map(spot).collect();
            let tour = Path::new(self, at, &spots).improve(&mut budget);
            at = spots[*tour.last().expect("a ring has a shot")];
            for (index, i) in (1..).zip(tour) {
                out.push(Station {
                    index,
                    ..ring[i].clone()
                });
            }
        }
        if self.total(&out) < self.total(&listed) {
            out
        } else {
            listed
        }
    }

    /// Every shot, each next the one quickest to reach from the last
    /// (from home), rings ignored: what the bench compares with.
    pub fn nearest_neighbour(&self, shots: &[Station]) -> Vec<Station> {
        let mut left: Vec<Station> = shots.to_vec();
        let mut at = (self.home.0.get(), self.home.1.get());
        let mut out = Vec::with_capacity(shots.len());
        while !left.is_empty() {
            let secs = |s: &Station| self.secs(at, spot(s));
            let next = (0..left.len())
                .min_by(|a, b| secs(&left[*a]).total_cmp(&secs(&left[*b])))
                .expect("not empty");
            let s = left.remove(next);
            at = spot(&s);
            out.push(s);
        }
        out
    }
}

/// An open path through `spots` from a fixed start, as indices.
struct Path<'a> {
    motion: &'a RigMotion,
    start: Spot,
    spots: &'a [Spot],
    tour: Vec<usize>,
}

impl<'a> Path<'a> {
    fn new(motion: &'a RigMotion, start: Spot, spots: &'a [Spot]) -> Path<'a> {
        Path {
            motion,
            start,
            spots,
            tour: (0..spots.len()).collect(),
        }
    }

    /// The spot at position `i` of the tour; -1 is the start.
    fn at(&self, i: isize) -> Spot {
        if i < 0 {
            self.start
        } else {
            self.spots[self.tour[i as usize]]
        }
    }

    /// The move from position `i` to position `j` (0 past the end).
    fn cost(&self, i: isize, j: isize, budget: &mut u64) -> f64 {
        if j as usize >= self.tour.len() {
            return 0.0;
        }
        *budget = budget.saturating_sub(1);
        self.motion.secs(self.at(i), self.at(j))
    }

    /// 2-opt and Or-opt moves, each taken when it shortens the path,
    /// until none does or the budget is spent; the tour.
    fn improve(mut self, budget: &mut u64) -> Vec<usize> {
        while *budget > 0 && (self.two_opt(budget) | self.or_opt(budget)) {}
        self.tour
    }

    /// Reverses stretches of the path where that shortens it.
    fn two_opt(&mut self, budget: &mut u64) -> bool {
        let m = self.tour.len() as isize;
        let mut better = false;
        for i in 0..m {
            for j in i + 1..m {
                if *budget == 0 {
                    return better;
                }
                let old = self.cost(i - 1, i, budget) + self.cost(j, j + 1, budget);
                let new = self.motion.secs(self.at(i - 1), self.at(j))
                    + if j + 1 < m {
                        self.motion.secs(self.at(i), self.at(j + 1))
                    } else {
                        0.0
                    };
                *budget = budget.saturating_sub(2);
                if new < old - EPSILON {
                    self.tour[i as usize..=j as usize].reverse();
                    better = true;
                }
            }
        }
        better
    }

    /// Moves stretches of one to three shots elsewhere in the path,
    /// either way round, where that shortens it.
    fn or_opt(&mut self, budget: &mut u64) -> bool {
        let mut better = false;
        for len in 1..=3isize {
            let mut i = 0isize;
            while i + len <= self.tour.len() as isize {
                if *budget == 0 {
                    return better;
                }
                if self.move_stretch(i, len, budget) {
                    better = true;
                }
                i += 1;
            }
        }
        better
    }

    /// Moves the stretch of `len` shots at `i` to where it shortens the
    /// path most, if anywhere; whether it moved.
    fn move_stretch(&mut self, i: isize, len: isize, budget: &mut u64) -> bool {
        let m = self.tour.len() as isize;
        let (first, last) = (i, i + len - 1);
        let secs = |a: Spot, b: Option<Spot>| b.map_or(0.0, |b| self.motion.secs(a, b));
        let after = (last + 1 < m).then(|| self.at(last + 1));
        let saved = self.cost(first - 1, first, budget) + self.cost(last, last + 1, budget)
            - secs(self.at(first - 1), after);
        let (head, tail) = (self.at(first), self.at(last));
        let mut best: Option<(f64, isize, bool)> = None;
        for k in -1..m {
            if (first - 1..=last).contains(&k) {
                continue;
            }
            // Between position k and k + 1.
            let q = self.at(k);
            let r = (k + 1 < m).then(|| self.at(k + 1));
            let gap = secs(q, r);
            *budget = budget.saturating_sub(5);
            for reversed in [false, true] {
                let (a, b) = if reversed { (tail, head) } else { (head, tail) };
                let added = self.motion.secs(q, a) + secs(b, r) - gap;
                if added < saved - EPSILON && best.is_none_or(|(c, _, _)| added < c) {
                    best = Some((added, k, reversed));
                }
            }
        }
        let Some((_, k, reversed)) = best else {
            return false;
        };
        let mut stretch: Vec<usize> = self.tour.drain(first as usize..=last as usize).collect();
        if reversed {
            stretch.reverse();
        }
        let at = if k > last { k + 1 - len } else { k + 1 };
        self.tour.splice(at as usize..at as usize, stretch);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Order, Profile, SHIPPED};

    /// The shipped simulated rig: table 120 °/s, 480 °/s²; tilt 60 °/s,
    /// 240 °/s²; both at home at 0°.
    fn shipped(order: MoveOrder) -> RigMotion {
        RigMotion {
            table: MotionLimits {
                max_speed: 120.0,
                acceleration: 480.0,
            },
            tilt: MotionLimits {
                max_speed: 60.0,
                acceleration: 240.0,
            },
            order,
            home: (Degrees::ZERO, Degrees::ZERO),
            table_way: TableWay::Shortest,
            table_travel: Travel::default(),
        }
    }

    /// The shots as (ring, azimuth, tilt), sorted: what must not change.
    fn places(shots: &[Station]) -> Vec<(u32, u64, u64)> {
        let mut out: Vec<_> = shots
            .iter()
            .map(|s| (s.ring, s.azimuth.get().to_bits(), s.tilt.get().to_bits()))
            .collect();
        out.sort();
        out
    }

    /// Every shot once, rings whole and in their order, each numbered
    /// 1.. within its ring; the move time never above the listed order's.
    fn check(motion: &RigMotion, listed: &[Station]) -> (f64, f64) {
        let ordered = motion.shortest(listed.to_vec());
        assert_eq!(places(&ordered), places(listed));
        let rings: Vec<u32> = ordered.iter().map(|s| s.ring).collect();
        assert!(rings.windows(2).all(|w| w[0] <= w[1]), "{rings:?}");
        for (i, s) in ordered.iter().enumerate() {
            let first = ordered[..i].iter().filter(|o| o.ring == s.ring).count();
            assert_eq!(s.index as usize, first + 1);
        }
        let (was, now) = (motion.total(listed), motion.total(&ordered));
        assert!(now <= was, "{now} s > {was} s listed");
        (was, now)
    }

    #[test]
    fn the_shipped_profiles_are_never_slower_and_the_sphere_much_faster() {
        for (name, text) in SHIPPED {
            let mut profile = crate::profile::parse(name, "shipped", name, text).unwrap();
            profile.order = Order::Shortest;
            for order in [MoveOrder::Together, MoveOrder::OneAfterTheOther] {
                let motion = shipped(order);
                let (was, now) = check(&motion, &profile.listed());
                if *name == "sphere-130" {
                    assert!(now < was, "{name}: {now} s, listed {was} s");
                }
            }
        }
    }

    #[test]
    fn random_point_sets_are_never_slower_than_their_listed_order() {
        // A seeded generator: the same sets on every run.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..300 {
            let rings = 1 + (next() * 4.0) as u32;
            let mut listed = Vec::new();
            for ring in 1..=rings {
                for index in 1..=(1 + (next() * 40.0) as u32) {
                    listed.push(Station {
                        ring,
                        index,
                        azimuth: Degrees(next() * 360.0),
                        tilt: Degrees(next() * 180.0 - 90.0),
                        cameras: Vec::new(),
                    });
                }
            }
            let limits = |next: &mut dyn FnMut() -> f64| MotionLimits {
                max_speed: 5.0 + next() * 300.0,
                acceleration: 10.0 + next() * 2000.0,
            };
            let motion = RigMotion {
                table: limits(&mut next),
                tilt: limits(&mut next),
                order: if next() < 0.5 {
                    MoveOrder::Together
                } else {
                    MoveOrder::OneAfterTheOther
                },
                home: (Degrees(next() * 360.0), Degrees(next() * 180.0 - 90.0)),
                table_way: if next() < 0.7 {
                    TableWay::Shortest
                } else {
                    TableWay::AsListed
                },
                // Free, or held within 1 to 3 turns either way (a cable).
                table_travel: match next() {
                    free if free < 0.5 => Travel::default(),
                    _ => {
                        let turns = Degrees((1.0 + next() * 2.0) * 360.0);
                        Travel {
                            min: Some((Degrees(-turns.get()), "turntable.max_turns")),
                            max: Some((turns, "turntable.max_turns")),
                        }
                    }
                },
            };
            check(&motion, &listed);
        }
    }

    #[test]
    fn an_order_is_the_same_every_time_and_follows_the_rig() {
        let profile = Profile::find("sphere-130", &[]).unwrap();
        let listed = profile.listed();
        let together = shipped(MoveOrder::Together);
        let first = together.shortest(listed.clone());
        assert_eq!(first, together.shortest(listed.clone()));
        // A rig whose arm is slow, one axis after the other, is best
        // served by another order.
        let slow_arm = RigMotion {
            tilt: MotionLimits {
                max_speed: 5.0,
                acceleration: 10.0,
            },
            ..shipped(MoveOrder::OneAfterTheOther)
        };
        assert_ne!(first, slow_arm.shortest(listed));
    }

    /// Shots on one ring at tilt 0, at these angles.
    fn ring_at(angles: &[f64]) -> Vec<Station> {
        (1..)
            .zip(angles)
            .map(|(index, a)| Station {
                ring: 1,
                index,
                azimuth: Degrees(*a),
                tilt: Degrees::ZERO,
                cameras: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn the_table_is_priced_the_shorter_way_round_unless_a_limit_or_the_profile_says_not() {
        let free = shipped(MoveOrder::Together);
        let turn = |deg: f64| free.table.move_duration(Degrees(deg)).as_secs_f64();
        let across = ring_at(&[350.0, 10.0]);
        assert_eq!(free.moves(&across), [turn(10.0), turn(20.0)]);
        let listed = RigMotion {
            table_way: TableWay::AsListed,
            ..free
        };
        assert_eq!(listed.moves(&across), [turn(350.0), turn(340.0)]);
        // Held within a turn either way, the table that has gone round
        // once backwards comes back the long way rather than pass -360°.
        let cable = RigMotion {
            table_travel: Travel {
                min: Some((Degrees(-360.0), "turntable.max_turns")),
                max: Some((Degrees(360.0), "turntable.max_turns")),
            },
            ..free
        };
        let round = ring_at(&[270.0, 180.0, 90.0, 0.0, 270.0]);
        let quarter = turn(90.0);
        assert_eq!(free.moves(&round), [quarter; 5]);
        assert_eq!(
            cable.moves(&round),
            [quarter, quarter, quarter, quarter, turn(270.0)]
        );
        // The ordering sees it too: the ring is taken the other way round.
        assert!(cable.total(&cable.shortest(round.clone())) <= cable.total(&round));
    }

    #[test]
    fn the_nearest_neighbour_order_takes_every_shot_once() {
        let listed = Profile::find("sphere-130", &[]).unwrap().listed();
        let nn = shipped(MoveOrder::Together).nearest_neighbour(&listed);
        assert_eq!(places(&nn), places(&listed));
    }
}
