//! The service below the HTTP API: the emulator's state and its operations (functions, versions,
//! invocations, layers, code read from S3), which the API and the Python bindings call.

pub mod code_source;
pub mod emulator;
pub mod invocations;
pub mod layers;
pub mod versions;
