//! Resolves Python futures, concurrent.futures and asyncio ones alike. Finished invocations queue
//! here; one thread takes them in batches and resolves each batch under one hold of the GIL
//! (decoding results into Python values there), so completions reach Python without a thread per
//! call and without a GIL round-trip per call. An asyncio future is set through its event loop
//! (call_soon_threadsafe). The dispatcher counts a job finished only once its future is set, so
//! waiting for an executor at exit leaves no thread inside Python while the interpreter finalizes.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::dispatcher::{Dispatcher, Job, Sink};
use crate::errors::lambda_error;
use crate::invocation::{AttemptError, InvokeRequest, Invoked};
use crate::payload::from_json;
use crate::protocol::InvocationType;
use crate::report::Report;

const BATCH: usize = 1024;

pub struct Completion {
    pub job: Arc<Job>,
    pub result: Result<Invoked, AttemptError>,
    pub attempts: u32,
    pub throttles: u32,
    pub request: InvokeRequest,
    pub report: Option<Report>,
    pub dispatcher: Arc<Dispatcher>,
}

/// What happened to one invocation: `future.invocation`.
#[pyclass(module = "lambda_executor._core", frozen, get_all)]
pub struct InvocationInfo {
    pub function: String,
    pub request_id: Option<String>,
    pub status_code: Option<i32>,
    pub executed_version: Option<String>,
    /// Attempts made (1 when nothing was retried).
    pub attempts: u32,
    /// Throttles (429) met and absorbed on the way.
    pub throttles: u32,
    /// The decoded log tail, when the executor was asked for `log_tail=True`.
    pub log_tail: Option<String>,
    /// Lambda's REPORT line from the log tail: durations, memory, cold start.
    pub report: Option<Report>,
}

#[pymethods]
impl InvocationInfo {
    fn __repr__(&self) -> String {
        let quoted = |value: &Option<String>| value.as_ref().map_or_else(|| "None".to_owned(), |v| format!("'{v}'"));
        format!(
            "InvocationInfo(function='{}', request_id={}, attempts={}, throttles={}, executed_version={})",
            self.function,
            quoted(&self.request_id),
            self.attempts,
            self.throttles,
            quoted(&self.executed_version)
        )
    }
}

type Resolution = (Sink, Completion);

static QUEUE: Mutex<Option<(u32, mpsc::Sender<Resolution>)>> = Mutex::new(None);

thread_local! {
    static ON_COMPLETION_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True on the thread that resolves futures, where done-callbacks run: waiting there for
/// another invocation would wait forever.
pub fn on_completion_thread() -> bool {
    ON_COMPLETION_THREAD.with(|flag| flag.get())
}

/// `lambda_executor._core.on_completion_thread()`, for the Python facade's guards.
#[pyfunction(name = "on_completion_thread")]
pub fn py_on_completion_thread() -> bool {
    on_completion_thread()
}

/// Queues a finished invocation for the thread that resolves its future (started on first use in
/// a process).
pub fn deliver(completion: Completion) {
    let Some(sink) = completion.job.take_sink() else { return completion.dispatcher.finished() };
    let pid = std::process::id();
    let mut queue = QUEUE.lock().unwrap();
    if queue.as_ref().is_none_or(|(owner, _)| *owner != pid) {
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("lambda-executor-completions".into())
            .spawn(move || resolve_forever(receiver))
            .expect("cannot start the completion thread");
        *queue = Some((pid, sender));
    }
    let sender = &queue.as_ref().expect("set above").1;
    // The thread only stops when the interpreter is finalizing; nothing can be resolved then.
    let _ = sender.send((sink, completion));
}

fn resolve_forever(receiver: mpsc::Receiver<Resolution>) {
    ON_COMPLETION_THREAD.with(|flag| flag.set(true));
    while let Ok(first) = receiver.recv() {
        let (futures, completions): (Vec<_>, Vec<_>) =
            std::iter::once(first).chain(receiver.try_iter().take(BATCH)).unzip();
        let resolved = Python::try_attach(|py| {
            // The futures are released here, under the GIL.
            for (sink, completion) in futures.into_iter().zip(&completions) {
                let resolved = match sink {
                    Sink::Future(future) => resolve(py, future.bind(py), completion),
                    Sink::Asyncio { event_loop, future } => resolve_async(py, event_loop.bind(py), future, completion),
                };
                if let Err(error) = resolved {
                    // A future that cannot take its result (closed interpreter state): report it.
                    error.print(py);
                }
            }
        });
        if resolved.is_none() {
            return; // the interpreter is shutting down
        }
        for completion in completions {
            completion.dispatcher.finished();
        }
    }
}

fn resolve(py: Python<'_>, future: &Bound<'_, PyAny>, completion: &Completion) -> PyResult<()> {
    let function = &completion.request.function;
    let invoked = completion.result.as_ref().ok();
    let info = InvocationInfo {
        function: function.clone(),
        request_id: invoked.and_then(|i| i.request_id.clone()).or_else(|| match &completion.result {
            Err(AttemptError::Rejected { request_id, .. }) => request_id.clone(),
            _ => None,
        }),
        status_code: invoked.map(|i| i.status_code),
        executed_version: invoked.and_then(|i| i.executed_version.clone()),
        attempts: completion.attempts,
        throttles: completion.throttles,
        log_tail: invoked.and_then(|i| i.log_tail.clone()),
        report: completion.report.clone(),
    };
    future.setattr(pyo3::intern!(py, "invocation"), Py::new(py, info)?)?;
    match outcome(py, completion) {
        Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
        Err(error) => future.call_method1(pyo3::intern!(py, "set_exception"), (error.value(py),))?,
    };
    Ok(())
}

/// Sets an asyncio future from its own loop's thread, as asyncio requires.
fn resolve_async(py: Python<'_>, event_loop: &Bound<'_, PyAny>, future: Py<PyAny>, completion: &Completion) -> PyResult<()> {
    let (value, error) = match outcome(py, completion) {
        Ok(value) => (value, None),
        Err(error) => (py.None(), Some(error.into_value(py))),
    };
    // One function object for every asyncio completion, not one each.
    static SETTER: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    let setter = SETTER.get_or_try_init(py, || wrap_pyfunction!(set_async_outcome, py).map(|f| f.into_any().unbind()))?;
    match event_loop.call_method1(pyo3::intern!(py, "call_soon_threadsafe"), (setter, future, value, error)) {
        // The loop closed before the answer came: nobody awaits it any more.
        Err(error) if event_loop.call_method0(pyo3::intern!(py, "is_closed"))?.is_truthy()? => drop(error),
        other => drop(other?),
    }
    Ok(())
}

/// Runs on the event loop: the awaiting task may have been cancelled meanwhile.
#[pyfunction]
fn set_async_outcome(future: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>, error: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let py = future.py();
    if future.call_method0(pyo3::intern!(py, "cancelled"))?.is_truthy()? {
        return Ok(());
    }
    match error {
        Some(error) => future.call_method1(pyo3::intern!(py, "set_exception"), (error,))?,
        None => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
    };
    Ok(())
}

/// An asyncio future's done-callback: cancelling the future cancels its invocation if unsent.
#[pyclass(module = "lambda_executor._core", frozen)]
pub struct CancelUnsent {
    pub job: Arc<Job>,
}

#[pymethods]
impl CancelUnsent {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0(pyo3::intern!(future.py(), "cancelled"))?.is_truthy()? {
            self.job.cancel();
        }
        Ok(())
    }
}

