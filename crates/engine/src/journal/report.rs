//! What a journal holds, for `lambda-executor journal`: counts per function, the failures, and
//! the results written out as JSON lines.

use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::invoke::failure::AttemptError;
use crate::journal::record::{JournalError, State};
use crate::journal::store::Journal;

/// One function's invocations in a journal.
#[derive(Debug, Default, Serialize)]
pub struct FunctionCounts {
    pub function: String,
    pub succeeded: u64,
    pub failed: u64,
    pub throttled: u64,
    /// Sent with no outcome: in flight when a run stopped.
    pub unknown: u64,
    /// Bytes of results and error documents stored.
    pub bytes: u64,
}

/// One failed invocation.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub function: String,
    pub qualifier: String,
    /// The first bytes of the payload's SHA-256, in hex, and which submission of it this was.
    pub payload_digest: String,
    pub occurrence: u32,
    pub error_type: String,
    pub message: String,
    /// Lambda's id of the failed call (None if it never reached Lambda).
    pub request_id: Option<String>,
    /// When its outcome was written: seconds since the epoch.
    pub updated_at: f64,
}

impl Journal {
    /// Counts per function, by name.
    pub fn counts(&self) -> Result<Vec<FunctionCounts>, JournalError> {
        self.query(|connection| {
            let mut statement = connection.prepare(
                "SELECT function, state, count(*), coalesce(sum(length(result)), 0) + coalesce(sum(length(error)), 0)
                 FROM invocations GROUP BY function, state ORDER BY function",
            )?;
            let mut counts: Vec<FunctionCounts> = Vec::new();
            let mut rows = statement.query(())?;
            while let Some(row) = rows.next()? {
                let function: String = row.get(0)?;
                if counts.last().is_none_or(|last| last.function != function) {
                    counts.push(FunctionCounts { function, ..FunctionCounts::default() });
                }
                let entry = counts.last_mut().expect("pushed above");
                let count = row.get::<_, i64>(2)? as u64;
                match State::from_column(row.get(1)?) {
                    Some(State::Succeeded) => entry.succeeded += count,
                    Some(State::Failed) => entry.failed += count,
                    Some(State::Throttled) => entry.throttled += count,
                    Some(State::Sent) | None => entry.unknown += count,
                }
                entry.bytes += row.get::<_, i64>(3)? as u64;
            }
            Ok(counts)
        })
    }

    /// The failed (and throttled-out) invocations, oldest first; at most `limit` if given.
    pub fn failures(&self, limit: Option<u64>) -> Result<Vec<Failure>, JournalError> {
        self.query(|connection| {
            let mut statement = connection.prepare(
                "SELECT function, qualifier, payload_digest, occurrence, function_error, result, error, request_id,
                        updated_at
                 FROM invocations WHERE state IN (?1, ?2) ORDER BY updated_at LIMIT ?3",
            )?;
            let limit = limit.map_or(-1, |limit| limit as i64);
            let rows = statement.query_map((State::Failed as i64, State::Throttled as i64, limit), |row| {
                let digest: Vec<u8> = row.get(2)?;
                let (error_type, message) = describe_failure(
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<Vec<u8>>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                );
                Ok(Failure {
                    function: row.get(0)?,
                    qualifier: row.get(1)?,
                    payload_digest: digest.iter().map(|byte| format!("{byte:02x}")).collect(),
                    occurrence: row.get(3)?,
                    error_type,
                    message,
                    request_id: row.get(7)?,
                    updated_at: row.get(8)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Writes each stored result as a JSON line (`function`, `qualifier`, `payload_digest`,
    /// `occurrence`, `result`) to `out`; returns how many.
    pub fn export(&self, out: &Path) -> Result<u64, JournalError> {
        let file = std::fs::File::create(out).map_err(|error| JournalError {
            path: out.to_owned(),
            why: format!("(the export) cannot be written: {error}"),
        })?;
        let mut writer = std::io::BufWriter::new(file);
        let written = self.query(|connection| {
            let mut statement = connection.prepare(
                "SELECT function, qualifier, payload_digest, occurrence, result FROM invocations
                 WHERE state = ?1 ORDER BY function, qualifier, payload_digest, occurrence",
            )?;
            let mut rows = statement.query([State::Succeeded as i64])?;
            let mut written = 0u64;
            while let Some(row) = rows.next()? {
                let digest: Vec<u8> = row.get(2)?;
                let result: Vec<u8> = row.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default();
                let result = if result.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::from_slice(&result)
                        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&result).into_owned()))
                };
                let line = serde_json::json!({
                    "function": row.get::<_, String>(0)?,
                    "qualifier": row.get::<_, String>(1)?,
                    "payload_digest": digest.iter().map(|byte| format!("{byte:02x}")).collect::<String>(),
                    "occurrence": row.get::<_, u32>(3)?,
                    "result": result,
                });
                let written_line = serde_json::to_writer(&mut writer, &line).map_err(std::io::Error::from);
                written_line
                    .and_then(|()| writer.write_all(b"\n"))
                    .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
                written += 1;
            }
            Ok(written)
        })?;
        writer.flush().map_err(|error| JournalError {
            path: out.to_owned(),
            why: format!("(the export) cannot be written: {error}"),
        })?;
        Ok(written)
    }
}

/// (error type, message) of a failure: the handler's error document, or the client's error.
fn describe_failure(
    function_error: Option<String>,
    document: Option<Vec<u8>>,
    error: Option<String>,
) -> (String, String) {
    if let Some(error) = error {
        return match serde_json::from_str::<AttemptError>(&error) {
            Ok(AttemptError::Throttled { reason, .. }) => ("Throttled".into(), reason),
            Ok(AttemptError::Unavailable { code, message, .. } | AttemptError::Rejected { code, message, .. }) => {
                (code, message)
            }
            Ok(AttemptError::NotSent { message }) => ("NotSent".into(), message),
            Ok(AttemptError::MaybeSent { message }) => ("ConnectionLost".into(), message),
            Err(_) => ("Unknown".into(), error),
        };
    }
    let document = document.unwrap_or_default();
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(&document) else {
        // It ran and answered with what is not JSON (a proxy's page, say).
        return ("UnreadableResult".into(), "a result that is not JSON the client can read".into());
    };
    let field = |name: &str| document.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
    (
        field("errorType").or(function_error).unwrap_or_else(|| "Unhandled".into()),
        field("errorMessage").unwrap_or_default(),
    )
}
