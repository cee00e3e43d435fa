//! `scanrig export`: a scan's camera poses, from the rig's `[geometry]` and
//! each shot's table angle and tilt, in the form a reconstruction tool
//! reads (see `scanrig_actors::poses::export`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use scanrig_actors::poses::export::{self, Accuracy, Posed};
use scanrig_actors::poses::Intrinsics;
use scanrig_hardware::fsutil::DurableFile;
use serde_json::Value;

use crate::scans::Found;
use crate::settings::Settings;

/// Which tool the poses are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// COLMAP's text model (`colmap/cameras.txt`, `images.txt`,
    /// `points3D.txt`) and `colmap/reference.txt` for `model_aligner`.
    Colmap,
    /// Agisoft Metashape's reference CSV (`metashape_reference.csv`).
    Metashape,
    /// RealityCapture / RealityScan: one `<photo>.xmp` beside each photo.
    Realitycapture,
    /// One `<photo>.pose.json` per photo, for scripts.
    Json,
}

/// Options of `scanrig export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The scan's id (`scanrig scans` lists them).
    pub scan: String,
    /// Which tool's format.
    #[arg(long, value_enum, default_value = "colmap")]
    pub format: Format,
    /// Where to write: by default the scan's folder at a local
    /// destination, else `./<scan>`.
    #[arg(long)]
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
    let camera = geometry.intrinsics(pixels.0, pixels.1);
    let photos: Vec<Posed> = shots
        .iter()
        .map(|s| Posed {
            name: &s.name,
            azimuth: s.azimuth,
            tilt: s.tilt,
            pose: geometry.pose(s.azimuth, s.tilt),
        })
        .collect();
    let dest = match (&args.dest, &folder) {
        (Some(dest), _) => dest.clone(),
        (None, Some(folder)) => folder.clone(),
        (None, None) => PathBuf::from(&args.scan),
    };
    let accuracy = Accuracy {
        position_m: settings.geometry.position_accuracy_m,
        angle_deg: settings.geometry.angle_accuracy_deg,
    };
    let files = render(args.format, &photos, &camera, accuracy);
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

/// The files of one format: path inside the destination, and contents.
fn render(
    format: Format,
    photos: &[Posed],
    camera: &Intrinsics,
    accuracy: Accuracy,
) -> Vec<(String, String)> {
    let stem = |name: &str| {
        Path::new(name)
            .file_stem()
            .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned())
    };
    match format {
        Format::Colmap => {
            let [cameras, images, points] = export::colmap_model(photos, camera);
            vec![
                ("colmap/cameras.txt".into(), cameras),
                ("colmap/images.txt".into(), images),
                ("colmap/points3D.txt".into(), points),
                (
                    "colmap/reference.txt".into(),
                    export::colmap_reference(photos),
                ),
            ]
        }
        Format::Metashape => vec![(
            "metashape_reference.csv".into(),
            export::metashape_csv(photos, accuracy),
        )],
        Format::Realitycapture => photos
            .iter()
            .map(|p| {
                (
                    format!("{}.xmp", stem(p.name)),
                    export::realitycapture_xmp(p, camera),
                )
            })
            .collect(),
        Format::Json => photos
            .iter()
            .map(|p| {
                let json = export::json_sidecar(p, camera);
                (format!("{}.pose.json", stem(p.name)), format!("{json:#}\n"))
            })
            .collect(),
    }
}

/// A captured shot as its manifest lists it: its photo (the JPEG of a
/// JPEG + RAW pair: the file whose pixels are known) and angles.
struct Shot {
    name: String,
    azimuth: f64,
    tilt: f64,
    pixels: Option<(u32, u32)>,
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
                let file = files
                    .iter()
                    .find(|f| f["pixels"].is_array())
                    .or_else(|| {
                        // Older manifests do not record pixels: by name.
                        files.iter().find(|f| {
                            f["name"].as_str().is_some_and(|n| {
                                let n = n.to_ascii_lowercase();
                                n.ends_with(".jpg") || n.ends_with(".jpeg")
                            })
                        })
                    })
                    .or_else(|| files.first())
                    .context("a shot of the manifest has no files")?;
                let pixels = file["pixels"].as_array().and_then(|p| {
                    Some((
                        u32::try_from(p.first()?.as_u64()?).ok()?,
                        u32::try_from(p.get(1)?.as_u64()?).ok()?,
                    ))
                });
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

/// The photos' size: as the manifest records it, or read from a photo in
/// the scan's local folder (manifests of older scans do not record it).
fn pixels(shots: &[Shot], folder: Option<&Path>) -> anyhow::Result<(u32, u32)> {
    if let Some(size) = shots.iter().find_map(|s| s.pixels) {
        return Ok(size);
    }
    let from_photo = folder.and_then(|dir| {
        shots.iter().find_map(|s| {
            scanrig_hardware::jpeg::size_of_file(&dir.join(&s.name))
                .ok()
                .flatten()
        })
    });
    from_photo.context(
        "the photos' size is not in the manifest and no photo of the scan could be read here; export on the machine that holds the photos",
    )
}
