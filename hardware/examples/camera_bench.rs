//! Time per shot through the libgphoto2 driver against libgphoto2's virtual
//! camera, split into time inside libgphoto2 and scanrig's own overhead.
//!
//! ```sh
//! .ci/vcamera target/vcamera
//! VCAMERA_IOLIBS=$PWD/target/vcamera/lib/libgphoto2_port/0.12.1 \
//!     cargo run --release -p scanrig-hardware --features gphoto2 --example camera_bench
//! ```
//!
//! The same shots are taken twice: with bare `gphoto2` crate calls (capture,
//! download to a file, delete) and through `GphotoCamera` (which adds the
//! temp file, fsync, rename, sha256 and the pair check). The difference is
//! the driver's overhead.

use std::path::Path;
use std::time::{Duration, Instant};

use gphoto2::list::CameraDescriptor;
use gphoto2::Context;
use scanrig_hardware::camera::gphoto::{self, GphotoConfig};
use scanrig_hardware::camera::CaptureRequest;
use scanrig_hardware::Degrees;

/// The virtual camera serves at most 26 captures per session.
const SHOTS: u32 = 20;
const MODEL: &str = "Nikon DSC D750";
const PORT: &str = "usb:>rec";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iolibs = std::env::var_os("VCAMERA_IOLIBS")
        .ok_or("set VCAMERA_IOLIBS to the virtual camera's iolib folder (see .ci/vcamera)")?;
    std::env::set_var("IOLIBS", iolibs);
    let work = tempfile::tempdir()?;
    std::fs::write(work.path().join(">rec"), [0xb0, 0x04, 0x37, 0x04])?;
    std::env::set_current_dir(work.path())?;

    let bare = bare_shots(work.path())?;
    let driver = driver_shots(work.path())?;
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(SHOTS);
    let overhead = (driver.as_secs_f64() - bare.as_secs_f64()) / driver.as_secs_f64();
    println!("{SHOTS} shots of libgphoto2's virtual camera ({MODEL})");
    println!("  bare libgphoto2 calls   {:8.2} ms per shot", per(bare));
    println!("  through the driver      {:8.2} ms per shot", per(driver));
    println!(
        "  scanrig's overhead      {:8.2} ms per shot = {:.2} % of the shot (target < 2 %)",
        per(driver) - per(bare),
        overhead * 100.0
    );
    Ok(())
}

/// Capture, download to a file, delete: libgphoto2 alone.
fn bare_shots(dir: &Path) -> Result<Duration, Box<dyn std::error::Error>> {
    let out = dir.join("bare");
    std::fs::create_dir_all(&out)?;
    let ctx = Context::new()?;
    let desc = CameraDescriptor {
        model: MODEL.into(),
        port: PORT.into(),
    };
    let camera = ctx.get_camera(&desc).wait()?;
    camera.summary()?;
    let started = Instant::now();
    for n in 0..SHOTS {
        let path = camera.capture_image().wait()?;
        let target = out.join(format!("{n}.jpg"));
        camera
            .fs()
            .download_to(&path.folder(), &path.name(), &target)
            .wait()?;
        camera
            .fs()
            .delete_file(&path.folder(), &path.name())
            .wait()?;
    }
    Ok(started.elapsed())
}

/// The same shots through the driver: expose, then download.
fn driver_shots(dir: &Path) -> Result<Duration, Box<dyn std::error::Error>> {
    let out = dir.join("driver");
    std::fs::create_dir_all(&out)?;
    let mut camera = gphoto::connector(GphotoConfig {
        model: MODEL.into(),
        port: PORT.into(),
        delete_after_download: true,
        pair_wait: Duration::from_secs(3),
    })()?;
    let started = Instant::now();
    for n in 0..SHOTS {
        let request = CaptureRequest {
            stem: format!("shot_{n:04}"),
            label: format!("shot {n}"),
            azimuth: Degrees(0.0),
            tilt: Degrees(0.0),
        };
        let exposure = camera.expose(&request)?;
        camera.download(&exposure, &out)?;
    }
    Ok(started.elapsed())
}
