//! What the judges read (RAW files' and cameras' previews, damaged and tiny
//! photos) and what they write (JSON).

use super::*;

#[test]
fn raw_files_are_judged_by_their_preview_or_not_at_all() {
    let preview = photo(&Shot::default());
    // A TIFF-like RAW: a header, the preview, then sensor data.
    let mut raw = b"II*\0\x08\0\0\0".to_vec();
    raw.extend(vec![0x11; 1000]);
    raw.extend(&preview);
    raw.extend(vec![0x22; 5000]);
    let from_raw = judge(&raw, None).unwrap();
    assert_eq!(from_raw.source, Source::RawPreview);
    let from_photo = judge(&preview, None).unwrap();
    assert_eq!(from_photo.source, Source::Photo);
    assert_eq!(
        Judgement {
            source: Source::Photo,
            ..from_raw
        },
        from_photo
    );

    // The simulated camera's RAW (a PPM) has no preview.
    let ppm = b"P6\n2 2\n255\n............".to_vec();
    let err = judge(&ppm, None).unwrap_err();
    assert_eq!(err, NotJudged::NoPreview);
    assert!(err.to_string().starts_with("not judged: "), "{err}");
    // A JPEG cut short after its header.
    let cut = &preview[..preview.len() / 3];
    assert!(matches!(judge(cut, None), Err(NotJudged::Undecodable(_))));
}

#[test]
fn a_cameras_large_preview_is_judged_in_place_of_its_photo() {
    let large = photo(&Shot {
        size: (1280, 960),
        ..Shot::default()
    });
    let preview = photo(&Shot::default());
    let both = with_mpf_preview(&large, &preview);
    let judgement = judge(&both, None).unwrap();
    assert_eq!(judgement.source, Source::CameraPreview);
    let as_photo = Judgement {
        source: Source::Photo,
        ..judgement
    };
    assert_eq!(as_photo, judge(&preview, None).unwrap());
    assert_ne!(as_photo, judge(&large, None).unwrap());
    // A preview smaller than the judges need is left alone.
    let small = photo(&Shot {
        size: (320, 240),
        ..Shot::default()
    });
    let judgement = judge(&with_mpf_preview(&large, &small), None).unwrap();
    assert_eq!(judgement, judge(&large, None).unwrap());
}

#[test]
fn damaged_and_tiny_photos_are_judged_or_refused_without_a_panic() {
    let whole = photo(&Shot::default());
    let tiny = photo(&Shot {
        size: (320, 240),
        ..Shot::default()
    });
    let with_preview = with_mpf_preview(&whole, &tiny);
    for n in 0..300usize {
        let mut damaged = whole.clone();
        let at = (n * 7919) % damaged.len();
        // And the preview's list, in the first 80 bytes.
        let mut list = with_preview.clone();
        list[2 + n % 78] ^= 1 << (n % 8);
        let _ = judge(&list, None);
        damaged[at] ^= 1 << (n % 8);
        if n % 3 == 0 {
            damaged.truncate(at.max(2));
        }
        let _ = judge(&damaged, None);
    }
    for (w, h) in [(1, 1), (2, 3), (700, 1), (1, 900)] {
        let judgement = judge(&synthetic(w, h, |x, y| [speckle(x, y); 3]), None).unwrap();
        let (mw, mh) = judgement.measured_px;
        assert!(mw >= 1 && mh >= 1 && mw <= u32::from(w) && mh <= u32::from(h));
    }
}

#[test]
fn a_judgement_is_small_in_json_and_reads_back() {
    let (judgement, verdict) = judged(&Shot {
        tilt: 20.0,
        ..Shot::default()
    });
    let json = serde_json::to_string(&judgement).unwrap();
    assert!(json.len() < 1024, "{} bytes: {json}", json.len());
    assert_eq!(serde_json::from_str::<Judgement>(&json).unwrap(), judgement);
    let json = serde_json::to_string(&verdict).unwrap();
    assert!(
        json.contains(r#""problem":"cut_off","edge":"top""#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), verdict);
}

#[test]
fn a_photo_judged_from_its_file_is_judged_as_from_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let plain = photo(&Shot::default());
    // A JPEG with 4 MB of segments before its scan, as a camera's maker
    // notes: decoded as it is read.
    let mut padded = plain[..2].to_vec();
    for _ in 0..64 {
        padded.extend([0xFF, 0xEF, 0xFF, 0xFF]);
        padded.extend(vec![0u8; 0xFFFD]);
    }
    padded.extend(&plain[2..]);
    let small = photo(&Shot {
        size: (320, 240),
        ..Shot::default()
    });
    let large = photo(&Shot {
        size: (1280, 960),
        ..Shot::default()
    });
    let mut raw = b"II*\0\x08\0\0\0".to_vec();
    raw.extend(&plain);
    for (name, bytes) in [
        ("plain.jpg", plain.clone()),
        ("padded.jpg", padded),
        ("small.jpg", small.clone()),
        ("preview.jpg", with_mpf_preview(&large, &plain)),
        ("raw.nef", raw),
        ("cut.jpg", plain[..plain.len() / 3].to_vec()),
    ] {
        let from_file = judge_file(&write(name, &bytes), None).unwrap();
        assert_eq!(from_file, judge(&bytes, None), "{name}");
    }
    assert_eq!(
        judge_file(&dir.path().join("plain.jpg"), None)
            .unwrap()
            .unwrap(),
        judge(&plain, None).unwrap()
    );
    let gone = judge_file(&dir.path().join("gone.jpg"), None).unwrap_err();
    assert_eq!(gone.kind(), std::io::ErrorKind::NotFound);
    // A background frame of another size is refused alike.
    let background = Picture::decode(&small).unwrap();
    assert!(matches!(
        judge_file(&dir.path().join("plain.jpg"), Some(&background)).unwrap(),
        Err(NotJudged::BackgroundSize { .. })
    ));
}
