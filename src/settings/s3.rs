//! `[destination.s3]`: uploads to an S3-compatible bucket, its credentials and its checks.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[destination.s3]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3 {
    /// The store's URL (`https://s3.eu-west-1.amazonaws.com`, a MinIO or
    /// Garage server's); empty: AWS in `region`.
    pub endpoint: String,
    /// The bucket's region (`us-east-1` where a store has none).
    pub region: String,
    /// The bucket.
    pub bucket: String,
    /// The folder in the bucket the scans' folders go in (`a/b`); empty:
    /// the bucket's top.
    pub prefix: String,
    /// Address the bucket in the path (`https://host/bucket/key`, as MinIO
    /// and most servers in a studio want) instead of in the host name
    /// (`https://bucket.host/key`, AWS's way).
    pub path_style: bool,
    /// A file (mode 0600) holding `access_key_id = "…"` and
    /// `secret_access_key = "…"`; unset: `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` from the environment.
    pub credentials_file: Option<PathBuf>,
    /// Photos above this size, in MiB, go up in parts.
    pub multipart_above_mb: u64,
    /// The size of a part, in MiB (streamed from the spool file, as a
    /// photo in one request is).
    pub part_mb: u64,
    /// Longest wait for one request, in seconds.
    pub timeout_s: u64,
    /// Retries of one request that failed in a way worth retrying.
    pub retries: u32,
}

impl Default for S3 {
    fn default() -> Self {
        S3 {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            prefix: "scanrig".into(),
            path_style: false,
            credentials_file: None,
            multipart_above_mb: 16,
            part_mb: 8,
            timeout_s: 60,
            retries: 3,
        }
    }
}

/// An access key, from the credentials file or the environment. Its
/// `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Credentials {
    /// The access key id (not a secret: it names the key).
    pub access_key_id: String,
    /// The secret.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Credentials({}, secret withheld)", self.access_key_id)
    }
}

impl S3 {
    /// The prefix without leading or trailing `/`.
    pub fn prefix(&self) -> String {
        self.prefix.trim_matches('/').to_owned()
    }

    /// The access key: from `credentials_file` (only its owner may read
    /// it), else from the environment; the error says what to do.
    pub fn credentials(&self) -> Result<S3Credentials, String> {
        let creds = match &self.credentials_file {
            Some(path) => {
                let secret = crate::secret::read(path).map_err(|e| e.to_string())?;
                let text = String::from_utf8(secret).map_err(|_| {
                    format!(
                        "{} is not UTF-8 text; write the keys as text",
                        path.display()
                    )
                })?;
                toml::from_str::<S3Credentials>(&text).map_err(|e| {
                    format!(
                        "{} does not hold the two lines access_key_id = \"…\" and secret_access_key = \"…\" ({})",
                        path.display(),
                        e.message()
                    )
                })?
            }
            None => {
                let var = |name: &str| std::env::var(name).unwrap_or_default();
                S3Credentials {
                    access_key_id: var("AWS_ACCESS_KEY_ID"),
                    secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
                }
            }
        };
        if creds.access_key_id.trim().is_empty() || creds.secret_access_key.trim().is_empty() {
            let from = match &self.credentials_file {
                Some(path) => format!("{} has an empty key", path.display()),
                None => "no credentials_file is set and AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not in the environment".into(),
            };
            return Err(format!(
                "{from}; write access_key_id = \"…\" and secret_access_key = \"…\" in a file only scanrig may read (chmod 600) and name it in destination.s3.credentials_file"
            ));
        }
        Ok(creds)
    }
}

