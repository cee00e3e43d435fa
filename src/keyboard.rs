//! Keyboard control of a foreground scan: `p` pauses or resumes, `s` stops,
//! like the rig's buttons.

use std::io::BufRead;

use actix::Recipient;
use scanrig_actors::buttons::Pressed;
use scanrig_hardware::panel::{Button, ButtonEvent};

/// Reads lines from the terminal on a thread of its own and presses the
/// matching button.
pub fn listen(presses: Recipient<Pressed>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            let button = match line.trim() {
                "p" | "pause" => Button::Pause,
                "s" | "stop" => Button::Stop,
                "r" | "resume" | "start" => Button::Start,
                _ => continue,
            };
            presses.do_send(Pressed(ButtonEvent {
                button,
                long: false,
            }));
        }
    });
}
