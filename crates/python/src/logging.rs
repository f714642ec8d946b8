//! The engine's log records, and the SDK's events, reach Python's `logging`: a record of target
//! `lambda_executor::retry` goes to the logger `lambda_executor.retry` (pyo3-log maps `::` to `.`).
//!
//! The levels of those loggers are read when the extension is imported and again when an
//! executor is made ([`levels_changed`]), never per record: a record no logger takes then costs
//! one atomic load (log's maximum level), and the SDK's events cost nothing while
//! `lambda_executor.sdk` does not take DEBUG. pyo3-log keeps each logger and its level in between,
//! so that a record a logger does not take needs no GIL and is not formatted.

use std::sync::OnceLock;

use lambda_executor_engine::{forward_sdk_events, LOG_TARGETS, SDK_LOG_TARGET};
use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger, ResetHandle};

static RESET: OnceLock<ResetHandle> = OnceLock::new();

/// Installs the bridge (once per process: the extension's `log` logger is global).
pub fn install(py: Python<'_>) -> PyResult<()> {
    let logger = Logger::new(py, Caching::LoggersAndLevels)?.filter(LevelFilter::Debug);
    let reset = logger.reset_handle();
    if log::set_boxed_logger(Box::new(UnlessFinalizing(logger))).is_ok() {
        let _ = RESET.set(reset);
        levels_changed(py)?;
    }
    Ok(())
}

/// Reads the levels of the loggers under lambda_executor again: from now on each takes what its
/// level says, whatever it said before.
pub fn levels_changed(py: Python<'_>) -> PyResult<()> {
    let Some(reset) = RESET.get() else { return Ok(()) };
    reset.reset();
    let logging = py.import("logging")?;
    let mut most = LevelFilter::Off;
    for target in LOG_TARGETS {
        let logger = logging.call_method1("getLogger", (target.replace("::", "."),))?;
        let taken = level_taken(&logger)?;
        if target == SDK_LOG_TARGET {
            forward_sdk_events(taken >= LevelFilter::Debug);
        }
        most = most.max(taken);
    }
    log::set_max_level(most);
    Ok(())
}

/// The most detailed level `logger` takes (DEBUG at most: the engine logs nothing finer).
fn level_taken(logger: &Bound<'_, PyAny>) -> PyResult<LevelFilter> {
    for (number, level) in
        [(10, LevelFilter::Debug), (20, LevelFilter::Info), (30, LevelFilter::Warn), (40, LevelFilter::Error)]
    {
        if logger.call_method1("isEnabledFor", (number,))?.is_truthy()? {
            return Ok(level);
        }
    }
    Ok(LevelFilter::Off)
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
