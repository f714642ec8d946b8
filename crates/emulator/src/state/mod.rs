//! What the emulator keeps and decides below its operations: the registry of functions and their
//! concurrency, the throttling limits, published versions, the code store, published layers,
//! injected faults.

pub mod code_store;
pub mod faults;
pub mod handler;
pub mod layers;
pub mod registry;
pub mod throttling;
pub mod versions;
