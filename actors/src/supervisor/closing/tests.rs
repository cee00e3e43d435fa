//! The closing of a scan, step by step, without actors.

use std::collections::BTreeMap;

use super::*;
use crate::journal::tests::{file, plan};
use crate::journal::{replay, JournalWriter, Record};
use crate::model::{Format, Geometry, Outcome, Priors, ShotId};

/// A finished scan of 3 shots, the first `uploaded` of them sent, with
/// JSON pose priors when `priors`.
fn record(uploaded: u32, priors: bool) -> ScanRecord {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan(3);
    if priors {
        plan.priors = Some(Priors {
            geometry: Geometry::default(),
            formats: vec![Format::Json],
            cameras: Vec::new(),
        });
    }
    let mut j = JournalWriter::open(dir.path()).unwrap();
    j.append(&Record::ScanStarted { at: 1, plan }).unwrap();
    for shot in 1..=3 {
        let files = file(shot);
        j.append(&Record::ShotCaptured {
            shot: ShotId(shot),
            at: 2,
            files: files.clone(),
        })
        .unwrap();
        if shot <= uploaded {
            j.append(&Record::ShotUploaded {
                shot: ShotId(shot),
                at: 3,
                remote: vec![format!("r{shot}")],
                files,
                to: None,
            })
            .unwrap();
        }
    }
    j.append(&Record::ScanFinished {
        at: 4,
        outcome: Outcome::Completed,
    })
    .unwrap();
    replay(dir.path()).unwrap()
}

/// Feeds `answers` after the first step; returns every step taken.
fn run(closing: &mut Closing, answers: Vec<Answer>) -> Vec<Step> {
    let mut steps = vec![closing.next(Answer::Begin)];
    for answer in answers {
        steps.push(closing.next(answer));
    }
    steps
}

fn ok() -> Answer {
    Answer::Journaled(Ok(()))
}

/// The names of the priors a step sends.
fn names(step: &Step) -> Vec<&str> {
    match step {
        Step::SendPriors(_, files) => files.iter().map(|(n, _)| n.as_str()).collect(),
        other => panic!("not sending priors: {other:?}"),
    }
}

#[test]
fn a_scan_whose_photos_are_all_sent_gets_its_priors_then_its_manifest_then_retires() {
    let mut closing = Closing::new(true, false);
    let steps = run(
        &mut closing,
        vec![ok(), Answer::Replayed(Ok(Box::new(record(3, true))))],
    );
    assert_eq!(steps[..2], [Step::JournalEnd, Step::Replay]);
    let sent = names(&steps[2])
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>();
    assert_eq!(sent, ["t_1.pose.json", "t_2.pose.json", "t_3.pose.json"]);
    let ids = vec![Ok("p1".into()), Ok("p2".into()), Ok("p3".into())];
    let journal_priors = closing.next(Answer::PriorsSent(ids));
    let expected: BTreeMap<String, String> = sent
        .iter()
        .cloned()
        .zip(["p1", "p2", "p3"].map(String::from))
        .collect();
    assert_eq!(
        journal_priors,
        Step::JournalPriors(Sent::default(), expected)
    );
    let Step::SendManifest(_, bytes) = closing.next(ok()) else {
        panic!("no manifest after the priors");
    };
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(manifest["shots"].as_array().unwrap().len(), 3);
    assert_eq!(
        manifest["poses"][0]["destination_id"], "p1",
        "the manifest lists the priors: {manifest}"
    );
    let steps = run_on(
        &mut closing,
        vec![
            Answer::ManifestSent(Ok("m".into())),
            ok(),
            Answer::Retired(Ok(true)),
        ],
    );
    assert_eq!(
        steps,
        [
            Step::JournalManifest(Sent::default(), "m".into()),
            Step::Retire,
            Step::Closed(Closed::Retired)
        ]
    );
}

/// Feeds `answers` to a closing under way.
fn run_on(closing: &mut Closing, answers: Vec<Answer>) -> Vec<Step> {
    answers.into_iter().map(|a| closing.next(a)).collect()
}