/// The value or exception an invocation resolves to.
fn outcome(py: Python<'_>, completion: &Completion) -> PyResult<Py<PyAny>> {
    let function = completion.request.function.as_str();
    let attempts = completion.attempts;
    let error = |class: &str, args: Bound<'_, pyo3::types::PyTuple>| Err(lambda_error(py, class, args, None));
    match &completion.result {
        Ok(invoked) if invoked.function_error.is_some() => function_error(py, function, invoked),
        Ok(invoked) => match completion.request.invocation_type {
            InvocationType::RequestResponse => from_json(py, &invoked.payload),
            InvocationType::Event | InvocationType::DryRun => Ok(py.None()),
        },
        Err(AttemptError::Throttled { reason, .. }) => {
            let message = format!(
                "{function} was throttled ({reason}) on every one of {attempts} attempts until the retry policy's throttle_timeout passed"
            );
            error("ThrottledError", (message, reason, attempts).into_pyobject(py)?)
        }
        Err(AttemptError::Rejected { code, message, status, request_id }) => {
            let text = format!("{code}: {message}");
            match *status {
                404 => error("FunctionNotFoundError", (text,).into_pyobject(py)?),
                413 => error("PayloadTooLargeError", (text,).into_pyobject(py)?),
                _ => error("InvocationError", (text, code, *status, request_id).into_pyobject(py)?),
            }
        }
        Err(AttemptError::Unavailable { code, message, status }) => {
            let text = format!("{code}: {message} (HTTP {status}; still failing after {attempts} attempts)");
            error("InvocationError", (text, code, *status, py.None()).into_pyobject(py)?)
        }
        Err(AttemptError::NotSent { message }) => {
            let text = format!("could not reach Lambda after {attempts} attempts: {message}");
            error("InvocationError", (text, "ConnectionError", 0, py.None()).into_pyobject(py)?)
        }
        Err(AttemptError::MaybeSent { message }) => {
            let text = format!(
                "the connection failed after the request to {function} was sent, so it may have run; not retried \
                 (RetryPolicy(retry_after_sent=True) would retry it): {message}"
            );
            error("ConnectionLostError", (text, "ConnectionLost", 0, py.None()).into_pyobject(py)?)
        }
    }
}

/// The handler failed: a FunctionError built from the runtime's error document.
fn function_error(py: Python<'_>, function: &str, invoked: &Invoked) -> PyResult<Py<PyAny>> {
    let document = from_json(py, &invoked.payload).ok().map(|document| document.into_bound(py));
    let field = |name: &str| document.as_ref()?.cast::<PyDict>().ok()?.get_item(name).ok().flatten();
    let error_type = match field("errorType") {
        Some(value) => value,
        None => invoked.function_error.as_deref().unwrap_or("Unhandled").into_pyobject(py)?.into_any(),
    };
    let message = match field("errorMessage") {
        Some(value) => value,
        None => String::from_utf8_lossy(&invoked.payload).into_pyobject(py)?.into_any(),
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("stack_trace", field("stackTrace").unwrap_or_else(|| pyo3::types::PyList::empty(py).into_any()))?;
    kwargs.set_item("request_id", &invoked.request_id)?;
    kwargs.set_item("function", function)?;
    Err(lambda_error(py, "FunctionError", (error_type, message), Some(&kwargs)))
}
