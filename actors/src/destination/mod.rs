//! Where photos go. A destination receives each photo streamed from its spool
//! file, under an idempotency key (scan, shot, sha256), and can say whether it
//! already holds a photo, so a retry after a crash never makes a second copy.
//!
//! Ships [`LocalDir`] and [`SimRemote`] (a simulated network); remote ones (Google Drive) implement the same trait,
//! with resumable uploads kept inside the implementation.

mod local;
mod sim;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use local::LocalDir;
pub use sim::SimRemote;

use crate::model::{Place, ScanId, ShotId, Target};

/// What went wrong at a destination.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// Worth retrying later (network down, server busy, disk briefly full).
    #[error("{0}; will retry")]
    Transient(String),
    /// Retrying cannot help until someone acts (authorisation revoked,
    /// quota spent, folder not writable); the message says what to do.
    #[error("{0}")]
    Permanent(String),
    /// The photo in the spool is no longer what was captured (its sha256
    /// differs from the journal's, or it is gone): it can never be sent.
    #[error("{name} is damaged in the spool ({reason}); it cannot be sent and will not be tried again: the spool's disk may be failing (check it), and the shot must be taken again")]
    SpoolDamaged {
        /// The file.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// What arrived differs from what was sent.
    #[error("{name} arrived damaged at the destination (sha256 {got}, expected {expected}); it will be sent again")]
    Mismatch {
        /// The file.
        name: String,
        /// Checksum of what arrived.
        got: String,
        /// Checksum of the spool file.
        expected: String,
    },
}

impl DestinationError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            DestinationError::Permanent(_) | DestinationError::SpoolDamaged { .. }
        )
    }
}

/// Result of destination calls.
pub type Result<T, E = DestinationError> = std::result::Result<T, E>;

/// One file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The scan it belongs to (names the folder at the destination).
    pub scan: ScanId,
    /// The shot (with `sha256`, the idempotency key).
    pub shot: ShotId,
    /// The spool file to stream from.
    pub local: PathBuf,
    /// Its name at the destination.
    pub name: String,
    /// sha256 of the spool file, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Opens the destination of a [`Place`] (the place a journaled scan's
/// photos go), or says why it cannot. It may block (signing in).
pub type Opener =
    Arc<dyn Fn(&Place) -> std::result::Result<Arc<dyn Destination>, String> + Send + Sync>;

/// A rig's destinations: the one (or the several) new scans go to, and
/// every place a journaled scan names, each opened once, when first
/// needed, on the thread that needs it (an upload worker).
#[derive(Clone)]
pub struct Destinations {
    default: Arc<dyn Destination>,
    /// Where new scans go when they go to several, by name (empty: to
    /// `default` alone).
    named: Vec<(String, Arc<dyn Destination>)>,
    open: Opener,
    opened: Arc<Mutex<BTreeMap<Place, Arc<dyn Destination>>>>,
}

impl Destinations {
    /// New scans go to `default`; other places are opened with `open`.
    pub fn new(default: Arc<dyn Destination>, open: Opener) -> Destinations {
        let opened = BTreeMap::from([(default.place(), default.clone())]);
        Destinations {
            default,
            named: Vec::new(),
            open,
            opened: Arc::new(Mutex::new(opened)),
        }
    }

    /// New scans go to every one of `named` (at least one; the first is
    /// the default); other places are opened with `open`.
    pub fn several(
        named: Vec<(String, Arc<dyn Destination>)>,
        open: Opener,
    ) -> Option<Destinations> {
        let (_, first) = named.first()?;
        let mut destinations = Destinations::new(first.clone(), open);
        if named.len() > 1 {
            let mut opened = destinations
                .opened
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for (_, d) in &named {
                opened.insert(d.place(), d.clone());
            }
            drop(opened);
            destinations.named = named;
        }
        Some(destinations)
    }

    /// Where new scans go when they go to several, each with its name
    /// (empty: to the default alone).
    pub fn targets(&self) -> Vec<Target> {
        self.named
            .iter()
            .map(|(name, d)| Target {
                name: name.clone(),
                place: d.place(),
            })
            .collect()
    }

    /// Each destination new scans go to, with its name (`None`: the only
    /// one).
    pub fn each(&self) -> Vec<(Option<String>, Arc<dyn Destination>)> {
        if self.named.is_empty() {
            return vec![(None, self.default.clone())];
        }
        self.named
            .iter()
            .map(|(name, d)| (Some(name.clone()), d.clone()))
            .collect()
    }

    /// Only `default`: a journaled scan naming another place is refused.
    pub fn only(default: Arc<dyn Destination>) -> Destinations {
        let here = default.place();
        let open: Opener = Arc::new(move |place: &Place| {
            Err(format!(
                "this run sends photos to {here} only, not to {place}"
            ))
        });
        Destinations::new(default, open)
    }

    /// Where new scans go.
    pub fn default(&self) -> &Arc<dyn Destination> {
        &self.default
    }

