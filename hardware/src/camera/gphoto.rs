//! A real camera (DSLR, mirrorless, compact) through libgphoto2, with the
//! `gphoto2` crate. Chooses the camera automatically or by model and port,
//! downloads every file of a shot (JPEG+RAW pairs too) into the spool by
//! temp file, fsync and rename, and maps libgphoto2's errors onto
//! [`CameraError`]s the supervisor can act on.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use gphoto2::camera::CameraEvent;
use gphoto2::error::ErrorKind;
use gphoto2::list::CameraDescriptor;
use gphoto2::widget::{GroupWidget, Widget};
use gphoto2::{Context, Error as GpError};

use super::{
    check_settings, parse_toggle, Camera, CameraConnector, CameraError, CameraFile, CameraInfo,
    CaptureRequest, DownloadedFile, Exposure, Result, Setting,
};
use crate::fsutil::{commit_written, temp_path};

/// Which camera to use and how.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GphotoConfig {
    /// Camera model as libgphoto2 names it (`scanrig camera list`); empty
    /// for any.
    pub model: String,
    /// Port, e.g. `usb:001,004`; empty for any.
    pub port: String,
    /// Delete each file from the camera once it is safely in the spool.
    pub delete_after_download: bool,
    /// When the camera shoots pairs (an image format like "RAW + JPEG"):
    /// how long to wait after a capture for the second file.
    pub pair_wait: Duration,
}

/// Transient errors ("PTP Device Busy") are retried this many times, with a
/// doubling wait, before they are reported.
const BUSY_RETRIES: u32 = 3;
const BUSY_FIRST_WAIT: Duration = Duration::from_millis(100);

/// Cameras libgphoto2 detects, as (model, port).
pub fn detect() -> Result<Vec<CameraInfo>> {
    let ctx = Context::new().map_err(|e| map_error(e, "detect", ""))?;
    let cameras = ctx
        .list_cameras()
        .wait()
        .map_err(|e| map_error(e, "detect", ""))?;
    Ok(cameras
        .map(|d| CameraInfo {
            model: d.model,
            port: d.port,
        })
        .collect())
}

/// A [`CameraConnector`] opening the configured camera.
pub fn connector(config: GphotoConfig) -> CameraConnector {
    // One libgphoto2 context for every session: it holds the list of port
    // drivers, which a failed open must not poison for the next one.
    let ctx = std::sync::OnceLock::new();
    std::sync::Arc::new(move || {
        let ctx = match ctx.get() {
            Some(ctx) => ctx,
            None => {
                let new = Context::new().map_err(|e| map_error(e, "open", &config.port))?;
                ctx.get_or_init(|| new)
            }
        };
        GphotoCamera::open(ctx, config.clone()).map(|c| Box::new(c) as Box<dyn Camera>)
    })
}

/// An open camera session. libgphoto2 is not thread-safe: a session is
/// owned by one thread (the camera actor's) for its whole life.
pub struct GphotoCamera {
    camera: gphoto2::Camera,
    info: CameraInfo,
    config: GphotoConfig,
    /// The image format makes two files per shot (JPEG+RAW).
    pairs: bool,
}

impl GphotoCamera {
    /// Finds and opens the camera the configuration names.
    pub fn open(ctx: &Context, config: GphotoConfig) -> Result<GphotoCamera> {
        let descriptor = choose(ctx, &config)?;
        let camera = ctx
            .get_camera(&descriptor)
            .wait()
            .map_err(|e| map_error(e, "open", &descriptor.port))?;
        // Opening is lazy: ask the camera something so that a camera that
        // is gone is found out now, not at the first shot.
        camera
            .summary()
            .map_err(|e| map_error(e, "open", &descriptor.port))?;
        let mut session = GphotoCamera {
            camera,
            info: CameraInfo {
                model: descriptor.model,
                port: descriptor.port,
            },
            config,
            pairs: false,
        };
        session.pairs = shoots_pairs(&session.settings()?);
        Ok(session)
    }

    /// Runs a libgphoto2 call, retrying while the camera reports busy.
    fn call<T>(&self, during: &'static str, op: impl Fn() -> gphoto2::Result<T>) -> Result<T> {
        self.call_mapped(op, |e| map_error(e, during, &self.info.port))
    }

