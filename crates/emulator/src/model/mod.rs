//! Plain types the other layers share: a function, one invocation, the log it writes, version
//! names, layers, where code comes from, wall-clock times. They import nothing else of the crate.

pub mod clock;
pub mod code;
pub mod event_invoke;
pub mod function;
pub mod invocation;
pub mod invocation_log;
pub mod layer;
pub mod log_names;
pub mod version;
