//! What happened to one invocation, as `future.invocation` tells it: `InvocationInfo`, and the
//! REPORT line's figures as `Report`.

use std::sync::Arc;
use std::time::SystemTime;

use lambda_executor_engine::{AttemptError, Failure, Finished, Report, SharedClient};
use pyo3::prelude::*;

use crate::errors::{Error, Result};
use crate::logs::read_call;

/// What happened to one invocation, as its future's ``invocation`` tells once it is done.
///
/// :attr:`lambda_executor.LambdaFuture.invocation` holds it; the executor makes it, not the user.
#[pyclass(module = "lambda_executor._core", name = "InvocationInfo", frozen)]
pub struct PyInvocationInfo {
    /// The function invoked, as the call named it (name, ARN or ``name:qualifier``).
    #[pyo3(get)]
    pub function: String,
    /// Lambda's request id of the last attempt; None if no attempt reached Lambda.
    #[pyo3(get)]
    pub request_id: Option<String>,
    /// The HTTP status of Lambda's answer (200, or 202 for an Event); None without one.
    #[pyo3(get)]
    pub status_code: Option<i32>,
    /// The version of the function that ran (``$LATEST`` or a number); None if none ran.
    #[pyo3(get)]
    pub executed_version: Option<String>,
    /// Attempts made (1 when nothing was retried).
    #[pyo3(get)]
    pub attempts: u32,
    /// Throttles (429) met and absorbed on the way.
    #[pyo3(get)]
    pub throttles: u32,
    /// The decoded log tail (the last 4 KB of the log), when the executor has ``log_tail=True``.
    #[pyo3(get)]
    pub log_tail: Option<String>,
    /// Lambda's REPORT line from the log tail (durations, memory, cold start).
    #[pyo3(get)]
    pub report: Option<PyReport>,
    /// Whether the outcome came from the journal (nothing was sent this time).
    #[pyo3(get)]
    pub from_journal: bool,
    /// The client the call was made with: `logs()` reads on its configuration.
    client: Arc<SharedClient>,
    /// When the call ended (None for an outcome from a journal: some time before).
    ended: Option<SystemTime>,
}

impl PyInvocationInfo {
    pub fn of(finished: &Finished) -> Self {
        let invoked = finished.result.as_ref().ok();
        Self {
            function: finished.request.function.clone(),
            request_id: invoked.and_then(|i| i.request_id.clone()).or_else(|| match &finished.result {
                Err(Failure::Attempt(AttemptError::Rejected { request_id, .. })) => request_id.clone(),
                _ => None,
            }),
            status_code: invoked.map(|i| i.status_code),
            executed_version: invoked.and_then(|i| i.executed_version.clone()),
            attempts: finished.attempts,
            throttles: finished.throttles,
            log_tail: invoked.and_then(|i| i.log_tail.clone()),
            report: finished.report.clone().map(PyReport),
            from_journal: finished.from_journal,
            client: finished.client.clone(),
            ended: (!finished.from_journal).then(SystemTime::now),
        }
    }
}

#[pymethods]
impl PyInvocationInfo {
    /// Reads the call's whole log from CloudWatch Logs, START to REPORT.
    ///
    /// Lines reach CloudWatch Logs some seconds after the call ends: this waits for them.
    ///
    /// Args:
    ///     timeout: Seconds to wait for the whole log to be there.
    ///
    /// Returns:
    ///     The log's lines, START to REPORT, without their newlines.
    ///
    /// Raises:
    ///     LogsError: The log is not all there within ``timeout``, the function has no log group,
    ///         or CloudWatch Logs refused the call.
    ///     RuntimeError: The invocation never reached Lambda (it has no request id).
    #[pyo3(signature = (timeout=30.0))]
    fn logs(&self, py: Python<'_>, timeout: f64) -> Result<Vec<String>> {
        let request_id = self.request_id.as_deref().ok_or_else(|| {
            Error::Unusable(format!("this invocation of {} has no request id: it never reached Lambda", self.function))
        })?;
        read_call(py, &self.client, &self.function, request_id, self.ended, timeout)
    }

