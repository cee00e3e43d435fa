//! Unit tests of the scan profiles: the shipped ones, their planned shots,
//! lookup and shadowing, and a table of broken profiles.

use scanrig_hardware::axis::Travel;
use scanrig_hardware::camera::{SimCamera, SimCameraConfig};

use super::*;

fn azimuths(shots: &[Station]) -> Vec<f64> {
    shots.iter().map(|s| s.azimuth.0).collect()
}

#[test]
fn shipped_profiles_load_and_plan_their_shots() {
    let demo = Profile::find("demo", &[]).unwrap();
    assert_eq!(
        (demo.source.as_str(), demo.settle, demo.prefix()),
        ("shipped", Settle::Fixed(300), "demo")
    );
    let shots = demo.shots();
    assert_eq!(
        azimuths(&shots),
        [0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0]
    );
    assert!(shots.iter().all(|s| s.ring == 1 && s.tilt == Degrees(0.0)));
    assert_eq!(
        shots.iter().map(|s| s.index).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );

    let tt = Profile::find("turntable-36", &[]).unwrap();
    assert_eq!(tt.settle, Settle::Fixed(300));
    let shots = tt.shots();
    assert_eq!(
        azimuths(&shots),
        (0..36).map(|i| f64::from(i) * 10.0).collect::<Vec<_>>()
    );

    let obj = Profile::find("object-3ring", &[]).unwrap();
    assert_eq!(obj.settle, Settle::Fixed(300));
    let shots = obj.shots();
    assert_eq!(shots.len(), 32);
    let ring = |r: u32| {
        shots
            .iter()
            .filter(|s| s.ring == r)
            .cloned()
            .collect::<Vec<_>>()
    };
    for (r, tilt, n) in [(1, -20.0, 12), (2, 15.0, 12), (3, 45.0, 8)] {
        let ring = ring(r);
        assert_eq!(ring.len(), n);
        assert!(ring.iter().all(|s| s.tilt == Degrees(tilt)));
        let step = 360.0 / n as f64;
        assert_eq!(
            azimuths(&ring),
            (0..n).map(|i| i as f64 * step).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        (shots[12].ring, shots[12].index, shots[31].index),
        (2, 1, 8)
    );

    for (name, _) in SHIPPED {
        let p = Profile::find(name, &[]).unwrap();
        assert!(!p.description.is_empty(), "{name}");
        assert!(!p.camera.is_empty(), "{name}");
        // The settings are ones the simulated camera accepts.
        let camera = SimCamera::new(SimCameraConfig::default());
        let mut session = camera.connector()().unwrap();
        session.apply_settings(&p.camera).unwrap();
    }
}

#[test]
fn azimuths_are_normalised() {
    let text = "[[rings]]\ntilt = 0\nshots = 4\nstart = -90\n[[rings]]\ntilt = 10\nshots = 2\nstart = 350\n";
    let p = parse("x", "test", "x", text).unwrap();
    assert_eq!(
        azimuths(&p.shots()),
        [270.0, 0.0, 90.0, 180.0, 350.0, 170.0]
    );
    assert_eq!(p.shots()[1].azimuth.to_string(), "0.0°");
    let p = parse(
        "x",
        "test",
        "x",
        "[[rings]]\ntilt = 0\nshots = 3\nstart = -1e-20\n",
    )
    .unwrap();
    assert!(p
        .shots()
        .iter()
        .all(|s| (0.0..360.0).contains(&s.azimuth.0)));
}

#[test]
fn camera_values_are_kept_as_strings() {
    let text = "[camera]\niso = 100\naperture = 5.6\nfstop = 8.0\nwhitebalance = \"Auto\"\n[[rings]]\ntilt = 0\nshots = 1\n";
    let p = parse("x", "test", "x", text).unwrap();
    let want = [
        ("aperture", "5.6"),
        ("fstop", "8"),
        ("iso", "100"),
        ("whitebalance", "Auto"),
    ];
    assert_eq!(
        p.camera,
        want.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    );
}

const RING: &str = "[[rings]]\ntilt = 0.0\nshots = 8\n";

/// (file text, key, words in the reason)
#[rustfmt::skip]
const BROKEN: &[(&str, &str, &[&str])] = &[
    ("bogus = 1\n[[rings]]\ntilt = 0\nshots = 8\n", "bogus", &["unknown key; expected one of description, settle_ms"]),
    ("[[rings]]\ntilt = 0\nshots = 8\nspin = 1\n", "rings[1].spin", &["unknown key; expected one of tilt, shots, start"]),
    ("[naming]\nprefx = \"a\"\n[[rings]]\ntilt = 0\nshots = 8\n", "naming.prefx", &["did you mean `prefix`?"]),
    ("[[rings]]\ntilt = 0\nshots = \"eight\"\n", "rings[1].shots", &["wrong type", "whole number"]),
    ("[[rings]]\ntilt = 0\nshots = 0\n", "rings[1].shots", &["must be 1 to 720 shots, found 0"]),
    ("[[rings]]\ntilt = 0\nshots = 721\n", "rings[1].shots", &["1 to 720"]),
    ("order = \"fastest\"\n[[rings]]\ntilt = 0\nshots = 8\n", "order", &["unknown value `fastest`; expected listed or shortest"]),
    ("table_way = \"fastest\"\n[[rings]]\ntilt = 0\nshots = 8\n", "table_way", &["unknown value `fastest`; expected shortest or as_listed"]),
    ("table_way = true\n[[rings]]\ntilt = 0\nshots = 8\n", "table_way", &["wrong type"]),
    ("[[rings]]\ntilt = 0\n", "rings[1].shots", &["missing"]),
    ("[[rings]]\nshots = 3\n", "rings[1].tilt", &["missing", "-90 to 90"]),
    ("settle_ms = -5\n[[rings]]\ntilt = 0\nshots = 8\n", "settle_ms", &["whole number of milliseconds", "found -5"]),
    ("settle_ms = 70000\n[[rings]]\ntilt = 0\nshots = 8\n", "settle_ms", &["0 to 60000, or \"auto\"", "found 70000"]),
    ("settle_ms = \"soon\"\n[[rings]]\ntilt = 0\nshots = 8\n", "settle_ms", &["whole number of milliseconds, 0 to 60000, or \"auto\"", "scanrig check", "found \"soon\""]),
    ("[[rings]]\ntilt = 0\nshots = 8\n[[rings]]\ntilt = 95\nshots = 8\n", "rings[2].tilt", &["must be -90 to 90 degrees, found 95"]),
    ("[[rings]]\ntilt = nan\nshots = 8\n", "rings[1].tilt", &["NaN"]),
    ("[[rings]]\ntilt = 0\nshots = 8\nstart = inf\n", "rings[1].start", &["finite"]),
    ("description = \"no rings\"\n", "rings", &["a profile needs at least one [[rings]] entry"]),
    ("rings = []\n", "rings", &["at least one [[rings]]"]),
    ("rings = 5\n", "rings", &["wrong type"]),
    ("[naming]\nprefix = \"my scan\"\n[[rings]]\ntilt = 0\nshots = 8\n", "naming.prefix", &["letters, digits, - and _", "\"my scan\""]),
    ("[camera]\niso = \"\"\n[[rings]]\ntilt = 0\nshots = 8\n", "camera.iso", &["is empty"]),
    ("[camera]\niso = true\n[[rings]]\ntilt = 0\nshots = 8\n", "camera.iso", &["a string or a number, found boolean"]),
    ("[[rings]]\ntilt = 0\nshots = 8\ncameras = [\"top\", \"\"]\n", "rings[1].cameras", &["\"\" cannot name a camera", "name cameras as [[cameras]] does"]),
    ("[[rings]]\ntilt = 0\nshots = 8\ncameras = [\"top_b2\"]\n", "rings[1].cameras", &["ends like a bracket frame's or a retake's mark"]),
    ("[[rings]]\ntilt = 0\nshots = 8\ncameras = []\n", "rings[1].cameras", &["names no camera", "leave the key out"]),
    ("[[rings]]\ntilt = 0\nshots = 8\ncameras = [\"top\", \"top\"]\n", "rings[1].cameras", &["names camera \"top\" twice"]),
    ("[[rings]]\ntilt = 0\nshots = 8\ncameras = \"top\"\n", "rings[1].cameras", &["wrong type"]),
    ("[[rings]\ntilt = 0\n", "", &["invalid TOML at line 1"]),
];

#[test]
fn broken_profiles_name_file_key_and_reason() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (text, key, words)) in BROKEN.iter().enumerate() {
        let path = tmp.path().join(format!("broken{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let err = Profile::find(path.to_str().unwrap(), &[]).expect_err(text);
        let case = format!("case {text:?}:\n{err}");
        assert_eq!(err.problems.len(), 1, "{case}");
        let p = &err.problems[0];
        assert_eq!(
            (p.origin.as_str(), p.key.as_str()),
            (path.to_str().unwrap(), *key),
            "{case}"
        );
        for w in *words {
            assert!(p.reason.contains(w), "{case}\nreason lacks {w:?}");
        }
    }
}

#[test]
fn a_scan_of_more_than_the_documented_shots_is_refused() {
    let text = "[[rings]]\ntilt = 0\nshots = 720\n".repeat(20);
    let err = parse("big", "test", "big.toml", &text).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((err.problems.len(), p.key.as_str()), (1, "rings"), "{err}");
    for w in ["add up to 14400 shots", "at most 10000", "split"] {
        assert!(p.reason.contains(w), "{err}");
    }
    let ok = "[[rings]]\ntilt = 0\nshots = 500\n".repeat(20);
    assert_eq!(
        parse("big", "test", "big.toml", &ok).unwrap().shots().len(),
        10_000
    );
}

#[test]
fn an_auto_settle_plans_with_what_was_learned_else_the_safe_settle() {
    use scanrig_actors::model::SettleFrom;
    use scanrig_actors::settle::Learned;
    let text = format!("settle_ms = \"auto\"\n{RING}");
    let p = parse("a", "test", "a.toml", &text).unwrap();
    assert_eq!(p.settle, Settle::Auto);
    let scan = || ScanId::from_existing("a");
    let safe = p.plan(scan(), None, 1000);
    assert_eq!((safe.settle_ms, safe.settle_from), (1000, SettleFrom::Safe));
    let learned = Learned {
        settle_ms: 275,
        reference: 61.0,
        as_sharp_from_ms: 225,
        safe_ms: 1000,
        at: 0,
    };
    let plan = p.plan(scan(), Some(&learned), 1000);
    assert_eq!(
        (plan.settle_ms, plan.settle_from),
        (275, SettleFrom::Learned)
    );
    let fixed = parse("f", "test", "f.toml", &format!("settle_ms = 40\n{RING}")).unwrap();
    let plan = fixed.plan(scan(), Some(&learned), 1000);
    assert_eq!(
        (plan.settle_ms, plan.settle_from),
        (40, SettleFrom::Profile)
    );
}

#[test]
fn several_profile_problems_reported_together() {
    let text = "settle_ms = 99999\nextra = 1\n[[rings]]\ntilt = 95\nshots = 0\n[[rings]]\ntilt = 0\nshots = \"x\"\n";
    let err = parse("p", "test", "p.toml", text).unwrap_err();
    let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "extra",
            "rings[2].shots",
            "settle_ms",
            "rings[1].tilt",
            "rings[1].shots"
        ],
        "{err}"
    );
    assert!(
        err.to_string().lines().all(|l| l.starts_with("p.toml: ")),
        "{err}"
    );
}

