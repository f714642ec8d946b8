//! `lambda_executor._core.Engine`, the engine's executor behind `lambda_executor.LambdaExecutor`:
//! converts each event to JSON and hands it to the engine, which checks and sends it. The Python
//! class adds the Executor contract on top.

use std::sync::Arc;
use std::time::Duration;

use lambda_executor_engine::{
    client_for, runtime, Executor, InvokeRequest, Job, Settings, SpendCapAsked, Started, MAX_WORKERS,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arguments::whole_number;
use crate::client_options::client_options;
use crate::delivery::{self, FutureSink, PyCancelUnsent};
use crate::errors::{Error, Result};
use crate::journal::PyJournal;
use crate::logging;
use crate::payload::{event_json, to_python};
use crate::retry_policy::PyRetryPolicy;

#[pyclass(module = "lambda_executor._core", name = "Engine", frozen)]
pub struct PyEngine {
    executor: Executor,
    /// Where every submission is journaled unless a call names another journal.
    journal: Option<Py<PyJournal>>,
}

/// A submitted invocation's handle, held by its future for `cancel()`.
#[pyclass(module = "lambda_executor._core", name = "JobHandle", frozen)]
pub struct PyJobHandle {
    job: Arc<Job<FutureSink>>,
}

#[pymethods]
impl PyJobHandle {
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
impl PyEngine {
    #[new]
    #[pyo3(signature = (max_workers, *, client=None, qualifier=None, invocation_type="RequestResponse",
                        log_tail=false, retry=None, journal=None, max_cost=None, price_per_gb_second=0.0,
                        price_per_request=0.0, spill=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        max_workers: &Bound<'_, PyAny>,
        client: Option<&Bound<'_, PyDict>>,
        qualifier: Option<String>,
        invocation_type: &str,
        log_tail: bool,
        retry: Option<PyRetryPolicy>,
        journal: Option<Py<PyJournal>>,
        max_cost: Option<f64>,
        price_per_gb_second: f64,
        price_per_request: f64,
        spill: Option<&str>,
    ) -> Result<Self> {
        // Levels set in Python since the last executor was made hold from now on.
        logging::levels_changed(py)?;
        let max_workers = whole_number(max_workers, "max_workers", 1, MAX_WORKERS as i64)? as usize;
        let spend_cap = max_cost.map(|max_cost| SpendCapAsked { max_cost, price_per_gb_second, price_per_request });
        let settings = Settings::new(qualifier, invocation_type, log_tail, spend_cap, spill)?;
        let options = client_options(client)?;
        let runtime = runtime::get();
        let shared = py.detach(|| runtime.block_on(client_for(&options)))?;
        let policy = retry.map(|policy| policy.0).unwrap_or_default();
        Ok(Self { executor: Executor::new(shared, policy, max_workers, settings)?, journal })
    }

    /// Converts `event` to JSON, checks it, and starts invoking `function`; `future` is resolved
    /// when the invocation ends, or at once with an outcome the journal already holds (then
    /// None is returned, as there is nothing to cancel). Raises before sending anything if the
    /// input is bad. `log_tail` and `journal` override the executor's settings for this call;
    /// an `agent`'s call spills through S3 when the executor has a spill location.
    #[pyo3(signature = (function, event, future, *, log_tail=None, journal=None, agent=false))]
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &self,
        py: Python<'_>,
        function: &str,
        event: &Bound<'_, PyAny>,
        future: Py<PyAny>,
        log_tail: Option<bool>,
        journal: Option<Py<PyJournal>>,
        agent: bool,
    ) -> Result<Option<PyJobHandle>> {
        let request = self.prepare(function, event, log_tail, agent)?;
        self.start(py, request, journal.or_else(|| self.default_journal(py)), FutureSink::Future(future))
    }

    /// `submit` in two steps, so that a batch is converted whole before any of it is sent:
    /// `encode` converts and checks one event, `send_encoded` starts it.
    #[pyo3(signature = (function, event, *, journal=None, agent=false))]
    fn encode(
        &self,
        py: Python<'_>,
        function: &str,
        event: &Bound<'_, PyAny>,
        journal: Option<Py<PyJournal>>,
        agent: bool,
    ) -> Result<PyEncodedEvent> {
        let request = self.prepare(function, event, None, agent)?;
        let journal = journal.or_else(|| self.default_journal(py));
        Ok(PyEncodedEvent { request: std::sync::Mutex::new(Some((request, journal))) })
    }

    fn send_encoded(&self, py: Python<'_>, event: &PyEncodedEvent, future: Py<PyAny>) -> Result<Option<PyJobHandle>> {
        let encoded = event.request.lock().unwrap().take();
        let (request, journal) = encoded.ok_or_else(|| Error::Unusable("this event was sent already".into()))?;
        self.start(py, request, journal, FutureSink::Future(future))
    }

    /// As `submit`, for asyncio: returns an asyncio future of the running loop, resolved by the
    /// completion thread like any other. Cancelling it cancels the invocation if it has not been
    /// sent. (pyo3-async-runtimes finds the running loop; its future_into_py is not used, because
    /// it sets each result from a blocking-pool thread of its own: a thread per completion under
    /// load, and one still inside Python when the interpreter exits crashes it.)
    #[pyo3(signature = (function, event, *, journal=None, agent=false))]
    fn ainvoke<'py>(
        &self,
        py: Python<'py>,
        function: &str,
        event: &Bound<'py, PyAny>,
        journal: Option<Py<PyJournal>>,
        agent: bool,
    ) -> Result<Bound<'py, PyAny>> {
        let request = self.prepare(function, event, None, agent)?;
        let event_loop = pyo3_async_runtimes::get_running_loop(py)?;
        let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
        let sink = FutureSink::Asyncio { event_loop: event_loop.unbind(), future: future.clone().unbind() };
        if let Some(handle) = self.start(py, request, journal.or_else(|| self.default_journal(py)), sink)? {
            future.call_method1(pyo3::intern!(py, "add_done_callback"), (PyCancelUnsent { job: handle.job },))?;
        }
        Ok(future)
    }

    /// Blocks (without the GIL) until every submitted invocation has ended; Ctrl-C interrupts it.
    /// In a forked child it returns at once: the parent's invocations are not the child's to wait
    /// for (and can never end there).
    fn wait_idle(&self, py: Python<'_>) -> Result<()> {
        if self.executor.forked() {
            return Ok(());
        }
        if delivery::on_completion_thread() {
            return Err(Error::Unusable(
                "cannot wait for the executor from a future's done-callback: it would wait for itself".into(),
            ));
        }
        loop {
            let dispatcher = self.executor.dispatcher().clone();
            if py.detach(move || dispatcher.wait_idle(Duration::from_millis(100))) {
                return Ok(());
            }
            py.check_signals()?;
        }
    }

    /// The current adaptive in-flight limit for `function`.
    fn concurrency_limit(&self, function: &str) -> usize {
        self.executor.dispatcher().limits_for(function).concurrency.current()
    }

    /// (retries made so far, invocations waiting to retry now, the limit of Lambda's that
    /// throttled `function` last): cheap, for progress bars.
    fn progress_counts(&self, function: &str) -> (u64, usize, Option<String>) {
        let dispatcher = self.executor.dispatcher();
        (dispatcher.retries(), dispatcher.retrying(), dispatcher.limits_for(function).binding())
    }

    /// What the invocations came to so far (the Python facade turns it into `Stats`).
    fn stats(&self, py: Python<'_>) -> Result<Py<PyAny>> {
        to_python(py, &self.executor.dispatcher().summary())
    }

    /// The last calls, attempt by attempt, and how many older ones were let go.
    fn timeline(&self, py: Python<'_>) -> Result<Py<PyAny>> {
        to_python(py, &self.executor.dispatcher().timeline())
    }

    /// `function`'s architecture and None, or None and why it could not be read.
    fn architecture(&self, py: Python<'_>, function: &str) -> (Option<String>, Option<String>) {
        let dispatcher = self.executor.dispatcher().clone();
        match py.detach(|| runtime::get().block_on(dispatcher.architecture(function))) {
            Ok(architecture) => (Some(architecture), None),
            Err(why) => (None, Some(why)),
        }
    }
}

