//! `lambda_executor._core.LogReader`: functions' logs from CloudWatch Logs, for `lambda-executor
//! logs` (recent lines, one call's, a journal's failed calls'); and `read_call`, one call's whole
//! log, which `future.invocation.logs()` reads too.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_executor_engine::{client_for, runtime, LineQuery, LogReader, SharedClient};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::client_options::client_options;
use crate::errors::{Error, Result};
use crate::payload::to_python;

/// The lines of the call `request_id` of `function`, START to REPORT, waiting up to `timeout`
/// seconds for them to reach CloudWatch Logs (`ended`, when the call ended, bounds the search).
pub fn read_call(
    py: Python<'_>,
    client: &SharedClient,
    function: &str,
    request_id: &str,
    ended: Option<SystemTime>,
    timeout: f64,
) -> Result<Vec<String>> {
    if !(timeout.is_finite() && (0.0..=3600.0).contains(&timeout)) {
        return Err(Error::Invalid(format!("timeout must be 0 to 3600 seconds, not {timeout}")));
    }
    let reader = LogReader::new(client)?;
    let timeout = Duration::from_secs_f64(timeout);
    Ok(py.detach(|| runtime::get().block_on(reader.call(function, request_id, ended, timeout)))?)
}

#[pyclass(module = "lambda_executor._core", name = "LogReader", frozen)]
pub struct PyLogReader {
    client: Arc<SharedClient>,
    reader: LogReader,
}

#[pymethods]
impl PyLogReader {
    #[new]
    #[pyo3(signature = (*, client=None))]
    fn new(py: Python<'_>, client: Option<&Bound<'_, PyDict>>) -> Result<Self> {
        let options = client_options(client)?;
        let client = py.detach(|| runtime::get().block_on(client_for(&options)))?;
        let reader = LogReader::new(&client)?;
        Ok(Self { client, reader })
    }

    /// One call's lines, START to REPORT (see `InvocationInfo.logs`); `ended` (seconds since the
    /// epoch), when the call ended, if known, narrows the search.
    #[pyo3(signature = (function, request_id, *, timeout=30.0, ended=None))]
    fn call(
        &self,
        py: Python<'_>,
        function: &str,
        request_id: &str,
        timeout: f64,
        ended: Option<f64>,
    ) -> Result<Vec<String>> {
        let ended = ended.filter(|seconds| seconds.is_finite() && *seconds > 0.0);
        let ended = ended.map(|seconds| UNIX_EPOCH + Duration::from_secs_f64(seconds));
        read_call(py, &self.client, function, request_id, ended, timeout)
    }

    /// The function's lines from `start_time` to `end_time` (milliseconds since the epoch,
    /// inclusive) that `filter_pattern` matches, oldest first, at most 10,000: dicts of stream,
    /// timestamp, message and event_id.
    #[pyo3(signature = (function, *, start_time=None, end_time=None, filter_pattern=None))]
    fn lines(
        &self,
        py: Python<'_>,
        function: &str,
        start_time: Option<i64>,
        end_time: Option<i64>,
        filter_pattern: Option<String>,
    ) -> Result<Py<PyAny>> {
        let group = LogReader::log_group(function)?;
        let query = LineQuery { start_time, end_time, filter_pattern };
        let lines = py.detach(|| runtime::get().block_on(self.reader.lines(&group, &query)))?;
        to_python(py, &lines)
    }
}
