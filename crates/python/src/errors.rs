//! The one boundary where errors become Python exceptions: [`Error`], which every binding returns
//! and every error of the Rust crates converts into (so `?` converts), with its Python class
//! decided here; and the exceptions a future is resolved with when its invocation fails. The
//! classes of `lambda_executor.errors` are imported once, not looked up per error.

use lambda_executor_deploy::DeployError;
#[cfg(unix)]
use lambda_executor_emulator::{HandlerError, RegistryError};
use lambda_executor_engine::{
    AttemptError, ConfigError, Failure, Invoked, JournalError, LogsError, SpillError, SubmitError, NOT_LAMBDA,
};
use pyo3::exceptions::{
    PyFileNotFoundError, PyKeyError, PyModuleNotFoundError, PyNotImplementedError, PyRuntimeError, PyTypeError,
    PyValueError,
};
use pyo3::prelude::*;

/// The exception classes of `lambda_executor.errors`, each imported once on first use.
mod class {
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
    pyo3::import_exception!(lambda_executor.errors, SpillError);
    pyo3::import_exception!(lambda_executor.errors, LogsError);
}

/// Every error a binding raises.
pub enum Error {
    /// Already a Python exception (raised by Python code the binding called).
    Python(PyErr),
    Config(ConfigError),
    Journal(JournalError),
    Deploy(DeployError),
    Submit(SubmitError),
    Spill(SpillError),
    Logs(LogsError),
    #[cfg(unix)]
    Registry(RegistryError),
    #[cfg(unix)]
    Handler(HandlerError),
    /// An argument with a value it cannot have (ValueError).
    Invalid(String),
    /// An argument of a type it cannot have (TypeError).
    WrongType(String),
    /// A call the object's state does not allow (RuntimeError).
    Unusable(String),
    /// A file or directory that is not there (FileNotFoundError).
    Missing(String),
    /// A Python package that is not installed (ModuleNotFoundError).
    NotInstalled(String),
    /// Not available on this platform (NotImplementedError).
    Unsupported(String),
    /// A deploy step that did not finish in time (DeployError, code Timeout).
    DeployTimedOut(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for PyErr {
    fn from(error: Error) -> Self {
        match error {
            Error::Python(error) => error,
            Error::Config(error) => class::ConfigurationError::new_err(error.to_string()),
            Error::Journal(error) => class::JournalError::new_err(error.to_string()),
            Error::Deploy(error) => class::DeployError::new_err((error.to_string(), error.code)),
            Error::Submit(error @ SubmitError::Invalid(_)) => PyValueError::new_err(error.to_string()),
            Error::Submit(error @ SubmitError::PayloadTooLarge(_)) => {
                class::PayloadTooLargeError::new_err(error.to_string())
            }
            Error::Submit(error @ SubmitError::Forked) => PyRuntimeError::new_err(error.to_string()),
            Error::Spill(error) => class::SpillError::new_err((error.to_string(), error.url, error.permission)),
            Error::Logs(error @ LogsError::InvalidFunction(_)) => PyValueError::new_err(error.to_string()),
            Error::Logs(error) => class::LogsError::new_err(error.to_string()),
            // LocalLambda's registry refuses with the built-in exceptions a Python API would raise.
            #[cfg(unix)]
            Error::Registry(error) => match error {
                RegistryError::NotFound(name) => PyKeyError::new_err(format!("no function named '{name}'")),
                RegistryError::AlreadyExists(name) => {
                    PyValueError::new_err(format!("a function named '{name}' already exists"))
                }
                RegistryError::OverAccountLimit { requested, available } => PyValueError::new_err(format!(
                    "cannot reserve {requested}: only {available} of the account concurrency limit is unreserved"
                )),
                RegistryError::Closed => PyRuntimeError::new_err("this LocalLambda is closed"),
                RegistryError::Throttled { reason } => PyRuntimeError::new_err(reason),
            },
            #[cfg(unix)]
            Error::Handler(error @ HandlerError::Malformed { .. }) => PyValueError::new_err(error.to_string()),
            #[cfg(unix)]
            Error::Handler(error @ HandlerError::ModuleMissing { .. }) => {
                PyFileNotFoundError::new_err(error.to_string())
            }
            Error::Invalid(why) => PyValueError::new_err(why),
            Error::WrongType(why) => PyTypeError::new_err(why),
            Error::Unusable(why) => PyRuntimeError::new_err(why),
            Error::Missing(why) => PyFileNotFoundError::new_err(why),
            Error::NotInstalled(why) => PyModuleNotFoundError::new_err(why),
            Error::Unsupported(why) => PyNotImplementedError::new_err(why),
            Error::DeployTimedOut(why) => class::DeployError::new_err((why, "Timeout")),
        }
    }
}

/// Each error type of the Rust crates converts into its `Error`, so that `?` converts.
macro_rules! from_error {
    ($($(#[$attribute:meta])* $variant:ident($error:ty);)*) => {$(
        $(#[$attribute])*
        impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Self::$variant(error)
            }
        }
    )*};
}

from_error! {
    Python(PyErr);
    Config(ConfigError);
    Journal(JournalError);
    Deploy(DeployError);
    Submit(SubmitError);
    Spill(SpillError);
    Logs(LogsError);
    #[cfg(unix)]
    Registry(RegistryError);
    #[cfg(unix)]
    Handler(HandlerError);
}

/// Lambda answered, but with a result the client cannot read as JSON (a proxy's page, say).
pub fn unreadable_result(function: &str, invoked: &Invoked, why: String) -> PyErr {
    let request_id = invoked.request_id.as_deref().unwrap_or("none");
    let text = format!(
        "{function} answered HTTP {} (request {request_id}) with a result that is not JSON the client can read: {why}",
        invoked.status_code
    );
    class::InvocationError::new_err((text, "UnreadableResult", invoked.status_code, invoked.request_id.clone()))
}

/// The handler failed: a FunctionError of the runtime's error document's fields.
pub fn function_error(
    py: Python<'_>,
    arguments: (Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>, Option<String>, &str),
) -> PyResult<PyErr> {
    Ok(PyErr::from_value(py.get_type::<class::FunctionError>().call1(arguments)?))
}

/// An invocation that ended without a response, as the exception its future raises.
pub fn failed_invocation(function: &str, attempts: u32, failure: &Failure) -> PyErr {
    let error = match failure {
        Failure::Attempt(error) => error,
        Failure::OverSpendCap { spent, max_cost, waiting } => {
            let text = format!(
                "{function} was not called: the spend cap of {} was reached ({} spent by the calls that ran); \
                 the {waiting} calls waiting then were not sent, nor any submitted since",
                dollars(*max_cost),
                dollars(*spent)
            );
            return class::BudgetExceeded::new_err((text, *spent, *max_cost, *waiting));
        }
        // The journal could not record the call as sent, so it was not.
        Failure::JournalUnwritable { why } => {
            return class::JournalError::new_err(format!("{function} was not called: {why}"));
        }
        Failure::Spill(error) => {
            let text = format!("{function}: {error}");
            return class::SpillError::new_err((text, error.url.clone(), error.permission));
        }
    };
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
