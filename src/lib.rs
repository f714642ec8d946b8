//! lambda-executor's Rust core, imported from Python as `lambda_executor._core`.

mod emulator;
mod local_lambda;
mod protocol;
mod runtime;

use pyo3::prelude::*;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<local_lambda::LocalLambda>()?;
    Ok(())
}
