//! Where spilled payloads go: `s3://bucket/prefix`, and the keys made there.

/// A bucket, and the prefix (empty, or ending in `/`) every key made under it starts with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpillLocation {
    pub bucket: String,
    pub prefix: String,
}

impl SpillLocation {
    /// `s3://bucket` or `s3://bucket/some/prefix`, or why it is neither.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| format!("'{url}' is not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if !is_bucket_name(bucket) {
            return Err(format!(
                "'{bucket}' in '{url}' is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        Ok(Self { bucket: bucket.to_owned(), prefix })
    }

    /// A new key under the prefix that nobody can guess: 122 random bits from the system's
    /// random source, after what the object is for (`argument`, `result`).
    pub fn new_key(&self, purpose: &str) -> String {
        format!("{}{purpose}-{}", self.prefix, uuid::Uuid::new_v4().simple())
    }

    /// True for a key of this location: a reference to anything else is refused, not followed.
    pub fn holds(&self, bucket: &str, key: &str) -> bool {
        bucket == self.bucket && key.starts_with(&self.prefix) && !key[self.prefix.len()..].contains("..")
    }

    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// S3's rules for a bucket name (the common ones: no `xn--` or `-s3alias` checks).
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_a_bucket_and_a_prefix() {
        let location = SpillLocation::parse("s3://my-bucket/runs/today/").unwrap();
        assert_eq!((location.bucket.as_str(), location.prefix.as_str()), ("my-bucket", "runs/today/"));
        assert_eq!(SpillLocation::parse("s3://my-bucket").unwrap().prefix, "");
        assert_eq!(SpillLocation::parse("s3://my-bucket/a").unwrap().url(), "s3://my-bucket/a/");
    }

    #[test]
    fn what_is_not_an_s3_location_is_refused_saying_why() {
        assert!(SpillLocation::parse("my-bucket/runs").unwrap_err().contains("not an s3://bucket/prefix URL"));
        assert!(SpillLocation::parse("s3://My_Bucket").unwrap_err().contains("not an S3 bucket name"));
        assert!(SpillLocation::parse("s3://ab").is_err());
        assert!(SpillLocation::parse("s3://-bucket").is_err());
    }

    #[test]
    fn keys_are_unguessable_and_only_the_locations_own_are_followed() {
        let location = SpillLocation::parse("s3://bucket/runs").unwrap();
        let (first, second) = (location.new_key("result"), location.new_key("result"));
        assert!(first.starts_with("runs/result-") && first.len() == "runs/result-".len() + 32);
        assert_ne!(first, second);
        assert!(location.holds("bucket", &first));
        assert!(!location.holds("other", &first));
        assert!(!location.holds("bucket", "elsewhere/result-1"));
        assert!(!location.holds("bucket", "runs/../secrets"));
    }
}
