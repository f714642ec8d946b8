//! What the emulator keeps and decides below its operations: the registry of functions and their
//! concurrency, the throttling limits, published versions, the code store, published layers,
//! injected faults, and the functions' logs (CloudWatch Logs' log groups and streams).

pub mod code_store;
pub mod faults;
pub mod filter_pattern;
pub mod handler;
pub mod layers;
pub mod log_store;
pub mod registry;
pub mod throttling;
pub mod versions;