impl PyEngine {
    fn default_journal(&self, py: Python<'_>) -> Option<Py<PyJournal>> {
        self.journal.as_ref().map(|journal| journal.clone_ref(py))
    }

    /// Sends `request`, or resolves `sink` now with what `journal` already holds for it.
    fn start(
        &self,
        py: Python<'_>,
        request: InvokeRequest,
        journal: Option<Py<PyJournal>>,
        sink: FutureSink,
    ) -> Result<Option<PyJobHandle>> {
        let journal = journal.as_ref().map(|journal| journal.get().with_resume());
        match self.executor.start(request, journal, sink)? {
            Started::Sent(job) => Ok(Some(PyJobHandle { job })),
            Started::Replayed(sink, finished) => {
                delivery::resolve_now(py, sink, finished)?;
                Ok(None)
            }
        }
    }

    fn prepare(
        &self,
        function: &str,
        event: &Bound<'_, PyAny>,
        log_tail: Option<bool>,
        agent: bool,
    ) -> Result<InvokeRequest> {
        self.executor.check(function)?;
        let payload = event_json(event)?;
        Ok(self.executor.request(function, payload, log_tail, agent)?)
    }
}

/// One event converted and checked, not yet sent (see `Engine.encode`), with the journal it
/// goes through.
#[pyclass(module = "lambda_executor._core", name = "EncodedEvent", frozen)]
pub struct PyEncodedEvent {
    request: std::sync::Mutex<Option<(InvokeRequest, Option<Py<PyJournal>>)>>,
}

#[pymethods]
impl PyEncodedEvent {
    /// The bytes of JSON it will send (0 once sent).
    #[getter]
    fn size(&self) -> usize {
        self.request.lock().unwrap().as_ref().map_or(0, |(request, _)| request.payload.len())
    }
}
