//! Spilled payloads moved through S3 with aws-sdk-s3 on the engine's client configuration (the
//! same credentials, HTTP client, proxies, trust and timeouts): an upload that returns the
//! reference, and a read that checks the object against its reference and deletes it. Each
//! refusal names the object and the permission it needs.

use std::sync::Arc;
use std::time::Instant;

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::config::{ConfigError, SharedClient};
use crate::error_text::sentence;
use crate::logging::SPILL;
use crate::process::runtime;
use crate::s3::{refusal, s3_config, Refusal};
use crate::spill::location::SpillLocation;
use crate::spill::reference::ObjectRef;

/// Objects larger than this go up in parts, several at once (S3's parts are 5 MB at least).
const MULTIPART_OVER: usize = 32 << 20;
const PART: usize = 16 << 20;
const PARTS_AT_ONCE: usize = 4;
/// A read's buffer is made this large at most before the object's bytes arrive.
const PREALLOCATED_AT_MOST: u64 = 1 << 30;
/// Objects moving at once: a fan-out of large payloads shares the bandwidth, not its memory.
const TRANSFERS_AT_ONCE: usize = 16;

/// Why a spilled payload could not be moved: the object, what was done, S3's word, and the
/// permission that would allow it.
#[derive(Debug)]
pub struct SpillError {
    pub url: String,
    pub action: &'static str,
    pub permission: &'static str,
    pub why: String,
    /// S3 refused the caller the permission.
    pub denied: bool,
}

impl std::fmt::Display for SpillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} failed: {}", self.action, self.url, self.why)?;
        if self.denied {
            write!(f, " (the caller needs {} on it)", self.permission)?;
        }
        Ok(())
    }
}

/// What S3, or the way to it, said of a request: in words, and whether it refused permission.
pub(super) struct Said {
    words: String,
    denied: bool,
}

impl From<String> for Said {
    fn from(words: String) -> Self {
        Self { words, denied: false }
    }
}

impl From<&str> for Said {
    fn from(words: &str) -> Self {
        words.to_owned().into()
    }
}

impl std::error::Error for SpillError {}

/// An object at the spill location: its key, its size in bytes and its age in seconds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Stored {
    pub key: String,
    pub size: u64,
    pub age: f64,
}

/// Reads and writes spilled payloads at one location.
#[derive(Clone, Debug)]
pub struct Spill {
    pub(super) s3: aws_sdk_s3::Client,
    pub location: SpillLocation,
    transfers: Arc<Semaphore>,
    /// S3 is reached over https.
    tls: bool,
}

