//! What happened to one invocation, as `future.invocation` tells it: `InvocationInfo`, and the
//! REPORT line's figures as `Report`.

use std::sync::Arc;
use std::time::SystemTime;

use lambda_executor_engine::{AttemptError, Failure, Finished, Report, SharedClient};
use pyo3::prelude::*;

use crate::errors::{Error, Result};
use crate::logs::read_call;

/// What happened to one invocation: `future.invocation`.
#[pyclass(module = "lambda_executor._core", name = "InvocationInfo", frozen)]
pub struct PyInvocationInfo {
    #[pyo3(get)]
    pub function: String,
    #[pyo3(get)]
    pub request_id: Option<String>,
    #[pyo3(get)]
    pub status_code: Option<i32>,
    #[pyo3(get)]
    pub executed_version: Option<String>,
    /// Attempts made (1 when nothing was retried).
    #[pyo3(get)]
    pub attempts: u32,
    /// Throttles (429) met and absorbed on the way.
    #[pyo3(get)]
    pub throttles: u32,
    /// The decoded log tail, when the executor was asked for `log_tail=True`.
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
    /// The call's whole log from CloudWatch Logs, START to REPORT, a line each (without their
    /// newlines), waiting up to `timeout` seconds for it to get there; raises LogsError if it is
    /// not all there by then.
    #[pyo3(signature = (timeout=30.0))]
    fn logs(&self, py: Python<'_>, timeout: f64) -> Result<Vec<String>> {
        let request_id = self.request_id.as_deref().ok_or_else(|| {
            Error::Unusable(format!("this invocation of {} has no request id: it never reached Lambda", self.function))
        })?;
        read_call(py, &self.client, &self.function, request_id, self.ended, timeout)
    }

    /// `logs` for asyncio: awaitable, read on the loop's default executor.
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

/// What Lambda reported for one invocation (`future.invocation.report`, with `log_tail=True`).
#[pyclass(module = "lambda_executor._core", name = "Report", frozen)]
#[derive(Clone)]
pub struct PyReport(pub Report);

#[pymethods]
impl PyReport {
    #[getter]
    fn duration_ms(&self) -> f64 {
        self.0.duration_ms
    }

    #[getter]
    fn billed_duration_ms(&self) -> f64 {
        self.0.billed_duration_ms
    }

    #[getter]
    fn memory_size_mb(&self) -> u32 {
        self.0.memory_size_mb
    }

    #[getter]
    fn max_memory_used_mb(&self) -> u32 {
        self.0.max_memory_used_mb
    }

    /// Set only when the invocation started a new execution environment (a cold start); billed
    /// with the invocation (Billed Duration includes it).
    #[getter]
    fn init_duration_ms(&self) -> Option<f64> {
        self.0.init_duration_ms
    }

    /// Set only when a SnapStart function's cold start restored a snapshot.
    #[getter]
    fn restore_duration_ms(&self) -> Option<f64> {
        self.0.restore_duration_ms
    }

    /// The part of the restore billed as duration (SnapStart cold starts only).
    #[getter]
    fn billed_restore_duration_ms(&self) -> Option<f64> {
        self.0.billed_restore_duration_ms
    }

    /// GB of memory restored from a snapshot, priced per GB (SnapStart cold starts only).
    #[getter]
    fn restored_gb(&self) -> f64 {
        self.0.restored_gb()
    }

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