    /// [`Self::call`] with its own mapping of the error that remains.
    fn call_mapped<T>(
        &self,
        op: impl Fn() -> gphoto2::Result<T>,
        map: impl Fn(GpError) -> CameraError,
    ) -> Result<T> {
        let mut wait = BUSY_FIRST_WAIT;
        for _ in 0..BUSY_RETRIES {
            match op() {
                Err(e) if e.kind() == ErrorKind::CameraBusy => {
                    // This thread owns the camera; waiting here is the backoff.
                    std::thread::sleep(wait);
                    wait *= 2;
                }
                other => return other.map_err(map),
            }
        }
        op().map_err(map)
    }

    /// Files the camera announces after a capture (the second file of a
    /// JPEG+RAW pair), until it has nothing more to say.
    fn more_files(&self) -> Result<Vec<CameraFile>> {
        if !self.pairs {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        while let Some(left) = self.config.pair_wait.checked_sub(started.elapsed()) {
            match self.call("download", || self.camera.wait_event(left).wait())? {
                CameraEvent::NewFile(path) => {
                    return Ok(vec![CameraFile {
                        folder: path.folder().into_owned(),
                        name: path.name().into_owned(),
                    }])
                }
                CameraEvent::Timeout => break,
                _ => {}
            }
        }
        Ok(Vec::new())
    }

    fn download_one(&self, file: &CameraFile, stem: &str, dir: &Path) -> Result<DownloadedFile> {
        let ext = Path::new(&file.name)
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_else(|| "bin".into());
        let target = dir.join(format!("{stem}.{ext}"));
        let io = |source| CameraError::Io {
            path: target.clone(),
            source,
        };
        let temp = temp_path(&target).map_err(io)?;
        // libgphoto2 refuses to overwrite: clear what a failed try left.
        let _ = std::fs::remove_file(&temp);
        self.call("download", || {
            self.camera
                .fs()
                .download_to(&file.folder, &file.name, &temp)
                .wait()
        })?;
        let digest = commit_written(&target).map_err(io)?;
        if self.config.delete_after_download {
            self.call("delete", || {
                self.camera
                    .fs()
                    .delete_file(&file.folder, &file.name)
                    .wait()
            })?;
        }
        Ok(DownloadedFile::new(target, digest))
    }
}

/// The camera to open: the one configured, or the only one detected.
fn choose(ctx: &Context, config: &GphotoConfig) -> Result<CameraDescriptor> {
    if !config.model.is_empty() && !config.port.is_empty() {
        return Ok(CameraDescriptor {
            model: config.model.clone(),
            port: config.port.clone(),
        });
    }
    let found: Vec<CameraDescriptor> = ctx
        .list_cameras()
        .wait()
        .map_err(|e| map_error(e, "detect", &config.port))?
        .filter(|d| config.model.is_empty() || d.model == config.model)
        .filter(|d| config.port.is_empty() || d.port == config.port)
        .collect();
    match found.len() {
        0 => Err(CameraError::NotConnected {
            detail: match (config.model.as_str(), config.port.as_str()) {
                ("", "") => "libgphoto2 detects none".to_owned(),
                (m, "") => format!("none of model {m}"),
                ("", p) => format!("none on port {p}"),
                (m, p) => format!("no {m} on {p}"),
            },
        }),
        1 => Ok(found.into_iter().next().expect("one")),
        _ => Err(CameraError::Ambiguous {
            found: found
                .iter()
                .map(|d| format!("{} at {}", d.model, d.port))
                .collect(),
        }),
    }
}

/// Turns a libgphoto2 error into what the rest of scanrig acts on.
fn map_error(e: GpError, during: &'static str, port: &str) -> CameraError {
    match e.kind() {
        ErrorKind::IoUsbFind | ErrorKind::ModelNotFound | ErrorKind::UnknownPort => {
            CameraError::NotConnected {
                detail: format!("{port}: {e}"),
            }
        }
        ErrorKind::IoUsbClaim | ErrorKind::IoLock => CameraError::Claimed {
            port: port.to_owned(),
        },
        ErrorKind::CameraBusy => CameraError::Busy { during },
        ErrorKind::Timeout => CameraError::Driver {
            during,
            reason: format!("the camera did not answer in time ({e})"),
        },
        ErrorKind::FileNotFound => CameraError::FileGone {
            file: e.to_string(),
        },
        ErrorKind::Io | ErrorKind::IoRead | ErrorKind::IoWrite => {
            CameraError::Disconnected { during }
        }
        _ => CameraError::Driver {
            during,
            reason: e.to_string(),
        },
    }
}

/// [`map_error`] for a preview, where "not supported" means a camera without
/// live view rather than a fault: no reconnect can help.
fn map_preview_error(e: GpError, port: &str) -> CameraError {
    match e.kind() {
        ErrorKind::NotSupported => CameraError::Unsupported {
            during: "preview",
            reason: e.to_string(),
        },
        _ => map_error(e, "preview", port),
    }
}

impl Camera for GphotoCamera {
    fn info(&self) -> CameraInfo {
        self.info.clone()
    }

