//! The real operator panel on Raspberry Pi GPIO, through `rppal`: interrupt-driven, debounced buttons and the status light.
//!
//! # Threads
//! - Each button's input has an rppal asynchronous interrupt on both edges
//!   (rppal runs one thread per pin, blocked in `epoll`). Its callback only
//!   timestamps the edge and sends it on.
//! - One [`ButtonListener`] thread owns the [`Debouncer`]
//!   and calls the handler given to [`Buttons::listen`] for every press.
//! - One [`PatternPlayer`] thread times the status light (and buzzer).
//!
//! None of them polls; all end when their owner is dropped. Debouncing is
//! done in software only (no kernel debounce), so that every edge reaches
//! the debouncer with its time.

use std::convert::Infallible;
use std::time::Instant;

use rppal::gpio::{Event, Gpio, InputPin, Pin, Trigger};

use super::listener::ButtonListener;
use super::patterns::PatternPlayer;
use super::{
    Button, ButtonHandler, Buttons, Debouncer, Indicator, PanelError, PanelPins, Pull, Result,
    Status,
};

/// What to say when GPIO cannot be opened at all.
const OPEN_HINT: &str = "is this a Raspberry Pi, and is the user in the gpio group?";

fn driver(reason: String) -> PanelError {
    PanelError::Driver { reason }
}

/// Opens the panel wired as `pins` says: claims every pin (inputs with their
/// pull, the LED and buzzer outputs switched off) and starts the status
/// light's thread. The buttons' interrupts start with
/// [`Buttons::listen`].
pub fn open(pins: &PanelPins) -> Result<(GpioButtons, GpioIndicator)> {
    pins.validate()?;
    let gpio = Gpio::new().map_err(|e| driver(format!("cannot open GPIO: {e} — {OPEN_HINT}")))?;
    let claim = |role: &str, pin: u8| -> Result<Pin> {
        gpio.get(pin)
            .map_err(|e| driver(format!("cannot use GPIO {pin} for the {role}: {e}")))
    };
    let input = |button: Button, role: &str, pin: u8| -> Result<(Button, InputPin)> {
        let pin = claim(role, pin)?;
        let input = match pins.pull {
            Pull::Up => pin.into_input_pullup(),
            Pull::Down => pin.into_input_pulldown(),
            Pull::Off => pin.into_input(),
        };
        Ok((button, input))
    };
    let inputs = vec![
        input(Button::Start, "start button", pins.start)?,
        input(Button::Pause, "pause button", pins.pause)?,
        input(Button::Stop, "stop button", pins.stop)?,
    ];
    let led = LightPin(claim("status LED", pins.led)?.into_output_low());
    let buzzer = match pins.buzzer {
        Some(pin) => Some(LightPin(claim("buzzer", pin)?.into_output_low())),
        None => None,
    };
    let buttons = GpioButtons {
        inputs,
        active_low: pins.active_low,
        debouncer: Debouncer::new(pins.debounce, pins.long_press),
        listener: None,
    };
    let indicator = GpioIndicator {
        player: PatternPlayer::new(led, buzzer)?,
    };
    Ok((buttons, indicator))
}

/// The start, pause and stop buttons on GPIO inputs; see the
/// [module docs](self) for the threads. Dropping it stops the interrupts
/// and the listener's thread, and releases the pins.
pub struct GpioButtons {
    inputs: Vec<(Button, InputPin)>,
    active_low: bool,
    /// The debouncer the listener starts with.
    debouncer: Debouncer,
    /// Running once [`Buttons::listen`] has been called.
    listener: Option<ButtonListener>,
}

impl std::fmt::Debug for GpioButtons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pins: Vec<_> = self.inputs.iter().map(|(b, p)| (*b, p.pin())).collect();
        f.debug_struct("GpioButtons")
            .field("pins", &pins)
            .field("active_low", &self.active_low)
            .field("listening", &self.listener.is_some())
            .finish()
    }
}

