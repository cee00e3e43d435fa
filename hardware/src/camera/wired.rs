//! A camera fired by a wire as a [`Camera`]: each exposure presses the
//! remote socket's lines ([`Trigger`]) and leaves the photo on the
//! camera's card ([`Exposure::left_on_card`]); there is nothing to
//! download, no preview and one setting, `bulb`: the seconds the shutter
//! is held open (0: a pulse, the camera times the exposure). Opened on
//! the Pi's pins ([`gpio_connector`], feature `rppal`) or simulated
//! ([`sim_connector`]): recording lines and a [`SimCard`] it writes to.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use embedded_hal::digital::OutputPin;

use super::trigger::{Hold, Trigger, TriggerTiming};
use super::{
    check_settings, Camera, CameraConnector, CameraError, CameraInfo, CaptureRequest,
    DownloadedFile, Exposure, Result, Setting, SimCard,
};
use crate::axis::stepper::bench::RecordingPin;
use crate::axis::stepper::{Clock, SystemClock};

/// The setting a profile gives a bulb exposure's length by, in seconds.
pub const BULB: &str = "bulb";
/// The longest bulb exposure, seconds.
const MAX_BULB_S: f64 = 3600.0;

/// A camera whose shutter a wire presses.
pub struct WiredCamera<P: OutputPin, C: Clock> {
    trigger: Trigger<P, C>,
    clock: C,
    hold: Hold,
    port: String,
    /// The simulated camera's card, written at each press.
    card: Option<Arc<Mutex<SimCard>>>,
}

impl<P: OutputPin + Send, C: Clock + Send> Camera for WiredCamera<P, C> {
    fn info(&self) -> CameraInfo {
        CameraInfo {
            model: "camera fired by a wire".into(),
            port: self.port.clone(),
        }
    }

    fn settings(&mut self) -> Result<Vec<Setting>> {
        let bulb = match self.hold {
            Hold::Pulse => 0.0,
            Hold::Bulb(d) => d.as_secs_f64(),
        };
        Ok(vec![Setting {
            name: BULB.into(),
            label: "Bulb exposure, seconds (0: the camera times it)".into(),
            kind: "range",
            value: bulb.to_string(),
            choices: vec![format!("0..{MAX_BULB_S} step 0.1")],
            read_only: false,
        }])
    }

    fn apply_settings(&mut self, settings: &BTreeMap<String, String>) -> Result<()> {
        check_settings(&self.settings()?, settings)?;
        if let Some(seconds) = settings.get(BULB).and_then(|v| v.parse::<f64>().ok()) {
            self.hold = if seconds > 0.0 {
                Hold::Bulb(Duration::from_secs_f64(seconds))
            } else {
                Hold::Pulse
            };
        }
        Ok(())
    }

    fn preview(&mut self) -> Result<Vec<u8>> {
        Err(CameraError::Unsupported {
            during: "preview",
            reason: "a camera fired by a wire sends no picture back".into(),
        })
    }

    fn expose(&mut self, request: &CaptureRequest) -> Result<Exposure> {
        let pressed = self
            .trigger
            .fire(self.hold)
            .map_err(|e| CameraError::Driver {
                during: "expose",
                reason: e.to_string(),
            })?;
        let ago = self.clock.now().saturating_duration_since(pressed);
        let at = SystemTime::now() - ago;
        if let Some(card) = &self.card {
            let mut card = card.lock().unwrap_or_else(PoisonError::into_inner);
            card.shoot(request, at).map_err(|source| CameraError::Io {
                path: card.root().to_path_buf(),
                source,
            })?;
        }
        Ok(Exposure {
            request: request.clone(),
            files: Vec::new(),
            left_on_card: Some(at),
        })
    }

    /// Nothing: the photo stays on the camera's card.
    fn download(&mut self, _: &Exposure, _: &Path) -> Result<Vec<DownloadedFile>> {
        Ok(Vec::new())
    }
}

/// The lines of a simulated camera fired by a wire: recording pins timed
/// by the system's clock (clones share their records).
pub type SimLine = RecordingPin<SystemClock>;

