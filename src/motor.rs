//! `scanrig motor` and `scanrig buttons`: the checks a builder makes on a new
//! rig — jog an axis, home, watch the buttons.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use scanrig_hardware::axis::Axis;
use scanrig_hardware::panel::{Button, ButtonEvent, SimButtons, Status};
use scanrig_hardware::Degrees;

use crate::rig;
use crate::settings::{ButtonsBackend, Settings};

/// What to do with the motors.
#[derive(Debug, Subcommand)]
pub enum MotorCommand {
    /// Turn an axis by an angle from where it stands (no homing needed).
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

/// Runs a motor command; the motors are released when it ends.
pub fn motor(settings: &Settings, command: MotorCommand) -> anyhow::Result<()> {
    let mut axes = rig::axes(settings)?().context("cannot open the motors")?;
    match command {
        MotorCommand::Jog { degrees, axis } => {
            if !degrees.is_finite() {
                bail!("cannot turn by {degrees}°; give a number of degrees");
            }
            let motor: &mut Box<dyn Axis> = match axis {
                AxisName::Turntable => &mut axes.azimuth,
                AxisName::Tilt => axes
                    .tilt
                    .as_mut()
                    .context("this rig has no tilt motor (tilt.backend is not set)")?,
            };
            motor.set_zero_here()?;
            let report = motor.move_to(Degrees(degrees));
            motor.set_energised(false)?;
            let report = report?;
            println!(
                "{axis:?}: turned {:+.2}° in {:.2} s",
                report.to.get() - report.from.get(),
                report.duration.as_secs_f64()
            );
        }
        MotorCommand::Home => {
            axes.azimuth.home()?;
            println!("turntable: homed");
            if let Some(tilt) = &mut axes.tilt {
                tilt.home()?;
                println!("tilt: homed");
            }
            axes.azimuth.set_energised(false)?;
            if let Some(tilt) = &mut axes.tilt {
                tilt.set_energised(false)?;
            }
        }
    }
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
