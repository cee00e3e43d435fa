//! The Raspberry Pi's pins (feature `rppal`): stepper axes and the button
//! panel, as the settings describe them; the pins themselves are opened by
//! `scanrig-hardware`.

use std::time::Duration;

use anyhow::Context;
use scanrig_hardware::axis::stepper::{self, gpio::StepperPins};
use scanrig_hardware::axis::Travel;
use scanrig_hardware::panel::{self, Buttons, Indicator, PanelPins, Pull};

use super::AxisOpener;
use crate::settings::{Settings, Stepper};

/// Opens a stepper axis on its pins; each call claims them afresh.
pub(super) fn stepper_opener(
    name: &'static str,
    s: &Stepper,
    travel: Travel,
) -> anyhow::Result<AxisOpener> {
    let config = s.config(name, travel);
    config.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let pins = StepperPins {
        step: s.step_pin,
        dir: s.dir_pin,
        enable: s.enable_pin,
        endstop: s.endstop_pin,
    };
    Ok(Box::new(move || stepper::gpio::open(config, pins)))
}

/// Opens the buttons and the status light.
pub(super) fn panel(settings: &Settings) -> anyhow::Result<(Box<dyn Buttons>, Box<dyn Indicator>)> {
    let g = &settings.buttons.gpio;
    let pins = PanelPins {
        start: g.start_pin,
        pause: g.pause_pin,
        stop: g.stop_pin,
        led: g.led_pin,
        buzzer: g.buzzer_pin,
        active_low: g.active_low,
        pull: if g.active_low { Pull::Up } else { Pull::Down },
        long_press: Duration::from_millis(settings.buttons.long_press_ms),
        debounce: Duration::from_millis(g.debounce_ms),
    };
    let (buttons, light) = panel::open(&pins).context("cannot open the buttons")?;
    Ok((Box::new(buttons), Box::new(light)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs a Raspberry Pi with a stepper driver on GPIO 17 (STEP), 27 (DIR), 22 (ENABLE)"]
    fn the_turntable_jogs_and_comes_back_on_a_pi() {
        let open = stepper_opener(
            "turntable",
            &Stepper::turntable_default(),
            Travel::default(),
        )
        .expect("config");
        let mut axis = open().expect("GPIO");
        axis.set_zero_here().unwrap();
        let go = scanrig_hardware::axis::Ticket::unstoppable();
        let there = axis.move_to(scanrig_hardware::Degrees(90.0), &go).unwrap();
        assert!(there.duration > Duration::ZERO);
        let back = axis.move_to(scanrig_hardware::Degrees(0.0), &go).unwrap();
        assert_eq!(back.to, scanrig_hardware::Degrees(0.0));
        axis.set_energised(false).unwrap();
    }
}