    fn settings(&mut self) -> Result<Vec<Setting>> {
        let root: GroupWidget = self.call("settings", || self.camera.config().wait())?;
        let mut out = Vec::new();
        collect(&root, &mut out);
        Ok(out)
    }

    fn apply_settings(&mut self, settings: &BTreeMap<String, String>) -> Result<()> {
        if settings.is_empty() {
            return Ok(());
        }
        // Check every value against the camera's own lists first, so that a
        // bad profile changes nothing.
        let root: GroupWidget = self.call("settings", || self.camera.config().wait())?;
        let mut known = Vec::new();
        collect(&root, &mut known);
        check_settings(&known, settings)?;
        for (key, value) in settings {
            let widget = root
                .get_child_by_name(key)
                .map_err(|e| map_error(e, "apply settings", &self.info.port))?;
            set_widget(&widget, key, value)?;
        }
        self.call("apply settings", || {
            self.camera.set_all_config(&root).wait()
        })?;
        self.pairs = shoots_pairs(&self.settings()?);
        Ok(())
    }

    /// libgphoto2's preview capture (live view on cameras that have it).
    fn preview(&mut self) -> Result<Vec<u8>> {
        let file = self.call_mapped(
            || self.camera.capture_preview().wait(),
            |e| map_preview_error(e, &self.info.port),
        )?;
        let data = self.call("preview", || file.get_data(&self.camera).wait())?;
        Ok(data.into_vec())
    }

    fn expose(&mut self, request: &CaptureRequest) -> Result<Exposure> {
        let path = self.call("expose", || self.camera.capture_image().wait())?;
        Ok(Exposure {
            request: request.clone(),
            files: vec![CameraFile {
                folder: path.folder().into_owned(),
                name: path.name().into_owned(),
            }],
            left_on_card: None,
        })
    }

