//! `lambda_executor.RetryPolicy`: the engine's retry policy as Python builds and reads it.

use lambda_executor_engine::RetryPolicy;
use pyo3::prelude::*;

use crate::arguments::whole_number;
use crate::errors::{Error, Result};

/// More retries than this of one call is no policy a user means.
const MAX_RETRIES: i64 = 1000;

/// How LambdaExecutor retries. Every argument is optional:
///
/// - `throttle_timeout`: seconds an invocation keeps retrying throttles (429) before
///   `ThrottledError` (default 900).
/// - `max_retries`: retries of calls Lambda could not take (5xx, ResourceNotReady,
///   ResourceConflict) and of connections that failed before sending (default 4).
/// - `base_delay`, `max_delay`: exponential backoff with full jitter between these (default
///   0.05 s and 5 s); a Retry-After from Lambda is waited at least.
/// - `retry_after_sent`: also retry when the connection was lost after the request was sent,
///   although the function may then run twice (default False).
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

    #[getter]
    fn throttle_timeout(&self) -> f64 {
        self.0.throttle_timeout
    }

    #[getter]
    fn max_retries(&self) -> u32 {
        self.0.max_retries
    }

    #[getter]
    fn base_delay(&self) -> f64 {
        self.0.base_delay
    }

    #[getter]
    fn max_delay(&self) -> f64 {
        self.0.max_delay
    }

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