#[test]
fn a_scan_whose_end_is_journaled_already_is_read_back_first() {
    let mut closing = Closing::new(false, false);
    assert_eq!(closing.next(Answer::Begin), Step::Replay);
    // Without priors, the manifest comes next.
    let step = closing.next(Answer::Replayed(Ok(Box::new(record(3, false)))));
    assert!(matches!(step, Step::SendManifest(..)), "{step:?}");
}

#[test]
fn with_photos_waiting_no_manifest_is_sent_and_the_backlog_is_kept() {
    let mut closing = Closing::new(true, false);
    let steps = run(
        &mut closing,
        vec![
            ok(),
            Answer::Replayed(Ok(Box::new(record(1, true)))),
            Answer::Done,
            Answer::Done,
        ],
    );
    assert_eq!(
        steps,
        [
            Step::JournalEnd,
            Step::Replay,
            Step::SaveBacklog,
            Step::Tidy,
            Step::Closed(Closed::Waiting(2))
        ]
    );
}

#[test]
fn priors_that_arrived_are_journaled_and_one_that_failed_holds_the_manifest_back() {
    let mut closing = Closing::new(false, false);
    let steps = run(
        &mut closing,
        vec![Answer::Replayed(Ok(Box::new(record(3, true))))],
    );
    let sent = names(&steps[1])
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>();
    let answers = vec![Ok("p1".into()), Err("quota".into()), Ok("p3".into())];
    let step = closing.next(Answer::PriorsSent(answers));
    let journaled = BTreeMap::from([
        (sent[0].clone(), "p1".to_owned()),
        (sent[2].clone(), "p3".to_owned()),
    ]);
    assert_eq!(step, Step::JournalPriors(Sent::default(), journaled));
    let steps = run_on(&mut closing, vec![ok(), Answer::Done, Answer::Done]);
    assert_eq!(
        steps,
        [
            Step::SaveBacklog,
            Step::Tidy,
            Step::Closed(Closed::Failed("quota".into()))
        ]
    );
}

#[test]
fn a_manifest_or_journal_that_fails_ends_the_closing_keeping_the_backlog() {
    for failure in [
        Answer::ManifestSent(Err("offline".into())),
        Answer::Journaled(Err("offline".into())),
    ] {
        let mut closing = Closing::new(false, false);
        let steps = run(
            &mut closing,
            vec![Answer::Replayed(Ok(Box::new(record(3, false))))],
        );
        assert!(matches!(steps[1], Step::SendManifest(..)));
        let journaled = matches!(failure, Answer::Journaled(_));
        if journaled {
            closing.next(Answer::ManifestSent(Ok("m".into())));
        }
        let steps = run_on(&mut closing, vec![failure, Answer::Done, Answer::Done]);
        assert_eq!(
            steps,
            [
                Step::SaveBacklog,
                Step::Tidy,
                Step::Closed(Closed::Failed("offline".into()))
            ],
            "journal failed: {journaled}"
        );
    }
    // The journal unreadable.
    let mut closing = Closing::new(false, false);
    let steps = run(&mut closing, vec![Answer::Replayed(Err("gone".into()))]);
    assert_eq!(steps[1], Step::SaveBacklog);
}

#[test]
fn a_retirement_that_fails_is_left_to_the_next_start() {
    let mut closing = Closing::new(false, false);
    run(
        &mut closing,
        vec![Answer::Replayed(Ok(Box::new(record(3, false))))],
    );
    let steps = run_on(
        &mut closing,
        vec![
            Answer::ManifestSent(Ok("m".into())),
            ok(),
            Answer::Retired(Err("disk".into())),
            Answer::Done,
            Answer::Done,
        ],
    );
    assert_eq!(
        steps,
        [
            Step::JournalManifest(Sent::default(), "m".into()),
            Step::Retire,
            Step::SaveBacklog,
            Step::Tidy,
            Step::Closed(Closed::NotRetired("disk".into()))
        ]
    );
}

