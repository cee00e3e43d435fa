//! The settle time the rig learns (`settle_ms = "auto"`): a pure state
//! machine that, at one pose, takes a reference photo after a long, safe
//! settle, then binary-searches the shortest settle whose photo stays as
//! sharp, each photo taken after moving away and back; it says what to do
//! next and is told each photo's sharpness, and does no I/O. What was
//! learned is kept per rig in a [`SettleStore`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use scanrig_hardware::fsutil::DurableFile;
use serde::{Deserialize, Serialize};

/// The search stops when the shortest settle known as sharp and the
/// longest known to be softer lie this close.
pub const RESOLUTION_MS: u64 = 25;

/// How a rig learns its settle time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoSettle {
    /// The long settle of the reference photo, and the most ever learned.
    pub safe_ms: u64,
    /// A trial is as sharp as the reference when its sharpness is at
    /// least this share of the reference's.
    pub as_sharp: f32,
    /// What is kept on top of the shortest settle found as sharp, as a
    /// share of it (the rig's sway is not quite the same every time).
    pub margin: f32,
}

/// What the rig learned: kept per rig, used by every scan of an auto
/// profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// The settle time a scan uses, milliseconds.
    pub settle_ms: u64,
    /// The reference photo's sharpness, after the safe settle.
    pub reference: f32,
    /// The shortest settle found as sharp as the reference, milliseconds.
    pub as_sharp_from_ms: u64,
    /// The safe settle of the reference, milliseconds.
    pub safe_ms: u64,
    /// When it was learned (or last lengthened), Unix seconds.
    pub at: u64,
}

impl Learned {
    /// The settle time.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }

    /// After a photo of a scan settled `settle_ms` came out blurred: the
    /// value half as long again (at most the safe settle), if that is
    /// longer than now; `None` when the photo is no reason to lengthen it
    /// (not blurred, taken with another settle, or already at the safe one).
    pub fn lengthened(&self, settle_ms: u64, blurred: bool, now: u64) -> Option<Learned> {
        if !blurred || settle_ms != self.settle_ms || self.settle_ms >= self.safe_ms {
            return None;
        }
        let longer = (self.settle_ms + self.settle_ms.div_ceil(2)).max(RESOLUTION_MS);
        Some(Learned {
            settle_ms: longer.min(self.safe_ms),
            at: now,
            ..*self
        })
    }
}

/// Where a rig keeps what it learned: a JSON file, written durably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleStore {
    path: PathBuf,
}

impl SettleStore {
    /// The file `settle.json` in the state folder `dir`.
    pub fn in_dir(dir: &Path) -> SettleStore {
        SettleStore {
            path: dir.join("settle.json"),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was learned; `None` when nothing was yet (blocking).
    pub fn load(&self) -> io::Result<Option<Learned>> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&text).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is damaged ({e}); delete it and run `scanrig check` to learn the settle time again",
                    self.path.display()
                ),
            )
        })
    }

    /// Keeps `learned`, replacing what was (blocking).
    pub fn keep(&self, learned: &Learned) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = DurableFile::create(&self.path)?;
        file.write_all(&serde_json::to_vec_pretty(learned)?)?;
        file.commit().map(drop)
    }

    /// A photo of a scan settled `settle_ms` was judged, blurred or not:
    /// when it was blurred at the learned settle time, that grows and is
    /// kept (blocking). The value kept, if it grew.
    pub fn judged(&self, settle_ms: u64, blurred: bool, now: u64) -> io::Result<Option<Learned>> {
        let Some(longer) = self
            .load()?
            .and_then(|l| l.lengthened(settle_ms, blurred, now))
        else {
            return Ok(None);
        };
        self.keep(&longer)?;
        Ok(Some(longer))
    }
}

/// What the executor does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Move away and back, wait `settle`, take a photo and give its
    /// sharpness to [`Calibration::measured`].
    Shoot {
        /// The settle before the photo.
        settle: Duration,
    },
    /// The search is over.
    Done(Learned),
}