    /// Reads the call's whole log from CloudWatch Logs without blocking the event loop.
    ///
    /// It is :meth:`logs` run on the running loop's default executor:
    /// ``await future.invocation.alogs()``.
    ///
    /// Args:
    ///     timeout: Seconds to wait for the whole log to be there.
    ///
    /// Returns:
    ///     An asyncio future of the log's lines, START to REPORT, without their newlines.
    ///
    /// Raises:
    ///     RuntimeError: No event loop is running (when called); the invocation never reached
    ///         Lambda (when awaited).
    ///     LogsError: When awaited, as :meth:`logs` raises it.
    #[pyo3(signature = (timeout=30.0))]
    fn alogs<'py>(slf: &Bound<'py, Self>, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
        event_loop.call_method1("run_in_executor", (py.None(), slf.getattr("logs")?, timeout))
    }

    fn __repr__(&self) -> String {
        let quoted = |value: &Option<String>| value.as_ref().map_or_else(|| "None".to_owned(), |v| format!("'{v}'"));
        format!(
            "InvocationInfo(function='{}', request_id={}, attempts={}, throttles={}, executed_version={}{})",
            self.function,
            quoted(&self.request_id),
            self.attempts,
            self.throttles,
            quoted(&self.executed_version),
            if self.from_journal { ", from_journal=True" } else { "" }
        )
    }
}

/// Lambda's REPORT line for one invocation: its durations, memory and cold start.
///
/// It is :attr:`InvocationInfo.report`, read from the log tail of an executor made with
/// ``log_tail=True``.
#[pyclass(module = "lambda_executor._core", name = "Report", frozen)]
#[derive(Clone)]
pub struct PyReport(pub Report);

#[pymethods]
impl PyReport {
    /// Milliseconds the handler ran (Duration).
    #[getter]
    fn duration_ms(&self) -> f64 {
        self.0.duration_ms
    }

    /// Milliseconds billed (Billed Duration).
    #[getter]
    fn billed_duration_ms(&self) -> f64 {
        self.0.billed_duration_ms
    }

    /// The function's configured memory in MB (Memory Size).
    #[getter]
    fn memory_size_mb(&self) -> u32 {
        self.0.memory_size_mb
    }

    /// The most memory the execution environment used, in MB (Max Memory Used).
    #[getter]
    fn max_memory_used_mb(&self) -> u32 {
        self.0.max_memory_used_mb
    }

    /// Milliseconds the new execution environment took to start (Init Duration); None when warm.
    ///
    /// It is set only when the invocation started a new execution environment (a cold start),
    /// and billed with the invocation (Billed Duration includes it).
    #[getter]
    fn init_duration_ms(&self) -> Option<f64> {
        self.0.init_duration_ms
    }

    /// Milliseconds a SnapStart function's cold start took to restore its snapshot; else None.
    #[getter]
    fn restore_duration_ms(&self) -> Option<f64> {
        self.0.restore_duration_ms
    }

    /// Milliseconds of the restore billed as duration (SnapStart cold starts only); else None.
    #[getter]
    fn billed_restore_duration_ms(&self) -> Option<f64> {
        self.0.billed_restore_duration_ms
    }

    /// GB of memory restored from a snapshot, priced per GB (SnapStart cold starts only).
    #[getter]
    fn restored_gb(&self) -> f64 {
        self.0.restored_gb()
    }

    /// Whether the invocation started a new execution environment (a cold start).
    #[getter]
    fn cold_start(&self) -> bool {
        self.0.cold_start()
    }

    /// The GB-seconds billed (billed duration, and billed restore duration, times configured memory).
    #[getter]
    fn gb_seconds(&self) -> f64 {
        self.0.gb_seconds()
    }

    fn __repr__(&self) -> String {
        let report = &self.0;
        let shown = |ms: Option<f64>| ms.map_or_else(|| "None".to_owned(), |ms| format!("{ms}"));
        format!(
            "Report(duration_ms={}, billed_duration_ms={}, memory_size_mb={}, max_memory_used_mb={}, \
             init_duration_ms={}, restore_duration_ms={}, billed_restore_duration_ms={})",
            report.duration_ms,
            report.billed_duration_ms,
            report.memory_size_mb,
            report.max_memory_used_mb,
            shown(report.init_duration_ms),
            shown(report.restore_duration_ms),
            shown(report.billed_restore_duration_ms)
        )
    }
}