impl Spill {
    /// An S3 client on `client`'s configuration (S3's endpoint is the SDK's: AWS_ENDPOINT_URL_S3,
    /// AWS_ENDPOINT_URL or the profile's, else AWS's), for `location`.
    pub fn new(client: &SharedClient, location: SpillLocation) -> Result<Self, ConfigError> {
        let config = client.service_config(None)?;
        let endpoint = std::env::var("AWS_ENDPOINT_URL_S3").ok().or_else(|| config.endpoint_url().map(str::to_owned));
        let tls = endpoint.is_none_or(|url| url.starts_with("https://"));
        let s3 = s3_config(client, None)?
            // The reference carries a SHA-256 that is checked on every read: no checksum of S3's
            // own is computed on top of it.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            location,
            transfers: Arc::new(Semaphore::new(TRANSFERS_AT_ONCE)),
            tls,
        })
    }

    /// Stores `payload` under a new key; returns its reference.
    pub async fn put(&self, purpose: &str, payload: Bytes) -> Result<ObjectRef, SpillError> {
        let started = Instant::now();
        let size = payload.len();
        let stored = self.put_now(purpose, payload).await;
        match &stored {
            Ok(reference) => log::debug!(
                target: SPILL,
                "stored {size} bytes at {} in {:.3} s",
                self.url(&reference.key),
                started.elapsed().as_secs_f64()
            ),
            Err(error) => log::warn!(target: SPILL, "{error}"),
        }
        stored
    }

    async fn put_now(&self, purpose: &str, payload: Bytes) -> Result<ObjectRef, SpillError> {
        let _turn = self.transfers.acquire().await.expect("the semaphore is never closed");
        let key = self.location.new_key(purpose);
        let reference = ObjectRef::of(&self.location.bucket, &key, &payload);
        let refused = |why| self.error(&key, "writing", "s3:PutObject", why);
        if payload.len() <= MULTIPART_OVER {
            let put = self.s3.put_object().bucket(&self.location.bucket).key(&key).body(ByteStream::from(payload));
            // The body's SHA-256 is the reference's: the signature takes it rather than hash the body again.
            put.customize()
                .interceptor(PayloadHash(PayloadSigningOverride::Precomputed(reference.sha256.clone())))
                .send()
                .await
                .map_err(|error| refused(described(error)))?;
        } else {
            self.put_in_parts(&key, payload).await.map_err(refused)?;
        }
        Ok(reference)
    }

    /// The payload `reference` stands for, checked against it; the object is deleted once read.
    pub async fn take(&self, reference: &ObjectRef) -> Result<Bytes, SpillError> {
        let started = Instant::now();
        let taken = self.take_now(reference).await;
        match &taken {
            Ok(payload) => log::debug!(
                target: SPILL,
                "read back {} bytes from {} in {:.3} s",
                payload.len(),
                self.url(&reference.key),
                started.elapsed().as_secs_f64()
            ),
            Err(error) => log::warn!(target: SPILL, "{error}"),
        }
        taken
    }

    async fn take_now(&self, reference: &ObjectRef) -> Result<Bytes, SpillError> {
        if !self.location.holds(&reference.bucket, &reference.key) {
            let url = format!("s3://{}/{}", reference.bucket, reference.key);
            return Err(SpillError {
                url,
                action: "reading",
                permission: "s3:GetObject",
                why: format!("it is not under the spill location {}, so it is not read", self.location.url()),
                denied: false,
            });
        }
        let key = &reference.key;
        let _turn = self.transfers.acquire().await.expect("the semaphore is never closed");
        let object = self
            .s3
            .get_object()
            .bucket(&reference.bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| self.error(key, "reading", "s3:GetObject", described(error)))?;
        // Read into one buffer of the size the reference gives, chunk by chunk as they come,
        // rather than gathered whole first and then copied into one (twice the memory).
        let mut body = object.body;
        let mut payload = BytesMut::with_capacity(reference.size.min(PREALLOCATED_AT_MOST) as usize);
        while let Some(chunk) =
            body.try_next().await.map_err(|error| self.error(key, "reading", "s3:GetObject", sentence(&error)))?
        {
            if (payload.len() + chunk.len()) as u64 > reference.size {
                let why = format!(
                    "it holds more than the {} bytes of SHA-256 {} it was written with",
                    reference.size, reference.sha256
                );
                return Err(self.error(key, "reading", "s3:GetObject", why));
            }
            payload.extend_from_slice(&chunk);
        }
        let payload = payload.freeze();
        if !reference.matches(&payload) {
            let why = format!(
                "it holds {} bytes that are not the {} bytes of SHA-256 {} it was written with",
                payload.len(),
                reference.size,
                reference.sha256
            );
            return Err(self.error(key, "reading", "s3:GetObject", why));
        }
        self.delete(key).await?;
        Ok(payload)
    }

    /// Every object at the location (a run killed before it read or deleted its own leaves
    /// them): for `lambda-executor spill`.
    pub async fn stored(&self) -> Result<Vec<Stored>, SpillError> {
        let list = self.s3.list_objects_v2().bucket(&self.location.bucket).prefix(&self.location.prefix);
        let mut pages = list.into_paginator().send();
        let now = std::time::SystemTime::now();
        let mut stored = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|error| self.error(&self.location.prefix, "listing", "s3:ListBucket", described(error)))?;
            for object in page.contents() {
                let modified = object.last_modified().and_then(|time| std::time::SystemTime::try_from(*time).ok());
                stored.push(Stored {
                    key: object.key().unwrap_or_default().to_owned(),
                    size: object.size().unwrap_or_default().max(0) as u64,
                    age: modified.and_then(|time| now.duration_since(time).ok()).map_or(0.0, |age| age.as_secs_f64()),
                });
            }
        }
        Ok(stored)
    }

    /// Deletes `key` in the background; one left behind is expired by the prefix's lifecycle rule.
    pub fn delete_later(&self, key: String) {
        let spill = self.clone();
        runtime::get().spawn(async move {
            if let Err(error) = spill.delete(&key).await {
                log::warn!(target: SPILL, "{error}; it is left for the location's lifecycle rule");
            }
        });
    }

    pub async fn delete(&self, key: &str) -> Result<(), SpillError> {
        self.s3
            .delete_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| self.error(key, "deleting", "s3:DeleteObject", described(error)))?;
        log::debug!(target: SPILL, "deleted {}", self.url(key));
        Ok(())
    }

    /// A large payload in parts of PART bytes, PARTS_AT_ONCE at a time; an upload that fails
    /// is aborted, so that no part is left stored.
    async fn put_in_parts(&self, key: &str, payload: Bytes) -> Result<(), Said> {
        let bucket = &self.location.bucket;
        let upload = self.s3.create_multipart_upload().bucket(bucket).key(key).send().await.map_err(described)?;
        let upload_id = upload.upload_id().ok_or("S3 gave the upload no id")?.to_owned();
        let uploaded = self.upload_parts(key, &upload_id, payload).await;
        let completed = match uploaded {
            Ok(parts) => {
                let parts = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
                let complete = self.s3.complete_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id);
                complete.multipart_upload(parts).send().await.map(drop).map_err(described)
            }
            Err(why) => Err(why),
        };
        if completed.is_err() {
            let _ = self.s3.abort_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id).send().await;
        }
        completed
    }

    async fn upload_parts(&self, key: &str, upload_id: &str, payload: Bytes) -> Result<Vec<CompletedPart>, Said> {
        let mut parts = Vec::new();
        let mut running = JoinSet::new();
        let mut offsets = (0..payload.len()).step_by(PART).enumerate();
        loop {
            while running.len() < PARTS_AT_ONCE {
                let Some((index, start)) = offsets.next() else { break };
                let body = payload.slice(start..(start + PART).min(payload.len()));
                let number = index as i32 + 1;
                let part = self.s3.upload_part().bucket(&self.location.bucket).key(key).upload_id(upload_id);
                let part = part.part_number(number).body(ByteStream::from(body)).customize();
                // Over TLS, which keeps the part whole on the way, its body is not hashed for the
                // signature (the whole object's SHA-256 is checked when read); over plain http it is.
                let send = match self.tls {
                    true => part.interceptor(PayloadHash(PayloadSigningOverride::UnsignedPayload)).send(),
                    false => part.send(),
                };
                running.spawn(async move { send.await.map(|sent| (number, sent.e_tag)) });
            }
            let Some(done) = running.join_next().await else { break };
            let (number, e_tag) = done.map_err(|error| Said::from(error.to_string()))?.map_err(described)?;
            parts.push(CompletedPart::builder().part_number(number).set_e_tag(e_tag).build());
        }
        parts.sort_by_key(|part| part.part_number());
        Ok(parts)
    }

    pub(super) fn error(
        &self,
        key: &str,
        action: &'static str,
        permission: &'static str,
        said: impl Into<Said>,
    ) -> SpillError {
        let Said { words: why, denied } = said.into();
        SpillError { url: self.url(key), action, permission, why, denied }
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.location.bucket)
    }
}