/// A simulated camera fired by a wire: its `shutter` and `focus` lines
/// record their presses, and each press writes a photo on `card`.
pub fn sim_connector(
    timing: TriggerTiming,
    shutter: SimLine,
    focus: Option<SimLine>,
    card: SimCard,
) -> CameraConnector {
    let card = Arc::new(Mutex::new(card));
    Arc::new(move || {
        let trigger =
            Trigger::new(shutter.clone(), focus.clone(), timing, SystemClock).map_err(|e| {
                CameraError::Driver {
                    during: "open",
                    reason: e.to_string(),
                }
            })?;
        Ok(Box::new(WiredCamera {
            trigger,
            clock: SystemClock,
            hold: Hold::Pulse,
            port: "sim:wire".into(),
            card: Some(Arc::clone(&card)),
        }) as Box<dyn Camera>)
    })
}

/// The camera's lines on the Pi's GPIO: `shutter` and, if wired, `focus`
/// (BCM numbers), each driving an opto-coupler.
#[cfg(feature = "rppal")]
pub fn gpio_connector(timing: TriggerTiming, shutter: u8, focus: Option<u8>) -> CameraConnector {
    Arc::new(move || {
        let fail = |what: String, e: rppal::gpio::Error| CameraError::NotConnected {
            detail: format!(
                "cannot use {what}: {e}; is this a Raspberry Pi, and is the user in the gpio group?"
            ),
        };
        let gpio = rppal::gpio::Gpio::new().map_err(|e| fail("GPIO".into(), e))?;
        let output = |pin: u8, what: &str| {
            gpio.get(pin)
                .map(|p| p.into_output_low())
                .map_err(|e| fail(format!("GPIO {pin} ({what})"), e))
        };
        let focus = focus.map(|pin| output(pin, "focus line")).transpose()?;
        let trigger = Trigger::new(output(shutter, "shutter line")?, focus, timing, SystemClock)
            .map_err(|e| CameraError::Driver {
                during: "open",
                reason: e.to_string(),
            })?;
        let port = format!("gpio:{shutter}");
        Ok(Box::new(WiredCamera {
            trigger,
            clock: SystemClock,
            hold: Hold::Pulse,
            port,
            card: None,
        }) as Box<dyn Camera>)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::Stage;
    use crate::Degrees;

    #[test]
    fn each_exposure_presses_the_lines_and_leaves_the_photo_on_the_card() {
        let dir = tempfile::tempdir().unwrap();
        let card = SimCard::new(dir.path(), 420_000, (64, 48), Stage::default());
        let timing = TriggerTiming {
            focus: Duration::from_millis(5),
            pulse: Duration::from_millis(5),
        };
        let line = || SimLine::new(SystemClock);
        let mut camera = sim_connector(timing, line(), Some(line()), card)().unwrap();
        let request = CaptureRequest {
            stem: "s_1".into(),
            label: "s_1".into(),
            azimuth: Degrees(0.0),
            tilt: Degrees(0.0),
        };
        let before = SystemTime::now();
        let exposure = camera.expose(&request).unwrap();
        let at = exposure
            .left_on_card
            .expect("a wired camera keeps its photo");
        assert!(at >= before && at <= SystemTime::now());
        assert!(exposure.files.is_empty(), "nothing to download");
        assert!(camera.download(&exposure, dir.path()).unwrap().is_empty());
        assert!(dir.path().join("DCIM/100SCANR/IMG_0001.JPG").is_file());
        assert!(matches!(
            camera.preview(),
            Err(CameraError::Unsupported { .. })
        ));
    }

    #[test]
    fn bulb_is_its_one_setting_and_others_are_refused_with_it_named() {
        let dir = tempfile::tempdir().unwrap();
        let card = SimCard::new(dir.path(), 0, (64, 48), Stage::default());
        let timing = TriggerTiming {
            focus: Duration::ZERO,
            pulse: Duration::from_millis(1),
        };
        let mut camera = sim_connector(timing, SimLine::new(SystemClock), None, card)().unwrap();
        let set = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        camera.apply_settings(&set(BULB, "0.02")).unwrap();
        assert_eq!(camera.settings().unwrap()[0].value, "0.02");
        let e = camera
            .apply_settings(&set("iso", "100"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no setting 'iso'; it has: bulb"), "{e}");
        let e = camera
            .apply_settings(&set(BULB, "-1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("0..3600"), "{e}");
    }
}
