//! Plain types the other layers share: a function, one invocation, the log it writes, version
//! names. They import nothing else of the crate.

pub mod function;
pub mod invocation;
pub mod invocation_log;
pub mod version;