#[test]
fn missing_profile_lists_the_available_ones() {
    let err = Profile::find("nope", &[PathBuf::from("/no/such/dir")]).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.origin.as_str(), p.key.as_str()), ("nope", "profile"));
    assert!(p.reason.contains("/no/such/dir"), "{p}");
    assert!(
        p.reason
            .contains("available: demo, object-3ring, sphere-130, turntable-36"),
        "{p}"
    );
    let err = Profile::find("/no/such/dir/x.toml", &[]).unwrap_err();
    assert_eq!(err.problems[0].origin, "/no/such/dir/x.toml");
    assert!(
        err.problems[0].reason.contains("cannot read the profile"),
        "{err}"
    );
}

#[test]
fn profile_in_dirs_shadows_shipped_one() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let dirs = [first.path().to_path_buf(), second.path().to_path_buf()];
    std::fs::write(
        first.path().join("demo.toml"),
        format!("description = \"mine\"\n{RING}"),
    )
    .unwrap();
    std::fs::write(second.path().join("demo.toml"), "not read").unwrap();
    std::fs::write(second.path().join("my-scan.toml"), RING).unwrap();
    std::fs::write(
        second.path().join("broken.toml"),
        "[[rings]]\ntilt = 0\nshots = 0\n",
    )
    .unwrap();
    std::fs::write(second.path().join("notes.txt"), "ignored").unwrap();

    let demo = Profile::find("demo", &dirs).unwrap();
    assert_eq!((demo.description.as_str(), demo.shots().len()), ("mine", 8));
    assert_eq!(
        demo.source,
        first.path().join("demo.toml").display().to_string()
    );

    let list = Profile::list(&dirs);
    let names: Vec<&str> = list.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "broken",
            "demo",
            "my-scan",
            "object-3ring",
            "sphere-130",
            "turntable-36"
        ]
    );
    let (_, source, broken) = &list[0];
    assert_eq!(
        source,
        &second.path().join("broken.toml").display().to_string()
    );
    assert_eq!(
        broken.as_ref().unwrap_err().problems[0].key,
        "rings[1].shots"
    );
    assert_eq!(list[1].1, demo.source);
    let mine = list[2].2.as_ref().unwrap();
    assert_eq!((mine.name.as_str(), mine.prefix()), ("my-scan", "my-scan"));
    assert_eq!(list[3].1, "shipped");
}

