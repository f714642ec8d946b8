//! One invocation inside the emulator: the request as the Invoke API accepted it, the published
//! version it runs, how it ended, and what the caller gets back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::function::FunctionSpec;

/// One invocation as the Invoke API accepted it (an Event one's retry is a copy, its attempt counted).
#[derive(Clone)]
pub struct InvocationRequest {
    pub request_id: String,
    pub payload: Bytes,
    /// The decoded client context (JSON), as the Runtime API passes it on.
    pub client_context: Option<String>,
    pub function_arn: String,
    /// The published version it runs; None: $LATEST as it is when the invocation starts.
    pub version: Option<Runnable>,
    /// The version or alias it was asked for (None: the function's own), whose event invoke
    /// configuration a failed Event invocation follows.
    pub qualifier: Option<String>,
    /// When the Invoke API accepted it: an Event invocation is dropped past its maximum age.
    pub accepted: Instant,
    /// 1 for the first run, 2 for the first retry of a failed Event invocation, and so on.
    pub attempt: u32,
}

/// A published version as an invocation runs it.
#[derive(Clone)]
pub struct Runnable {
    pub number: u32,
    pub spec: Arc<FunctionSpec>,
}

/// What a synchronous caller gets back.
pub struct InvocationResponse {
    pub body: Bytes,
    pub function_error: bool,
    pub log: String,
}

/// The end of one invocation, as the caller and the log report it.
#[derive(Default)]
pub struct Execution {
    pub body: Bytes,
    /// The error type when the invocation failed (handler error, timeout, crash, init failure).
    pub error_type: Option<String>,
    /// `Status: ...` words of the REPORT line, for failures the runtime did not report itself.
    pub status: Option<&'static str>,
    pub output: Vec<u8>,
    pub duration: Duration,
    pub init_duration: Option<Duration>,
    pub max_memory_mb: u64,
    /// Whether the environment can serve another invocation.
    pub reusable: bool,
    /// The log stream of the environment that ran it (None: it ran in none).
    pub log_stream: Option<String>,
}

impl Execution {
    pub fn failed(error_type: &str, message: &str) -> Self {
        Self {
            body: error_document(error_type, message),
            error_type: Some(error_type.into()),
            status: Some("error"),
            ..Self::default()
        }
    }
}

/// The error document Lambda returns for a failure the handler did not report itself.
pub fn error_document(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}
