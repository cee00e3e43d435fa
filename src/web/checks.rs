//! The two pictures of a ring's check that the object has not moved: the
//! ring's first photo and the camera's frame from the same pose once the
//! ring was shot, for the page to show side by side while the scan waits.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use scanrig_actors::moved::{picture_path, Picture};

use super::error::{plain, ApiError, ApiResult};
use super::Shared;

/// Where the page finds picture `which` of ring `ring`'s check of `scan`.
pub(crate) fn check_url(scan: &str, ring: u32, which: Picture) -> String {
    format!("/api/v1/scans/{scan}/checks/{ring}/{}", which.name())
}

/// `GET /scans/{id}/checks/{ring}/{picture}`: `photo` or `frame`, a JPEG.
pub(super) async fn picture(
    shared: web::Data<Shared>,
    path: web::Path<(String, String, String)>,
) -> ApiResult {
    let (scan, ring, which) = path.into_inner();
    let dir = shared.settings.spool_dir().join(plain(&scan)?);
    let ring: u32 = ring
        .parse()
        .map_err(|_| ApiError::bad(format!("{ring:?} is not a ring's number (1, 2, …)")))?;
    let which = Picture::named(&which).ok_or_else(|| {
        ApiError::bad(format!(
            "{which:?} is not a check's picture: photo or frame"
        ))
    })?;
    let file = picture_path(&dir, ring, which);
    let read = web::block(move || std::fs::read(file))
        .await
        .map_err(ApiError::internal)?;
    let jpeg = read.map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "scan {scan} has no {} of ring {ring}'s check on this rig",
                which.name()
            ),
        )
    })?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(jpeg))
}
