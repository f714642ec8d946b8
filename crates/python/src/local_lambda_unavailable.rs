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
        Err(Error::Unsupported(
            "LocalLambda runs handlers under awslambdaric, which runs on Linux and macOS only: on Windows, \
             run it under WSL; LambdaExecutor itself calls deployed functions from here"
                .into(),
        ))
    }
}
