//! `lambda_executor.RetryPolicy`: the engine's retry policy as Python builds and reads it.

use lambda_executor_engine::RetryPolicy;
use pyo3::prelude::*;

use crate::arguments::whole_number;
use crate::errors::{Error, Result};

/// More retries than this of one call is no policy a user means.
const MAX_RETRIES: i64 = 1000;

/// How a :class:`~lambda_executor.LambdaExecutor` retries the invocations Lambda did not run.
///
/// Throttles (429) are retried until ``throttle_timeout``; calls Lambda could not take (5xx,
/// ResourceNotReady, ResourceConflict) and connections that failed before sending, up to
/// ``max_retries`` times; a call whose connection was lost after it was sent, only with
/// ``retry_after_sent``. Retries wait an exponential backoff with full jitter between
/// ``base_delay`` and ``max_delay``, and at least the Retry-After Lambda asked for.
///
/// Args:
///     throttle_timeout: Seconds an invocation keeps retrying throttles before it fails with
///         :class:`~lambda_executor.ThrottledError`.
///     max_retries: Retries of a call Lambda could not take, 0 to 1,000.
///     base_delay: Seconds of the first backoff.
///     max_delay: Seconds the backoff grows to at most.
///     retry_after_sent: Also retry a call whose connection was lost after it was sent, although
///         the function may then run twice.
///
/// Raises:
///     ValueError: A setting is out of range (a negative delay, ``base_delay`` above
///         ``max_delay``, ...).
///     TypeError: ``max_retries`` is not a whole number.
#[pyclass(module = "lambda_executor._core", name = "RetryPolicy", frozen, from_py_object)]
#[derive(Clone)]
pub struct PyRetryPolicy(pub RetryPolicy);

#[pymethods]
impl PyRetryPolicy {
    #[new]
    #[pyo3(signature = (*, throttle_timeout=900.0, max_retries=None, base_delay=0.05, max_delay=5.0, retry_after_sent=false),
           text_signature = "(*, throttle_timeout=900.0, max_retries=4, base_delay=0.05, max_delay=5.0, retry_after_sent=False)")]
    fn new(
        throttle_timeout: f64,
        max_retries: Option<&Bound<'_, PyAny>>,
        base_delay: f64,
        max_delay: f64,
        retry_after_sent: bool,
    ) -> Result<Self> {
        let max_retries = match max_retries {
            Some(value) => whole_number(value, "max_retries", 0, MAX_RETRIES)? as u32,
            None => RetryPolicy::default().max_retries,
        };
        RetryPolicy::new(throttle_timeout, max_retries, base_delay, max_delay, retry_after_sent)
            .map(Self)
            .map_err(Error::Invalid)
    }

    /// Seconds an invocation keeps retrying throttles (429) before it fails.
    #[getter]
    fn throttle_timeout(&self) -> f64 {
        self.0.throttle_timeout
    }

    /// Retries of a call Lambda could not take (5xx, ResourceNotReady, ResourceConflict).
    #[getter]
    fn max_retries(&self) -> u32 {
        self.0.max_retries
    }

    /// Seconds of the first backoff.
    #[getter]
    fn base_delay(&self) -> f64 {
        self.0.base_delay
    }

    /// Seconds the backoff grows to at most.
    #[getter]
    fn max_delay(&self) -> f64 {
        self.0.max_delay
    }

    /// Whether a call whose connection was lost after it was sent is retried (it may run twice).
    #[getter]
    fn retry_after_sent(&self) -> bool {
        self.0.retry_after_sent
    }

    fn __repr__(&self) -> String {
        let policy = &self.0;
        format!(
            "RetryPolicy(throttle_timeout={}, max_retries={}, base_delay={}, max_delay={}, retry_after_sent={})",
            policy.throttle_timeout,
            policy.max_retries,
            policy.base_delay,
            policy.max_delay,
            if policy.retry_after_sent { "True" } else { "False" }
        )
    }
}
