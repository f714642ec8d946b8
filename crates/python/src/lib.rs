//! The Python bindings of lambda-executor, imported as `lambda_executor._core`: thin `#[pyclass]`
//! wrappers around the engine, the emulator and the deploy calls, with the delivery of outcomes
//! to Python futures, payload conversion, and the one error boundary (errors.rs).

mod arguments;
mod client_options;
mod control_plane;
mod delivery;
mod errors;
mod executor;
mod invocation_info;
mod journal;
#[cfg(unix)]
mod local_lambda;
#[cfg(not(unix))]
#[path = "local_lambda_unavailable.rs"]
mod local_lambda;
mod logging;
mod logs;
mod payload;
mod retry_policy;
mod spill_store;

use pyo3::prelude::*;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    logging::install(module.py())?;
    module.add_class::<local_lambda::PyLocalLambda>()?;
    module.add_class::<executor::PyEngine>()?;
    module.add_class::<executor::PyJobHandle>()?;
    module.add_class::<executor::PyEncodedEvent>()?;
    module.add_class::<journal::PyJournal>()?;
    module.add_class::<invocation_info::PyInvocationInfo>()?;
    module.add_class::<invocation_info::PyReport>()?;
    module.add_class::<control_plane::PyControlPlane>()?;
    module.add_class::<retry_policy::PyRetryPolicy>()?;
    module.add_class::<spill_store::PySpillStore>()?;
    module.add_class::<payload::PyJoinedJson>()?;
    module.add_class::<logs::PyLogReader>()?;
    module.add_function(wrap_pyfunction!(delivery::py_on_completion_thread, module)?)?;
    module.add_function(wrap_pyfunction!(payload::py_to_json, module)?)?;
    module.add_function(wrap_pyfunction!(local_lambda::py_local_lambda_operations, module)?)?;
    Ok(())
}
