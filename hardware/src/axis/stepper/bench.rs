//! Bench doubles for the stepper driver: output pins that record every edge, a motor model that counts the steps they make, and scripted end-stops.
//!
//! Use them with a [`VirtualClock`](super::VirtualClock) to test motion
//! without hardware and without waiting, or with the
//! [`SystemClock`](super::SystemClock) to measure the step timing that the
//! real clock achieves.

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use embedded_hal::digital::{ErrorKind, ErrorType, InputPin, OutputPin};

use super::Clock;
use crate::axis::{Halt, StopKind};

/// The error a [`RecordingPin`] returns once told to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinFault;

impl fmt::Display for PinFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("injected pin fault")
    }
}

impl std::error::Error for PinFault {}

impl embedded_hal::digital::Error for PinFault {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// One write to a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinEvent {
    /// When, on the pin's clock.
    pub at: Instant,
    /// The level written.
    pub high: bool,
}

#[derive(Debug)]
struct PinLog {
    level: bool,
    events: Vec<PinEvent>,
    writes: u64,
    fail_after: Option<u64>,
}

/// What a pin is wired to in the motor model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Step,
    Dir,
}

/// The motor as the driver chip sees it: where STEP pulses have taken it.
#[derive(Debug, Default)]
struct Motor {
    /// Net steps, counting DIR-high steps as +1.
    position: i64,
    dir_high: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An output pin that logs every write with its time; clones share the log,
/// so a test keeps one handle and gives the other to the driver.
#[derive(Debug, Clone)]
pub struct RecordingPin<C> {
    log: Arc<Mutex<PinLog>>,
    clock: C,
    wire: Option<(Arc<Mutex<Motor>>, Role)>,
}

impl<C: Clock> RecordingPin<C> {
    /// A pin standing low, timestamping writes with `clock`.
    pub fn new(clock: C) -> RecordingPin<C> {
        RecordingPin {
            log: Arc::new(Mutex::new(PinLog {
                level: false,
                events: Vec::new(),
                writes: 0,
                fail_after: None,
            })),
            clock,
            wire: None,
        }
    }

    /// Makes every write after the next `writes` ones fail with [`PinFault`].
    pub fn fail_after(&self, writes: u64) {
        let mut log = lock(&self.log);
        log.fail_after = Some(log.writes + writes);
    }

    /// Every successful write, oldest first.
    pub fn events(&self) -> Vec<PinEvent> {
        lock(&self.log).events.clone()
    }

    /// The level last written (low before any write).
    pub fn is_high(&self) -> bool {
        lock(&self.log).level
    }

    /// Times of the low-to-high transitions.
    pub fn rising_edges(&self) -> Vec<Instant> {
        self.edges(true)
    }

    /// Times of the high-to-low transitions.
    pub fn falling_edges(&self) -> Vec<Instant> {
        self.edges(false)
    }

    /// Each time the pin went high and low again (a press of a line, a
    /// pulse), in order; one still high at the end is left out.
    pub fn presses(&self) -> Vec<(Instant, Instant)> {
        self.rising_edges()
            .into_iter()
            .zip(self.falling_edges())
            .collect()
    }

    /// The level the pin had at `at` (the last write at or before it).
    pub fn level_at(&self, at: Instant) -> bool {
        let log = lock(&self.log);
        let i = log.events.partition_point(|e| e.at <= at);
        i > 0 && log.events[i - 1].high
    }

    fn edges(&self, rising: bool) -> Vec<Instant> {
        let log = lock(&self.log);
        let mut level = false;
        let mut out = Vec::new();
        for e in &log.events {
            if e.high != level && e.high == rising {
                out.push(e.at);
            }
            level = e.high;
        }
        out
    }

    fn write(&mut self, high: bool) -> Result<(), PinFault> {
        let at = self.clock.now();
        let was_high = {
            let mut log = lock(&self.log);
            if log.fail_after.is_some_and(|n| log.writes >= n) {
                return Err(PinFault);
            }
            log.writes += 1;
            log.events.push(PinEvent { at, high });
            std::mem::replace(&mut log.level, high)
        };
        if let Some((motor, role)) = &self.wire {
            let mut motor = lock(motor);
            match role {
                Role::Dir => motor.dir_high = high,
                Role::Step if high && !was_high => {
                    motor.position += if motor.dir_high { 1 } else { -1 };
                }
                Role::Step => {}
            }
        }
        Ok(())
    }
}

impl<C> ErrorType for RecordingPin<C> {
    type Error = PinFault;
}

impl<C: Clock> OutputPin for RecordingPin<C> {
    fn set_low(&mut self) -> Result<(), PinFault> {
        self.write(false)
    }