fn sphere(points: u32, tilt_min: f64, tilt_max: f64) -> Vec<scanrig_actors::model::Station> {
    let text = format!(
        "path = \"sphere\"\n[sphere]\npoints = {points}\ntilt_min = {tilt_min:?}\ntilt_max = {tilt_max:?}\n"
    );
    parse("s", "test", "s.toml", &text).unwrap().shots()
}

#[test]
fn a_sphere_spreads_its_points_evenly_between_its_tilts() {
    let shots = sphere(130, -30.0, 60.0);
    assert_eq!(shots.len(), 130);
    let tilts: Vec<f64> = shots.iter().map(|s| s.tilt.get()).collect();
    assert!(
        tilts.iter().all(|t| (-30.0..=60.0).contains(t)),
        "{tilts:?}"
    );
    // Equal area: as many points in each of four slices of equal area
    // (equal steps of sin(tilt)), give or take one.
    let (lo, hi) = ((-30f64).to_radians().sin(), 60f64.to_radians().sin());
    let mut slices = [0u32; 4];
    for t in &tilts {
        let z = (t.to_radians().sin() - lo) / (hi - lo);
        slices[((z * 4.0) as usize).min(3)] += 1;
    }
    assert!(slices.iter().all(|&n| (31..=34).contains(&n)), "{slices:?}");
    // Around the table too: each quarter of the circle holds about a
    // quarter of the points.
    let mut quarters = [0u32; 4];
    for s in &shots {
        quarters[(s.azimuth.get() / 90.0) as usize % 4] += 1;
    }
    assert!(
        quarters.iter().all(|&n| (28..=37).contains(&n)),
        "{quarters:?}"
    );
}

