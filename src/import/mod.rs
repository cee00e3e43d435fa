//! `scanrig import`: the photos a camera fired by a wire left on its card,
//! brought into the scan they were taken for. The card's JPEGs are matched
//! to the shots triggered by their EXIF capture times, the camera clock's
//! offset found from them ([`matching`]); each matched photo is copied into
//! the scan's spool folder (fsync'd, renamed into place) and journaled
//! captured with the shot's other files (a column's other cameras'), so
//! the uploader sends it and the manifest lists it as any other (the
//! files sent already are found at the destination, not sent again); the
//! import itself is journaled with the shots left missing and the card's
//! photos left alone.

pub mod matching;

use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Context;
use scanrig_actors::clock::{rfc3339_millis, unix_millis_now};
use scanrig_actors::journal::{JournalWriter, Record, ScanRecord};
use scanrig_actors::model::{CameraName, Frame, Part, ShotId, SpoolFile};
use scanrig_hardware::fsutil::{digest_file, DurableFile};

/// A photo on the card.
#[derive(Debug, Clone)]
pub struct CardPhoto {
    /// Its path inside the card's folder.
    pub name: String,
    /// The RAW files the camera wrote beside its JPEG (the same name but
    /// for the extension), by path inside the card's folder: brought in
    /// with it.
    pub raw: Vec<String>,
    /// Its EXIF capture time as the camera wrote it, and as Unix
    /// milliseconds of the camera's clock; or why it has none.
    pub taken: Result<(String, i64), String>,
}

/// A triggered shot and the photo matched to it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The shot.
    pub shot: ShotId,
    /// Its photo's file name, as the shot's other photos are named.
    pub name: String,
    /// The shot's files in the spool already (a column's other cameras'),
    /// and when they were captured.
    pub earlier: Option<(u64, Vec<SpoolFile>)>,
    /// Its pose: the table's angle and the tilt, degrees.
    pub pose: (f64, f64),
    /// When its shutter fired, Unix milliseconds of the rig's clock.
    pub triggered_at: u64,
    /// The photo matched to it (its place in [`Import::photos`]), if any.
    pub photo: Option<usize>,
}

/// What an import will do, shown before it is done.
#[derive(Debug, Clone)]
pub struct Import {
    /// The scan's spool folder.
    pub scan_dir: PathBuf,
    /// The card's folder.
    pub folder: PathBuf,
    /// Whose card it is.
    pub card: Card,
    /// The camera's clock less the rig's, milliseconds.
    pub offset_ms: i64,
    /// The shots awaiting their photos, in trigger order.
    pub rows: Vec<Row>,
    /// The card's JPEGs, by name (those imported already left out).
    pub photos: Vec<CardPhoto>,
    /// The photos that match no shot.
    pub extra: Vec<usize>,
}

/// RAW files' extensions (lower case): Canon, Nikon, Sony, Fujifilm,
/// Olympus, Panasonic, Pentax, Samsung, Leica and Adobe's DNG.
const RAW_EXTENSIONS: &[&str] = &[
    "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef", "srw",
    "rwl", "dng",
];

/// The card's JPEGs under `folder`, by name, with their capture times and
/// the RAW files beside each; a RAW file without its JPEG is a photo
/// without a capture time (the JPEG's EXIF is what matches a photo);
/// those whose sha256 is in `imported` (brought in already) left out.
pub fn read_card(folder: &Path, imported: &[&str]) -> anyhow::Result<Vec<CardPhoto>> {
    let mut names = Vec::new();
    walk(folder, folder, &mut names)
        .with_context(|| format!("cannot read the card's folder {}", folder.display()))?;
    names.sort();
    let (jpegs, mut raws): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|name| is_jpeg(name));
    let mut photos = Vec::with_capacity(jpegs.len());
    for name in jpegs {
        let stem = base(&name).to_owned();
        let (raw, others) = raws.into_iter().partition(|r| base(r) == stem);
        raws = others;
        let path = folder.join(&name);
        if !imported.is_empty() {
            let digest =
                digest_file(&path).with_context(|| format!("cannot read {}", path.display()))?;
            if imported.contains(&digest.sha256.as_str()) {
                continue;
            }
        }
        photos.push(CardPhoto {
            taken: capture_time(&path),
            name,
            raw,
        });
    }
    photos.extend(raws.into_iter().map(|name| CardPhoto {
        taken: Err(
            "is a RAW file without its JPEG, whose EXIF time would match it to a shot".to_owned(),
        ),
        name,
        raw: Vec::new(),
    }));
    Ok(photos)
}

/// A card file's path without its extension.
fn base(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(base, _)| base)
}

/// Every JPEG and RAW file under `dir` (hidden files and folders left
/// out), by its path from `root`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if is_jpeg(&name) || is_raw(&name) {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            out.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn is_jpeg(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".jpg") || lower.ends_with(".jpeg")
}

fn is_raw(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    ext.is_some_and(|e| RAW_EXTENSIONS.contains(&e.as_str()))
}

