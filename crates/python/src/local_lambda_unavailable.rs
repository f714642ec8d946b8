//! `lambda_executor.LocalLambda` where it cannot run: the emulator runs handlers under
//! awslambdaric, AWS's runtime client, which runs on Linux and macOS only.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::{Error, Result};

/// An offline AWS Lambda, which cannot run here: it runs handlers under awslambdaric, which runs on
/// Linux and macOS only.
///
/// Raises:
///     NotImplementedError: Always, when made (run it under WSL on Windows).
#[pyclass(module = "lambda_executor._core", name = "LocalLambda", frozen)]
pub struct PyLocalLambda;

#[pymethods]
impl PyLocalLambda {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Result<Self> {
        Err(unsupported())
    }
}

/// The operations a LocalLambda serves, one (service, operation, method, path) row each.
///
/// The service is ``"lambda"`` (the path is the request URI's template of AWS's Lambda API
/// model), ``"logs"`` (CloudWatch Logs' reads of the functions' logs: a POST to ``/`` whose
/// ``X-Amz-Target`` names the operation) or ``"local-lambda"`` (LocalLambda's own endpoints).
/// Any other request is answered with an ``UnknownOperationException``.
///
/// Raises:
///     NotImplementedError: on Windows, where LocalLambda does not run.
#[pyfunction(name = "local_lambda_operations")]
pub fn py_local_lambda_operations() -> Result<Vec<(&'static str, &'static str, &'static str, &'static str)>> {
    Err(unsupported())
}

fn unsupported() -> Error {
    Error::Unsupported(
        "LocalLambda runs handlers under awslambdaric, which runs on Linux and macOS only: on Windows, \
         run it under WSL; LambdaExecutor itself calls deployed functions from here"
            .into(),
    )
}
