//! Multipart uploads left open under a photo's key by a run killed between creating one and keeping its id: listed (ListMultipartUploads, through a presigned URL) and aborted before a new one starts, so none is left behind.

use object_store::path::Path as Key;
use object_store::signer::{Method, SignedUrlOptions};
use reqwest::StatusCode;
use scanrig_actors::destination::Result;

use super::S3Destination;

impl S3Destination {
    /// Aborts every multipart upload open under exactly `key`. A store that
    /// cannot list them (501) is let be: the id kept in the spool covers
    /// all but a kill in the instant between a create and its keeping.
    pub(super) async fn abort_open(&self, key: &Key) -> Result<()> {
        let what = format!("list the uploads open for {}", self.url(key));
        let query = SignedUrlOptions::new().with_query([("uploads", ""), ("prefix", key.as_ref())]);
        let bucket = Key::from("");
        let answer = self
            .presigned(Method::GET, &bucket, &query, None)
            .await
            .map_err(|e| self.fail(&what, &e))?;
        if answer.status == StatusCode::NOT_IMPLEMENTED {
            return Ok(());
        }
        let listing = answer.success(&bucket).map_err(|e| self.fail(&what, &e))?;
        for id in open_under(&String::from_utf8_lossy(&listing.body), key.as_ref()) {
            self.abort(key, &id).await?;
        }
        Ok(())
    }
}

/// The upload ids of a ListMultipartUploads answer whose key is `key`.
fn open_under(xml: &str, key: &str) -> Vec<String> {
    let text = |within: &str, tag: &str| {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let start = within.find(&open)? + open.len();
        let end = within[start..].find(&close)? + start;
        Some(unescape(&within[start..end]))
    };
    xml.split("<Upload>")
        .skip(1)
        .filter(|upload| text(upload, "Key").as_deref() == Some(key))
        .filter_map(|upload| text(upload, "UploadId"))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_uploads_of_the_key_itself_are_taken() {
        let xml = "<ListMultipartUploadsResult><Bucket>b</Bucket>\
            <Upload><Key>a/x+1.jpg</Key><UploadId>one</UploadId></Upload>\
            <Upload><Key>a/x+1.jpg.ppm</Key><UploadId>other</UploadId></Upload>\
            <Upload><Key>a/x+1.jpg</Key><UploadId>t&amp;wo</UploadId></Upload>\
            </ListMultipartUploadsResult>";
        assert_eq!(open_under(xml, "a/x+1.jpg"), ["one", "t&wo"]);
        assert!(open_under(xml, "a/y.jpg").is_empty());
    }
}
