//! S3 through aws-sdk-s3 on the shared client's configuration (the same credentials, HTTP client,
//! proxies, trust and timeouts): the client configuration the spill's transfers start from, what
//! S3 said when it refused a request, and objects read whole from one endpoint (LocalLambda's code
//! and layers, which the bindings hand the emulator: it depends on no S3 client of its own).

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use bytes::Bytes;
use tokio::sync::OnceCell;

use crate::client::config::{client_for, ClientOptions, ConfigError, SharedClient};
use crate::error_text::sentence;

/// An S3 client's configuration on `client`'s, at `endpoint_url`, else at the SDK's endpoint for
/// S3 (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the profile's, else AWS's).
pub(crate) fn s3_config(
    client: &SharedClient,
    endpoint_url: Option<&str>,
) -> Result<aws_sdk_s3::config::Builder, ConfigError> {
    let config = client.service_config(endpoint_url)?;
    let own_endpoint = endpoint_url.is_some()
        || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|name| std::env::var_os(name).is_some());
    // An endpoint of its own (MinIO, moto, LocalStack) is addressed by path.
    Ok(aws_sdk_s3::config::Builder::from(&config).force_path_style(own_endpoint))
}

/// What S3 answered to a request it refused.
pub(crate) struct Refusal<'a> {
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
    pub status: u16,
}

/// S3's answer in `error`, when S3 gave one (None: the request failed on the way).
pub(crate) fn refusal<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<Refusal<'_>> {
    let SdkError::ServiceError(context) = error else { return None };
    Some(Refusal {
        code: context.err().code(),
        message: context.err().message(),
        status: context.raw().status().as_u16(),
    })
}

/// Why an object could not be read.
#[derive(Debug)]
pub enum GetObjectError {
    /// S3 refused: its error code (the HTTP status when its answer had none) and its message.
    Refused { code: String, message: String },
    /// No client, or the request or its body failed on the way: in words.
    Failed(String),
}

/// Objects read whole from one S3 endpoint, with a client on the engine's configuration in one
/// region, made on first use (a LocalLambda that never reads code from S3 builds none).
pub struct StoredObjects {
    endpoint_url: String,
    region: String,
    s3: OnceCell<Result<aws_sdk_s3::Client, String>>,
}

impl StoredObjects {
    pub fn new(endpoint_url: String, region: String) -> Self {
        Self { endpoint_url, region, s3: OnceCell::new() }
    }

    /// The bytes of `key` in `bucket`, of its version `version` when given.
    pub async fn get(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Bytes, GetObjectError> {
        let s3 = self.client().await?;
        let request = s3.get_object().bucket(bucket).key(key).set_version_id(version.map(str::to_owned));
        let object = request.send().await.map_err(|error| match refusal(&error) {
            Some(Refusal { code, message, status }) => GetObjectError::Refused {
                code: code.map_or_else(|| status.to_string(), str::to_owned),
                message: message.unwrap_or_default().to_owned(),
            },
            None => GetObjectError::Failed(sentence(&error)),
        })?;
        let body = object.body.collect().await.map_err(|error| GetObjectError::Failed(sentence(&error)))?;
        Ok(body.into_bytes())
    }

    async fn client(&self) -> Result<&aws_sdk_s3::Client, GetObjectError> {
        let made = self
            .s3
            .get_or_init(|| async {
                let options = ClientOptions { region: Some(self.region.clone()), ..ClientOptions::default() };
                let shared = client_for(&options).await.map_err(|error| error.to_string())?;
                let config = s3_config(&shared, Some(&self.endpoint_url)).map_err(|error| error.to_string())?;
                Ok(aws_sdk_s3::Client::from_conf(config.build()))
            })
            .await;
        made.as_ref().map_err(|why| GetObjectError::Failed(format!("no S3 client for {}: {why}", self.endpoint_url)))
    }
}
