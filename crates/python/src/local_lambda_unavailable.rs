//! `lambda_executor.LocalLambda` where it cannot run: the emulator runs handlers under
//! awslambdaric, AWS's runtime client, which runs on Linux and macOS only.

use pyo3::exceptions::PyNotImplementedError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

#[pyclass(module = "lambda_executor._core", frozen)]
pub struct LocalLambda;

#[pymethods]
impl LocalLambda {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Err(PyNotImplementedError::new_err(
            "LocalLambda runs handlers under awslambdaric, which runs on Linux and macOS only: on Windows, \
             run it under WSL; LambdaExecutor itself calls deployed functions from here",
        ))
    }
}