impl GpioButtons {
    /// Sets every input's interrupt to send its edges to `listener`.
    fn arm(&mut self, listener: &ButtonListener) -> Result<()> {
        let active_low = self.active_low;
        for (button, input) in &mut self.inputs {
            let button = *button;
            let edges = listener.sender();
            let callback = move |event: Event| {
                let at = Instant::now();
                let low = event.trigger == Trigger::FallingEdge;
                edges.edge(button, low == active_low, at);
            };
            input
                .set_async_interrupt(Trigger::Both, None, callback)
                .map_err(|e| {
                    driver(format!(
                        "cannot watch GPIO {} for the {button:?} button: {e}",
                        input.pin()
                    ))
                })?;
        }
        Ok(())
    }

    fn disarm(&mut self) {
        for (_, input) in &mut self.inputs {
            let _ = input.clear_async_interrupt();
        }
    }
}

impl Buttons for GpioButtons {
    /// Starts the interrupts and the listener's thread, which calls
    /// `handler` for every debounced press; a later call only replaces the
    /// handler. A button already held now counts once released and pressed
    /// again.
    fn listen(&mut self, handler: ButtonHandler) -> Result<()> {
        if let Some(listener) = &self.listener {
            listener.set_handler(handler);
            return Ok(());
        }
        let listener = ButtonListener::spawn(self.debouncer.clone(), handler)?;
        if let Err(e) = self.arm(&listener) {
            self.disarm();
            return Err(e);
        }
        self.listener = Some(listener);
        Ok(())
    }
}

impl Drop for GpioButtons {
    fn drop(&mut self) {
        // Interrupts first, so no callback outlives the listener.
        self.disarm();
        self.listener = None;
    }
}

/// The status light (and optional buzzer) on GPIO outputs, played by a
/// [`PatternPlayer`]. Dropping it switches both off.
#[derive(Debug)]
pub struct GpioIndicator {
    player: PatternPlayer,
}

impl Indicator for GpioIndicator {
    fn show(&mut self, status: Status) -> Result<()> {
        self.player.show(status)
    }
}

/// An rppal output as an `embedded-hal` pin (rppal's own implementation
/// needs its `embedded-hal` feature).
struct LightPin(rppal::gpio::OutputPin);

impl embedded_hal::digital::ErrorType for LightPin {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for LightPin {
    fn set_low(&mut self) -> std::result::Result<(), Infallible> {
        self.0.set_low();
        Ok(())
    }

    fn set_high(&mut self) -> std::result::Result<(), Infallible> {
        self.0.set_high();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bad_wiring_is_refused_before_touching_gpio() {
        let pins = PanelPins {
            led: 17,
            ..PanelPins::default()
        };
        let err = open(&pins).unwrap_err().to_string();
        assert!(err.contains("GPIO 17 is wired to both"), "{err}");
    }

    #[test]
    fn without_gpio_the_error_says_what_to_check() {
        // On a Raspberry Pi this may well succeed; elsewhere it must fail
        // with a hint, not panic.
        if let Err(e) = open(&PanelPins::default()) {
            let e = e.to_string();
            assert!(
                e.contains("cannot open GPIO") && e.contains(OPEN_HINT),
                "{e}"
            );
        }
    }

    #[test]
    #[ignore = "needs a Raspberry Pi's GPIO"]
    fn opens_real_pins_and_plays_the_light() {
        let pins = PanelPins::default();
        let (mut buttons, mut light) = open(&pins).unwrap();
        buttons
            .listen(Box::new(|e| eprintln!("pressed: {e:?}")))
            .unwrap();
        for status in [
            Status::Idle,
            Status::Scanning,
            Status::Paused,
            Status::Uploading,
            Status::Fault,
        ] {
            light.show(status).unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
        let again = open(&pins).unwrap_err().to_string();
        assert!(
            again.contains("cannot use GPIO"),
            "pins are claimed: {again}"
        );
        drop(buttons);
        drop(light);
        open(&pins).unwrap();
    }
}