    fn set_high(&mut self) -> Result<(), PinFault> {
        self.write(true)
    }
}

/// A driver and motor on the bench: recording STEP, DIR and ENABLE pins, with
/// STEP and DIR wired to a model that counts where the motor went.
#[derive(Debug, Clone)]
pub struct BenchMotor<C> {
    /// The STEP pin (a handle; clone it for the driver).
    pub step: RecordingPin<C>,
    /// The DIR pin.
    pub dir: RecordingPin<C>,
    /// The ENABLE pin.
    pub enable: RecordingPin<C>,
    motor: Arc<Mutex<Motor>>,
}

impl<C: Clock + Clone> BenchMotor<C> {
    /// A motor at model position 0, pins low.
    pub fn new(clock: C) -> BenchMotor<C> {
        let motor = Arc::new(Mutex::new(Motor::default()));
        let wired = |role| RecordingPin {
            wire: Some((Arc::clone(&motor), role)),
            ..RecordingPin::new(clock.clone())
        };
        BenchMotor {
            step: wired(Role::Step),
            dir: wired(Role::Dir),
            enable: RecordingPin::new(clock.clone()),
            motor,
        }
    }

    /// Net steps taken, DIR-high steps counting +1.
    pub fn position(&self) -> i64 {
        lock(&self.motor).position
    }

    /// An end-stop that is pressed while the motor stands `distance` or more
    /// steps from model position 0 on `side` (−1 or +1): pressed when
    /// `side · position ≥ distance`. A `distance` ≤ 0 starts pressed.
    pub fn endstop(&self, side: i8, distance: i64, active_low: bool) -> ScriptedEndstop {
        ScriptedEndstop {
            motor: Some(Arc::clone(&self.motor)),
            side: i64::from(side.signum()),
            distance,
            active_low,
        }
    }
}

/// An end-stop input pin scripted against a [`BenchMotor`]'s position.
#[derive(Debug, Clone)]
pub struct ScriptedEndstop {
    motor: Option<Arc<Mutex<Motor>>>,
    side: i64,
    distance: i64,
    active_low: bool,
}

impl ScriptedEndstop {
    /// A switch that never closes (unplugged, or never reached).
    pub fn never(active_low: bool) -> ScriptedEndstop {
        ScriptedEndstop {
            motor: None,
            side: 1,
            distance: 0,
            active_low,
        }
    }

    /// Whether the switch is closed.
    pub fn is_pressed(&self) -> bool {
        self.motor
            .as_ref()
            .is_some_and(|m| self.side * lock(m).position >= self.distance)
    }
}

impl ErrorType for ScriptedEndstop {
    type Error = Infallible;
}

impl InputPin for ScriptedEndstop {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.is_pressed() != self.active_low)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        self.is_high().map(|high| !high)
    }
}

/// A clock that presses a stop button at a set time: once it is waited past
/// `at`, it asks `halt` for a stop of `kind` (exactly at `at`, then waits
/// on). With a virtual clock it makes stop tests exact.
#[derive(Debug, Clone)]
pub struct PressAt<C> {
    clock: C,
    at: Instant,
    halt: Halt,
    kind: StopKind,
    pressed: Arc<AtomicBool>,
}

impl<C: Clock> PressAt<C> {
    /// Presses for a `kind` stop on `halt` when `clock` passes `at`.
    pub fn new(clock: C, at: Instant, halt: Halt, kind: StopKind) -> PressAt<C> {
        PressAt {
            clock,
            at,
            halt,
            kind,
            pressed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the button has been pressed.
    pub fn pressed(&self) -> bool {
        self.pressed.load(Ordering::SeqCst)
    }
}

impl<C: Clock> Clock for PressAt<C> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn wait_until(&self, deadline: Instant) {
        if deadline >= self.at && !self.pressed.swap(true, Ordering::SeqCst) {
            self.clock.wait_until(self.at);
            self.halt.request(self.kind);
        }
        self.clock.wait_until(deadline);
    }

    fn rest(&self) {
        self.clock.rest();
    }
}
