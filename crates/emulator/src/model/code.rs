//! Where a function's or a layer's zip comes from: the request itself, or an S3 object, read
//! through an `ObjectSource`. The crate has no S3 client: whoever starts the emulator gives it one
//! with the endpoint (the Python bindings give the engine's), so the emulator depends on the
//! protocol crate alone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub enum CodeSource {
    /// The zip, decoded from the request's base64.
    Zip(Vec<u8>),
    /// An object Lambda reads with GetObject (S3Bucket, S3Key, S3ObjectVersion).
    S3 { bucket: String, key: String, version: Option<String> },
}

/// Reads objects from one S3 endpoint.
pub trait ObjectSource: Send + Sync {
    /// The bytes of `key` in `bucket`, of its version `version` when given.
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str, version: Option<&'a str>) -> ObjectRead<'a>;
}

/// An object being read (a boxed future keeps `ObjectSource` usable as `dyn`).
pub type ObjectRead<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, ObjectError>> + Send + 'a>>;

/// Why an object could not be read.
#[derive(Debug)]
pub enum ObjectError {
    /// S3 refused: its error code (the HTTP status when its answer had none) and its message.
    Refused { code: String, message: String },
    /// Anything else that failed, in words.
    Failed(String),
}

/// The S3 code and layers given as (S3Bucket, S3Key) are read from; handlers are given its URL as
/// AWS_ENDPOINT_URL_S3.
pub struct S3Endpoint {
    pub url: String,
    pub objects: Arc<dyn ObjectSource>,
}
