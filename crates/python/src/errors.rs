//! The one boundary where the Rust crates' errors become Python exceptions: the classes of
//! `lambda_executor.errors` (imported once, not looked up per error) and a conversion for each
//! error type the crates return.

#[cfg(unix)]
use lambda_executor_emulator::{HandlerError, RegistryError};
use lambda_executor_engine::ConfigError;
use lambda_executor_engine::{AttemptError, Invoked, NOT_LAMBDA};
#[cfg(unix)]
use pyo3::exceptions::{PyFileNotFoundError, PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// The exception classes of `lambda_executor.errors`, each imported once on first use.
pub mod class {
    pyo3::import_exception!(lambda_executor.errors, ConfigurationError);
    pyo3::import_exception!(lambda_executor.errors, FunctionError);
    pyo3::import_exception!(lambda_executor.errors, ThrottledError);
    pyo3::import_exception!(lambda_executor.errors, PayloadTooLargeError);
    pyo3::import_exception!(lambda_executor.errors, FunctionNotFoundError);
    pyo3::import_exception!(lambda_executor.errors, InvocationError);
    pyo3::import_exception!(lambda_executor.errors, ConnectionLostError);
    pyo3::import_exception!(lambda_executor.errors, DeployError);
    pyo3::import_exception!(lambda_executor.errors, JournalError);
    pyo3::import_exception!(lambda_executor.errors, BudgetExceeded);
}

/// Turns an error of the Rust crates into the Python exception a user catches.
pub trait IntoPyErr {
    fn into_py_err(self) -> PyErr;
}

impl IntoPyErr for ConfigError {
    fn into_py_err(self) -> PyErr {
        class::ConfigurationError::new_err(self.to_string())
    }
}

impl IntoPyErr for lambda_executor_engine::JournalError {
    fn into_py_err(self) -> PyErr {
        class::JournalError::new_err(self.to_string())
    }
}

impl IntoPyErr for lambda_executor_deploy::DeployError {
    fn into_py_err(self) -> PyErr {
        class::DeployError::new_err((self.to_string(), self.code))
    }
}

/// LocalLambda's registry refuses with the built-in exceptions a Python API would raise.
#[cfg(unix)]
impl IntoPyErr for RegistryError {
    fn into_py_err(self) -> PyErr {
        match self {
            Self::NotFound(name) => PyKeyError::new_err(format!("no function named '{name}'")),
            Self::AlreadyExists(name) => PyValueError::new_err(format!("a function named '{name}' already exists")),
            Self::OverAccountLimit { requested, available } => PyValueError::new_err(format!(
                "cannot reserve {requested}: only {available} of the account concurrency limit is unreserved"
            )),
            Self::Closed => PyRuntimeError::new_err("this LocalLambda is closed"),
            Self::Throttled { reason } => PyRuntimeError::new_err(reason),
        }
    }
}

#[cfg(unix)]
impl IntoPyErr for HandlerError {
    fn into_py_err(self) -> PyErr {
        match self {
            Self::Malformed { .. } => PyValueError::new_err(self.to_string()),
            Self::ModuleMissing { .. } => PyFileNotFoundError::new_err(self.to_string()),
        }
    }
}

/// Lambda answered, but with a result the client cannot read as JSON (a proxy's page, say).
pub struct UnreadableResult<'a> {
    pub function: &'a str,
    pub invoked: &'a Invoked,
    pub why: String,
}

impl IntoPyErr for UnreadableResult<'_> {
    fn into_py_err(self) -> PyErr {
        let Self { function, invoked, why } = self;
        let request_id = invoked.request_id.as_deref().unwrap_or("none");
        let text = format!(
            "{function} answered HTTP {} (request {request_id}) with a result that is not JSON the client can read: {why}",
            invoked.status_code
        );
        class::InvocationError::new_err((text, "UnreadableResult", invoked.status_code, invoked.request_id.clone()))
    }
}

/// An invocation that ended without a response, as the exception its future raises.
pub struct FailedInvocation<'a> {
    pub function: &'a str,
    pub attempts: u32,
    pub error: &'a AttemptError,
}

impl IntoPyErr for FailedInvocation<'_> {
    fn into_py_err(self) -> PyErr {
        let Self { function, attempts, error } = self;
        match error {
            AttemptError::Throttled { reason, .. } => {
                let attempts_made = match attempts {
                    1 => "on its only attempt".to_owned(),
                    n => format!("on all {n} attempts"),
                };
                let message = format!(
                    "{function} was throttled ({reason}) {attempts_made} until the retry policy's throttle_timeout passed"
                );
                class::ThrottledError::new_err((message, reason.clone(), attempts))
            }
            AttemptError::Rejected { code, message, status, request_id } => {
                let text = format!("{code}: {message}");
                if code == "JournalError" {
                    // The journal could not record the call as sent, so it was not.
                    return class::JournalError::new_err(format!("{function} was not called: {message}"));
                }
                match *status {
                    // An endpoint that is not Lambda says nothing of the function.
                    404 if code != NOT_LAMBDA => class::FunctionNotFoundError::new_err(text),
                    413 => class::PayloadTooLargeError::new_err(text),
                    _ => class::InvocationError::new_err((text, code.clone(), *status, request_id.clone())),
                }
            }
            AttemptError::Unavailable { code, message, status } => {
                let text = format!("{code}: {message} (HTTP {status}; still failing after {attempts} attempts)");
                class::InvocationError::new_err((text, code.clone(), *status, None::<String>))
            }
            AttemptError::NotSent { message } => {
                let text = format!("could not reach Lambda after {attempts} attempts: {message}");
                class::InvocationError::new_err((text, "ConnectionError", 0, None::<String>))
            }
            AttemptError::MaybeSent { message } => {
                let text = format!(
                    "the connection failed after the request to {function} was sent, so it may have run; not \
                     retried (RetryPolicy(retry_after_sent=True) would retry it): {message}"
                );
                class::ConnectionLostError::new_err((text, "ConnectionLost", 0, None::<String>))
            }
            AttemptError::OverSpendCap { spent, max_cost, waiting } => {
                let text = format!(
                    "{function} was not called: the spend cap of {} was reached ({} spent by the calls that ran); \
                     the {waiting} calls waiting then were not sent, nor any submitted since",
                    dollars(*max_cost),
                    dollars(*spent)
                );
                class::BudgetExceeded::new_err((text, *spent, *max_cost, *waiting))
            }
        }
    }
}

/// An amount in US dollars: cents from a dollar up, six decimals below.
fn dollars(amount: f64) -> String {
    if amount >= 1.0 {
        format!("${amount:.2}")
    } else {
        format!("${amount:.6}")
    }
}
