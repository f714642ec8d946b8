//! What one invocation sends, and the response Lambda gave it.

use std::sync::Arc;

use bytes::Bytes;
use lambda_executor_protocol::InvocationType;

use crate::spill::transfer::Spill;

/// What to send; shared by every attempt of one invocation.
pub struct InvokeRequest {
    pub function: String,
    pub qualifier: Option<String>,
    pub invocation_type: InvocationType,
    pub log_tail: bool,
    pub payload: Bytes,
    /// Where an agent's call spills: an argument too large for Lambda goes up first and the call
    /// carries its reference, and a result that comes back as a reference is read from there.
    pub spill: Option<Arc<Spill>>,
}

impl InvokeRequest {
    /// True while its payload is more than Lambda takes: it goes through S3 (`spill`).
    pub fn oversized(&self) -> bool {
        self.payload.len() > self.invocation_type.max_payload()
    }
}

/// A response from Lambda (a handler error is one: `function_error` is set).
pub struct Invoked {
    pub status_code: i32,
    pub payload: Bytes,
    pub function_error: Option<String>,
    /// The decoded log tail (the last 4 KB), when asked for.
    pub log_tail: Option<String>,
    pub executed_version: Option<String>,
    pub request_id: Option<String>,
    /// A result that is not JSON (a proxy's page, say): the call ran, and failed for its caller.
    pub unreadable: bool,
}

impl Invoked {
    /// The call ran and failed: the handler raised, or its result cannot be read.
    pub fn failed(&self) -> bool {
        self.function_error.is_some() || self.unreadable
    }
}
