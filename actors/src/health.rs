//! The Pi's own health — under-voltage and throttling (the firmware's throttled flags), the CPU's temperature, the spool's free space — read from the kernel's files under a root (`/`, or a fake one in tests) every few seconds: the kernel's files do not notify, so a timer is their event.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use actix::prelude::*;
use serde::Serialize;
use slog::{info, Logger};

use crate::recorder::free_space;

/// The firmware's throttled flags (Raspberry Pi OS kernels), as hex.
pub const THROTTLED_FILE: &str = "sys/devices/platform/soc/soc:firmware/get_throttled";
/// The CPU's temperature, millidegrees Celsius.
pub const CPU_TEMP_FILE: &str = "sys/class/thermal/thermal_zone0/temp";

/// The firmware's throttled flags: bits 0 to 3 now, 16 to 19 since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled(pub u32);

impl Throttled {
    /// The flags as the kernel writes them (`50005`, or `0x50005`).
    pub fn parse(text: &str) -> Option<Throttled> {
        let hex = text.trim();
        let hex = hex.strip_prefix("0x").unwrap_or(hex);
        u32::from_str_radix(hex, 16).ok().map(Throttled)
    }

    fn bit(self, n: u32) -> bool {
        self.0 & (1 << n) != 0
    }

    /// The supply is below 4.63 V now.
    pub fn under_voltage(self) -> bool {
        self.bit(0)
    }

    /// The CPU is slowed now: its frequency capped, throttled, or at the
    /// soft temperature limit.
    pub fn throttled(self) -> bool {
        self.bit(1) || self.bit(2) || self.bit(3)
    }

    /// The supply has been below 4.63 V since boot.
    pub fn under_voltage_since_boot(self) -> bool {
        self.bit(16)
    }

    /// The CPU has been slowed since boot.
    pub fn throttled_since_boot(self) -> bool {
        self.bit(17) || self.bit(18) || self.bit(19)
    }
}

/// The Pi's health as last read; `None`: unknown (no such file here).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PiHealth {
    /// Under-voltage now.
    pub under_voltage: Option<bool>,
    /// The CPU slowed now (frequency capped, throttled, soft temperature
    /// limit).
    pub throttled: Option<bool>,
    /// Under-voltage at some time since boot.
    pub under_voltage_since_boot: Option<bool>,
    /// The CPU slowed at some time since boot.
    pub throttled_since_boot: Option<bool>,
    /// The CPU's temperature, °C.
    pub cpu_temp_c: Option<f64>,
    /// Free space on the spool's disk, MB.
    pub spool_free_mb: Option<u64>,
}

impl PiHealth {
    /// What is wrong with the power or the CPU now or since boot, in
    /// words; `None` when nothing is (or nothing is known).
    pub fn trouble(&self) -> Option<String> {
        let said = [
            (self.under_voltage, "under-voltage now"),
            (self.throttled, "the CPU is throttled now"),
            (self.under_voltage_since_boot, "under-voltage since boot"),
            (
                self.throttled_since_boot,
                "the CPU was throttled since boot",
            ),
        ];
        let found: Vec<&str> = said
            .iter()
            .filter(|(flag, _)| *flag == Some(true))
            .map(|(_, words)| *words)
            .collect();
        (!found.is_empty()).then(|| found.join(", "))
    }
}

/// Reads the Pi's health from the files under `root`.
#[derive(Debug, Clone)]
pub struct HealthReader {
    /// Where the kernel's files are: `/` on the Pi.
    pub root: PathBuf,
    /// The spool folder, whose disk's free space is read.
    pub spool: PathBuf,
}

impl HealthReader {
    /// The health now, and for each reading that could not be had, its
    /// file and why (a machine that is no Pi has none of them).
    pub fn read(&self) -> (PiHealth, Vec<(String, String)>) {
        let mut unknown = Vec::new();
        let mut file = |name: &str| -> Option<String> {
            let path = self.root.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Some(text),
                Err(e) => {
                    unknown.push((path.display().to_string(), e.to_string()));
                    None
                }
            }
        };
        let throttled_text = file(THROTTLED_FILE);
        let temp_text = file(CPU_TEMP_FILE);
        let throttled = throttled_text.as_deref().and_then(|t| {
            let flags = Throttled::parse(t);
            if flags.is_none() {
                unknown.push((
                    self.root.join(THROTTLED_FILE).display().to_string(),
                    format!("not hex flags: {:?}", t.trim()),
                ));
            }
            flags
        });
        let cpu_temp_c = temp_text.as_deref().and_then(|t| {
            let milli = t.trim().parse::<i64>().ok();
            if milli.is_none() {
                unknown.push((
                    self.root.join(CPU_TEMP_FILE).display().to_string(),
                    format!("not millidegrees: {:?}", t.trim()),
                ));
            }
            milli.map(|m| m as f64 / 1000.0)
        });
        let spool_free_mb = match free_space(&self.spool) {
            Ok(bytes) => Some(bytes / 1_000_000),
            Err(e) => {
                unknown.push((self.spool.display().to_string(), e.to_string()));
                None
            }
        };
        let health = PiHealth {
            under_voltage: throttled.map(Throttled::under_voltage),
            throttled: throttled.map(Throttled::throttled),
            under_voltage_since_boot: throttled.map(Throttled::under_voltage_since_boot),
            throttled_since_boot: throttled.map(Throttled::throttled_since_boot),
            cpu_temp_c,
            spool_free_mb,
        };
        (health, unknown)
    }
}

/// A reading of the Pi's health.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct HealthRead(pub PiHealth);

/// Reads the Pi's health every `every` (on the blocking pool: a slow disk
/// never holds up an arbiter) and tells `to`; says once which readings
/// this machine cannot give.
pub struct HealthActor {
    reader: HealthReader,
    every: Duration,
    to: Recipient<HealthRead>,
    said: BTreeSet<String>,
    log: Logger,
}

impl HealthActor {
    /// Reads with `reader` every `every`, telling `to`.
    pub fn new(
        reader: HealthReader,
        every: Duration,
        to: Recipient<HealthRead>,
        log: Logger,
    ) -> HealthActor {
        HealthActor {
            reader,
            every,
            to,
            said: BTreeSet::new(),
            log,
        }
    }

    fn read(&mut self, ctx: &mut Context<Self>) {
        let reader = self.reader.clone();
        let reading = tokio::task::spawn_blocking(move || reader.read());
        ctx.spawn(reading.into_actor(self).map(|read, act, _| {
            let Ok((health, unknown)) = read else {
                return;
            };
            for (path, why) in unknown {
                if act.said.insert(path.clone()) {
                    info!(act.log, "a health reading is unknown here, and stays so"; "file" => path, "why" => why);
                }
            }
            act.to.do_send(HealthRead(health));
        }));
    }
}

impl Actor for HealthActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.read(ctx);
        ctx.run_interval(self.every, |act, ctx| act.read(ctx));
    }
}

#[cfg(test)]
mod tests;
