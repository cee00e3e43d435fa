//! Access tokens for Google Drive through a flaky token endpoint: a dropped
//! connection or a server error there is retried, for an OAuth
//! authorisation and for a service account alike; only a refusal of the
//! grant asks for `scanrig auth drive`.

mod common;
mod drive_rig;
mod fake_drive;

use common::ring_profile;
use drive_rig::{assert_delivered, drive_rig, scan, service_account_rig};
use fake_drive::{FakeDrive, Fault};

/// What the token endpoint does to the first requests in each test.
const FLAKY: [Fault; 3] = [Fault::ResetMidBody, Fault::ServerError, Fault::ResetMidBody];

#[test]
fn an_oauth_refresh_through_a_flaky_token_endpoint_is_retried() {
    let fake = FakeDrive::start();
    // The stored access token has expired: the first requests refresh it.
    let rig = drive_rig(&fake, "");
    fake.fail_token_requests(&FLAKY);
    let profile = ring_profile(4, 0);
    let (scan, _) = scan(&rig, &profile);
    assert_delivered(&rig, &fake, &scan, &profile);
    let stats = fake.stats();
    assert!(stats.token_refreshes >= 1, "{stats:?}");
    assert_eq!(
        stats.unauthorized, 0,
        "a request went without a token: {stats:?}"
    );
}

#[test]
fn a_service_account_through_a_flaky_token_endpoint_is_retried() {
    let fake = FakeDrive::start();
    let shared = fake.add_folder("Team scans", "shared-drive-1");
    let rig = service_account_rig(&fake, &shared);
    fake.fail_token_requests(&FLAKY);
    rig.profile("drive", &ring_profile(3, 0));
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("scanrig auth drive"), "{}", out.stderr);
    let summary = common::assert_summary_complete(&out.summary(), 3);
    let photos = fake
        .files()
        .iter()
        .filter(|f| f.name.ends_with(".jpg"))
        .count();
    assert_eq!(photos, 3, "{summary}");
    assert_eq!(fake.stats().unauthorized, 0, "{:?}", fake.stats());
}

#[test]
fn a_refused_grant_is_final_and_says_what_to_do() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    fake.revoke();
    rig.profile("drive", &ring_profile(2, 0));
    let out = rig.run(&["scan", "--profile", "drive", "--json"]);
    out.expect_code(1);
    assert!(out.stderr.contains("scanrig auth drive"), "{}", out.stderr);
    assert!(out.stderr.contains("invalid_grant"), "{}", out.stderr);
    // Given up at once: one refresh per photo attempt, not a retry loop.
    let stats = fake.stats();
    assert!(stats.requests < 40, "{stats:?}");
}
