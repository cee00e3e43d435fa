//! `scanrig import`: a wired camera's card, its clock 7 minutes off, one photo missing and one extra, brought into its scan: each photo on its shot, delivered once, the missing one named, the extra one left alone, and nothing imported twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use common::{contents, names_in, read_manifest, Rig};
use scanrig_actors::clock::unix_millis_now;
use scanrig_actors::journal::{JournalWriter, Record};
use scanrig_actors::model::{Outcome, ScanId, ScanPlan, ShotId, Station};
use scanrig_hardware::camera::{CaptureRequest, SimCard, Stage};
use scanrig_hardware::Degrees;

/// The camera's clock runs 7 minutes ahead of the rig's.
const CLOCK_OFFSET_MS: i64 = 7 * 60_000;
/// Shots of the scan.
const SHOTS: u32 = 6;
/// The shot whose photo the camera never took (a missed pulse).
const LOST: u32 = 4;

/// A scan a camera fired by a wire took: its journal as the rig leaves it
/// (every shot triggered, none downloaded) and the camera's card, with a
/// test shot taken before the scan and no photo for shot [`LOST`].
struct Shot {
    rig: Rig,
    scan: String,
    stems: Vec<String>,
    card: PathBuf,
    /// The card's photo of each shot that has one.
    photos: BTreeMap<u32, PathBuf>,
    /// The test shot.
    extra: PathBuf,
}

fn shoot() -> Shot {
    let rig = Rig::new();
    let started = unix_millis_now() - 600_000;
    let stations: Vec<Station> = (0..SHOTS)
        .map(|i| Station {
            ring: 1,
            index: i + 1,
            azimuth: Degrees(f64::from(i) * 60.0),
            tilt: Degrees(15.0),
            cameras: Vec::new(),
        })
        .collect();
    let plan = ScanPlan::new(
        ScanId::new(started / 1000, "wired"),
        "wired",
        "wired",
        Duration::from_millis(500),
        BTreeMap::new(),
        &stations,
    );
    let scan = plan.scan.as_str().to_owned();
    let stems: Vec<String> = plan.shots.iter().map(|s| s.stem.clone()).collect();
    let card = rig.root().join("card");
    let mut camera = SimCard::new(&card, CLOCK_OFFSET_MS, (160, 120), Stage::default());
    let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
    let request = |i: usize| CaptureRequest {
        stem: stems[i].clone(),
        label: stems[i].clone(),
        azimuth: plan.shots[i].azimuth,
        tilt: plan.shots[i].tilt,
    };
    let extra = camera.shoot(&request(0), at(started - 90_000)).unwrap();

    let mut journal = JournalWriter::open(&rig.spooled(&scan)).unwrap();
    journal
        .append(&Record::ScanStarted {
            at: started,
            plan: plan.clone(),
        })
        .unwrap();
    let mut photos = BTreeMap::new();
    for i in 0..SHOTS as usize {
        // A shot every 4.3 s; the camera's shutter lags the pulse by 0.2 s.
        let fired = started + 2_000 + 4_300 * i as u64;
        let shot = i as u32 + 1;
        journal
            .append(&Record::ShotTriggered {
                shot: ShotId(shot),
                at: fired,
                camera: None,
                whole: false,
            })
            .unwrap();
        if shot != LOST {
            photos.insert(shot, camera.shoot(&request(i), at(fired + 200)).unwrap());
        }
    }
    journal
        .append(&Record::ScanFinished {
            at: started + 30_000,
            outcome: Outcome::Completed,
        })
        .unwrap();
    Shot {
        rig,
        scan,
        stems,
        card,
        photos,
        extra,
    }
}

/// `scanrig import` run again on the same card: it succeeds and says
/// `says`, importing nothing.
fn import_again(s: &Shot, says: &str) {
    let again = s
        .rig
        .run(&["import", &s.scan, s.card.to_str().unwrap(), "--yes"]);
    again.expect_code(0);
    assert!(again.stdout.contains(says), "{}", again.stdout);
}

