//! Raising the Python exception classes of `lambda_executor.errors` from Rust.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// An instance of `lambda_executor.errors.<class>(*args, **kwargs)` as a PyErr. If the class
/// cannot be built, the error saying why is returned instead, so nothing is lost.
pub fn lambda_error<'py, A>(py: Python<'py>, class: &str, args: A, kwargs: Option<&Bound<'py, PyDict>>) -> PyErr
where
    A: IntoPyObject<'py, Target = PyTuple, Output = Bound<'py, PyTuple>>,
    A::Error: Into<PyErr>,
{
    let build = || -> PyResult<PyErr> {
        let args = args.into_pyobject(py).map_err(Into::into)?;
        let instance = py.import("lambda_executor.errors")?.getattr(class)?.call(args, kwargs)?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|failure| failure)
}
