//! What the process holds once: the tokio runtime, and values a forked child must not inherit.

pub mod per_process;
pub mod runtime;