fn card_name(s: &Shot, path: &Path) -> String {
    path.strip_prefix(&s.card)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_card_seven_minutes_off_lands_each_photo_on_its_shot_names_the_missing_and_the_extra_and_imports_once(
) {
    let s = shoot();
    let card = s.card.to_str().unwrap();
    let on_card = contents(&s.card);

    // No terminal to confirm on, and no --yes: refused, nothing changed.
    let asked = s.rig.run(&["import", &s.scan, card]);
    asked.expect_code(2);
    assert!(asked.stderr.contains("--yes"), "{}", asked.stderr);
    assert!(
        asked.stdout.contains("MISSING"),
        "the match is shown first: {}",
        asked.stdout
    );
    assert_eq!(s.rig.journal(&s.scan).count("shot_captured"), 0);

    let out = s.rig.run(&["import", &s.scan, card, "--yes"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("camera clock: 6 min 59.")
            || out.stdout.contains("camera clock: 7 min 0."),
        "the offset found: {}",
        out.stdout
    );
    // The table: each shot's line names its photo, the lost one is missing.
    for (shot, photo) in &s.photos {
        let name = card_name(&s, photo);
        let line = out
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{shot} ")))
            .unwrap_or_else(|| panic!("no line for shot {shot}: {}", out.stdout));
        assert!(line.contains(&name), "{line}");
        assert!(line.contains("+420.") || line.contains("+419."), "{line}");
    }
    let lost = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{LOST} ")))
        .unwrap();
    assert!(lost.contains("MISSING"), "{lost}");
    let extra = card_name(&s, &s.extra);
    assert!(
        out.stdout.contains(&format!("extra: {extra}")),
        "{}",
        out.stdout
    );

    // At the destination: each photo under its own shot's name, intact,
    // once; nothing for the lost shot; the test shot not imported.
    let delivered = s.rig.delivered(&s.scan);
    let arrived = contents(&delivered);
    let photos: BTreeSet<&String> = arrived.keys().filter(|n| n.ends_with(".jpg")).collect();
    let expected: BTreeSet<String> = s
        .photos
        .keys()
        .map(|shot| format!("{}.jpg", s.stems[*shot as usize - 1]))
        .collect();
    assert_eq!(photos, expected.iter().collect());
    for (shot, photo) in &s.photos {
        let name = format!("{}.jpg", s.stems[*shot as usize - 1]);
        assert_eq!(
            arrived[&name],
            on_card[&card_name(&s, photo)],
            "shot {shot} got another photo"
        );
    }
    assert!(!arrived.values().any(|sha| *sha == on_card[&extra]));

    // The manifest lists the five with their checksums, and the lost one
    // as missing, with why.
    let manifest = read_manifest(&delivered);
    let shots: Vec<u64> = manifest["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shot"].as_u64().unwrap())
        .collect();
    assert_eq!(shots, [1, 2, 3, 5, 6]);
    for shot in manifest["shots"].as_array().unwrap() {
        let file = &shot["files"][0];
        assert_eq!(arrived[file["name"].as_str().unwrap()], file["sha256"]);
        assert!(file["destination_id"].is_string(), "{shot}");
    }
    let missing = manifest["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{manifest}");
    assert_eq!(missing[0]["shot"], LOST);
    let why = missing[0]["reason"].as_str().unwrap();
    assert!(why.contains("no photo on the card"), "{why}");
    assert!(
        s.rig.is_retired(&s.scan),
        "everything there is was delivered"
    );

    // The card is left as it was.
    assert_eq!(contents(&s.card), on_card);

    // Again: nothing is imported twice.
    import_again(&s, "nothing is left to import");
    assert_eq!(contents(&delivered), arrived);
}

#[test]
fn a_card_of_raw_and_jpeg_pairs_brings_each_pair_to_its_shot_and_names_a_raw_file_alone_extra() {
    let s = shoot();
    // The camera wrote a RAW file beside each JPEG (same name, `.CR2`),
    // and one RAW file alone.
    let raw_of = |photo: &Path| photo.with_extension("CR2");
    for (shot, photo) in &s.photos {
        std::fs::write(raw_of(photo), format!("raw sensor data of shot {shot}")).unwrap();
    }
    let alone = s.card.join("DCIM/100SCANR/IMG_0099.CR2");
    std::fs::write(&alone, b"raw of a photo whose JPEG was deleted").unwrap();
    let on_card = contents(&s.card);

    let out = s
        .rig
        .run(&["import", &s.scan, s.card.to_str().unwrap(), "--yes"]);
    out.expect_code(0);
    let alone = card_name(&s, &alone);
    assert!(
        out.stdout
            .contains(&format!("extra: {alone} is a RAW file without its JPEG")),
        "{}",
        out.stdout
    );
    let delivered = s.rig.delivered(&s.scan);
    let arrived = contents(&delivered);
    let manifest = read_manifest(&delivered);
    let shots = manifest["shots"].as_array().unwrap();
    assert_eq!(shots.len(), s.photos.len());
    for ((shot, photo), entry) in s.photos.iter().zip(shots) {
        let stem = &s.stems[*shot as usize - 1];
        let (jpeg, raw) = (format!("{stem}.jpg"), format!("{stem}.cr2"));
        assert_eq!(
            arrived[&jpeg],
            on_card[&card_name(&s, photo)],
            "shot {shot}'s JPEG"
        );
        assert_eq!(
            arrived[&raw],
            on_card[&card_name(&s, &raw_of(photo))],
            "shot {shot}'s RAW"
        );
        assert_eq!(
            names_in(entry),
            [jpeg.as_str(), raw.as_str()],
            "the pair, listed together"
        );
    }
    assert!(
        !arrived.values().any(|sha| *sha == on_card[&alone]),
        "the lone RAW left alone"
    );
    assert!(s.rig.is_retired(&s.scan));
    import_again(&s, "nothing is left to import");
    assert_eq!(contents(&delivered), arrived);
}

#[test]
fn an_import_whose_upload_failed_is_not_repeated_and_its_photos_go_with_uploads_retry() {
    let s = shoot();
    let card = s.card.to_str().unwrap();
    // The destination cannot be written: the photos stay in the spool.
    s.rig.block_destination();
    let first = s.rig.run(&["import", &s.scan, card, "--yes"]);
    first.expect_code(1);
    let journal = s.rig.journal(&s.scan);
    assert_eq!(journal.count("shot_captured"), 5);
    assert_eq!(journal.count("imported"), 1);

    import_again(&s, "imported already");
    let journal = s.rig.journal(&s.scan);
    assert_eq!(journal.count("shot_captured"), 5, "nothing imported twice");
    assert_eq!(journal.count("imported"), 1);

    s.rig.unblock_destination();
    s.rig.run(&["uploads", "retry"]).expect_code(0);
    let arrived = contents(&s.rig.delivered(&s.scan));
    assert_eq!(arrived.keys().filter(|n| n.ends_with(".jpg")).count(), 5);
}

#[test]
fn a_scan_not_in_the_spool_or_a_card_that_is_no_folder_is_refused_with_what_to_do() {
    let s = shoot();
    let card = s.card.to_str().unwrap();
    let unknown = s
        .rig
        .run(&["import", "20990101T000000Z-none", card, "--yes"]);
    unknown.expect_code(2);
    assert!(
        unknown.stderr.contains("no scan 20990101T000000Z-none")
            && unknown.stderr.contains("scanrig scans"),
        "{}",
        unknown.stderr
    );
    let not_a_folder = s
        .rig
        .run(&["import", &s.scan, "/nonexistent/card", "--yes"]);
    not_a_folder.expect_code(2);
    assert!(
        not_a_folder.stderr.contains("is not a folder"),
        "{}",
        not_a_folder.stderr
    );
}