#[test]
fn an_interrupted_scan_s_drained_uploads_only_keep_the_backlog() {
    let mut closing = Closing::new(false, true);
    let steps = run(&mut closing, vec![Answer::Done]);
    assert_eq!(steps, [Step::SaveBacklog, Step::Closed(Closed::Drained)]);
}

#[test]
fn an_answer_out_of_turn_ends_the_closing_instead_of_looping() {
    let mut closing = Closing::new(true, false);
    closing.next(Answer::Begin);
    let step = closing.next(Answer::ManifestSent(Ok("m".into())));
    assert_eq!(step, Step::SaveBacklog);
}

#[test]
fn a_scan_whose_photos_are_on_a_wired_cameras_card_keeps_its_manifest_for_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    j.append(&Record::ScanStarted {
        at: 1,
        plan: plan(3),
    })
    .unwrap();
    for shot in 1..=3 {
        j.append(&Record::ShotTriggered {
            shot: ShotId(shot),
            at: 2,
            camera: None,
            whole: false,
        })
        .unwrap();
    }
    j.append(&Record::ScanFinished {
        at: 4,
        outcome: Outcome::Completed,
    })
    .unwrap();
    let record = replay(dir.path()).unwrap();
    let mut closing = Closing::new(false, false);
    let steps = run(
        &mut closing,
        vec![
            Answer::Replayed(Ok(Box::new(record))),
            Answer::Done,
            Answer::Done,
        ],
    );
    assert_eq!(
        steps,
        [
            Step::Replay,
            Step::SaveBacklog,
            Step::Tidy,
            Step::Closed(Closed::OnCard(3))
        ]
    );
}

/// A finished scan of 2 shots sent to `nas` and `offsite`, every photo at
/// both, the manifest already at `offsite`.
fn record_at_two() -> ScanRecord {
    let dir = tempfile::tempdir().unwrap();
    let mut j = JournalWriter::open(dir.path()).unwrap();
    let plan = crate::journal::tests::plan_to_two(2);
    j.append(&Record::ScanStarted { at: 1, plan }).unwrap();
    for shot in 1..=2 {
        j.append(&Record::ShotCaptured {
            shot: ShotId(shot),
            at: 2,
            files: file(shot),
        })
        .unwrap();
        for to in ["nas", "offsite"] {
            j.append(&Record::ShotUploaded {
                shot: ShotId(shot),
                at: 3,
                remote: vec![format!("{to}-{shot}")],
                files: Vec::new(),
                to: Some(to.into()),
            })
            .unwrap();
        }
    }
    j.append(&Record::ManifestUploaded {
        at: 4,
        remote: "m-offsite".into(),
        to: Some("offsite".into()),
    })
    .unwrap();
    j.append(&Record::ScanFinished {
        at: 5,
        outcome: Outcome::Completed,
    })
    .unwrap();
    replay(dir.path()).unwrap()
}

#[test]
fn with_two_destinations_the_manifest_goes_where_it_is_missing_with_that_destination_s_ids() {
    let mut closing = Closing::new(false, false);
    let steps = run(
        &mut closing,
        vec![Answer::Replayed(Ok(Box::new(record_at_two())))],
    );
    let Step::SendManifest(to, bytes) = &steps[1] else {
        panic!("{steps:?}");
    };
    assert_eq!(to.name.as_deref(), Some("nas"));
    let manifest: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let text = manifest.to_string();
    assert!(
        text.contains("nas-1") && !text.contains("offsite-1"),
        "{text}"
    );
    let steps = run_on(
        &mut closing,
        vec![Answer::ManifestSent(Ok("m-nas".into())), ok()],
    );
    assert_eq!(
        steps,
        [
            Step::JournalManifest(to.clone(), "m-nas".into()),
            Step::Retire
        ]
    );
}

