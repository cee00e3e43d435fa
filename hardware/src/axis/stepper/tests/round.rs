//! The table the shorter way round, on recording pins: a move to a shot's
//! angle takes the turn of it nearest where the table stands, and goes
//! the long way rather than pass a soft limit; the motor counts its
//! travel unwrapped.

use super::*;
use crate::axis::{Axes, MoveOrder, TableWay};

/// A table alone on the bench, homed where it stands, within `travel`.
fn table(travel: Travel) -> (Axes, BenchMotor<VirtualClock>) {
    let (axis, bench) = rig(StepperConfig { travel, ..config() });
    let mut axes = Axes {
        azimuth: Box::new(axis),
        tilt: None,
        order: MoveOrder::Together,
    };
    axes.azimuth.home(&Ticket::unstoppable()).unwrap();
    (axes, bench)
}

/// Moves to the shot at `angle` the `way` says; the steps it made, signed
/// by the direction DIR gave each (and that every one went that way).
fn shot(axes: &mut Axes, bench: &BenchMotor<VirtualClock>, angle: f64, way: TableWay) -> i64 {
    let (edges, at) = (bench.step.rising_edges().len(), bench.position());
    axes.move_to_shot(Degrees(angle), Degrees::ZERO, way, &Ticket::unstoppable())
        .unwrap();
    let made = (bench.step.rising_edges().len() - edges) as i64;
    let moved = bench.position() - at;
    assert_eq!(made, moved.abs(), "every step went one way");
    moved
}

fn one_turn_each_way() -> Travel {
    Travel {
        min: Some((Degrees(-360.0), "turntable.max_turns")),
        max: Some((Degrees(360.0), "turntable.max_turns")),
    }
}

#[test]
fn from_350_to_10_the_table_turns_20_degrees_forward() {
    let (mut axes, bench) = table(Travel::default());
    assert_eq!(
        shot(&mut axes, &bench, 350.0, TableWay::AsListed),
        steps_of(350.0)
    );
    let moved = shot(&mut axes, &bench, 10.0, TableWay::Shortest);
    assert_eq!(moved, steps_of(370.0) - steps_of(350.0), "20° forward");
    assert!(bench.dir.is_high(), "DIR says forward");
    // The motor counts its travel: 370°, one turn and the shot's 10°.
    assert_eq!(
        axes.azimuth.position(),
        Some(Degrees(bench.position() as f64 / SPD))
    );
    assert_eq!(bench.position(), steps_of(370.0));
    // On round: 10° back across 0° the other way, ending at -10° of travel.
    assert_eq!(
        shot(&mut axes, &bench, 0.0, TableWay::Shortest),
        steps_of(360.0) - steps_of(370.0)
    );
    let back = shot(&mut axes, &bench, 350.0, TableWay::Shortest);
    assert_eq!(bench.position(), steps_of(350.0));
    assert_eq!(back, -steps_of(10.0));
    // As listed, the same shot is the long way round.
    shot(&mut axes, &bench, 350.0, TableWay::AsListed);
    assert_eq!(
        shot(&mut axes, &bench, 10.0, TableWay::AsListed),
        steps_of(10.0) - steps_of(350.0)
    );
}

#[test]
fn near_its_limit_a_table_goes_the_long_way_rather_than_pass_it() {
    let (mut axes, bench) = table(one_turn_each_way());
    // Within the limit the shorter way still holds: 10° → 350° is -20°.
    shot(&mut axes, &bench, 10.0, TableWay::Shortest);
    assert_eq!(
        shot(&mut axes, &bench, 350.0, TableWay::Shortest),
        -2 * steps_of(10.0)
    );
    assert_eq!(bench.position(), -steps_of(10.0));
    // At 350° of travel, 370° would pass the limit of 360°: back 340°.
    axes.move_to(Degrees(350.0), Degrees::ZERO, &Ticket::unstoppable())
        .unwrap();
    let moved = shot(&mut axes, &bench, 10.0, TableWay::Shortest);
    assert_eq!(moved, steps_of(10.0) - steps_of(350.0), "the long way");
    assert!(!bench.dir.is_high(), "DIR says backwards");
    assert_eq!(bench.position(), steps_of(10.0));
}
