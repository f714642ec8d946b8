//! `lambda_executor._core.Journal`: an open resume journal, with what a rerun does with what it
//! holds (see the engine's journal.rs).

use std::path::PathBuf;
use std::sync::Arc;

use lambda_executor_engine::Dispatcher;
use lambda_executor_engine::{AttemptError, InvokeRequest, Invoked};
use lambda_executor_engine::{JournalEntry, State, Stored};
use pyo3::prelude::*;

use crate::errors::IntoPyErr;
use crate::payload::to_python;

#[pyclass(module = "lambda_executor._core", frozen)]
pub struct Journal {
    journal: Arc<lambda_executor_engine::Journal>,
    retry_failed: bool,
    resume_in_flight: bool,
}

/// What to do with one submission.
pub enum Plan {
    Send(JournalEntry),
    /// Return this outcome, as the journal holds it: nothing is sent.
    Replay(Result<Invoked, AttemptError>),
}

#[pymethods]
impl Journal {
    #[new]
    #[pyo3(signature = (path, *, retry_failed=true, resume_in_flight=true))]
    fn new(py: Python<'_>, path: PathBuf, retry_failed: bool, resume_in_flight: bool) -> PyResult<Self> {
        let journal = py.detach(|| lambda_executor_engine::Journal::open(&path)).map_err(IntoPyErr::into_py_err)?;
        Ok(Self { journal, retry_failed, resume_in_flight })
    }

    #[getter]
    fn path(&self) -> PathBuf {
        self.journal.path().to_owned()
    }

    /// Waits until every outcome recorded so far is on disk.
    fn flush(&self, py: Python<'_>) {
        py.detach(|| self.journal.flush());
    }

    /// Commits what was recorded and gives up the file (it closes once the invocations in flight
    /// through it end); invocations not yet sent through it fail unsent.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.journal.close());
    }

    /// Outcomes that could not be written so far (a full disk, a file gone: a rerun sends those
    /// calls again), and why the last could not be.
    fn unrecorded(&self) -> (u64, Option<String>) {
        self.journal.unrecorded()
    }

    /// Per function: succeeded, failed, throttled and unknown (in flight when a run stopped)
    /// counts, and the bytes of results stored; as dicts, by function name.
    fn counts(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let counts = py.detach(|| self.journal.counts()).map_err(IntoPyErr::into_py_err)?;
        to_python(py, &counts)
    }

    /// The failed and throttled-out invocations, oldest first (at most `limit`), as dicts.
    #[pyo3(signature = (limit=None))]
    fn failures(&self, py: Python<'_>, limit: Option<u64>) -> PyResult<Py<PyAny>> {
        let failures = py.detach(|| self.journal.failures(limit)).map_err(IntoPyErr::into_py_err)?;
        to_python(py, &failures)
    }

    /// Writes every stored result to `out` as JSON lines; returns how many.
    fn export(&self, py: Python<'_>, out: PathBuf) -> PyResult<u64> {
        py.detach(|| self.journal.export(&out)).map_err(IntoPyErr::into_py_err)
    }

    fn __repr__(&self) -> String {
        format!("Journal('{}')", self.journal.path().display())
    }
}

impl Journal {
    /// Decides, from what the journal holds for this submission of `request`, whether to send it.
    pub fn plan(&self, request: &InvokeRequest, dispatcher: &Dispatcher) -> PyResult<Plan> {
        let key = self.journal.key_for(request);
        let stored = self.journal.stored(&key).map_err(IntoPyErr::into_py_err)?;
        let replayed = match stored {
            Some(Stored { state: State::Succeeded, outcome: Some(outcome) }) => Some(outcome),
            Some(Stored { state: State::Failed, outcome: Some(outcome) }) if !self.retry_failed => Some(outcome),
            Some(Stored { state: State::Sent, .. }) if !self.resume_in_flight => Some(Err(AttemptError::MaybeSent {
                message: format!(
                    "it was in flight when an earlier run using the journal {} stopped, so it may have run; \
                     with resume_in_flight=False it is not sent again",
                    self.journal.path().display()
                ),
            })),
            Some(Stored { state: State::Sent, .. }) => {
                dispatcher.count_resent_in_flight();
                None
            }
            _ => None,
        };
        Ok(match replayed {
            Some(outcome) => Plan::Replay(outcome),
            None => Plan::Send(self.journal.entry(key).map_err(IntoPyErr::into_py_err)?),
        })
    }
}
