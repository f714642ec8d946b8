//! Spilled payloads moved through S3 with aws-sdk-s3 on the engine's client configuration (the
//! same credentials, HTTP client, proxies, trust and timeouts): an upload that returns the
//! reference, and a read that checks the object against its reference and deletes it. Each
//! refusal names the object and the permission it needs.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::config::{ConfigError, SharedClient};
use crate::error_text::sentence;
use crate::logging::SPILL;
use crate::process::runtime;
use crate::spill::location::SpillLocation;
use crate::spill::reference::ObjectRef;

/// Objects larger than this go up in parts, several at once (S3's parts are 5 MB at least).
const MULTIPART_OVER: usize = 32 << 20;
const PART: usize = 16 << 20;
const PARTS_AT_ONCE: usize = 4;
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
}

impl Spill {
    /// An S3 client on `client`'s configuration (S3's endpoint is the SDK's: AWS_ENDPOINT_URL_S3,
    /// AWS_ENDPOINT_URL or the profile's, else AWS's), for `location`.
    pub fn new(client: &SharedClient, location: SpillLocation) -> Result<Self, ConfigError> {
        let config = client.service_config(None)?;
        let own_endpoint =
            ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|name| std::env::var_os(name).is_some());
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            // The reference carries a SHA-256 that is checked on every read: no checksum of S3's
            // own is computed on top of it.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            // An endpoint of its own (MinIO, moto, LocalStack) is addressed by path.
            .force_path_style(own_endpoint)
            .build();
        Ok(Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            location,
            transfers: Arc::new(Semaphore::new(TRANSFERS_AT_ONCE)),
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
            self.s3
                .put_object()
                .bucket(&self.location.bucket)
                .key(&key)
                .body(ByteStream::from(payload))
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
        let payload = object
            .body
            .collect()
            .await
            .map_err(|error| self.error(key, "reading", "s3:GetObject", sentence(&error)))?
            .into_bytes();
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
                let send = part.part_number(number).body(ByteStream::from(body)).send();
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

/// S3's error code and message, or what failed on the way.
pub(super) fn described<E>(error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Said
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let SdkError::ServiceError(context) = &error else { return sentence(&error).into() };
    let service_error = context.err();
    // A refusal of a HEAD-like request has no body, so no code: its status says it.
    let denied = service_error.code() == Some("AccessDenied") || context.raw().status().as_u16() == 403;
    let words = match (service_error.code(), service_error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => sentence(&error),
    };
    Said { words, denied }
}
