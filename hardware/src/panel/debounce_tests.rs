//! Tests of the debouncer, on a synthetic clock.

use super::*;

const SETTLE: Duration = Duration::from_millis(30);
const LONG: Duration = Duration::from_millis(1500);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn short(button: Button) -> ButtonEvent {
    ButtonEvent {
        button,
        long: false,
    }
}

fn long(button: Button) -> ButtonEvent {
    ButtonEvent { button, long: true }
}

/// Feeds `edges` (milliseconds after `t0`, level) for one button, asking
/// `due` after each as a driver would, and returns every event seen up to
/// `end_ms`.
fn run(
    d: &mut Debouncer,
    t0: Instant,
    button: Button,
    edges: &[(u64, bool)],
    end_ms: u64,
) -> Vec<ButtonEvent> {
    let mut seen = Vec::new();
    for &(at, active) in edges {
        d.edge(button, active, t0 + ms(at));
        seen.extend(d.due(t0 + ms(at)));
    }
    seen.extend(d.due(t0 + ms(end_ms)));
    seen
}

#[test]
fn a_bouncing_press_yields_exactly_one_press() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    let edges = [
        (0, true),
        (1, false),
        (2, true),
        (4, false),
        (5, true), // stable from here
        (200, false),
        (201, true),
        (203, false), // stable release from here
    ];
    let seen = run(&mut d, t0, Button::Start, &edges, 1000);
    assert_eq!(seen, vec![short(Button::Start)]);
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn the_short_press_is_reported_when_its_release_settles() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    d.edge(Button::Pause, true, t0);
    assert_eq!(d.next_deadline(), Some(t0 + SETTLE), "press settles");
    assert!(d.due(t0 + ms(29)).is_empty());
    assert!(d.due(t0 + SETTLE).is_empty(), "accepted, not yet reported");
    assert_eq!(
        d.next_deadline(),
        Some(t0 + LONG),
        "then the long-press time"
    );
    d.edge(Button::Pause, false, t0 + ms(100));
    assert_eq!(d.next_deadline(), Some(t0 + ms(130)), "release settles");
    assert!(d.due(t0 + ms(129)).is_empty());
    assert_eq!(d.due(t0 + ms(130)), vec![short(Button::Pause)]);
    assert_eq!(d.next_deadline(), None);
    assert!(d.due(t0 + ms(5000)).is_empty(), "reported once");
}

#[test]
fn bounces_shorter_than_settle_yield_nothing() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    let edges = [
        (0, true),
        (10, false),
        (20, true),
        (49, false),
        (60, true),
        (61, false),
    ];
    assert!(run(&mut d, t0, Button::Stop, &edges, 5000).is_empty());
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn a_hold_yields_one_long_press_at_the_threshold_and_nothing_on_release() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    d.edge(Button::Stop, true, t0 + ms(2));
    d.edge(Button::Stop, false, t0 + ms(3));
    d.edge(Button::Stop, true, t0 + ms(5));
    assert!(d.due(t0 + ms(100)).is_empty());
    assert_eq!(
        d.next_deadline(),
        Some(t0 + ms(5) + LONG),
        "counted from the settled edge"
    );
    assert!(d.due(t0 + ms(1504)).is_empty());
    assert_eq!(
        d.due(t0 + ms(1505)),
        vec![long(Button::Stop)],
        "fires while still held"
    );
    assert_eq!(d.next_deadline(), None, "nothing more until the release");
    let seen = run(
        &mut d,
        t0,
        Button::Stop,
        &[(4000, false), (4001, true), (4002, false)],
        9000,
    );
    assert!(seen.is_empty(), "no extra short press on release: {seen:?}");
}

#[test]
fn a_late_wake_up_still_reports_the_long_press() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    d.edge(Button::Stop, true, t0);
    d.edge(Button::Stop, false, t0 + ms(3000));
    // The driver was asleep the whole time: the hold still counts as long,
    // and the release adds nothing.
    assert_eq!(d.due(t0 + ms(4000)), vec![long(Button::Stop)]);
}

#[test]
fn a_glitch_during_a_hold_does_not_split_it() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    let edges = [(0, true), (500, false), (510, true)];
    let seen = run(&mut d, t0, Button::Stop, &edges, 1499);
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(d.due(t0 + LONG), vec![long(Button::Stop)]);
}

