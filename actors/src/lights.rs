//! The lights actor: the rig's lights on for a scan and a setup check (after their warm-up), off when it ends or pauses (if so set), set by hand, and switched off — with the motors released — after an idle timeout, all on the actix clock.

use std::collections::BTreeMap;
use std::time::Duration;

use actix::prelude::*;
use scanrig_hardware::light::{Brightness, Light, LightError};
use scanrig_hardware::panel::Status;
use slog::{info, warn, Logger};

use crate::buttons::Show;
use crate::turntable::Release;

/// The rig's lights and what they do.
#[derive(Default)]
pub struct LightsRig {
    /// The lights, switched off.
    pub lights: Vec<Light>,
    /// A pause switches them off.
    pub pause_off: bool,
    /// After this long with no scan running, the lights go off and the
    /// motors are released.
    pub idle_timeout: Option<Duration>,
    /// A paused scan counts as idle for the timeout.
    pub idle_in_pause: bool,
}

/// Switches every light on for a scan: at the brightness `levels` gives
/// it (percent; a light not named: full). Answers once the lights that
/// were off have warmed up.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Illuminate(pub BTreeMap<String, u8>);

/// Switches every light off (a setup check has taken its photos).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Darken;

/// Sets one light by hand.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), LightError>")]
pub struct SetLight {
    /// The light's name.
    pub name: String,
    /// Its brightness.
    pub level: Brightness,
}

/// Asks for every light's state.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Vec<LightState>")]
pub struct GetLights;

/// A light as it is now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LightState {
    /// Its name.
    pub name: String,
    /// Its brightness, percent.
    pub brightness: u8,
    /// Whether it can be dimmed (PWM), or only switched.
    pub dimmable: bool,
}

/// The lights changed: every light as it is now.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct LightsChanged(pub Vec<LightState>);

/// The lights actor.
pub struct LightsActor {
    rig: LightsRig,
    motors: Recipient<Release>,
    changes: Recipient<LightsChanged>,
    status: Status,
    idle: Option<SpawnHandle>,
    log: Logger,
}

impl LightsActor {
    /// Lights that release `motors` when the rig idles too long, and tell
    /// `changes` whenever they change.
    pub fn new(
        rig: LightsRig,
        motors: Recipient<Release>,
        changes: Recipient<LightsChanged>,
        log: Logger,
    ) -> LightsActor {
        LightsActor {
            rig,
            motors,
            changes,
            status: Status::Idle,
            idle: None,
            log,
        }
    }

    /// Sets `light` to `level`, logging a failure (a scan goes on in the
    /// dark rather than not at all).
    fn set(&mut self, index: usize, level: Brightness) {
        let light = &mut self.rig.lights[index];
        if let Err(e) = light.set(level) {
            warn!(self.log, "a light failed"; "light" => &light.spec().name, "error" => %e);
        }
    }

    fn all_off(&mut self) {
        for i in 0..self.rig.lights.len() {
            self.set(i, Brightness::OFF);
        }
        self.tell();
    }

    /// Every light as it is now.
    fn states(&self) -> Vec<LightState> {
        self.rig
            .lights
            .iter()
            .map(|l| LightState {
                name: l.spec().name.clone(),
                brightness: l.level().percent(),
                dimmable: l.spec().pwm_hz.is_some(),
            })
            .collect()
    }

    /// Tells who listens how the lights are now.
    fn tell(&self) {
        if !self.rig.lights.is_empty() {
            self.changes.do_send(LightsChanged(self.states()));
        }
    }

    /// Starts (again) the idle timeout, if there is one.
    fn idle_from_now(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.idle.take() {
            ctx.cancel_future(handle);
        }
        let Some(timeout) = self.rig.idle_timeout else {
            return;
        };
        let paused = matches!(self.status, Status::Paused | Status::Fault);
        if self.status == Status::Scanning || (paused && !self.rig.idle_in_pause) {
            return;
        }
        self.idle = Some(ctx.run_later(timeout, move |act, _| {
            act.idle = None;
            act.all_off();
            // Scanning, the motors hold; paused, they hold still: release
            // them (the scan homes again when resumed). Idle, they are
            // released already.
            let holding = matches!(act.status, Status::Paused | Status::Fault);
            if holding {
                act.motors.do_send(Release);
            }
            info!(act.log, "idle: lights off"; "after_s" => timeout.as_secs(), "motors released" => holding);
        }));
    }
}

impl Actor for LightsActor {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Self::Context) {
        self.all_off();
    }
}

impl Handler<Illuminate> for LightsActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, Illuminate(levels): Illuminate, _: &mut Self::Context) -> Self::Result {
        let mut warmup = Duration::ZERO;
        for i in 0..self.rig.lights.len() {
            let light = &self.rig.lights[i];
            let level = levels
                .get(&light.spec().name)
                .and_then(|p| Brightness::new(*p))
                .unwrap_or(Brightness::FULL);
            if level.is_on() && !light.level().is_on() {
                warmup = warmup.max(light.spec().warmup);
            }
            self.set(i, level);
        }
        self.tell();
        if !warmup.is_zero() {
            info!(self.log, "lights on, warming up"; "ms" => warmup.as_millis());
        }
        Box::pin(actix::clock::sleep(warmup).into_actor(self))
    }
}

impl Handler<Darken> for LightsActor {
    type Result = ();

    fn handle(&mut self, _: Darken, ctx: &mut Self::Context) {
        self.all_off();
        self.idle_from_now(ctx);
    }
}

impl Handler<SetLight> for LightsActor {
    type Result = Result<(), LightError>;

    fn handle(&mut self, msg: SetLight, ctx: &mut Self::Context) -> Self::Result {
        let Some(light) = self
            .rig
            .lights
            .iter_mut()
            .find(|l| l.spec().name == msg.name)
        else {
            let known: Vec<&str> = self
                .rig
                .lights
                .iter()
                .map(|l| l.spec().name.as_str())
                .collect();
            return Err(LightError::Unknown {
                name: msg.name,
                known: known.join(", "),
            });
        };
        light.set(msg.level)?;
        info!(self.log, "light set by hand"; "light" => &msg.name, "brightness" => %msg.level);
        self.tell();
        self.idle_from_now(ctx);
        Ok(())
    }
}

impl Handler<GetLights> for LightsActor {
    type Result = Vec<LightState>;

    fn handle(&mut self, _: GetLights, _: &mut Self::Context) -> Self::Result {
        self.states()
    }
}

/// The rig's status, as the panel is shown it: a scan that ends switches
/// the lights off, a pause too when so set; every status but scanning
/// starts the idle timeout.
impl Handler<Show> for LightsActor {
    type Result = ();

    fn handle(&mut self, Show(status): Show, ctx: &mut Self::Context) {
        let was = std::mem::replace(&mut self.status, status);
        match status {
            Status::Scanning => {}
            Status::Paused | Status::Fault if !self.rig.pause_off => {}
            _ if was == Status::Scanning || was == Status::Paused || was == Status::Fault => {
                self.all_off();
            }
            _ => {}
        }
        self.idle_from_now(ctx);
    }
}
