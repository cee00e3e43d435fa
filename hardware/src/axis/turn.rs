//! Which way the table turns: a shot's angle names a place on the table,
//! reached at any whole number of turns from it, while the motor counts
//! its travel from home unwrapped (for the soft limits and homing).

use serde::{Deserialize, Serialize};

use super::Travel;
use crate::Degrees;

/// How the table turns to a shot's angle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableWay {
    /// To the turn of the angle (angle + k·360°) nearest where the table
    /// stands, among those within its soft limits: at most half a turn on
    /// a table that turns freely, the other way round when the shorter
    /// one would pass a limit.
    #[default]
    Shortest,
    /// To the angle itself: shots listed in [0, 360) never take the
    /// table across 0°.
    AsListed,
}

impl TableWay {
    /// Where the table goes, in travel from home, to stand at `angle`
    /// when it stands at `from`. When no turn of the angle lies within
    /// `travel`, the nearest one (which the axis then refuses, naming the
    /// limit).
    pub fn target(self, from: Degrees, angle: Degrees, travel: &Travel) -> Degrees {
        if self == TableWay::AsListed {
            return angle;
        }
        let base = on_table(angle).get();
        let k = ((from.get() - base) / 360.0).round();
        let turns = [k, k - 1.0, k + 1.0].map(|k| Degrees(base + k * 360.0));
        let off = |t: &Degrees| (t.get() - from.get()).abs();
        // Nearest first; of two as near, the one nearer home, then the
        // positive direction.
        turns
            .into_iter()
            .filter(|t| travel.check("turntable", *t).is_ok())
            .min_by(|a, b| {
                off(a)
                    .total_cmp(&off(b))
                    .then(a.abs().get().total_cmp(&b.abs().get()))
                    .then(b.get().total_cmp(&a.get()))
            })
            .unwrap_or(turns[0])
    }
}

/// The place on the table an angle of travel names, in [0, 360), without
/// a negative zero: what every pose, name and display shows.
pub fn on_table(travel: Degrees) -> Degrees {
    let a = travel.get().rem_euclid(360.0);
    Degrees(if a >= 360.0 { 0.0 } else { a + 0.0 })
}

/// Where a homed table goes before it homes again: the shorter way to a
/// whole turn from home when it turns freely; home itself when its travel
/// is limited (`turntable.max_turns`: the cable through it unwinds).
pub fn way_home(from: Degrees, travel: &Travel) -> Degrees {
    match (travel.min, travel.max) {
        (None, None) => TableWay::Shortest.target(from, Degrees::ZERO, travel),
        _ => Degrees::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(turns: f64) -> Travel {
        let t = Degrees(turns * 360.0);
        Travel {
            min: Some((Degrees(-t.get()), "turntable.max_turns")),
            max: Some((t, "turntable.max_turns")),
        }
    }

    fn target(from: f64, angle: f64, travel: &Travel) -> f64 {
        TableWay::Shortest
            .target(Degrees(from), Degrees(angle), travel)
            .get()
    }

    #[test]
    fn a_free_table_takes_the_shorter_way_round() {
        let free = Travel::default();
        assert_eq!(target(350.0, 10.0, &free), 370.0);
        assert_eq!(target(10.0, 350.0, &free), -10.0);
        assert_eq!(target(1430.0, 0.0, &free), 1440.0);
        assert_eq!(target(-725.0, 90.0, &free), -630.0);
        assert_eq!(target(370.0, 20.0, &free), 380.0);
        // Half a turn either way: the turn nearer home, else the positive way.
        assert_eq!(target(90.0, 270.0, &free), -90.0);
        assert_eq!(target(0.0, 180.0, &free), 180.0);
        let listed = TableWay::AsListed.target(Degrees(350.0), Degrees(10.0), &free);
        assert_eq!(listed, Degrees(10.0));
    }

    #[test]
    fn a_limited_table_goes_the_long_way_rather_than_pass_its_limit() {
        let one = limited(1.0);
        assert_eq!(target(350.0, 10.0, &one), 10.0, "370° is past the limit");
        assert_eq!(target(-350.0, 350.0, &one), -10.0, "-370° is past it");
        assert_eq!(target(300.0, 350.0, &one), 350.0);
        assert_eq!(target(10.0, 350.0, &one), -10.0, "within it: shorter");
        // A table held within ±90°: the one turn of 270° it may reach.
        let quarter = limited(0.25);
        assert_eq!(target(80.0, 270.0, &quarter), -90.0);
        // None within: the nearest, which the axis refuses.
        let refused = target(0.0, 180.0, &quarter);
        assert!(quarter.check("turntable", Degrees(refused)).is_err());
    }

    #[test]
    fn homing_again_comes_back_the_shorter_way_or_unwinds() {
        let free = Travel::default();
        assert_eq!(way_home(Degrees(1430.0), &free), Degrees(1440.0));
        assert_eq!(way_home(Degrees(-200.0), &free), Degrees(-360.0));
        assert_eq!(way_home(Degrees(370.0), &limited(2.0)), Degrees::ZERO);
    }

    #[test]
    fn every_turn_of_an_angle_is_the_same_place_on_the_table() {
        for (travel, place) in [(370.0, 10.0), (-10.0, 350.0), (720.0, 0.0), (-0.0, 0.0)] {
            let on = on_table(Degrees(travel));
            assert_eq!(on, Degrees(place));
            assert!(on.get().is_sign_positive());
        }
        assert!(on_table(Degrees(-1e-15)).get() < 360.0);
    }
}
