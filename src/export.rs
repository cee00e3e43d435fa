//! `scanrig export`: a scan's camera poses, from the rig's `[geometry]` and
//! each shot's table angle and tilt, in the form a reconstruction tool
//! reads (see `scanrig_actors::poses::export`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use scanrig_actors::model::Format;
use scanrig_actors::poses::export::{self, Posed};
use scanrig_hardware::fsutil::DurableFile;
use serde_json::Value;

use crate::scans::Found;
use crate::settings::Settings;

/// Options of `scanrig export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The scan's id (`scanrig scans` lists them).
    pub scan: String,
    /// Which tool's format: colmap, metashape, realitycapture or json.
    #[arg(long, default_value = "colmap")]
    pub format: Format,
    /// Where to write: by default the scan's folder at a local
    /// destination, else `./<scan>`.
    #[arg(long, value_name = "DIR", value_parser = crate::cmd::folder())]
    pub dest: Option<PathBuf>,
    /// The scan's `manifest.json`, for a finished scan whose photos went to
    /// Google Drive (download it from the scan's folder there).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
}

/// Writes the scan's poses; returns the files written.
pub fn run(settings: &Settings, args: &ExportArgs) -> anyhow::Result<Vec<PathBuf>> {
    let found = Found::find(&settings.spool_dir(), &args.scan)?;
    let folder = found.as_ref().and_then(|f| f.folder.clone());
    let manifest = match (&args.manifest, found) {
        (Some(path), _) => {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_slice(&text).with_context(|| {
                format!("{} is not a scan's manifest.json (not JSON)", path.display())
            })?
        }
        (None, Some(Found { manifest: Some(m), .. })) => m,
        (None, Some(_)) => bail!(
            "scan {} is finished and its photos went to Google Drive: download its manifest.json from the scan's folder there and add --manifest FILE",
            args.scan
        ),
        (None, None) => bail!(
            "no scan {} in the spool {}; `scanrig scans` lists the scans, or give its manifest.json with --manifest FILE",
            args.scan,
            settings.spool_dir().display()
        ),
    };
    let shots = Shot::all(&manifest)?;
    let pixels = pixels(&shots, folder.as_deref())?;
    let geometry = settings.geometry;
    let camera = geometry.intrinsics(pixels[0], pixels[1]);
    let flagged = flagged(&manifest);
    let photos: Vec<Posed> = shots
        .iter()
        .map(|s| Posed {
            name: &s.name,
            azimuth: s.azimuth,
            tilt: s.tilt,
            pose: geometry.pose(s.azimuth, s.tilt),
            problems: flagged.get(s.name.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    let dest = match (&args.dest, &folder) {
        (Some(dest), _) => dest.clone(),
        (None, Some(folder)) => folder.clone(),
        (None, None) => PathBuf::from(&args.scan),
    };
    let files = export::files(args.format, &photos, &camera, geometry.accuracy());
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dest.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut out = DurableFile::create(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.write_all(text.as_bytes())?;
        out.commit()
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// A captured shot as its manifest lists it: its photo (the JPEG of a
/// JPEG + RAW pair: the file whose pixels are known) and angles.
struct Shot {
    name: String,
    azimuth: f64,
    tilt: f64,
    pixels: Option<[u32; 2]>,
}

impl Shot {
    fn all(manifest: &Value) -> anyhow::Result<Vec<Shot>> {
        let shots = manifest["shots"]
            .as_array()
            .context("the manifest has no `shots` list: is it a scan's manifest.json?")?;
        shots
            .iter()
            .map(|shot| {
                let files = shot["files"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                let size = |f: &Value| {
                    let p = f["pixels"].as_array()?;
                    Some([
                        u32::try_from(p.first()?.as_u64()?).ok()?,
                        u32::try_from(p.get(1)?.as_u64()?).ok()?,
                    ])
                };
                let file = export::photo_of(files, |f| f["name"].as_str().unwrap_or(""), size)
                    .context("a shot of the manifest has no files")?;
                let pixels = size(file);
                Ok(Shot {
                    name: file["name"]
                        .as_str()
                        .context("a file without a name")?
                        .to_owned(),
                    azimuth: shot["azimuth"]
                        .as_f64()
                        .context("a shot without its azimuth")?,
                    tilt: shot["tilt"].as_f64().context("a shot without its tilt")?,
                    pixels,
                })
            })
            .collect()
    }
}

/// The photos the manifest flags, by name: their problems in words.
fn flagged(manifest: &Value) -> std::collections::BTreeMap<&str, Vec<String>> {
    let list = manifest["flagged"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    list.iter()
        .filter_map(|f| {
            let problems = f["problems"].as_array()?.iter();
            let words = problems.filter_map(|p| p.as_str().map(str::to_owned));
            Some((f["photo"].as_str()?, words.collect()))
        })
        .collect()
}

/// The photos' size: as the manifest records it, or read from a photo in
/// the scan's local folder (manifests of older scans do not record it).
fn pixels(shots: &[Shot], folder: Option<&Path>) -> anyhow::Result<[u32; 2]> {
    if let Some(size) = shots.iter().find_map(|s| s.pixels) {
        return Ok(size);
    }
    let from_photo = folder.and_then(|dir| {
        shots.iter().find_map(|s| {
            scanrig_hardware::jpeg::size_of_file(&dir.join(&s.name))
                .ok()
                .flatten()
                .map(|(w, h)| [w, h])
        })
    });
    from_photo.context(
        "the photos' size is not in the manifest and no photo of the scan could be read here; export on the machine that holds the photos",
    )
}
