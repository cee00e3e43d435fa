//! What `scanrig destination test` and the daemon's start-up check ask of a bucket: a small object written, read back and deleted, or, without writing, a look at a key that is not there; a refusal of that look told apart from a key that may not list the bucket.

use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use scanrig_actors::destination::{DestinationError, Result, PROBE};
use scanrig_hardware::fsutil::hex;
use sha2::{Digest, Sha256};

use super::words::{denied_reading, Problem};
use super::S3Destination;
use crate::http::error_chain;

impl S3Destination {
    /// Reaches the bucket; with `write`, writes, reads back and deletes a
    /// small object.
    pub(super) async fn probe_async(&self, write: bool) -> Result<()> {
        if write {
            self.write_read_delete().await
        } else {
            self.look().await
        }
    }

    /// Looks at a key that is not there: "not found" is the answer of a
    /// bucket that can be reached. Without `s3:ListBucket` a store answers
    /// AccessDenied instead, as it does to a key that may not read: a
    /// listing tells which.
    async fn look(&self) -> Result<()> {
        let key = self.key(PROBE);
        let what = format!("reach bucket {}", self.settings.bucket);
        let e = match self.store.get(&key).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match Problem::of(&error_chain(&e)) {
            Problem::NotFound => Ok(()),
            Problem::Denied => match self.list_one().await {
                Ok(()) => Err(denied_reading(&what, &self.target(), true)),
                Err(listing) if Problem::of(&error_chain(&listing)) == Problem::Denied => {
                    Err(denied_reading(&what, &self.target(), false))
                }
                Err(_) => Err(self.fail(&what, &e)),
            },
            _ => Err(self.fail(&what, &e)),
        }
    }

    /// Lists one key under the prefix (ListObjectsV2), which takes
    /// `s3:ListBucket`.
    async fn list_one(&self) -> std::result::Result<(), object_store::Error> {
        let prefix = (!self.prefix.is_empty()).then_some(self.prefix.as_str());
        let one = PaginatedListOptions {
            max_keys: Some(1),
            ..PaginatedListOptions::default()
        };
        self.store.list_paginated(prefix, one).await.map(drop)
    }

    /// Writes, reads back and deletes a small object.
    async fn write_read_delete(&self) -> Result<()> {
        let key = self.key(&format!("{PROBE}-{}", std::process::id()));
        let body = format!("scanrig destination test {}\n", self.url(&key));
        let what = format!("write {}", self.url(&key));
        let opts = PutOptions {
            attributes: Self::attributes(PROBE, &hex(&Sha256::digest(body.as_bytes()))),
            ..PutOptions::default()
        };
        self.store
            .put_opts(&key, PutPayload::from(body.clone().into_bytes()), opts)
            .await
            .map_err(|e| self.fail(&what, &e))?;
        let read = self.read(&key).await;
        let deleted = self.store.delete(&key).await;
        let read = read?;
        if read != body.as_bytes() {
            return Err(DestinationError::Permanent(format!(
                "S3: {} read back differs from what was written ({} bytes instead of {}); the store or a proxy in between changes objects",
                self.url(&key),
                read.len(),
                body.len()
            )));
        }
        deleted.map_err(|e| self.fail(&format!("delete {}", self.url(&key)), &e))
    }

    /// The bytes of the object under `key`.
    async fn read(&self, key: &Key) -> Result<bytes::Bytes> {
        let what = format!("read back {}", self.url(key));
        let got = self.get(key, &what).await?;
        got.bytes().await.map_err(|e| self.fail(&what, &e))
    }
}
