//! Plain types the other layers share: a function, one invocation, the log it writes, version
//! names, layers and where code comes from. They import nothing else of the crate.

pub mod code;
pub mod function;
pub mod invocation;
pub mod invocation_log;
pub mod layer;
pub mod version;
