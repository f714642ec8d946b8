//! `lambda_executor.LocalLambda` where it cannot run: the emulator runs handlers under
//! awslambdaric, AWS's runtime client, which runs on Linux and macOS only.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::{Error, Result};

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

/// `lambda_executor._core.local_lambda_operations()`, which lists what a LocalLambda serves.
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