#[test]
fn a_sphere_is_taken_band_by_band_with_short_moves() {
    let shots = sphere(130, -30.0, 60.0);
    // Six bands from low to high, each at nearby tilts.
    let bands: Vec<u32> = shots.iter().map(|s| s.ring).collect();
    assert!(bands.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
    assert_eq!(bands.last(), Some(&6));
    for band in 1..=6 {
        let ring: Vec<_> = shots.iter().filter(|s| s.ring == band).collect();
        let tilts: Vec<f64> = ring.iter().map(|s| s.tilt.get()).collect();
        let spread = tilts.iter().copied().fold(f64::MIN, f64::max)
            - tilts.iter().copied().fold(f64::MAX, f64::min);
        assert!(spread < 20.0, "band {band} spans {spread} degrees");
        // One way round the table within a band, the other way in the next.
        let az: Vec<f64> = ring.iter().map(|s| s.azimuth.get()).collect();
        let rising = az.windows(2).all(|w| w[1] >= w[0]);
        let falling = az.windows(2).all(|w| w[1] <= w[0]);
        assert!(
            if band % 2 == 1 { rising } else { falling },
            "band {band}: {az:?}"
        );
        let indices: Vec<u32> = ring.iter().map(|s| s.index).collect();
        assert_eq!(indices, (1..=ring.len() as u32).collect::<Vec<_>>());
    }
    // One point: the middle of the band.
    let one = sphere(1, 0.0, 0.0);
    assert_eq!((one.len(), one[0].tilt.get()), (1, 0.0));
}

#[test]
fn a_sphere_is_checked_like_rings() {
    let broken = [
        (
            "path = \"sphere\"\n[sphere]\npoints = 0\n",
            "sphere.points",
            "must be 1 to 10000 shots, found 0",
        ),
        (
            "path = \"sphere\"\n[sphere]\ntilt_min = 50.0\ntilt_max = 10.0\n",
            "sphere.tilt_max",
            "at least sphere.tilt_min (50)",
        ),
        (
            "path = \"sphere\"\n[sphere]\ntilt_max = 95.0\n",
            "sphere.tilt_max",
            "-90 to 90",
        ),
        (
            "[sphere]\npoints = 10\n[[rings]]\ntilt = 0\nshots = 4\n",
            "sphere",
            "only read with path = \"sphere\"",
        ),
        (
            "path = \"sphere\"\n[[rings]]\ntilt = 0\nshots = 4\n",
            "rings",
            "takes its shots from [sphere]",
        ),
        ("path = \"ball\"\n", "path", "unknown value `ball`"),
    ];
    for (text, key, words) in broken {
        let err = parse("s", "test", "s.toml", text).unwrap_err();
        let p = err
            .problems
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("{text}: {err}"));
        assert!(p.reason.contains(words), "{text}: {p}");
    }
}

