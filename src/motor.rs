//! `scanrig motor` and `scanrig buttons`: the checks a builder makes on a new
//! rig — jog an axis, home, watch the buttons.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use scanrig_hardware::axis::{Axes, Axis, AxisError, Halt, Shake, StopKind, Ticket};
use scanrig_hardware::panel::{Button, ButtonEvent, SimButtons, Status};
use scanrig_hardware::Degrees;

use crate::rig;
use crate::settings::{ButtonsBackend, Settings};

/// What to do with the motors.
#[derive(Debug, Subcommand)]
pub enum MotorCommand {
    /// Turn an axis by an angle from where it stands (homing it first), within its soft limits; Ctrl-C stops it.
    Jog {
        /// Degrees; negative turns the other way.
        #[arg(allow_hyphen_values = true)]
        degrees: f64,
        /// Which axis.
        #[arg(long, value_enum, default_value = "turntable")]
        axis: AxisName,
    },
    /// Home every axis (end-stops where configured).
    Home,
}

/// An axis of the rig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AxisName {
    /// The turntable.
    Turntable,
    /// The tilt arm.
    Tilt,
}

/// Runs a motor command; the motors are released when it ends. Ctrl-C
/// stops the move in flight along its ramp; SIGTERM stops it at once.
pub fn motor(settings: &Settings, command: MotorCommand) -> anyhow::Result<()> {
    let mut axes = rig::axes(settings, &Shake::default())?().context("cannot open the motors")?;
    let halt = Halt::new();
    stop_on_signals(halt.clone())?;
    let ticket = halt.ticket();
    let result = match command {
        MotorCommand::Jog { degrees, axis } => {
            if !degrees.is_finite() {
                bail!("cannot turn by {degrees}°; give a number of degrees");
            }
            let motor: &mut Box<dyn Axis> = match axis {
                AxisName::Turntable => &mut axes.azimuth,
                AxisName::Tilt => axes.tilt.as_mut().ok_or(AxisError::NoTiltAxis)?,
            };
            // Homed first (the end-stop, or here), so that the soft limits
            // mean something.
            scanrig_hardware::axis::jog(motor.as_mut(), Degrees(degrees), &ticket).map(|r| {
                let turned = r.to.get() - r.from.get();
                let how = match r.stopped {
                    None => String::new(),
                    Some(StopKind::Controlled) => " (stopped)".to_owned(),
                    Some(StopKind::Emergency) => " (emergency stop)".to_owned(),
                };
                println!(
                    "{axis:?}: turned {turned:+.2}° in {:.2} s, now at {:.2}°{how}",
                    r.duration.as_secs_f64(),
                    r.to.get()
                );
            })
        }
        MotorCommand::Home => home(&mut axes, &ticket),
    };
    axes.azimuth.set_energised(false)?;
    if let Some(tilt) = &mut axes.tilt {
        tilt.set_energised(false)?;
    }
    Ok(result?)
}

fn home(axes: &mut Axes, ticket: &Ticket) -> Result<(), AxisError> {
    axes.azimuth.home(ticket)?;
    println!("turntable: homed");
    if let Some(tilt) = &mut axes.tilt {
        tilt.home(ticket)?;
        println!("tilt: homed");
    }
    Ok(())
}

/// On a thread of its own: SIGINT asks `halt` for a controlled stop,
/// SIGTERM for an emergency stop.
fn stop_on_signals(halt: Halt) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("cannot watch for Ctrl-C")?;
    let (mut int, mut term) = runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            loop {
                let kind = tokio::select! {
                    _ = int.recv() => StopKind::Controlled,
                    _ = term.recv() => StopKind::Emergency,
                };
                halt.request(kind);
            }
        })
    });
    Ok(())
}

/// `scanrig buttons test`: prints presses as they happen until Ctrl-C (or,
/// with simulated buttons, the end of input).
pub fn buttons_test(settings: &Settings) -> anyhow::Result<()> {
    let print = Box::new(|e: ButtonEvent| {
        let name = format!("{:?}", e.button).to_lowercase();
        println!("{name}{}", if e.long { " (long)" } else { "" });
    });
    if settings.buttons.backend == ButtonsBackend::Sim {
        // The simulated panel is pressed from the terminal: a line per press.
        let mut sim = SimButtons::new();
        scanrig_hardware::panel::Buttons::listen(&mut sim, print)?;
        eprintln!("simulated buttons: type start, pause, stop or long-stop and Enter");
        for line in std::io::stdin().lock().lines() {
            let (button, long) = match line?.trim() {
                "start" => (Button::Start, false),
                "pause" => (Button::Pause, false),
                "stop" => (Button::Stop, false),
                "long-stop" => (Button::Stop, true),
                _ => continue,
            };
            sim.press(ButtonEvent { button, long });
        }
        return Ok(());
    }
    let (mut buttons, mut light) = rig::panel(settings)?;
    buttons.listen(print)?;
    light.show(Status::Idle)?;
    eprintln!("press the buttons; Ctrl-C ends");
    actix::System::new()
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
