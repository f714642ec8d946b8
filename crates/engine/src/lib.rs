//! lambda-executor's engine: everything that invokes Lambda, and no Python.
//!
//! A [`dispatcher::Dispatcher`] runs each submitted invocation as a tokio task on the process's
//! one [`runtime`]: it waits for room under the function's [`adaptive_limit`] and for its turn at
//! the [`rate_limit`] (the two are the [`function_limits`] its throttles taught), makes its
//! [`invocation`] attempts through the shared client of [`client_config`] (which sends through
//! [`http_client`] on connections its [`connector`] makes, accepting the certificates [`trust`]
//! says) as the [`retry`] policy decides, counts the outcome in [`stats`] (reading
//! Lambda's REPORT line with [`report_line`]), and hands it to the job's [`dispatcher::Sink`].
//! A job with a [`journal`] entry is marked sent there before it goes out and its outcome is
//! recorded, so that a rerun resumes where a run stopped.

pub mod adaptive_limit;
pub mod client_config;
pub mod connector;
pub mod dispatcher;
pub mod error_text;
pub mod function_limits;
pub mod http_client;
pub mod invocation;
pub mod journal;
pub mod journal_report;
mod journal_writer;
pub mod per_process;
pub mod proxy;
pub mod rate_limit;
pub mod report_line;
pub mod retry;
pub mod runtime;
pub mod spend_cap;
pub mod stats;
pub mod trust;

pub use lambda_executor_protocol as protocol;