#[test]
fn a_ring_names_the_column_s_cameras_that_shoot_it() {
    let text =
        "[[rings]]\ntilt = 0\nshots = 4\n[[rings]]\ntilt = 30\nshots = 2\ncameras = [\"top\"]\n";
    let column = |names: &[&str]| RigLimits {
        turntable: Travel::default(),
        tilt: Travel::default(),
        cameras: names.iter().map(|n| CameraName::new(n).unwrap()).collect(),
        motion: None,
        lights: Vec::new(),
    };
    let profile = parse("c", "test", "c.toml", text)
        .unwrap()
        .for_rig(&column(&["low", "top"]))
        .unwrap();
    let named: Vec<Vec<CameraName>> = profile.shots().into_iter().map(|s| s.cameras).collect();
    let top = vec![CameraName::new("top").unwrap()];
    assert_eq!(named, [vec![], vec![], vec![], vec![], top.clone(), top]);

    // A camera the column lacks, and any name on a rig of one camera.
    for (rig, words) in [
        (
            column(&["low", "mid"]),
            "names camera(s) top the rig does not have; its [[cameras]] are: low, mid",
        ),
        (column(&[]), "this rig has one camera ([camera])"),
    ] {
        let err = parse("c", "test", "c.toml", text)
            .unwrap()
            .for_rig(&rig)
            .unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        let p = &err.problems[0];
        assert_eq!(
            (p.origin.as_str(), p.key.as_str()),
            ("test", "rings[2].cameras")
        );
        assert!(p.reason.contains(words), "{p}");
    }
}