/// A JPEG's EXIF DateTimeOriginal (with its SubSecTimeOriginal, if any),
/// as written and as Unix milliseconds of the camera's clock.
fn capture_time(path: &Path) -> Result<(String, i64), String> {
    use exif::{In, Tag, Value};
    let file = File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let exif = exif::Reader::new()
        .read_from_container(&mut BufReader::new(file))
        .map_err(|e| format!("has no readable EXIF ({e})"))?;
    let ascii = |tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    let text = ascii(Tag::DateTimeOriginal).ok_or("has no EXIF capture time (DateTimeOriginal)")?;
    let mut dt = exif::DateTime::from_ascii(&text)
        .map_err(|e| format!("has an EXIF capture time that cannot be read ({e})"))?;
    if let Some(sub) = ascii(Tag::SubSecTimeOriginal) {
        // A sub-second part that cannot be read leaves whole seconds.
        let _ = dt.parse_subsec(&sub);
    }
    let shown = String::from_utf8_lossy(&text).into_owned();
    let date = time::Month::try_from(dt.month)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(i32::from(dt.year), m, dt.day).ok())
        .and_then(|d| d.with_hms(dt.hour, dt.minute, dt.second).ok())
        .ok_or_else(|| format!("has an EXIF capture time that is not a date ({shown})"))?;
    let millis = date.assume_utc().unix_timestamp() * 1000
        + i64::from(dt.nanosecond.unwrap_or(0) / 1_000_000);
    Ok((shown, millis))
}

/// Which card is read: the camera fired by a wire, and the column's
/// cameras in order (empty for a rig of one camera).
#[derive(Debug, Clone, Default)]
pub struct Card {
    /// The column's camera whose card it is (`None`: the rig's one camera).
    pub camera: Option<CameraName>,
    /// The column's cameras in its order, for a shot's files.
    pub column: Vec<CameraName>,
}

impl Import {
    /// Matches the card's `photos` to the shots of `record` awaiting them
    /// from `card`'s camera.
    pub fn new(
        record: &ScanRecord,
        scan_dir: &Path,
        folder: &Path,
        photos: Vec<CardPhoto>,
        card: Card,
    ) -> Import {
        let takes = record.takes();
        let mut rows: Vec<Row> = record
            .awaiting_import()
            .into_iter()
            .filter(|(_, camera)| *camera == card.camera)
            .map(|key| {
                let shot = key.0;
                let plan = record.plan.shot(shot);
                let part = Part {
                    camera: card.camera.clone(),
                    frame: 0,
                };
                let take = takes.get(shot.0 as usize - 1).copied().unwrap_or(1);
                Row {
                    shot,
                    name: format!("{}.jpg", record.plan.photo(shot, &part, take)),
                    earlier: record.captured.get(&shot).cloned(),
                    pose: (plan.azimuth.get(), plan.tilt.get()),
                    triggered_at: record.triggered[key],
                    photo: None,
                }
            })
            .collect();
        rows.sort_by_key(|r| (r.triggered_at, r.shot));
        let mut dated: Vec<(i64, usize)> = photos
            .iter()
            .enumerate()
            .filter_map(|(k, p)| p.taken.as_ref().ok().map(|(_, t)| (*t, k)))
            .collect();
        dated.sort();
        let triggers: Vec<i64> = rows.iter().map(|r| r.triggered_at as i64).collect();
        let times: Vec<i64> = dated.iter().map(|(t, _)| *t).collect();
        let m = matching::match_times(&triggers, &times);
        for (i, j) in m.pairs {
            rows[i].photo = Some(dated[j].1);
        }
        let mut extra: Vec<usize> = m.extra.iter().map(|&j| dated[j].1).collect();
        extra.extend((0..photos.len()).filter(|&k| photos[k].taken.is_err()));
        extra.sort_unstable();
        Import {
            scan_dir: scan_dir.to_path_buf(),
            folder: folder.to_path_buf(),
            card,
            offset_ms: m.offset_ms,
            rows,
            photos,
            extra,
        }
    }

    /// How many photos it brings in.
    pub fn matched(&self) -> usize {
        self.rows.iter().filter(|r| r.photo.is_some()).count()
    }

    /// The shots left without a photo.
    pub fn missing(&self) -> Vec<ShotId> {
        self.rows
            .iter()
            .filter(|r| r.photo.is_none())
            .map(|r| r.shot)
            .collect()
    }

