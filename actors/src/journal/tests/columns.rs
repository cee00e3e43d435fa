//! Stops shot by several cameras: parts of a shot kept by camera name,
//! and older journals that numbered a column's cameras.

use super::*;

/// A photo of camera `camera` of shot `shot` of [`plan`], frame `frame`
/// of its set, as the spool holds it.
fn photo(plan: &ScanPlan, shot: u32, camera: &str, frame: usize) -> Vec<SpoolFile> {
    let part = Part {
        camera: Some(CameraName::new(camera).unwrap()),
        frame,
    };
    let name = plan.photo(ShotId(shot), &part, 1);
    vec![SpoolFile {
        name: name.file("jpg"),
        sha256: "cd".repeat(32),
        size: 10 + frame as u64,
        pixels: Some([640, 480]),
        camera: name.camera,
        frame: name.frame,
    }]
}

#[test]
fn parts_of_a_shot_not_captured_whole_are_kept_by_camera_name_and_forgotten_once_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let mut p = plan(2);
    p.bracket = Some(Box::new(crate::model::Bracket {
        kind: crate::model::BracketKind::Exposure,
        frames: vec![BTreeMap::new(); 3],
        after: BTreeMap::new(),
    }));
    j.append(&Record::ScanStarted {
        at: 1,
        plan: p.clone(),
    })
    .unwrap();
    let part = |shot: u32, camera: &str, frame: usize| Record::PartCaptured {
        shot: ShotId(shot),
        at: 2,
        files: photo(&p, shot, camera, frame),
    };
    for record in [part(1, "low", 0), part(1, "low", 1), part(2, "high", 0)] {
        j.append(&record).unwrap();
    }
    j.append(&Record::ShotCaptured {
        shot: ShotId(1),
        at: 3,
        files: file(1),
    })
    .unwrap();
    // A part record committed after its shot's capture is of no account.
    j.append(&part(1, "low", 2)).unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.parts.len(), 1, "{:?}", scan.parts);
    let high = Part {
        camera: Some(CameraName::new("high").unwrap()),
        frame: 0,
    };
    assert_eq!(
        scan.parts[&ShotId(2)],
        BTreeMap::from([(high, photo(&p, 2, "high", 0))])
    );
    // The journal says which camera and frame, not only the file's name.
    let line = fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
    assert!(line.contains(r#""camera":"high","frame":1"#), "{line}");
    use ShotState::*;
    assert_eq!(scan.shot_states(), [Captured, Pending]);
}

#[test]
fn a_journal_that_numbered_a_column_s_cameras_is_read_by_the_names_of_its_files() {
    // Written by scanrig before parts were recorded by camera name: a
    // column of `low` then `high`, `camera` its place in that list.
    let p = plan(2);
    let stem = |shot: u32| p.shot(ShotId(shot)).stem.clone();
    let file = |name: String| {
        format!(
            r#"{{"name":"{name}","sha256":"{}","size":5,"pixels":[640,480]}}"#,
            "ab".repeat(32)
        )
    };
    let lines = [
        format!(
            r#"{{"record":"scan_started","at":1,"plan":{}}}"#,
            serde_json::to_string(&p).unwrap()
        ),
        format!(
            r#"{{"record":"part_captured","shot":1,"at":2,"camera":0,"frame":0,"files":[{}]}}"#,
            file(format!("{}_low.jpg", stem(1)))
        ),
        format!(
            r#"{{"record":"part_captured","shot":1,"at":2,"camera":1,"frame":0,"files":[{}]}}"#,
            file(format!("{}_high.jpg", stem(1)))
        ),
        format!(
            r#"{{"record":"shot_captured","shot":1,"at":3,"files":[{},{}]}}"#,
            file(format!("{}_low.jpg", stem(1))),
            file(format!("{}_high.jpg", stem(1)))
        ),
        format!(
            r#"{{"record":"part_captured","shot":2,"at":4,"camera":0,"frame":0,"files":[{}]}}"#,
            file(format!("{}_low.jpg", stem(2)))
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(JOURNAL_FILE), lines.join("\n") + "\n").unwrap();
    let scan = replay(dir.path()).unwrap();
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    let name = |n: &str| Some(CameraName::new(n).unwrap());
    // The part of stop 2 is the low camera's, wherever `low` stands in
    // the column now.
    let parts: Vec<&Part> = scan.parts[&ShotId(2)].keys().collect();
    assert_eq!(
        parts,
        [&Part {
            camera: name("low"),
            frame: 0
        }]
    );
    let captured: Vec<_> = scan.captured[&ShotId(1)]
        .1
        .iter()
        .map(|f| (f.camera.clone(), f.frame))
        .collect();
    assert_eq!(
        captured,
        [(name("low"), Frame::Only), (name("high"), Frame::Only)]
    );
}
