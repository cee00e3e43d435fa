//! The checker: whether the object moved during a ring, on a thread of
//! its own (it reads and decodes photos). It keeps each ring's first photo
//! in the scan's `checks` folder (a hard link: the upload's removal of the
//! spool file leaves it), and holds the camera's check frame, kept beside
//! it, against it; the page shows the two side by side.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use actix::prelude::*;
use scanrig_hardware::fsutil::DurableFile;
use scanrig_hardware::judge::{compare_file, Movement, NotCompared};
use slog::{warn, Logger};

/// The folder, inside a scan's spool folder, of the pictures of its checks.
pub const CHECKS_DIR: &str = "checks";

/// Which of a check's two pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    /// The ring's first photo.
    Photo,
    /// The camera's frame from the same pose once the ring was shot.
    Frame,
}

impl Picture {
    /// Its name in the API's paths: `photo` or `frame`.
    pub fn name(self) -> &'static str {
        match self {
            Picture::Photo => "photo",
            Picture::Frame => "frame",
        }
    }

    /// The picture named `name` in the API's paths.
    pub fn named(name: &str) -> Option<Picture> {
        [Picture::Photo, Picture::Frame]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// Where the picture `which` of ring `ring`'s check is, in a scan's spool
/// folder `dir`.
pub fn picture_path(dir: &Path, ring: u32, which: Picture) -> PathBuf {
    dir.join(CHECKS_DIR)
        .join(format!("ring-{ring:03}-{}.jpg", which.name()))
}

/// What went wrong with a check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A file could not be kept or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The two pictures could not be compared.
    #[error(transparent)]
    NotCompared(#[from] NotCompared),
}

/// Keeps the ring's first photo (`photo`, in the spool) for its check (a
/// photo that cannot be kept is logged; its check says so).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct KeepPhoto {
    /// The photo.
    pub photo: PathBuf,
    /// The scan's spool folder.
    pub dir: PathBuf,
    /// The ring.
    pub ring: u32,
}

/// Holds a check frame against the ring's kept first photo, and keeps the
/// frame beside it.
#[derive(Debug, Message)]
#[rtype(result = "Result<Movement, CheckError>")]
pub struct Compare {
    /// The camera's frame, a JPEG.
    pub frame: Vec<u8>,
    /// The scan's spool folder.
    pub dir: PathBuf,
    /// The ring.
    pub ring: u32,
}

/// The checker actor.
pub struct Checker {
    log: Logger,
}

impl Actor for Checker {
    type Context = SyncContext<Self>;
}

impl Checker {
    /// Starts the checker on a thread of its own.
    pub fn start(log: Logger) -> Addr<Checker> {
        SyncArbiter::start(1, move || Checker { log: log.clone() })
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> CheckError + '_ {
    move |source| CheckError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Handler<KeepPhoto> for Checker {
    type Result = ();

    fn handle(&mut self, msg: KeepPhoto, _: &mut Self::Context) {
        if let Err(e) = keep(&msg) {
            warn!(self.log, "cannot keep a ring's first photo for its check"; "ring" => msg.ring, "error" => %e);
        }
    }
}

/// Links (or copies) the photo into the checks folder.
fn keep(msg: &KeepPhoto) -> Result<(), CheckError> {
    let kept = picture_path(&msg.dir, msg.ring, Picture::Photo);
    checks_folder(&msg.dir)?;
    match fs::remove_file(&kept) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_error(&kept)(e)),
        _ => {}
    }
    // A link costs nothing; a copy where the file system has none.
    if fs::hard_link(&msg.photo, &kept).is_err() {
        let bytes = fs::read(&msg.photo).map_err(io_error(&msg.photo))?;
        write_durably(&kept, &bytes)?;
    }
    Ok(())
}

/// Makes the checks folder of the scan in `dir`.
fn checks_folder(dir: &Path) -> Result<(), CheckError> {
    let folder = dir.join(CHECKS_DIR);
    fs::create_dir_all(&folder).map_err(io_error(&folder))
}

impl Handler<Compare> for Checker {
    type Result = Result<Movement, CheckError>;

    fn handle(&mut self, msg: Compare, _: &mut Self::Context) -> Self::Result {
        let kept = picture_path(&msg.dir, msg.ring, Picture::Photo);
        let frame_path = picture_path(&msg.dir, msg.ring, Picture::Frame);
        checks_folder(&msg.dir)?;
        write_durably(&frame_path, &msg.frame)?;
        Ok(compare_file(&kept, &msg.frame).map_err(io_error(&kept))??)
    }
}

/// Writes `bytes` to `path` by a temp file, fsync and rename.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), CheckError> {
    let mut file = DurableFile::create(path).map_err(io_error(path))?;
    io::Write::write_all(&mut file, bytes).map_err(io_error(path))?;
    file.commit().map(drop).map_err(io_error(path))
}
