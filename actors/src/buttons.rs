//! The operator panel actor: turns button interrupts into `Pressed` messages
//! and shows the rig's status on the indicator.

use actix::prelude::*;
use scanrig_hardware::panel::{ButtonEvent, Buttons, Indicator, Status};
use slog::{info, warn, Logger};

/// A debounced button press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Pressed(pub ButtonEvent);

/// Shows a status on the indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Show(pub Status);

/// The panel actor.
pub struct ButtonsActor {
    buttons: Option<Box<dyn Buttons>>,
    indicator: Box<dyn Indicator>,
    presses: Recipient<Pressed>,
    log: Logger,
}

impl ButtonsActor {
    /// A panel that tells `presses` about every press.
    pub fn new(
        buttons: Box<dyn Buttons>,
        indicator: Box<dyn Indicator>,
        presses: Recipient<Pressed>,
        log: Logger,
    ) -> ButtonsActor {
        ButtonsActor {
            buttons: Some(buttons),
            indicator,
            presses,
            log,
        }
    }
}

impl Actor for ButtonsActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(mut buttons) = self.buttons.take() else {
            return;
        };
        let presses = self.presses.clone();
        let log = self.log.clone();
        // The handler runs on the driver's interrupt thread; it only posts a
        // message, so the actor sees presses in order, on its own thread.
        let handler = Box::new(move |event: ButtonEvent| {
            info!(log, "button pressed"; "button" => ?event.button, "long" => event.long);
            presses.do_send(Pressed(event));
        });
        if let Err(e) = buttons.listen(handler) {
            warn!(self.log, "the buttons do not work; scans can still be run from the command line"; "error" => %e);
        }
        self.buttons = Some(buttons);
        ctx.notify(Show(Status::Idle));
    }
}

impl Handler<Show> for ButtonsActor {
    type Result = ();

    fn handle(&mut self, Show(status): Show, _: &mut Self::Context) {
        if let Err(e) = self.indicator.show(status) {
            warn!(self.log, "the status light failed"; "status" => %status, "error" => %e);
        }
    }
}
