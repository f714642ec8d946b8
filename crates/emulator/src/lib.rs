//! LocalLambda: an offline Lambda that serves the Invoke API and runs handlers in execution
//! environments polling the Runtime API, with Lambda's concurrency and throttling rules.
//!
//! Unix only, as awslambdaric (the runtime client it runs handlers under) is: elsewhere the crate
//! is empty, and the Python bindings say so when a LocalLambda is created.
//!
//! Its layers, each importing only the ones below it:
//! - `api`: the HTTP API on the emulator's port (one route table, one wire error type);
//! - `service`: the `Emulator`, its state and its operations (code read from S3 among them,
//!   through the `ObjectSource` it is given: the crate has no S3 client of its own);
//! - `state`: the registry of functions and their concurrency, throttling, versions, the code
//!   store (with Lambda's unzipped-size limit), published layers and injected faults;
//! - `environment`: execution environments (runtime processes, the Runtime API they poll, their
//!   output, their interpreters) and synthetic functions;
//! - `model`: plain types, which import nothing else of the crate.
//!
//! Beside them, `http` (the HTTP plumbing both APIs share) and `tls` import nothing of the crate.
//! This file only re-exports what other crates use.
#![cfg(unix)]

mod api;
mod environment;
mod http;
mod model;
mod service;
mod state;
pub mod tls;

pub use api::operations::OPERATIONS;
pub use model::code::{ObjectError, ObjectRead, ObjectSource, S3Endpoint};
pub use model::function::{FunctionKind, FunctionSpec, FunctionStats};
pub use model::invocation_log;
pub use service::emulator::{Emulator, EmulatorConfig};
pub use state::handler::{handler_module, HandlerError};
pub use state::registry::RegistryError;
pub use state::throttling::ThrottleLimits;
pub use state::{faults, throttling};
