//! What a journal holds, as plain records: an invocation's key, where it stands, its outcome as
//! stored, and the error that says a journal cannot be used. The store reads and the writer
//! writes these; neither is needed to read them.

use std::path::PathBuf;

use serde::Serialize;

use crate::invoke::failure::AttemptError;
use crate::invoke::request::Invoked;

/// Bytes of the payload's SHA-256 kept in the key: collisions stay out of reach, rows stay small.
pub const DIGEST_BYTES: usize = 16;

/// Where an invocation stands in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Sent, with no outcome recorded: it was in flight when its run stopped, and may have run.
    Sent = 0,
    Succeeded = 1,
    /// The handler failed, or the call failed for good.
    Failed = 2,
    /// Lambda kept throttling it until the retry policy gave up: it did not run.
    Throttled = 3,
}

impl State {
    pub(crate) fn from_column(value: i64) -> Option<Self> {
        [Self::Sent, Self::Succeeded, Self::Failed, Self::Throttled].into_iter().find(|state| *state as i64 == value)
    }
}

/// Why a journal cannot be used; names the file.
#[derive(Debug)]
pub struct JournalError {
    pub path: PathBuf,
    pub why: String,
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the journal {} {}", self.path.display(), self.why)
    }
}

impl std::error::Error for JournalError {}

/// One invocation's key in the journal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntryKey {
    pub function: String,
    pub qualifier: String,
    pub invocation_type: &'static str,
    pub payload_digest: [u8; DIGEST_BYTES],
    pub occurrence: u32,
}

/// What the journal holds for one key.
pub struct Stored {
    pub state: State,
    /// The outcome, replayable as it first came (None while only sent).
    pub outcome: Option<Result<Invoked, AttemptError>>,
}

/// An outcome as the writer stores it.
pub struct OutcomeRow {
    pub state: State,
    pub status: Option<i32>,
    pub function_error: Option<String>,
    pub request_id: Option<String>,
    pub executed_version: Option<String>,
    pub result: Option<bytes::Bytes>,
    /// A failed call's error (an `AttemptError`), as JSON.
    pub error: Option<String>,
}

impl OutcomeRow {
    pub fn of(result: Result<&Invoked, &AttemptError>) -> Self {
        match result {
            Ok(invoked) => Self {
                state: if invoked.failed() { State::Failed } else { State::Succeeded },
                status: Some(invoked.status_code),
                function_error: invoked.function_error.clone(),
                request_id: invoked.request_id.clone(),
                executed_version: invoked.executed_version.clone(),
                result: Some(invoked.payload.clone()),
                error: None,
            },
            Err(error) => Self {
                state: if matches!(error, AttemptError::Throttled { .. }) { State::Throttled } else { State::Failed },
                status: None,
                function_error: None,
                request_id: None,
                executed_version: None,
                result: None,
                error: Some(serde_json::to_string(error).expect("an error always serializes")),
            },
        }
    }
}
