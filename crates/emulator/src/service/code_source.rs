//! Where the service gets a zip: the request's own bytes, or an S3 object read from the S3
//! endpoint the emulator was given, with Lambda's words for what S3 refused. The crate has no S3
//! client: whoever starts the emulator gives it an `ObjectSource` with the endpoint (the Python
//! bindings give the engine's), so the emulator depends on the protocol crate alone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::emulator::Emulator;
use crate::model::code::CodeSource;

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

/// Why code could not be read; the words are Lambda's (an InvalidParameterValueException).
pub struct CodeSourceError(pub String);

impl Emulator {
    /// The zip `source` names.
    pub(crate) async fn code_bytes(&self, source: CodeSource) -> Result<Vec<u8>, CodeSourceError> {
        let (bucket, key, version) = match source {
            CodeSource::Zip(zip) => return Ok(zip),
            CodeSource::S3 { bucket, key, version } => (bucket, key, version),
        };
        let Some(s3) = &self.config.s3 else {
            return Err(CodeSourceError(
                "LocalLambda reads code from S3 (S3Bucket, S3Key) from an S3 endpoint it is given, and it was given \
                 none: start it with LocalLambda(s3_endpoint_url=...) or `lambda-executor local --s3-endpoint-url \
                 URL`, or set AWS_ENDPOINT_URL_S3 where it starts (or send the zip as ZipFile)"
                    .into(),
            ));
        };
        s3.objects.get(&bucket, &key, version.as_deref()).await.map_err(|error| {
            CodeSourceError(match error {
                ObjectError::Refused { code, message } => {
                    format!("Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}")
                }
                ObjectError::Failed(why) => format!("Error occurred while GetObject. {why}"),
            })
        })
    }
}
