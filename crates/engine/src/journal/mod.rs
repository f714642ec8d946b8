//! The resume journal: its records, the SQLite store, the thread that writes it, and the report
//! `lambda-executor journal` prints.

pub mod record;
pub mod report;
pub mod resume;
pub mod store;
mod writer;
