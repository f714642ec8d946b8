//! Resolves Python futures, concurrent.futures and asyncio ones alike. Finished invocations queue
//! here; one thread takes them in batches and resolves each batch under one hold of the GIL
//! (decoding results into Python values there), so completions reach Python without a thread per
//! call and without a GIL round-trip per call. An asyncio future is set through its event loop
//! (call_soon_threadsafe). A job counts as finished (its guard dropped) only once its future is set, so
//! waiting for an executor at exit leaves no thread inside Python while the interpreter finalizes.

use std::sync::mpsc;
use std::sync::Arc;

use lambda_executor_engine::protocol::InvocationType;
use lambda_executor_engine::Invoked;
use lambda_executor_engine::PerProcess;
use lambda_executor_engine::{Finished, Job, JobGuard, Sink};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::{failed_invocation, function_error, unreadable_result};
use crate::invocation_info::PyInvocationInfo;
use crate::payload::from_json;

const BATCH: usize = 1024;
/// Payloads this large leave megabytes freed in the allocator's arenas (one per tokio thread).
const LARGE_PAYLOAD: usize = 1 << 20;

/// Who waits for an invocation: a concurrent.futures Future, or an asyncio Future of
/// `event_loop`, set through the loop (see executor.rs, `ainvoke`).
pub enum FutureSink {
    Future(Py<PyAny>),
    Asyncio { event_loop: Py<PyAny>, future: Py<PyAny> },
}

impl Sink for FutureSink {
    fn deliver(self, finished: Finished) {
        deliver(self, Ending::Finished(finished));
    }

    fn cancelled(self, done: JobGuard) {
        deliver(self, Ending::Cancelled { _done: done });
    }
}

/// What a future is resolved with: the invocation's end, or a cancel once Lambda did not run an
/// abandoned call (the guard counts the job finished once the future is cancelled).
// Nearly every one is Finished: boxing it would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
enum Ending {
    Finished(Finished),
    /// Held until the future is cancelled.
    Cancelled {
        _done: JobGuard,
    },
}

type Resolution = (FutureSink, Ending);

/// Where finished invocations queue for the completion thread: one per process, so a forked
/// child starts its own thread and never waits on a lock its parent held at the fork.
static QUEUE: PerProcess<mpsc::Sender<Resolution>> = PerProcess::new();

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
fn deliver(sink: FutureSink, finished: Ending) {
    let sender = QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("lambda-executor-completions".into())
            .spawn(move || resolve_forever(receiver))
            .expect("cannot start the completion thread");
        sender
    });
    // The thread only stops when the interpreter is finalizing; nothing can be resolved then.
    let _ = sender.send((sink, finished));
}

fn resolve_forever(receiver: mpsc::Receiver<Resolution>) {
    ON_COMPLETION_THREAD.with(|flag| flag.set(true));
    while let Ok(first) = receiver.recv() {
        let (futures, completions): (Vec<_>, Vec<_>) =
            std::iter::once(first).chain(receiver.try_iter().take(BATCH)).unzip();
        let resolved = Python::try_attach(|py| {
            // The futures are released here, under the GIL.
            for (sink, outcome) in futures.into_iter().zip(&completions) {
                let resolved = match (sink, outcome) {
                    (FutureSink::Future(future), Ending::Finished(completion)) => {
                        resolve(py, future.bind(py), completion)
                    }
                    (FutureSink::Asyncio { event_loop, future }, Ending::Finished(completion)) => {
                        resolve_async(py, event_loop.bind(py), future, completion)
                    }
                    (sink, Ending::Cancelled { .. }) => cancel(py, sink),
                };
                if let Err(error) = resolved {
                    // A future that cannot take its result (closed interpreter state): report it.
                    error.print(py);
                }
            }
        });
        let large = completions.iter().any(|outcome| match outcome {
            Ending::Finished(completion) => {
                completion.sent_bytes >= LARGE_PAYLOAD
                    || completion.result.as_ref().is_ok_and(|invoked| invoked.payload.len() >= LARGE_PAYLOAD)
            }
            Ending::Cancelled { .. } => false,
        });
        // Dropping the completions counts their jobs finished, now that their futures are set.
        drop(completions);
        if large {
            return_freed_memory();
        }
        if resolved.is_none() {
            return; // the interpreter is shutting down
        }
    }
}

/// Hands memory freed in the allocator's arenas back to the system. glibc keeps freed blocks
/// for reuse, and after multi-megabyte payloads its arenas hold several of them: without this,
/// a batch of 5 MB calls peaks well above what it holds at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_freed_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators give freed memory back on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_freed_memory() {}

