//! The HTTP API on the emulator's port: the one route table (routes.rs) and the list of the
//! operations it serves (operations.rs), the one wire error type (error.rs), and a file for each
//! group of operations. Nothing below it imports it.

pub mod configuration;
pub mod error;
pub mod event_invoke;
pub mod functions;
pub mod invoke;
pub mod layers;
pub mod local;
pub mod logs;
pub mod operations;
pub mod policy;
pub mod routes;
pub mod server;
pub mod target;
pub mod versions;
