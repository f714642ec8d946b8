//! Where a function's or a layer's zip comes from: the request itself, or an S3 object.

pub enum CodeSource {
    /// The zip, decoded from the request's base64.
    Zip(Vec<u8>),
    /// An object Lambda reads with GetObject (S3Bucket, S3Key, S3ObjectVersion).
    S3 { bucket: String, key: String, version: Option<String> },
}
