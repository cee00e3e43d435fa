//! The cost of judging a photo (ignored by default: it measures this machine).

use super::*;

/// The CPU time this process (all its threads) has used, milliseconds
/// (`/proc` counts it in hundredths of a second).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command's name (which may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 * 10.0
}

/// Milliseconds per call of `f`: the least wall time of `runs` runs, and
/// the CPU time of all of them over `runs` (a figure a loaded machine
/// changes less).
fn per_call(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let cpu = cpu_ms();
    let wall = (0..runs)
        .map(|_| {
            let start = std::time::Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min);
    (wall, (cpu_ms() - cpu) / runs as f64)
}

#[test]
#[ignore = "benchmark: cargo test --release -p scanrig-hardware --lib judge::tests::cost -- --ignored --nocapture"]
fn cost_per_photo() {
    let shipped = photo(&Shot::default());
    // A 24 MP photo: the simulated scene at 1500 × 1000, each pixel spread
    // over 4 × 4 with sensor-like noise on top, so that it compresses as a
    // real photo does (about 2 bits a pixel).
    let scene = photo(&Shot {
        size: (1500, 1000),
        ..Shot::default()
    });
    let mut decoder = jpeg_decoder::Decoder::new(&scene[..]);
    let pixels = decoder.decode().unwrap();
    let large = synthetic(6000, 4000, |x, y| {
        let i = 3 * ((y / 4) * 1500 + x / 4) as usize;
        let noise = i16::from(speckle(x, y) / 16) - 8;
        [0, 1, 2].map(|c| (i16::from(pixels[i + c]) + noise).clamp(0, 255) as u8)
    });
    let preview = photo(&Shot {
        size: (1620, 1080),
        ..Shot::default()
    });
    let with_preview = with_mpf_preview(&large, &preview);
    for (name, photo) in [
        ("640 x 480 (shipped)", &shipped),
        ("6000 x 4000", &large),
        ("6000 x 4000 with a 1620 x 1080 MPF preview", &with_preview),
    ] {
        let runs = 20;
        let decode = per_call(runs, || {
            Picture::decode(photo).unwrap();
        });
        let picture = Picture::decode(photo).unwrap();
        let measures = per_call(runs, || {
            measure(&picture, None);
        });
        let whole = per_call(runs, || {
            judge(photo, None).unwrap();
        });
        let measured = judge(photo, None).unwrap().measured_px;
        println!(
            "{name}: {:.1} MB, measured at {measured:?}: decoded in {:.1} ms ({:.1} ms CPU), \
             measured in {:.1} ms ({:.1} ms CPU); judged in {:.1} ms ({:.1} ms CPU) per photo",
            photo.len() as f64 / 1e6,
            decode.0,
            decode.1,
            measures.0,
            measures.1,
            whole.0,
            whole.1
        );
    }
}