#[test]
fn a_profile_sets_the_rig_s_lights_brightness_and_names_no_other_light() {
    let rig = |lights: &[&str]| RigLimits {
        turntable: Travel::default(),
        tilt: Travel::default(),
        cameras: Vec::new(),
        motion: None,
        lights: lights.iter().map(|n| n.to_string()).collect(),
    };
    let text = "[lights]\nring = 60\nback = 0\n[[rings]]\ntilt = 0\nshots = 2\n";
    let profile = parse("l", "test", "l.toml", text)
        .unwrap()
        .for_rig(&rig(&["ring", "back", "top"]))
        .unwrap();
    let plan = profile.plan(ScanId::new(1_800_000_000, "l"), None, 1000);
    let want = BTreeMap::from([("back".to_owned(), 0), ("ring".to_owned(), 60)]);
    assert_eq!(plan.lights, want);

    let err = parse("l", "test", "l.toml", text)
        .unwrap()
        .for_rig(&rig(&["ring"]))
        .unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    let p = &err.problems[0];
    assert_eq!((p.origin.as_str(), p.key.as_str()), ("test", "lights.back"));
    assert!(
        p.reason
            .contains("names a light the rig does not have; its lights are: ring"),
        "{p}"
    );

    for bad in ["150", "-1", "\"bright\"", "50.5"] {
        let text = format!("[lights]\nring = {bad}\n[[rings]]\ntilt = 0\nshots = 2\n");
        let err = parse("l", "test", "l.toml", &text).unwrap_err();
        let p = &err.problems[0];
        assert_eq!(p.key, "lights.ring", "{bad}: {err}");
        assert!(
            p.reason
                .contains("a whole number of percent from 0 (off) to 100"),
            "{bad}: {p}"
        );
    }
}

#[test]
fn the_table_goes_the_shorter_way_unless_the_profile_says_as_listed() {
    let scan = ScanId::new(0, "x");
    let shortest = parse("x", "test", "x", RING).unwrap();
    assert_eq!(shortest.table_way, TableWay::Shortest);
    assert_eq!(
        shortest.plan(scan.clone(), None, 0).table_way,
        TableWay::Shortest
    );
    let text = format!("table_way = \"as_listed\"\n{RING}");
    let listed = parse("x", "test", "x", &text).unwrap();
    let plan = listed.plan(scan, None, 0);
    assert_eq!(plan.table_way, TableWay::AsListed);
    // The plan's angles are the shots' own, in [0, 360), either way.
    assert!(plan
        .shots
        .iter()
        .all(|s| (0.0..360.0).contains(&s.azimuth.get())));
}

#[test]
fn a_table_held_within_half_a_turn_reaches_every_shot_the_shorter_way_only() {
    let half = RigLimits {
        turntable: Travel {
            min: Some((Degrees(-180.0), "turntable.max_turns")),
            max: Some((Degrees(180.0), "turntable.max_turns")),
        },
        tilt: Travel::default(),
        cameras: Vec::new(),
        motion: None,
        lights: Vec::new(),
    };
    let ring = "[[rings]]\ntilt = 0\nshots = 4\nstart = 45\n";
    let shortest = parse("h", "test", "h.toml", ring).unwrap();
    assert!(shortest.for_rig(&half).is_ok(), "315° is reached at -45°");
    let listed = format!("table_way = \"as_listed\"\n{ring}");
    let err = parse("h", "test", "h.toml", &listed)
        .unwrap()
        .for_rig(&half)
        .unwrap_err();
    let p = &err.problems[0];
    assert_eq!(
        (p.key.as_str(), err.problems.len()),
        ("rings[1]", 1),
        "{err}"
    );
    assert!(p.reason.contains("turntable.max_turns"), "{err}");
}