/// The search, at one pose.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    config: AutoSettle,
    /// The reference's sharpness, once taken.
    reference: Option<f32>,
    /// The longest settle known softer than the reference (0: none tried).
    soft_ms: u64,
    /// The shortest settle known as sharp (the safe one at first).
    sharp_ms: u64,
    /// The settle of the photo asked for.
    trial_ms: u64,
    /// When it started, Unix seconds.
    at: u64,
}

impl Calibration {
    /// A search started at `at` (Unix seconds), and its first step: the
    /// reference photo after the safe settle.
    pub fn start(config: AutoSettle, at: u64) -> (Calibration, Step) {
        let calibration = Calibration {
            config,
            reference: None,
            soft_ms: 0,
            sharp_ms: config.safe_ms,
            trial_ms: config.safe_ms,
            at,
        };
        let step = calibration.shoot();
        (calibration, step)
    }

    /// The photo asked for came out with `sharpness`: the next step.
    pub fn measured(&mut self, sharpness: f32) -> Step {
        match self.reference {
            None => self.reference = Some(sharpness),
            Some(reference) if sharpness >= self.config.as_sharp * reference => {
                self.sharp_ms = self.trial_ms
            }
            Some(_) => self.soft_ms = self.trial_ms,
        }
        if self.sharp_ms - self.soft_ms <= RESOLUTION_MS {
            return Step::Done(self.learned());
        }
        // Halfway, on the grid of the resolution (as the softer end is:
        // 0 or an earlier trial), strictly between the two ends.
        let middle = (self.soft_ms + self.sharp_ms) / 2;
        self.trial_ms = (middle / RESOLUTION_MS * RESOLUTION_MS).max(self.soft_ms + RESOLUTION_MS);
        self.shoot()
    }

    fn shoot(&self) -> Step {
        Step::Shoot {
            settle: Duration::from_millis(self.trial_ms),
        }
    }