/// How the signature covers one request's body: a SHA-256 computed already, or not at all.
#[derive(Debug)]
struct PayloadHash(PayloadSigningOverride);

impl Intercept for PayloadHash {
    fn name(&self) -> &'static str {
        "PayloadHash"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        cfg.interceptor_state().store_put(self.0.clone());
        Ok(())
    }
}

/// Whether S3 refused the caller a permission: its AccessDenied code, or a 403 without a code (a
/// HEAD-like request's refusal has no body). Another code with a 403 (a signature that does not
/// match, an unknown access key, a request past its time) is not a missing permission.
fn refused(code: Option<&str>, status: u16) -> bool {
    code == Some("AccessDenied") || (code.is_none() && status == 403)
}

/// S3's error code and message, or what failed on the way.
pub(super) fn described<E>(error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Said
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Some(Refusal { code, message, status }) = refusal(&error) else { return sentence(&error).into() };
    let denied = refused(code, status);
    let words = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => sentence(&error),
    };
    Said { words, denied }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn said(code: Option<&str>, status: u16) -> Said {
        let mut metadata = ErrorMetadata::builder().message("S3's message");
        if let Some(code) = code {
            metadata = metadata.code(code);
        }
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        described(SdkError::service_error(GetObjectError::generic(metadata.build()), response))
    }

    #[test]
    fn only_access_denied_or_a_403_without_a_code_is_a_missing_permission() {
        let denied = said(Some("AccessDenied"), 403);
        assert!(denied.denied);
        assert_eq!(denied.words, "AccessDenied: S3's message");
        assert!(said(None, 403).denied, "a HEAD's refusal has no body");
        for code in ["SignatureDoesNotMatch", "InvalidAccessKeyId", "RequestTimeTooSkewed", "ExpiredToken"] {
            assert!(!said(Some(code), 403).denied, "{code}");
        }
        assert!(!said(Some("NoSuchKey"), 404).denied);
        assert!(!said(None, 500).denied);
    }
}