    /// The destination of `place` (`None`: a scan journaled before scans
    /// named their place, which goes to the default). May block.
    pub fn of(&self, place: Option<&Place>) -> Result<Arc<dyn Destination>> {
        let Some(place) = place else {
            return Ok(self.default.clone());
        };
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = opened.get(place) {
            return Ok(d.clone());
        }
        let d = (self.open)(place).map_err(|e| {
            DestinationError::Permanent(format!(
                "cannot reach {place}, where this scan's photos go: {e}"
            ))
        })?;
        opened.insert(place.clone(), d.clone());
        Ok(d)
    }
}

impl Upload {
    /// Checks that the file to send is still the one captured: a photo
    /// damaged in the spool is [`DestinationError::SpoolDamaged`].
    pub fn verify(&self) -> Result<()> {
        let damaged = |reason: String| DestinationError::SpoolDamaged {
            name: self.name.clone(),
            reason,
        };
        match scanrig_hardware::fsutil::digest_file(&self.local) {
            Ok(d) if d.sha256 == self.sha256 => Ok(()),
            Ok(d) => Err(damaged(format!(
                "{} now has {} bytes and sha256 {}; it had {} bytes and sha256 {} when captured",
                self.local.display(),
                d.size,
                d.sha256,
                self.size,
                self.sha256
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(damaged(format!("{} is missing", self.local.display())))
            }
            Err(e) => Err(DestinationError::Transient(format!(
                "cannot read {}: {e}",
                self.local.display()
            ))),
        }
    }
}

/// A place photos are uploaded to. Calls block; the uploader runs them on
/// worker threads, several at once, so implementations are `Sync`.
pub trait Destination: Send + Sync {
    /// Where the photos go, for logs and summaries.
    fn describe(&self) -> String;

    /// Where the photos go, to journal in a scan's plan.
    fn place(&self) -> Place;

    /// The remote id of this exact photo (same key and contents) if the
    /// destination already holds it intact.
    fn find(&self, upload: &Upload) -> Result<Option<String>>;

    /// Sends the photo, streaming it from disk; returns its remote id. A
    /// half-sent photo never shows up as a finished one.
    fn upload(&self, upload: &Upload) -> Result<String>;

    /// Writes (or replaces) a file of the scan other than a photo: its
    /// [`MANIFEST`], or a pose prior (`name` may hold folders, `a/b.txt`).
    /// Writing it again replaces it: never a second copy. Returns its id.
    fn put_file(&self, scan: &ScanId, name: &str, bytes: &[u8]) -> Result<String>;

    /// Writes several such files (a scan's pose priors); each one's id, or
    /// why it is not there. One after another unless a destination does
    /// better.
    fn put_files(&self, scan: &ScanId, files: &[(String, Vec<u8>)]) -> Vec<Result<String>> {
        files
            .iter()
            .map(|(name, bytes)| self.put_file(scan, name, bytes))
            .collect()
    }

    /// Checks the destination can be reached and, with `write`, written:
    /// writes, reads back and deletes a small object. The error says in
    /// words what is wrong.
    fn probe(&self, write: bool) -> Result<()>;
}

/// The name of the small object [`Destination::probe`] writes, reads back
/// and deletes.
pub const PROBE: &str = ".scanrig-probe";

/// The name of a scan's manifest in its folder.
pub const MANIFEST: &str = "manifest.json";

/// A file's name inside a scan's folder as a relative path, refused if it
/// would leave the folder.
pub fn relative(name: &str) -> Result<&std::path::Path> {
    let path = std::path::Path::new(name);
    let inside = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if inside && !name.is_empty() {
        Ok(path)
    } else {
        Err(DestinationError::Permanent(format!(
            "`{name}` is not a file name inside a scan's folder"
        )))
    }
}

/// The temporary name a photo `name` with this `sha256` is sent under to a
/// remote folder before it is renamed into place: hidden, beside it, the
/// same for the same bytes, so a killed upload's is written again by the
/// next try, not left behind (and [`is_part_name`] finds it).
pub fn part_name(name: &str, sha256: &str) -> String {
    format!(".{name}{PART_MARK}{}", &sha256[..sha256.len().min(16)])
}

/// Whether `name` is one made by [`part_name`].
pub fn is_part_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(PART_MARK)
            .is_some_and(|(_, hex)| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

const PART_MARK: &str = ".part-";

/// A name for the small file a check of a remote destination writes, reads
/// back and deletes: hidden, and not used twice (the process and the time).
pub fn probe_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(".scanrig-probe-{}-{nanos:x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_name_is_hidden_beside_the_photo_fixed_by_its_bytes_and_found() {
        let sha = "ab".repeat(32);
        assert_eq!(part_name("a.jpg", &sha), ".a.jpg.part-abababababababab");
        assert_ne!(
            part_name("a.jpg", &sha),
            part_name("a.jpg", &"cd".repeat(32))
        );
        assert!(is_part_name(&part_name("a.jpg", &sha)));
        for other in [
            "a.jpg",
            ".a.jpg",
            ".a.jpg.part-12",
            "x.part-abababababababab",
        ] {
            assert!(!is_part_name(other), "{other}");
        }
        assert_ne!(probe_name(), "");
    }
}
