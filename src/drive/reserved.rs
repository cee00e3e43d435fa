//! The file id reserved for a create, kept durably (written, fsynced,
//! renamed) before the first byte of the create goes out, beside what it
//! is for: `.<name>.drive-id` next to a photo's spool file, and in the
//! scan's spool folder for its manifest, pose priors and folders. A create repeated
//! after a crash or a kill uses the same id, so Drive refuses a second copy
//! even when the first lands late.

use std::path::Path;

use scanrig_actors::destination::Upload;

use crate::kept::KeptId;

/// Where the id reserved for one file is kept.
pub(super) type ReservedId = KeptId;

impl KeptId {
    /// For a photo: beside its spool file.
    pub(super) fn of_photo(upload: &Upload) -> ReservedId {
        KeptId::beside(upload, "drive-id")
    }

    /// For another file of a scan (`name` may hold folders, `a/b.txt`), in
    /// the scan's spool folder `scan_dir`.
    pub(super) fn of_file(scan_dir: &Path, name: &str) -> ReservedId {
        KeptId::at(scan_dir.join(format!(".{}.drive-id", name.replace('/', "%2F"))))
    }

    /// For a folder of a scan (`path` from the scan's folder down, none for
    /// the scan's own folder), in the scan's spool folder `scan_dir`; kept
    /// apart from files' by its trailing `/`.
    pub(super) fn of_folder(scan_dir: &Path, path: &[&str]) -> ReservedId {
        ReservedId::of_file(scan_dir, &format!("{}/", path.join("/")))
    }
}

#[cfg(test)]
mod tests {
    use scanrig_actors::model::{ScanId, ShotId};

    use super::*;

    #[test]
    fn an_id_outlives_the_process_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let upload = Upload {
            scan: ScanId::from_existing("20260101T000000Z-t"),
            shot: ShotId(1),
            local: dir.path().join("0001.jpg"),
            name: "0001.jpg".into(),
            sha256: String::new(),
            size: 0,
        };
        let photo = ReservedId::of_photo(&upload);
        let prior = ReservedId::of_file(dir.path(), "colmap/images.txt");
        assert_ne!(photo, prior);
        let folders = [
            ReservedId::of_folder(dir.path(), &[]),
            ReservedId::of_folder(dir.path(), &["colmap"]),
        ];
        assert_ne!(folders[0], folders[1]);
        assert!(!folders.contains(&ReservedId::of_file(dir.path(), "colmap")));
        assert_eq!(photo.load(), None);
        photo.save("id-1").unwrap();
        prior.save("id-2").unwrap();
        assert_eq!(
            ReservedId::of_photo(&upload).load().as_deref(),
            Some("id-1")
        );
        assert_eq!(
            ReservedId::of_file(dir.path(), "colmap/images.txt")
                .load()
                .as_deref(),
            Some("id-2")
        );
        photo.forget();
        assert_eq!(photo.load(), None);
    }
}
