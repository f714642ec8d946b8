//! The engine behind `lambda_executor.LambdaExecutor`: validates and converts each submission,
//! then hands it to the dispatcher. The Python class adds the Executor contract on top.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lambda_executor_engine::client_for;
use lambda_executor_engine::protocol::{is_valid_qualifier, FunctionRef, InvocationType};
use lambda_executor_engine::runtime;
use lambda_executor_engine::InvokeRequest;
use lambda_executor_engine::SpendCap;
use lambda_executor_engine::{Dispatcher, Job};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arguments::whole_number;
use crate::client_options::client_options;
use crate::delivery::{self, CancelUnsent, PySink};
use crate::errors::{class, IntoPyErr};
use crate::journal::{Journal, Plan};
use crate::payload::{to_json, to_python};
use crate::retry_policy::RetryPolicy;

/// The most invocations one executor keeps in flight (each is a socket).
const MAX_WORKERS: i64 = 100_000;

#[pyclass(module = "lambda_executor._core", frozen)]
pub struct Engine {
    dispatcher: Arc<Dispatcher>,
    qualifier: Option<String>,
    invocation_type: InvocationType,
    log_tail: bool,
    /// Where every submission is journaled unless a call names another journal.
    journal: Option<Py<Journal>>,
    owner_pid: u32,
}

/// A submitted invocation's handle, held by its future for `cancel()`.
#[pyclass(module = "lambda_executor._core", frozen)]
pub struct JobHandle {
    job: Arc<Job<PySink>>,
}

#[pymethods]
impl JobHandle {
    /// Cancels the invocation unless an attempt is in flight (Lambda may be running it); False
    /// while one is.
    fn cancel(&self) -> bool {
        self.job.cancel()
    }

    /// Cancels it as `cancel` does; while an attempt is in flight, nothing more is sent: if
    /// Lambda does not run it (a throttle), its future is cancelled then. False while in flight.
    fn abandon(&self) -> bool {
        self.job.abandon()
    }

    #[getter]
    fn sent(&self) -> bool {
        self.job.is_sent()
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (max_workers, *, client=None, qualifier=None, invocation_type="RequestResponse",
                        log_tail=false, retry=None, journal=None, max_cost=None, price_per_gb_second=0.0,
                        price_per_request=0.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_workers: &Bound<'_, PyAny>,
        client: Option<&Bound<'_, PyDict>>,
        qualifier: Option<String>,
        invocation_type: &str,
        log_tail: bool,
        retry: Option<RetryPolicy>,
        journal: Option<Py<Journal>>,
        max_cost: Option<f64>,
        price_per_gb_second: f64,
        price_per_request: f64,
    ) -> PyResult<Self> {
        let max_workers = whole_number(max_workers, "max_workers", 1, MAX_WORKERS)? as usize;
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
        let spend_cap = match max_cost {
            None => None,
            Some(_) if invocation_type == InvocationType::Event => {
                return Err(PyValueError::new_err(
                    "max_cost needs synchronous invocations: an Event invocation returns no REPORT line to cost",
                ))
            }
            Some(max_cost) => {
                Some(SpendCap::new(max_cost, price_per_gb_second, price_per_request).map_err(PyValueError::new_err)?)
            }
        };
        let options = client_options(client)?;
        let runtime = runtime::get();
        let shared = py.detach(|| runtime.block_on(client_for(&options))).map_err(IntoPyErr::into_py_err)?;
        let policy = retry.map(|policy| policy.0).unwrap_or_default();
        let dispatcher = Dispatcher::new(shared, policy, max_workers, spend_cap);
        Ok(Self { dispatcher, qualifier, invocation_type, log_tail, journal, owner_pid: std::process::id() })
    }

    /// Converts `event` to JSON, checks it, and starts invoking `function`; `future` is resolved
    /// when the invocation ends, or at once with an outcome the journal already holds (then
    /// None is returned, as there is nothing to cancel). Raises before sending anything if the
    /// input is bad. `log_tail` and `journal` override the executor's settings for this call.
    #[pyo3(signature = (function, event, future, *, log_tail=None, journal=None))]
    fn submit(
        &self,
        py: Python<'_>,
        function: &str,
        event: &Bound<'_, PyAny>,
        future: Py<PyAny>,
        log_tail: Option<bool>,
        journal: Option<Py<Journal>>,
    ) -> PyResult<Option<JobHandle>> {
        let request = self.prepare(function, event, log_tail)?;
        self.start(py, request, journal.or_else(|| self.default_journal(py)), PySink::Future(future))
    }

    /// `submit` in two steps, so that a batch is converted whole before any of it is sent:
    /// `encode` converts and checks one event, `send_encoded` starts it.
    #[pyo3(signature = (function, event, *, journal=None))]
    fn encode(
        &self,
        py: Python<'_>,
        function: &str,
        event: &Bound<'_, PyAny>,
        journal: Option<Py<Journal>>,
    ) -> PyResult<EncodedEvent> {
        let request = self.prepare(function, event, None)?;
        let journal = journal.or_else(|| self.default_journal(py));
        Ok(EncodedEvent { request: std::sync::Mutex::new(Some((request, journal))) })
    }

    fn send_encoded(&self, py: Python<'_>, event: &EncodedEvent, future: Py<PyAny>) -> PyResult<Option<JobHandle>> {
        let encoded = event.request.lock().unwrap().take();
        let (request, journal) = encoded.ok_or_else(|| PyRuntimeError::new_err("this event was sent already"))?;
        self.start(py, request, journal, PySink::Future(future))
    }

    /// As `submit`, for asyncio: returns an asyncio future of the running loop, resolved by the
    /// completion thread like any other. Cancelling it cancels the invocation if it has not been
    /// sent. (pyo3-async-runtimes finds the running loop; its future_into_py is not used, because
    /// it sets each result from a blocking-pool thread of its own: a thread per completion under
    /// load, and one still inside Python when the interpreter exits crashes it.)
    #[pyo3(signature = (function, event, *, journal=None))]
    fn ainvoke<'py>(
        &self,
        py: Python<'py>,
        function: &str,
        event: &Bound<'py, PyAny>,
        journal: Option<Py<Journal>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = self.prepare(function, event, None)?;
        let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
        let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
        let sink = PySink::Asyncio { event_loop: event_loop.unbind(), future: future.clone().unbind() };
        if let Some(handle) = self.start(py, request, journal.or_else(|| self.default_journal(py)), sink)? {
            future.call_method1(pyo3::intern!(py, "add_done_callback"), (CancelUnsent { job: handle.job },))?;
        }
        Ok(future)
    }

