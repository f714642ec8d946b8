//! lambda-executor's Rust core, imported from Python as `lambda_executor._core`.
//! (`client_config` and `runtime` are public for the Rust baseline in examples/.)

pub mod client_config;
mod completion;
mod control_plane;
mod dispatcher;
mod emulator;
mod errors;
mod executor;
mod invocation;
mod limiter;
mod local_lambda;
mod payload;
mod protocol;
mod report;
mod retry;
mod stats;
pub mod runtime;
mod transport;

use pyo3::prelude::*;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<local_lambda::LocalLambda>()?;
    module.add_class::<executor::Engine>()?;
    module.add_class::<executor::JobHandle>()?;
    module.add_class::<completion::InvocationInfo>()?;
    module.add_class::<report::Report>()?;
    module.add_class::<control_plane::ControlPlane>()?;
    module.add_class::<retry::RetryPolicy>()?;
    module.add_function(wrap_pyfunction!(completion::py_on_completion_thread, module)?)?;
    module.add_function(wrap_pyfunction!(payload::py_to_json, module)?)?;
    Ok(())
}
