//! The engine behind `lambda_executor.LambdaExecutor`: validates and converts each submission,
//! then hands it to the dispatcher. The Python class adds the Executor contract on top.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::client_config::{client_for, ClientOptions};
use crate::completion;
use crate::dispatcher::{Dispatcher, Job};
use crate::errors::lambda_error;
use crate::invocation::InvokeRequest;
use crate::payload::to_json;
use crate::protocol::{is_valid_qualifier, FunctionRef, InvocationType};
use crate::retry::RetryPolicy;
use crate::runtime;

#[pyclass(module = "lambda_executor._core", frozen)]
pub struct Engine {
    dispatcher: Arc<Dispatcher>,
    qualifier: Option<String>,
    invocation_type: InvocationType,
    log_tail: bool,
    owner_pid: u32,
}

/// A submitted invocation's handle, held by its future for `cancel()`.
#[pyclass(module = "lambda_executor._core", frozen)]
pub struct JobHandle {
    job: Arc<Job>,
}

#[pymethods]
impl JobHandle {
    /// Cancels the invocation if it has not been sent; False once it has.
    fn cancel(&self) -> bool {
        self.job.cancel()
    }

    #[getter]
    fn sent(&self) -> bool {
        self.job.is_sent()
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (max_workers, *, region=None, profile=None, endpoint_url=None, qualifier=None,
                        invocation_type="RequestResponse", log_tail=false, retry=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_workers: i64,
        region: Option<String>,
        profile: Option<String>,
        endpoint_url: Option<String>,
        qualifier: Option<String>,
        invocation_type: &str,
        log_tail: bool,
        retry: Option<RetryPolicy>,
    ) -> PyResult<Self> {
        if !(1..=100_000).contains(&max_workers) {
            return Err(PyValueError::new_err(format!("max_workers must be 1 to 100000, not {max_workers}")));
        }
        let invocation_type = match InvocationType::parse(invocation_type) {
            Some(InvocationType::DryRun) | None => {
                return Err(PyValueError::new_err(format!(
                    "invocation_type must be 'RequestResponse' or 'Event', not '{invocation_type}'"
                )))
            }
            Some(kind) => kind,
        };
        if let Some(qualifier) = &qualifier {
            if !is_valid_qualifier(qualifier) {
                return Err(PyValueError::new_err(format!("qualifier '{qualifier}' is not a version or alias name")));
            }
        }
        let options = ClientOptions { region, profile, endpoint_url };
        let runtime = runtime::get();
        let client = py
            .detach(|| runtime.block_on(client_for(&options)))
            .map_err(|error| lambda_error(py, "ConfigurationError", (error.to_string(),), None))?;
        let dispatcher = Dispatcher::new(client, retry.unwrap_or_default(), max_workers as usize);
        Ok(Self { dispatcher, qualifier, invocation_type, log_tail, owner_pid: std::process::id() })
    }

    /// Converts `event` to JSON, checks it, and starts invoking `function`; `future` is resolved
    /// when the invocation ends. Raises before sending anything if the input is bad.
    fn submit(&self, py: Python<'_>, function: &str, event: &Bound<'_, PyAny>, future: Py<PyAny>) -> PyResult<JobHandle> {
        if std::process::id() != self.owner_pid {
            return Err(PyRuntimeError::new_err(
                "this executor belongs to the parent process and cannot be used after fork; create a new one in the child",
            ));
        }
        let reference = FunctionRef::parse(function).ok_or_else(|| {
            PyValueError::new_err(format!("'{function}' is not a Lambda function name, name:qualifier or ARN"))
        })?;
        let payload = to_json(event)?;
        let limit = self.invocation_type.max_payload();
        if payload.len() > limit {
            let message = format!(
                "the payload is {} bytes as JSON, over Lambda's {limit}-byte limit for {} invocations; nothing was sent",
                payload.len(),
                if self.invocation_type == InvocationType::Event { "Event" } else { "synchronous" }
            );
            return Err(lambda_error(py, "PayloadTooLargeError", (message,), None));
        }
        let qualifier = if reference.qualifier.is_some() { None } else { self.qualifier.clone() };
        let request = InvokeRequest {
            function: function.to_owned(),
            qualifier,
            invocation_type: self.invocation_type,
            log_tail: self.log_tail,
            payload: Bytes::from(payload),
        };
        let job = Job::new(future);
        self.dispatcher.submit(job.clone(), request);
        Ok(JobHandle { job })
    }

    /// Blocks (without the GIL) until every submitted invocation has ended; Ctrl-C interrupts it.
    fn wait_idle(&self, py: Python<'_>) -> PyResult<()> {
        if completion::on_completion_thread() {
            return Err(PyRuntimeError::new_err(
                "cannot wait for the executor from a future's done-callback: it would wait for itself",
            ));
        }
        loop {
            let dispatcher = self.dispatcher.clone();
            if py.detach(move || dispatcher.wait_idle(Duration::from_millis(100))) {
                return Ok(());
            }
            py.check_signals()?;
        }
    }

    /// The current adaptive in-flight limit for `function`.
    fn concurrency_limit(&self, function: &str) -> usize {
        self.dispatcher.limit_for(function).current()
    }

    /// Totals so far: invocations, failures, throttles, retries.
    fn totals(&self) -> (u64, u64, u64, u64) {
        let totals = self.dispatcher.totals.lock().unwrap().clone();
        (totals.invocations, totals.failures, totals.throttles, totals.retries)
    }
}