    /// Blocks (without the GIL) until every submitted invocation has ended; Ctrl-C interrupts it.
    /// In a forked child it returns at once: the parent's invocations are not the child's to wait
    /// for (and can never end there).
    fn wait_idle(&self, py: Python<'_>) -> PyResult<()> {
        if std::process::id() != self.owner_pid {
            return Ok(());
        }
        if delivery::on_completion_thread() {
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
        self.dispatcher.limits_for(function).concurrency.current()
    }

    /// (retries made so far, invocations waiting to retry now, the limit of Lambda's that
    /// throttled `function` last): cheap, for progress bars.
    fn progress_counts(&self, function: &str) -> (u64, usize, Option<String>) {
        (self.dispatcher.retries(), self.dispatcher.retrying(), self.dispatcher.limits_for(function).binding())
    }

    /// What the invocations came to so far (the Python facade turns it into `Stats`).
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.dispatcher.summary())
    }
}

impl Engine {
    fn default_journal(&self, py: Python<'_>) -> Option<Py<Journal>> {
        self.journal.as_ref().map(|journal| journal.clone_ref(py))
    }

    /// Sends `request`, or resolves `sink` now with what `journal` already holds for it.
    fn start(
        &self,
        py: Python<'_>,
        request: InvokeRequest,
        journal: Option<Py<Journal>>,
        sink: PySink,
    ) -> PyResult<Option<JobHandle>> {
        let entry = match journal {
            None => None,
            Some(journal) => match journal.get().plan(&request, &self.dispatcher)? {
                Plan::Send(entry) => Some(entry),
                Plan::Replay(outcome) => {
                    delivery::resolve_now(py, sink, self.dispatcher.from_journal(request, outcome))?;
                    return Ok(None);
                }
            },
        };
        let job = Job::new(sink);
        self.dispatcher.submit(job.clone(), request, entry);
        Ok(Some(JobHandle { job }))
    }

    fn prepare(&self, function: &str, event: &Bound<'_, PyAny>, log_tail: Option<bool>) -> PyResult<InvokeRequest> {
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
            return Err(class::PayloadTooLargeError::new_err(message));
        }
        let qualifier = if reference.qualifier.is_some() { None } else { self.qualifier.clone() };
        Ok(InvokeRequest {
            function: function.to_owned(),
            qualifier,
            invocation_type: self.invocation_type,
            // A spend cap is counted from REPORT lines, which come with the log tail.
            log_tail: log_tail.unwrap_or(self.log_tail) || self.dispatcher.has_spend_cap(),
            payload: Bytes::from(payload),
        })
    }
}

/// One event converted and checked, not yet sent (see `Engine.encode`), with the journal it
/// goes through.
#[pyclass(module = "lambda_executor._core", frozen)]
pub struct EncodedEvent {
    request: std::sync::Mutex<Option<(InvokeRequest, Option<Py<Journal>>)>>,
}

#[pymethods]
impl EncodedEvent {
    /// The bytes of JSON it will send (0 once sent).
    #[getter]
    fn size(&self) -> usize {
        self.request.lock().unwrap().as_ref().map_or(0, |(request, _)| request.payload.len())
    }
}