    fn download(&mut self, exposure: &Exposure, dir: &Path) -> Result<Vec<DownloadedFile>> {
        let mut files = exposure.files.clone();
        files.extend(self.more_files()?);
        files
            .iter()
            .map(|f| self.download_one(f, &exposure.request.stem, dir))
            .collect()
    }
}

/// Whether the image format makes two files per shot: cameras name such
/// formats with a "+" ("RAW + JPEG Fine", "NEF+Fine", "RAW+JPEG").
fn shoots_pairs(settings: &[Setting]) -> bool {
    settings
        .iter()
        .any(|s| matches!(s.name.as_str(), "imageformat" | "imagequality") && s.value.contains('+'))
}

/// Flattens the widget tree into settings (groups are only containers).
fn collect(group: &GroupWidget, out: &mut Vec<Setting>) {
    for child in group.children_iter() {
        let (kind, value, choices) = match &child {
            Widget::Group(g) => {
                collect(g, out);
                continue;
            }
            Widget::Button(_) => continue,
            Widget::Radio(r) => {
                let choices: Vec<String> = r.choices_iter().collect();
                ("radio", r.choice(), choices)
            }
            Widget::Text(t) => ("text", t.value(), Vec::new()),
            Widget::Toggle(t) => (
                "toggle",
                t.toggled()
                    .map_or("unknown".into(), |b| u8::from(b).to_string()),
                vec!["0".into(), "1".into()],
            ),
            Widget::Range(r) => {
                let (range, step) = r.range_and_step();
                (
                    "range",
                    r.value().to_string(),
                    vec![format!("{}..{} step {step}", range.start(), range.end())],
                )
            }
            Widget::Date(d) => ("date", d.timestamp().to_string(), Vec::new()),
        };
        out.push(Setting {
            name: child.name(),
            label: child.label(),
            kind,
            value,
            choices,
            read_only: child.readonly(),
        });
    }
}

/// Sets a checked value on a widget of the tree.
fn set_widget(widget: &Widget, key: &str, value: &str) -> Result<()> {
    let fail = |e: GpError| CameraError::Driver {
        during: "apply settings",
        reason: format!("{key} = {value}: {e}"),
    };
    match widget {
        Widget::Radio(r) => r.set_choice(value).map_err(fail),
        Widget::Text(t) => t.set_value(value).map_err(fail),
        Widget::Toggle(t) => {
            t.set_toggled(parse_toggle(value).unwrap_or(false));
            Ok(())
        }
        Widget::Range(r) => {
            r.set_value(value.parse().unwrap_or_default());
            Ok(())
        }
        Widget::Date(d) => {
            d.set_timestamp(value.parse().unwrap_or_default());
            Ok(())
        }
        Widget::Group(_) | Widget::Button(_) => Err(CameraError::UnknownSetting {
            key: key.to_owned(),
            known: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::setting_tests::radio;

    /// libgphoto2's error codes (gphoto2-port-result.h, gphoto2-result.h).
    const GP_ERROR_IO_USB_FIND: i32 = -52;
    const GP_ERROR_IO_USB_CLAIM: i32 = -53;
    const GP_ERROR_CAMERA_BUSY: i32 = -110;
    const GP_ERROR_FILE_NOT_FOUND: i32 = -108;
    const GP_ERROR_IO_READ: i32 = -34;
    const GP_ERROR_NOT_SUPPORTED: i32 = -6;

    fn mapped(code: i32) -> CameraError {
        map_error(GpError::new(code, None), "expose", "usb:001,004")
    }

    #[test]
    fn a_claimed_camera_says_who_holds_it_and_how_to_free_it() {
        let e = mapped(GP_ERROR_IO_USB_CLAIM);
        assert!(matches!(e, CameraError::Claimed { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("usb:001,004") && text.contains("gvfs"),
            "{text}"
        );
        assert!(text.contains("systemctl --user stop"), "{text}");
    }

    #[test]
    fn errors_map_to_what_the_supervisor_acts_on() {
        assert!(matches!(
            mapped(GP_ERROR_IO_USB_FIND),
            CameraError::NotConnected { .. }
        ));
        assert!(matches!(
            mapped(GP_ERROR_CAMERA_BUSY),
            CameraError::Busy { .. }
        ));
        assert!(matches!(
            mapped(GP_ERROR_FILE_NOT_FOUND),
            CameraError::FileGone { .. }
        ));
        assert!(matches!(
            mapped(GP_ERROR_IO_READ),
            CameraError::Disconnected { .. }
        ));
        for code in [GP_ERROR_IO_USB_FIND, GP_ERROR_CAMERA_BUSY, GP_ERROR_IO_READ] {
            assert!(mapped(code).needs_reconnect(), "{code}");
        }
    }

    #[test]
    fn a_camera_without_live_view_is_unsupported_not_broken() {
        let e = map_preview_error(GpError::new(GP_ERROR_NOT_SUPPORTED, None), "usb:001,004");
        assert!(
            matches!(
                e,
                CameraError::Unsupported {
                    during: "preview",
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.needs_reconnect() && !e.is_configuration());
        assert!(e.to_string().contains("does not support preview"), "{e}");
        let gone = map_preview_error(GpError::new(GP_ERROR_IO_READ, None), "usb:001,004");
        assert!(
            matches!(gone, CameraError::Disconnected { during: "preview" }),
            "{gone}"
        );
    }

    #[test]
    fn pairs_are_recognised_from_the_image_format() {
        let formats = |v: &str| shoots_pairs(&[radio("imageformat", v, &[])]);
        assert!(formats("RAW + JPEG Fine"));
        assert!(formats("NEF+Fine"));
        assert!(!formats("JPEG Fine"));
        assert!(!shoots_pairs(&[radio("iso", "1+1", &[])]));
    }
}
