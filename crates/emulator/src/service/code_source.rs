//! Where the service gets a zip: the request's own bytes, or an S3 object read with GetObject
//! from the S3 endpoint the emulator was given, through aws-sdk-s3 on the engine's client
//! configuration (one HTTP/TLS stack), with Lambda's words for what S3 refused.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use lambda_executor_engine::{client_for, sentence, ClientOptions};

use super::emulator::Emulator;
use crate::model::code::CodeSource;

/// Why code could not be read; the words are Lambda's (an InvalidParameterValueException).
pub struct CodeSourceError(pub String);

impl Emulator {
    /// The zip `source` names.
    pub(crate) async fn code_bytes(&self, source: CodeSource) -> Result<Vec<u8>, CodeSourceError> {
        let (bucket, key, version) = match source {
            CodeSource::Zip(zip) => return Ok(zip),
            CodeSource::S3 { bucket, key, version } => (bucket, key, version),
        };
        let s3 = self.s3_client().await?;
        let output = s3.get_object().bucket(&bucket).key(&key).set_version_id(version).send().await;
        let output = output.map_err(|error| CodeSourceError(get_object_error(error)))?;
        let body = output
            .body
            .collect()
            .await
            .map_err(|error| CodeSourceError(format!("Error occurred while GetObject. {}", sentence(&error))))?;
        Ok(body.into_bytes().to_vec())
    }

    /// The S3 client of the emulator's S3 endpoint, made on first use.
    async fn s3_client(&self) -> Result<aws_sdk_s3::Client, CodeSourceError> {
        let Some(endpoint) = self.config.s3_endpoint_url.clone() else {
            return Err(CodeSourceError(
                "LocalLambda reads code from S3 (S3Bucket, S3Key) from an S3 endpoint it is given, and it was given \
                 none: start it with LocalLambda(s3_endpoint_url=...) or `lambda-executor local --s3-endpoint-url \
                 URL`, or set AWS_ENDPOINT_URL_S3 where it starts (or send the zip as ZipFile)"
                    .into(),
            ));
        };
        let region = self.config.region.clone();
        let client = self
            .s3
            .get_or_init(|| async move {
                let options = ClientOptions { region: Some(region), ..ClientOptions::default() };
                let shared = client_for(&options).await.map_err(|error| error.to_string())?;
                let config = shared.service_config(Some(&endpoint)).map_err(|error| error.to_string())?;
                // An endpoint of its own (moto, MinIO, LocalStack) is addressed by path.
                let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
                Ok(aws_sdk_s3::Client::from_conf(s3))
            })
            .await;
        client.clone().map_err(|why| CodeSourceError(format!("LocalLambda cannot read code from S3: {why}")))
    }
}

/// Lambda's words for a GetObject that failed: S3's error code and message as S3 gave them.
fn get_object_error<E>(error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &error {
        SdkError::ServiceError(context) => {
            let code = context.err().code().map(str::to_owned);
            let code = code.unwrap_or_else(|| context.raw().status().as_u16().to_string());
            let message = context.err().message().unwrap_or_default();
            format!("Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}")
        }
        _ => format!("Error occurred while GetObject. {}", sentence(&error)),
    }
}