    /// The match as a table, for the operator to confirm: shot, pose,
    /// trigger time, file, its EXIF time and the offset; then the shots
    /// missing and the photos left alone.
    pub fn table(&self) -> String {
        let mut out = format!(
            "camera clock: {} the rig's\n{:>5}  {:<22}  {:<24}  {:<28}  {:<19}  {:>9}\n",
            clock_offset(self.offset_ms),
            "shot",
            "pose",
            "triggered (UTC)",
            "photo",
            "EXIF time",
            "offset"
        );
        for row in &self.rows {
            let pose = format!("az {:6.1}° tilt {:+5.1}°", row.pose.0, row.pose.1);
            let at = rfc3339_millis(row.triggered_at);
            let line = match row.photo.map(|k| &self.photos[k]) {
                Some(CardPhoto {
                    name,
                    raw,
                    taken: Ok((shown, t)),
                }) => format!(
                    "{:<28}  {shown:<19}  {:>+8.1}s{}",
                    name,
                    (*t - row.triggered_at as i64) as f64 / 1000.0,
                    raw.iter().map(|r| format!("  + {r}")).collect::<String>()
                ),
                _ => "MISSING: no photo on the card taken then".to_owned(),
            };
            out.push_str(&format!(
                "{:>5}  {pose:<22}  {at:<24}  {line}\n",
                row.shot.0
            ));
        }
        for &k in &self.extra {
            let photo = &self.photos[k];
            let why = match &photo.taken {
                Ok((shown, _)) => format!("taken at {shown}, when no shot was triggered"),
                Err(why) => why.clone(),
            };
            out.push_str(&format!(
                "extra: {} {why}; left on the card, not imported\n",
                photo.name
            ));
        }
        out
    }

    /// Copies each matched photo into the scan's spool folder (fsync'd,
    /// renamed into place) and journals it captured with the shot's
    /// other files, in the column's order (at their capture time, or at
    /// its trigger time); then journals the import. Returns how many were
    /// brought in.
    pub fn carry_out(&self) -> anyhow::Result<usize> {
        let mut journal = JournalWriter::open(&self.scan_dir)
            .with_context(|| format!("cannot open the journal in {}", self.scan_dir.display()))?;
        let mut brought = 0;
        for row in &self.rows {
            let Some(k) = row.photo else { continue };
            let (at, mut files) = row
                .earlier
                .clone()
                .unwrap_or((row.triggered_at, Vec::new()));
            let photo = &self.photos[k];
            files.push(self.copy_in(&self.folder.join(&photo.name), &row.name)?);
            // Its RAW files, named as the shot's JPEG but for the extension.
            for raw in &photo.raw {
                let ext = raw
                    .rsplit_once('.')
                    .map_or("", |(_, e)| e)
                    .to_ascii_lowercase();
                let name = format!("{}.{ext}", base(&row.name));
                files.push(self.copy_in(&self.folder.join(raw), &name)?);
            }
            let place = |f: &SpoolFile| {
                let camera = f.camera.as_ref();
                self.card.column.iter().position(|c| Some(c) == camera)
            };
            files.sort_by_key(|f| place(f).unwrap_or(usize::MAX));
            journal
                .append(&Record::ShotCaptured {
                    shot: row.shot,
                    at,
                    files,
                })
                .with_context(|| format!("cannot write to {}", journal.path().display()))?;
            brought += 1;
        }
        journal
            .append(&Record::Imported {
                at: unix_millis_now(),
                folder: self.folder.display().to_string(),
                offset_ms: self.offset_ms,
                missing: self.missing(),
                extra: self
                    .extra
                    .iter()
                    .map(|&k| self.photos[k].name.clone())
                    .collect(),
                camera: self.card.camera.clone(),
            })
            .with_context(|| format!("cannot write to {}", journal.path().display()))?;
        Ok(brought)
    }

    /// The photo at `from` copied into the spool as `name`.
    fn copy_in(&self, from: &Path, name: &str) -> anyhow::Result<SpoolFile> {
        let to = self.scan_dir.join(name);
        let copy = || -> io::Result<_> {
            let mut file = DurableFile::create(&to)?;
            io::copy(&mut File::open(from)?, &mut file)?;
            file.commit()
        };
        let digest = copy()
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
        let pixels = scanrig_hardware::jpeg::size_of_file(&to).ok().flatten();
        Ok(SpoolFile {
            name: name.to_owned(),
            sha256: digest.sha256,
            size: digest.size,
            pixels: pixels.map(|(w, h)| [w, h]),
            camera: self.card.camera.clone(),
            frame: Frame::Only,
        })
    }
}

/// The camera clock's offset in words: "7 min 0.0 s ahead of".
fn clock_offset(ms: i64) -> String {
    let way = if ms < 0 { "behind" } else { "ahead of" };
    let ms = ms.unsigned_abs();
    let (min, s) = (ms / 60_000, (ms % 60_000) as f64 / 1000.0);
    if min > 0 {
        format!("{min} min {s:.1} s {way}")
    } else {
        format!("{s:.1} s {way}")
    }
}

/// The sha256 of every photo of `record` captured already from `camera`
/// (`None`: the rig's one camera).
pub fn imported_shas<'a>(record: &'a ScanRecord, camera: &Option<CameraName>) -> Vec<&'a str> {
    record
        .captured
        .values()
        .flat_map(|(_, files)| files.iter())
        .filter(|f| f.camera == *camera)
        .map(|f| f.sha256.as_str())
        .collect()
}
