//! Execution environments: the runtime processes a function's invocations run in, the Runtime API
//! each polls, their output, which Python runs them, and synthetic functions that need none.

pub mod cgroups;
pub mod interpreters;
pub mod log_capture;
pub mod process;
pub mod runtime_api;
pub mod synthetic;
