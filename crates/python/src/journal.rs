//! `lambda_executor._core.Journal`: an open resume journal, and what a rerun does with what it
//! holds (the engine's journal and its resume policy).

use std::path::PathBuf;
use std::sync::Arc;

use lambda_executor_engine::{Journal, Resume};
use pyo3::prelude::*;

use crate::errors::Result;
use crate::payload::to_python;

#[pyclass(module = "lambda_executor._core", name = "Journal", frozen)]
pub struct PyJournal {
    journal: Arc<Journal>,
    resume: Resume,
}

#[pymethods]
impl PyJournal {
    #[new]
    #[pyo3(signature = (path, *, retry_failed=true, resume_in_flight=true))]
    fn new(py: Python<'_>, path: PathBuf, retry_failed: bool, resume_in_flight: bool) -> Result<Self> {
        let journal = py.detach(|| Journal::open(&path))?;
        Ok(Self { journal, resume: Resume { retry_failed, resume_in_flight } })
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
    fn counts(&self, py: Python<'_>) -> Result<Py<PyAny>> {
        let counts = py.detach(|| self.journal.counts())?;
        to_python(py, &counts)
    }

    /// The failed and throttled-out invocations, oldest first (at most `limit`), as dicts.
    #[pyo3(signature = (limit=None))]
    fn failures(&self, py: Python<'_>, limit: Option<u64>) -> Result<Py<PyAny>> {
        let failures = py.detach(|| self.journal.failures(limit))?;
        to_python(py, &failures)
    }

    /// Writes every stored result to `out` as JSON lines; returns how many.
    fn export(&self, py: Python<'_>, out: PathBuf) -> Result<u64> {
        Ok(py.detach(|| self.journal.export(&out))?)
    }

    fn __repr__(&self) -> String {
        format!("Journal('{}')", self.journal.path().display())
    }
}

impl PyJournal {
    /// The journal, with what a rerun sends again.
    pub fn with_resume(&self) -> (&Journal, Resume) {
        (&self.journal, self.resume)
    }
}
