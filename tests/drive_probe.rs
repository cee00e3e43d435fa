//! `scanrig destination test` with Google Drive, played by the fake Drive: the folder reached, a small file written, its checksum read back and the file deleted; a refusal told in words.

mod common;
mod drive_rig;
mod fake_drive;

use drive_rig::{drive_rig, FOLDER};
use fake_drive::FakeDrive;

#[test]
fn destination_test_writes_reads_back_and_deletes_a_file_in_the_drive_folder() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    let out = rig.run(&["destination", "test", "drive"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("destination: Google Drive folder rigs/bench")
            && out
                .stdout
                .contains("OK: reached; a test object was written, read back and deleted"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let stats = fake.stats();
    assert_eq!(stats.deletes, 1, "the test file was deleted: {stats:?}");
    let left: Vec<String> = fake
        .files()
        .into_iter()
        .filter(|f| f.mime_type != FOLDER)
        .map(|f| f.name)
        .collect();
    assert!(left.is_empty(), "files left at Drive: {left:?}");
    let folders: Vec<String> = fake.files().into_iter().map(|f| f.name).collect();
    assert_eq!(
        folders,
        ["rigs", "bench"],
        "the parent folder, made as an upload would"
    );
}

#[test]
fn destination_test_says_what_drive_refused() {
    let fake = FakeDrive::start();
    let rig = drive_rig(&fake, "");
    fake.set_quota_exceeded(true);
    let out = rig.run(&["destination", "test"]);
    out.expect_code(1);
    assert!(out.stdout.contains("FAILED: "), "{}", out.stdout);
    assert!(
        out.stdout.to_lowercase().contains("quota"),
        "{}",
        out.stdout
    );
    fake.revoke();
    fake.set_quota_exceeded(false);
    let out = rig.run(&["destination", "test"]);
    out.expect_code(1);
    assert!(out.stdout.contains("scanrig auth drive"), "{}", out.stdout);
}