#[test]
fn two_separate_presses_yield_two_events() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    let edges = [
        (0, true),
        (1, false),
        (2, true),
        (150, false),
        (400, true),
        (401, false),
        (402, true),
        (600, false),
    ];
    let seen = run(&mut d, t0, Button::Start, &edges, 1000);
    assert_eq!(seen, vec![short(Button::Start), short(Button::Start)]);
}

#[test]
fn buttons_are_debounced_independently_and_reported_in_order() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    d.edge(Button::Stop, true, t0);
    d.edge(Button::Start, true, t0 + ms(10));
    d.edge(Button::Start, false, t0 + ms(20)); // a bounce of start only
    d.edge(Button::Pause, true, t0 + ms(40));
    d.edge(Button::Pause, false, t0 + ms(100));
    d.edge(Button::Stop, false, t0 + ms(200));
    // Pause's release settled at 130, stop's at 230: oldest first.
    assert_eq!(d.next_deadline(), Some(t0 + ms(130)));
    assert_eq!(
        d.due(t0 + ms(300)),
        vec![short(Button::Pause), short(Button::Stop)]
    );
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn next_deadline_is_the_earliest_of_all_buttons_and_past_for_pending_events() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    assert_eq!(d.next_deadline(), None, "idle: wait without a timeout");
    d.edge(Button::Start, true, t0);
    d.edge(Button::Pause, true, t0 + ms(10));
    assert_eq!(d.next_deadline(), Some(t0 + SETTLE));
    d.edge(Button::Start, false, t0 + ms(200));
    d.edge(Button::Start, true, t0 + ms(210)); // glitch; start's long time stays
    assert_eq!(
        d.next_deadline(),
        Some(t0 + ms(40)),
        "pause has not settled yet"
    );
    assert!(d.due(t0 + ms(210)).is_empty());
    assert_eq!(
        d.next_deadline(),
        Some(t0 + LONG),
        "start's long time, before pause's"
    );
    d.edge(Button::Start, false, t0 + ms(300));
    d.edge(Button::Pause, false, t0 + ms(400));
    // Nobody asked at 330, when start's release settled: that deadline is
    // now in the past, so the driver calls `due` at once.
    assert_eq!(d.next_deadline(), Some(t0 + ms(330)));
    assert_eq!(d.due(t0 + ms(400)), vec![short(Button::Start)]);
    assert_eq!(d.next_deadline(), Some(t0 + ms(430)));
}

#[test]
fn a_button_held_at_start_is_ignored_until_pressed_again() {
    let mut d = Debouncer::new(SETTLE, LONG);
    let t0 = Instant::now();
    let edges = [(0, false), (1, true), (2, false), (500, true), (600, false)];
    assert_eq!(
        run(&mut d, t0, Button::Start, &edges, 1000),
        vec![short(Button::Start)]
    );
}

#[test]
fn odd_input_does_not_panic_or_invent_presses() {
    let t0 = Instant::now();
    // Edges out of order and repeated levels.
    let mut d = Debouncer::new(SETTLE, LONG);
    d.edge(Button::Start, true, t0 + ms(100));
    d.edge(Button::Start, true, t0 + ms(50)); // earlier: counts as at 100
    assert_eq!(d.next_deadline(), Some(t0 + ms(130)));
    d.edge(Button::Start, false, t0 + ms(40));
    d.edge(Button::Start, false, t0 + ms(400));
    assert!(d.due(t0 + ms(1000)).is_empty(), "never stable long enough");

    // Absurd durations mean "never" rather than an overflow.
    let mut d = Debouncer::new(Duration::MAX, Duration::MAX);
    d.edge(Button::Stop, true, t0);
    assert_eq!(d.next_deadline(), None);
    assert!(d.due(t0 + ms(10_000)).is_empty());

    // Zero durations: every stable level counts at once.
    let mut d = Debouncer::new(Duration::ZERO, Duration::ZERO);
    d.edge(Button::Stop, true, t0);
    assert_eq!(d.due(t0), vec![long(Button::Stop)]);
    d.edge(Button::Stop, false, t0 + ms(1));
    assert!(d.due(t0 + ms(2)).is_empty());
}

#[test]
fn defaults_are_the_documented_constants() {
    let d = Debouncer::default();
    assert_eq!(d.settle(), DEFAULT_SETTLE);
    assert_eq!(d.long_press(), DEFAULT_LONG_PRESS);
}