    /// The shortest settle found as sharp, with its margin, on the grid
    /// and at most the safe one.
    fn learned(&self) -> Learned {
        let safe = self.config.safe_ms;
        let margin = (self.sharp_ms as f64 * f64::from(self.config.margin)).ceil() as u64;
        let kept = (self.sharp_ms + margin).div_ceil(RESOLUTION_MS) * RESOLUTION_MS;
        Learned {
            settle_ms: kept.min(safe),
            reference: self.reference.unwrap_or_default(),
            as_sharp_from_ms: self.sharp_ms,
            safe_ms: safe,
            at: self.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: AutoSettle = AutoSettle {
        safe_ms: 1000,
        as_sharp: 0.95,
        margin: 0.2,
    };

    /// A rig whose sway dies down to a twentieth in `sway_ms`: its photos'
    /// sharpness `ms` after a stop, `top` when still.
    fn swaying(top: f32, sway_ms: f64) -> impl Fn(u64) -> f32 {
        move |ms| {
            let sway = 20f64.powf(-(ms as f64) / sway_ms);
            top / (1.0 + 8.0 * sway as f32)
        }
    }

    /// Runs the search against `curve`; what it learned and every settle
    /// it tried.
    fn run(config: AutoSettle, curve: impl Fn(u64) -> f32) -> (Learned, Vec<u64>) {
        let (mut c, mut step) = Calibration::start(config, 7);
        let mut tried = Vec::new();
        loop {
            match step {
                Step::Shoot { settle } => {
                    let ms = settle.as_millis() as u64;
                    tried.push(ms);
                    step = c.measured(curve(ms));
                }
                Step::Done(learned) => return (learned, tried),
            }
        }
    }

    #[test]
    fn the_search_finds_the_shortest_settle_as_sharp_within_its_resolution() {
        for sway_ms in [50.0, 150.0, 300.0, 600.0] {
            let curve = swaying(60.0, sway_ms);
            let (learned, tried) = run(CONFIG, &curve);
            let reference = curve(1000);
            // The first settle at which the rig's photos are as sharp.
            let first = (0..=1000)
                .find(|&ms| curve(ms) >= 0.95 * reference)
                .unwrap();
            assert_eq!(tried[0], 1000, "the reference first");
            assert!(
                (first..first + RESOLUTION_MS).contains(&learned.as_sharp_from_ms),
                "sway {sway_ms}: as sharp from {first}, found {}",
                learned.as_sharp_from_ms
            );
            assert!(curve(learned.as_sharp_from_ms) >= 0.95 * reference);
            assert!(curve(learned.settle_ms) >= 0.95 * reference);
            assert!(learned.settle_ms >= (learned.as_sharp_from_ms * 6 / 5).min(1000));
            assert!(learned.settle_ms <= 1000);
            assert_eq!(learned.reference, reference);
            assert!(tried.len() <= 8, "a handful of photos: {tried:?}");
            assert!(tried.iter().all(|ms| ms % RESOLUTION_MS == 0), "{tried:?}");
        }
    }

    #[test]
    fn no_value_below_the_threshold_is_ever_kept() {
        // Every shape of sway from none to longer than the safe settle,
        // including photos a little sharper than the reference.
        for sway_ms in (0..=1500).step_by(10) {
            for wobble in [0.98, 1.0, 1.02] {
                let base = swaying(55.0, sway_ms.max(1) as f64);
                let curve = |ms: u64| base(ms) * if ms == 1000 { 1.0 } else { wobble };
                let (learned, _) = run(CONFIG, curve);
                let reference = curve(1000);
                assert!(
                    curve(learned.as_sharp_from_ms) >= 0.95 * reference,
                    "sway {sway_ms}: kept {learned:?}"
                );
                assert!(learned.settle_ms >= learned.as_sharp_from_ms);
                assert!(learned.settle_ms <= CONFIG.safe_ms);
            }
        }
    }

    #[test]
    fn a_rig_that_never_gets_as_sharp_keeps_the_safe_settle() {
        // Only the reference is sharp: every shorter settle is softer.
        let (learned, _) = run(CONFIG, |ms| if ms >= 1000 { 50.0 } else { 40.0 });
        assert_eq!(learned.settle_ms, 1000);
        assert_eq!(learned.as_sharp_from_ms, 1000);
    }

    #[test]
    fn a_rig_that_does_not_sway_learns_the_shortest_step() {
        let (learned, tried) = run(CONFIG, |_| 50.0);
        assert_eq!(learned.as_sharp_from_ms, RESOLUTION_MS);
        assert_eq!(learned.settle_ms, 2 * RESOLUTION_MS);
        assert!(tried.len() <= 8, "{tried:?}");
    }

    #[test]
    fn the_store_keeps_what_was_learned_and_grows_it_on_a_blurred_photo() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettleStore::in_dir(&dir.path().join("state"));
        assert_eq!(store.load().unwrap(), None, "nothing learned yet");
        let learned = Learned {
            settle_ms: 300,
            reference: 60.0,
            as_sharp_from_ms: 250,
            safe_ms: 1000,
            at: 1,
        };
        store.keep(&learned).unwrap();
        assert_eq!(store.load().unwrap(), Some(learned));
        assert_eq!(store.judged(300, false, 2).unwrap(), None);
        let grown = store.judged(300, true, 2).unwrap().unwrap();
        assert_eq!(grown.settle_ms, 450);
        assert_eq!(store.load().unwrap(), Some(grown));
        std::fs::write(store.path(), "{").unwrap();
        let damaged = store.load().unwrap_err().to_string();
        assert!(
            damaged.contains("settle.json") && damaged.contains("scanrig check"),
            "{damaged}"
        );
    }

    #[test]
    fn a_blurred_photo_lengthens_the_value_up_to_the_safe_settle() {
        let learned = Learned {
            settle_ms: 300,
            reference: 60.0,
            as_sharp_from_ms: 250,
            safe_ms: 1000,
            at: 1,
        };
        assert_eq!(learned.lengthened(300, false, 2), None, "sharp");
        assert_eq!(learned.lengthened(1000, true, 2), None, "another settle");
        let longer = learned.lengthened(300, true, 2).unwrap();
        assert_eq!((longer.settle_ms, longer.at), (450, 2));
        let longest = longer.lengthened(450, true, 3).unwrap();
        let capped = longest.lengthened(675, true, 4).unwrap();
        assert_eq!(capped.settle_ms, 1000);
        assert_eq!(capped.lengthened(1000, true, 5), None, "at the safe settle");
    }
}
