//! Scans sent to two destinations, and journals of one destination.

use super::*;

#[test]
fn a_scan_sent_to_two_destinations_counts_a_shot_sent_once_both_have_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let p = plan_to_two(2);
    j.append(&Record::ScanStarted { at: 1, plan: p }).unwrap();
    let sent = |shot: u32, to: &str| Record::ShotUploaded {
        shot: ShotId(shot),
        at: 3,
        remote: vec![format!("{to}-{shot}")],
        files: Vec::new(),
        to: Some(to.into()),
    };
    for n in 1..=2 {
        j.append(&Record::ShotCaptured {
            shot: ShotId(n),
            at: 2,
            files: file(n),
        })
        .unwrap();
    }
    j.append(&sent(1, "offsite")).unwrap();
    j.append(&sent(2, "nas")).unwrap();
    j.append(&sent(1, "nas")).unwrap();
    j.append(&Record::ManifestUploaded {
        at: 4,
        remote: "m-offsite".into(),
        to: Some("offsite".into()),
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    // Shot 1 is at both (the first destination's ids stand for it); shot
    // 2 only at the NAS.
    assert_eq!(
        scan.uploaded,
        BTreeMap::from([(ShotId(1), vec!["nas-1".to_owned()])])
    );
    assert_eq!(scan.pending_uploads(), [ShotId(2)]);
    let [nas, offsite] = &scan.plan.sent_to()[..] else {
        panic!("two destinations: {:?}", scan.plan.sent_to());
    };
    assert_eq!(nas.name.as_deref(), Some("nas"));
    assert_eq!(scan.waiting_at(nas), Vec::<ShotId>::new());
    assert_eq!(scan.waiting_at(offsite), [ShotId(2)]);
    // Each destination's view has its own ids and manifest.
    assert_eq!(
        scan.at(offsite).uploaded.keys().collect::<Vec<_>>(),
        [&ShotId(1)]
    );
    assert_eq!(scan.at(offsite).manifest.as_deref(), Some("m-offsite"));
    assert_eq!(scan.at(nas).manifest, None);
    assert_eq!(
        scan.manifest, None,
        "the manifest is not at every destination"
    );
    assert!(!scan.is_settled());
    // The last photo and manifest at the other: the scan is whole.
    j.append(&sent(2, "offsite")).unwrap();
    j.append(&Record::ManifestUploaded {
        at: 5,
        remote: "m-nas".into(),
        to: Some("nas".into()),
    })
    .unwrap();
    j.append(&Record::ScanFinished {
        at: 6,
        outcome: Outcome::Completed,
    })
    .unwrap();
    let scan = replay(dir.path()).unwrap();
    assert!(scan.pending_uploads().is_empty());
    assert_eq!(scan.manifest.as_deref(), Some("m-nas"));
    assert!(scan.is_settled());
}

#[test]
fn a_journal_of_one_destination_still_reads_as_it_was_written() {
    // As written before scans went to several destinations.
    let dir = tempfile::tempdir().unwrap();
    let p = plan(1);
    let lines = [
        serde_json::json!({"record": "scan_started", "at": 1, "plan": p}),
        serde_json::json!({"record": "shot_captured", "shot": 1, "at": 2, "files": file(1)}),
        serde_json::json!({"record": "shot_uploaded", "shot": 1, "at": 3, "remote": ["r1"]}),
        serde_json::json!({"record": "manifest_uploaded", "at": 4, "remote": "m"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(dir.path().join(JOURNAL_FILE), text).unwrap();
    let scan = replay(dir.path()).unwrap();
    assert_eq!(scan.plan.sent_to().len(), 1);
    assert_eq!(scan.plan.sent_to()[0].name, None);
    assert_eq!(scan.uploaded[&ShotId(1)], ["r1"]);
    assert_eq!(scan.manifest.as_deref(), Some("m"));
    assert!(scan.delivered.is_empty());
    // Written again, a record of one destination names none.
    let again = serde_json::to_string(&Record::ShotUploaded {
        shot: ShotId(1),
        at: 3,
        remote: vec!["r1".into()],
        files: Vec::new(),
        to: None,
    })
    .unwrap();
    assert!(!again.contains("\"to\""), "{again}");
}