/// Resolves `sink` now, on this thread (which holds the GIL, and for an asyncio future runs its
/// loop): for outcomes a journal already held.
pub fn resolve_now(py: Python<'_>, sink: FutureSink, finished: Finished) -> PyResult<()> {
    match sink {
        FutureSink::Future(future) => resolve(py, future.bind(py), &finished),
        FutureSink::Asyncio { future, .. } => match outcome(py, &finished) {
            Ok(value) => set_async_outcome(future.bind(py), value.bind(py), None),
            Err(error) => set_async_outcome(future.bind(py), py.None().bind(py), Some(error.value(py).as_any())),
        },
    }
}

/// Cancels the future of a job that ended cancelled (its own `cancel` now succeeds); an asyncio
/// future from its loop's thread.
fn cancel(py: Python<'_>, sink: FutureSink) -> PyResult<()> {
    match sink {
        FutureSink::Future(future) => drop(future.bind(py).call_method0(pyo3::intern!(py, "cancel"))?),
        FutureSink::Asyncio { event_loop, future } => {
            let cancel = future.bind(py).getattr(pyo3::intern!(py, "cancel"))?;
            call_soon(event_loop.bind(py), (cancel,))?;
        }
    }
    Ok(())
}

fn resolve(py: Python<'_>, future: &Bound<'_, PyAny>, completion: &Finished) -> PyResult<()> {
    future.setattr(pyo3::intern!(py, "invocation"), Py::new(py, PyInvocationInfo::of(completion))?)?;
    match outcome(py, completion) {
        Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
        Err(error) => future.call_method1(pyo3::intern!(py, "set_exception"), (error.value(py),))?,
    };
    Ok(())
}

/// Sets an asyncio future from its own loop's thread, as asyncio requires.
fn resolve_async(
    py: Python<'_>,
    event_loop: &Bound<'_, PyAny>,
    future: Py<PyAny>,
    completion: &Finished,
) -> PyResult<()> {
    let (value, error) = match outcome(py, completion) {
        Ok(value) => (value, None),
        Err(error) => (py.None(), Some(error.into_value(py))),
    };
    // One function object for every asyncio completion, not one each.
    static SETTER: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    let setter =
        SETTER.get_or_try_init(py, || wrap_pyfunction!(set_async_outcome, py).map(|f| f.into_any().unbind()))?;
    call_soon(event_loop, (setter, future, value, error))
}

/// Runs `callback(*args)` on the event loop's thread; a loop closed before the answer came is
/// left alone (nobody awaits it any more).
fn call_soon<'py>(event_loop: &Bound<'py, PyAny>, callback_and_args: impl pyo3::call::PyCallArgs<'py>) -> PyResult<()> {
    let py = event_loop.py();
    match event_loop.call_method1(pyo3::intern!(py, "call_soon_threadsafe"), callback_and_args) {
        Err(error) if event_loop.call_method0(pyo3::intern!(py, "is_closed"))?.is_truthy()? => drop(error),
        other => drop(other?),
    }
    Ok(())
}

/// Runs on the event loop: the awaiting task may have been cancelled meanwhile.
#[pyfunction]
fn set_async_outcome(
    future: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    error: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
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

/// An asyncio future's done-callback: cancelling the future cancels its invocation unless it is
/// in flight, and then sends nothing more of it.
#[pyclass(module = "lambda_executor._core", name = "CancelUnsent", frozen)]
pub struct PyCancelUnsent {
    pub job: Arc<Job<FutureSink>>,
}

#[pymethods]
impl PyCancelUnsent {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0(pyo3::intern!(future.py(), "cancelled"))?.is_truthy()? {
            self.job.abandon();
        }
        Ok(())
    }
}

/// The value or exception an invocation resolves to.
fn outcome(py: Python<'_>, completion: &Finished) -> PyResult<Py<PyAny>> {
    let function = completion.request.function.as_str();
    match &completion.result {
        Ok(invoked) if invoked.function_error.is_some() => Err(handler_failed(py, function, invoked)?),
        Ok(invoked) => match completion.request.invocation_type {
            InvocationType::RequestResponse => from_json(py, &invoked.payload)
                .map_err(|error| unreadable_result(function, invoked, PyErr::from(error).value(py).to_string())),
            InvocationType::Event | InvocationType::DryRun => Ok(py.None()),
        },
        Err(failure) => Err(failed_invocation(function, completion.attempts, failure)),
    }
}

/// The handler failed: a FunctionError built from the runtime's error document.
fn handler_failed(py: Python<'_>, function: &str, invoked: &Invoked) -> PyResult<PyErr> {
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
    let stack_trace = field("stackTrace").unwrap_or_else(|| PyList::empty(py).into_any());
    function_error(py, (error_type, message, stack_trace, invoked.request_id.clone(), function))
}
