//! The engine's log records, and the SDK's events, reach Python's `logging`: a record of target
//! `lambda_executor::retry` goes to the logger `lambda_executor.retry` (pyo3-log maps `::` to `.`).
//!
//! pyo3-log keeps each logger and its effective level once it has been asked, so that a record
//! of a level the logger does not take costs no GIL and no formatting. A level set in Python
//! later is read again when an executor is made ([`levels_changed`]).

use std::sync::OnceLock;

use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger, ResetHandle};

static RESET: OnceLock<ResetHandle> = OnceLock::new();

/// Installs the bridge (once per process: the extension's `log` logger is global).
pub fn install(py: Python<'_>) -> PyResult<()> {
    let logger = Logger::new(py, Caching::LoggersAndLevels)?.filter(LevelFilter::Debug);
    let reset = logger.reset_handle();
    if log::set_boxed_logger(Box::new(UnlessFinalizing(logger))).is_ok() {
        log::set_max_level(LevelFilter::Debug);
        let _ = RESET.set(reset);
        lambda_executor_engine::forward_sdk_events();
    }
    Ok(())
}

/// Forgets the levels read so far: the next record of each logger reads its level again.
pub fn levels_changed() {
    if let Some(reset) = RESET.get() {
        reset.reset();
    }
}

/// pyo3-log's logger, but a record that would need the GIL while the interpreter is finalizing
/// (tokio's threads outlive it) is dropped rather than wait for a GIL that never comes back.
struct UnlessFinalizing(Logger);

impl Log for UnlessFinalizing {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if self.0.enabled(record.metadata()) {
            Python::try_attach(|_| self.0.log(record));
        }
    }

    fn flush(&self) {}
}
