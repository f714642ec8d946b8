//! Where the service gets a zip: the request's own bytes, or an S3 object read from the S3
//! endpoint the emulator was given (`model::code::S3Endpoint`), with Lambda's words for what S3
//! refused.

use super::emulator::Emulator;
use crate::model::code::{CodeSource, ObjectError};

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