#[test]
fn with_two_destinations_one_that_fails_does_not_keep_the_manifest_from_the_other() {
    let mut record = record_at_two();
    record.manifests.clear();
    record.manifest = None;
    let mut closing = Closing::new(false, false);
    let steps = run(&mut closing, vec![Answer::Replayed(Ok(Box::new(record)))]);
    assert!(
        matches!(&steps[1], Step::SendManifest(to, _) if to.name.as_deref() == Some("nas")),
        "{steps:?}"
    );
    let steps = run_on(
        &mut closing,
        vec![
            Answer::ManifestSent(Err("offline".into())),
            Answer::ManifestSent(Ok("m-offsite".into())),
            ok(),
            Answer::Done,
            Answer::Done,
        ],
    );
    assert!(
        matches!(&steps[0], Step::SendManifest(to, _) if to.name.as_deref() == Some("offsite")),
        "{steps:?}"
    );
    assert_eq!(
        steps[2..],
        [
            Step::SaveBacklog,
            Step::Tidy,
            Step::Closed(Closed::Failed("nas: offline".into()))
        ]
    );
}

#[test]
fn a_manifest_that_failed_in_a_way_worth_retrying_is_sent_again_after_the_backoff_as_photos_are() {
    let backoff = crate::restart::Backoff {
        initial: std::time::Duration::from_millis(100),
        max: std::time::Duration::from_secs(1),
    };
    let cut = || {
        Answer::ManifestSent(Err(Failure {
            error: "connection reset".into(),
            retryable: true,
        }))
    };
    let mut closing = Closing::new(false, false).with_tries(3, backoff);
    let steps = run(
        &mut closing,
        vec![Answer::Replayed(Ok(Box::new(record(3, false))))],
    );
    assert!(matches!(steps[1], Step::SendManifest(..)), "{steps:?}");
    let steps = run_on(&mut closing, vec![cut(), Answer::Done, cut(), Answer::Done]);
    assert_eq!(steps[0], Step::Wait(backoff.delay(1)));
    assert!(matches!(steps[1], Step::SendManifest(..)), "{steps:?}");
    assert_eq!(steps[2], Step::Wait(backoff.delay(2)));
    assert!(matches!(steps[3], Step::SendManifest(..)), "{steps:?}");
    // The third and last try fails too: the scan waits for the next pass.
    let steps = run_on(&mut closing, vec![cut(), Answer::Done, Answer::Done]);
    assert_eq!(
        steps,
        [
            Step::SaveBacklog,
            Step::Tidy,
            Step::Closed(Closed::Failed("connection reset".into()))
        ]
    );
    // A refusal no try can help is not tried again.
    let mut closing = Closing::new(false, false).with_tries(3, backoff);
    run(
        &mut closing,
        vec![Answer::Replayed(Ok(Box::new(record(3, false))))],
    );
    let refused = Answer::ManifestSent(Err("401 Unauthorized".into()));
    assert_eq!(closing.next(refused), Step::SaveBacklog);
}

#[test]
fn priors_that_failed_in_a_way_worth_retrying_are_sent_again_alone_then_the_manifest() {
    let backoff = crate::restart::Backoff {
        initial: std::time::Duration::from_millis(100),
        max: std::time::Duration::from_secs(1),
    };
    let mut closing = Closing::new(false, false).with_tries(2, backoff);
    let steps = run(
        &mut closing,
        vec![Answer::Replayed(Ok(Box::new(record(3, true))))],
    );
    let first = names(&steps[1]);
    assert!(first.len() > 1, "{first:?}");
    let mut answers: Vec<Result<String, Failure>> =
        first.iter().map(|n| Ok(format!("id-{n}"))).collect();
    answers[0] = Err(Failure {
        error: "503".into(),
        retryable: true,
    });
    let journal = closing.next(Answer::PriorsSent(answers));
    assert!(matches!(journal, Step::JournalPriors(..)), "{journal:?}");
    let wait = closing.next(ok());
    assert_eq!(wait, Step::Wait(backoff.delay(1)));
    let again = closing.next(Answer::Done);
    assert_eq!(names(&again), [first[0]], "only the one that failed");
    let journal = closing.next(Answer::PriorsSent(vec![Ok("id".into())]));
    assert!(matches!(journal, Step::JournalPriors(..)), "{journal:?}");
    assert!(matches!(closing.next(ok()), Step::SendManifest(..)));
}
