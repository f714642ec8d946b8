//! Runs submitted invocations through the limits, the journal and their attempts, and counts
//! what they came to.

pub mod architecture;
pub mod dispatcher;
pub mod job;
pub mod stats;
pub mod timeline;