/// Problems with `[destination.s3]` as `(key, reason)`; `used` says
/// whether S3 is the destination (only then are bucket and keys needed).
pub fn s3_problems(s: &S3, used: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !s.endpoint.is_empty() {
        let ok = s
            .endpoint
            .parse::<google_drive3::hyper::Uri>()
            .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
        if !ok {
            out.push((
                "destination.s3.endpoint",
                format!(
                    "`{}` is not an http:// or https:// URL; write the store's address as https://host[:port], or leave it empty for AWS",
                    s.endpoint
                ),
            ));
        }
    }
    if s.region.trim().is_empty() {
        out.push((
            "destination.s3.region",
            "is empty; give the bucket's region (us-east-1 where the store has none)".into(),
        ));
    }
    if s.prefix.chars().any(char::is_control) || s.prefix.contains("//") {
        out.push((
            "destination.s3.prefix",
            format!(
                "{:?} is not a folder in a bucket; write it as a/b, without control characters or empty levels",
                s.prefix
            ),
        ));
    }
    if !(5..=5120).contains(&s.part_mb) {
        out.push((
            "destination.s3.part_mb",
            format!(
                "must be 5 to 5120 MiB (S3's limits on a part), found {}",
                s.part_mb
            ),
        ));
    }
    if !(5..=5120).contains(&s.multipart_above_mb) {
        out.push((
            "destination.s3.multipart_above_mb",
            format!(
                "must be 5 to 5120 MiB (a photo up to it is held in memory while it is sent), found {}",
                s.multipart_above_mb
            ),
        ));
    }
    if !(1..=3600).contains(&s.timeout_s) {
        out.push((
            "destination.s3.timeout_s",
            format!("must be 1 to 3600 seconds, found {}", s.timeout_s),
        ));
    }
    if s.retries > 20 {
        out.push((
            "destination.s3.retries",
            format!("must be 0 to 20, found {}", s.retries),
        ));
    }
    if !used {
        return out;
    }
    let name_ok = (3..=63).contains(&s.bucket.len())
        && s.bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !name_ok {
        out.push((
            "destination.s3.bucket",
            format!(
                "`{}` is not a bucket name: 3 to 63 lower-case letters, digits, `-` or `.`",
                s.bucket
            ),
        ));
    }
    if let Err(e) = s.credentials() {
        let key = if s.credentials_file.is_some() {
            "destination.s3.credentials_file"
        } else {
            "destination.s3"
        };
        out.push((key, e));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn with_file(text: &str, mode: u32) -> (tempfile::TempDir, S3) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let s = S3 {
            bucket: "scans".into(),
            credentials_file: Some(path),
            ..S3::default()
        };
        (dir, s)
    }

    #[test]
    fn keys_come_from_a_file_only_its_owner_reads_and_never_show() {
        let keys = "access_key_id = \"AKIDEXAMPLE\"\nsecret_access_key = \"wJalrXUtnFEMI\"\n";
        let (_dir, s) = with_file(keys, 0o600);
        let c = s.credentials().unwrap();
        assert_eq!(c.secret_access_key, "wJalrXUtnFEMI");
        assert!(!format!("{c:?}").contains("wJalr"), "{c:?}");
        assert!(s3_problems(&s, true).is_empty());

        let (_dir, s) = with_file(keys, 0o644);
        let problems = s3_problems(&s, true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (key, why) = &problems[0];
        assert_eq!(*key, "destination.s3.credentials_file");
        assert!(why.contains("chmod 600") && !why.contains("wJalr"), "{why}");

        let (_dir, s) = with_file("secret_access_key = \"wJalr\"\n", 0o600);
        let why = s.credentials().unwrap_err();
        assert!(
            why.contains("access_key_id = ") && !why.contains("wJalr"),
            "{why}"
        );
    }

    #[test]
    fn bad_values_are_named_with_what_is_expected() {
        let s = S3 {
            endpoint: "minio:9000".into(),
            bucket: "No".into(),
            part_mb: 1,
            credentials_file: Some("/nowhere/keys".into()),
            ..S3::default()
        };
        let keys: Vec<&str> = s3_problems(&s, true).iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "destination.s3.endpoint",
                "destination.s3.part_mb",
                "destination.s3.bucket",
                "destination.s3.credentials_file"
            ]
        );
        // Not the destination: bucket and keys are not asked for.
        assert_eq!(s3_problems(&S3::default(), false), []);
    }
}
