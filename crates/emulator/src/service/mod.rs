//! The service below the HTTP API: the emulator's state and its operations (functions, versions,
//! invocations), which the API and the Python bindings call.

pub mod emulator;
pub mod invocations;
pub mod versions;
