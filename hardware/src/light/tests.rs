//! A light's pin as it is driven: levels, PWM duty cycles, active-low wiring, and the room's light the simulated camera sees.

use std::time::Duration;

use super::sim::AMBIENT;
use super::*;

fn spec(active_low: bool, pwm_hz: Option<f64>) -> LightSpec {
    LightSpec {
        name: "ring".into(),
        pin: 12,
        active_low,
        pwm_hz,
        warmup: Duration::ZERO,
    }
}

fn pct(p: u8) -> Brightness {
    Brightness::new(p).unwrap()
}

fn duties(out: &RecordingOutput) -> Vec<f64> {
    out.events().iter().map(|e| e.duty).collect()
}

#[test]
fn a_switched_light_drives_its_pin_high_for_any_brightness_and_low_when_off() {
    let out = RecordingOutput::default();
    let mut light = Light::new(spec(false, None), Box::new(out.clone())).unwrap();
    light.set(pct(30)).unwrap();
    light.set(pct(100)).unwrap();
    light.set(Brightness::OFF).unwrap();
    // Opened off, then on (30 % is on for a light without PWM), on again,
    // off.
    assert_eq!(duties(&out), [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(light.level(), Brightness::OFF);
}

#[test]
fn an_active_low_light_stands_high_while_off_and_low_while_on() {
    let out = RecordingOutput::default();
    let mut light = Light::new(spec(true, None), Box::new(out.clone())).unwrap();
    assert_eq!(out.duty(), 1.0, "off must hold an active-low pin high");
    light.set(Brightness::FULL).unwrap();
    assert_eq!(out.duty(), 0.0);
}

#[test]
fn a_dimmed_light_drives_its_brightness_as_the_duty_cycle_inverted_when_active_low() {
    let high = RecordingOutput::default();
    let mut light = Light::new(spec(false, Some(1000.0)), Box::new(high.clone())).unwrap();
    light.set(pct(40)).unwrap();
    light.set(pct(75)).unwrap();
    assert_eq!(duties(&high), [0.0, 0.4, 0.75]);

    let low = RecordingOutput::default();
    let mut light = Light::new(spec(true, Some(1000.0)), Box::new(low.clone())).unwrap();
    light.set(pct(40)).unwrap();
    assert_eq!(duties(&low), [1.0, 0.6]);
}

#[test]
fn setting_the_level_a_light_has_writes_nothing() {
    let out = RecordingOutput::default();
    let mut light = Light::new(spec(false, Some(500.0)), Box::new(out.clone())).unwrap();
    light.set(pct(60)).unwrap();
    light.set(pct(60)).unwrap();
    assert_eq!(out.events().len(), 2);
}

#[test]
fn brightness_above_100_is_no_brightness() {
    assert_eq!(Brightness::new(101), None);
    assert_eq!(Brightness::new(100), Some(Brightness::FULL));
}

#[test]
fn the_room_is_as_lit_as_its_brightest_light_and_dim_with_every_light_off() {
    let room = Lighting::default();
    assert_eq!(room.exposure(), None, "a rig without lights");
    let mut a = Light::new(spec(false, Some(1000.0)), Box::new(room.output("a", false))).unwrap();
    let mut b = Light::new(spec(true, None), Box::new(room.output("b", true))).unwrap();
    assert_eq!(room.exposure(), Some(AMBIENT));
    a.set(pct(50)).unwrap();
    assert_eq!(room.exposure(), Some(AMBIENT + (1.0 - AMBIENT) * 0.5));
    b.set(pct(10)).unwrap();
    assert_eq!(room.exposure(), Some(1.0));
}
