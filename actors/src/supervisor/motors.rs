//! Moving the motors by hand (a jog, homing), one motion at a time: refused
//! while a scan runs or another motion is under way, shown in the status
//! and the event stream while it runs, logged with who asked, and stopped
//! by [`super::StopMotors`] like any move.

use actix::prelude::*;
use scanrig_hardware::Degrees;
use slog::info;

use super::{Busy, ManualError, Motion, Progress, Supervisor};
use crate::turntable::{Home, Jog, JogAxis, Jogged};

/// Turns one axis by some degrees; answers where it stands.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Jogged, ManualError>")]
pub struct JogBy {
    /// Which axis.
    pub axis: JogAxis,
    /// How far.
    pub by: Degrees,
    /// Who asked (`web 192.168.1.20`, `button`), for the log and status.
    pub origin: String,
}

/// Homes every axis.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), ManualError>")]
pub struct HomeAll {
    /// Who asked.
    pub origin: String,
}

impl Supervisor {
    /// Takes the motors for `motion`, or says who has them.
    fn take_motors(&mut self, motion: Motion) -> Result<(), ManualError> {
        self.idle()?;
        if let Some(busy) = &self.motion {
            return Err(ManualError::Busy(Busy::Moving(busy.clone())));
        }
        info!(self.log, "manual motion"; "motion" => %motion);
        self.motion = Some(motion.clone());
        self.tell(Progress::Motion(Some(motion)));
        Ok(())
    }

    /// Gives the motors back once the motion ended.
    fn release_motors(&mut self) {
        self.motion = None;
        self.tell(Progress::Motion(None));
    }
}

/// A reply from the turntable, as a manual operation's result.
fn motor_reply<T>(
    r: Result<Result<T, scanrig_hardware::axis::AxisError>, MailboxError>,
) -> Result<T, ManualError> {
    r.map_err(|e| ManualError::Lost("turntable", e))?
        .map_err(ManualError::Motor)
}

impl Handler<JogBy> for Supervisor {
    type Result = ResponseActFuture<Self, Result<Jogged, ManualError>>;

    fn handle(&mut self, msg: JogBy, _: &mut Self::Context) -> Self::Result {
        let motion = Motion::Jogging {
            axis: msg.axis,
            degrees: msg.by.get(),
            origin: msg.origin,
        };
        if let Err(e) = self.take_motors(motion) {
            return Box::pin(fut::ready(Err(e)));
        }
        let jog = Jog {
            axis: msg.axis,
            by: msg.by,
            ticket: self.halt.ticket(),
        };
        Box::pin(self.turntable.send(jog).into_actor(self).map(|r, act, _| {
            act.release_motors();
            motor_reply(r)
        }))
    }
}

impl Handler<HomeAll> for Supervisor {
    type Result = ResponseActFuture<Self, Result<(), ManualError>>;

    fn handle(&mut self, msg: HomeAll, _: &mut Self::Context) -> Self::Result {
        if let Err(e) = self.take_motors(Motion::Homing { origin: msg.origin }) {
            return Box::pin(fut::ready(Err(e)));
        }
        let home = Home(self.halt.ticket());
        Box::pin(self.turntable.send(home).into_actor(self).map(|r, act, _| {
            act.release_motors();
            motor_reply(r)
        }))
    }
}
