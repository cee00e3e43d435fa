//! An interrupted scan resumed as soon as the rig is back, while the
//! photos it left are still being sent (a drain): the resume takes the
//! scan over, whether it comes while those uploads are out or while their
//! end is being closed, and the scan goes on to its last shot with every
//! photo at the destination once.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use actix::prelude::*;
use scanrig_actors::journal::{self, ScanRecord};
use scanrig_actors::model::{Outcome, ShotId};
use scanrig_actors::supervisor::{progress, Drain, Progress, StartScan, Supervisor};

mod common;
use common::{plan, rig_on, scanrig_actors_log, table, until};

const SHOTS: u32 = 6;

/// A scan of [`SHOTS`] shots that took 2 and lost power, its destination
/// unreachable all the while: both photos wait in the spool. Returns
/// its journal read back.
fn interrupted(dir: &Path) -> ScanRecord {
    let (rig, _, _) = rig_on(&table(3600.0), dir);
    // A file where the destination's folder should be: nothing is sent.
    fs::write(dir.join("photos"), b"not a folder").unwrap();
    let scan = plan(SHOTS);
    let id = scan.scan.clone();
    System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let mut rx = progress(&sup).await.unwrap();
        sup.send(StartScan {
            plan: scan,
            resume: None,
        })
        .await
        .unwrap()
        .unwrap();
        for shot in 1..=2 {
            until(
                &mut rx,
                |p| matches!(p, Progress::Captured { shot: s, .. } if *s == ShotId(shot)),
            )
            .await;
        }
        // The power goes.
        System::current().stop();
    });
    fs::remove_file(dir.join("photos")).unwrap();
    let record = journal::replay(&dir.join("spool").join(id.as_str())).unwrap();
    assert!(record.is_resumable());
    assert!(
        record.pending_uploads().len() >= 2,
        "{:?}",
        record.pending_uploads()
    );
    record
}

/// The rig started again: the scan's waiting photos are drained (less
/// `defer`) and, in the same breath, the scan is resumed. Returns how the
/// scan ended.
fn drained_and_resumed(dir: &Path, record: ScanRecord, defer: BTreeSet<ShotId>) -> Outcome {
    let (rig, _, _) = rig_on(&table(3600.0), dir);
    let scan = record.plan.clone();
    System::new().block_on(async {
        let sup = Supervisor::start(rig, scanrig_actors_log());
        let mut rx = progress(&sup).await.unwrap();
        let resume = record.clone();
        sup.do_send(Drain { record, defer });
        sup.send(StartScan {
            plan: scan,
            resume: Some(resume),
        })
        .await
        .unwrap()
        .unwrap();
        // Once only: the scan runs now.
        let again = sup.send(StartScan {
            plan: plan(SHOTS),
            resume: None,
        });
        assert!(again.await.unwrap().is_err(), "a second scan was started");
        let Progress::Finished(summary) =
            until(&mut rx, |p| matches!(p, Progress::Finished(_))).await
        else {
            unreachable!()
        };
        until(&mut rx, |p| matches!(p, Progress::Quiet)).await;
        System::current().stop();
        assert_eq!(summary.captured, SHOTS as usize, "{summary:?}");
        assert_eq!(summary.uploaded, SHOTS as usize, "{summary:?}");
        summary.outcome.expect("ended")
    })
}

/// The photos at the destination, by name.
fn photos(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for scan in fs::read_dir(dir.join("photos")).unwrap() {
        for file in fs::read_dir(scan.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".jpg") {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

fn assert_every_photo_once(dir: &Path) {
    let names = photos(dir);
    assert_eq!(names.len(), SHOTS as usize, "{names:?}");
    let unique: BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

#[test]
fn a_resume_while_the_scan_s_leftover_photos_are_out_takes_their_uploads_over() {
    let dir = tempfile::tempdir().unwrap();
    let record = interrupted(dir.path());
    let outcome = drained_and_resumed(dir.path(), record, BTreeSet::new());
    assert_eq!(outcome, Outcome::Completed);
    assert_every_photo_once(dir.path());
}

#[test]
fn a_resume_while_the_scan_s_drain_is_being_closed_starts_once_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let record = interrupted(dir.path());
    // Every waiting photo left for later: the drain has nothing to send
    // and is closed at once, while the resume comes in.
    let defer = record.pending_uploads().into_iter().collect();
    let outcome = drained_and_resumed(dir.path(), record, defer);
    assert_eq!(outcome, Outcome::Completed);
    assert_every_photo_once(dir.path());
}
