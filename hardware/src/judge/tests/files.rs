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
