//! lambda-executor's engine: everything that invokes Lambda, and no Python.
//!
//! Layers, each using only those below it:
//! - `executor`: an [`Executor`]'s settings, and each call checked, made a request, and started
//!   or answered from its journal;
//! - `dispatch`: the [`Dispatcher`] runs each submitted invocation as a tokio task, through the
//!   limits and the journal to its attempts, counts the outcome in its stats and hands it to the
//!   job's [`Sink`];
//! - `journal`: the resume journal (records, the SQLite store and its writer, the report);
//! - `limits`: the adaptive concurrency limit and request rate a function's throttles taught, the
//!   retry policy, the spend cap;
//! - `invoke`: one attempt through the shared client, what its failure means, REPORT lines;
//! - `spill`: payloads larger than Lambda takes, through S3 (location, reference, transfers);
//! - `s3`: S3's client configuration and refusals (the spill's), and objects read whole from one
//!   endpoint (LocalLambda's code and layers, handed to the emulator by the bindings);
//! - `logs`: functions' logs from CloudWatch Logs, and one call's whole log;
//! - `client`: the shared client's configuration and its HTTP client (connector, proxy, trust);
//! - `process`: the tokio runtime and per-process values;
//! - `logging`: the targets of what the engine logs, and the SDK's events forwarded to them.
//!
//! This file re-exports what the bindings, the deploy calls and the tests use; nothing inside the
//! crate imports through it.

mod client;
mod dispatch;
mod error_text;
mod executor;
mod invoke;
mod journal;
mod limits;
mod logging;
mod logs;
mod process;
mod s3;
mod spill;

pub use client::config::{client_for, ClientOptions, ConfigError, SharedClient};
pub use client::resend_unsent::{retry_config as resend_unsent_retry_config, ResendUnsent};
pub use dispatch::dispatcher::Dispatcher;
pub use dispatch::job::{Failure, Finished, Job, JobGuard, Sink};
pub use error_text::sentence;
pub use executor::{Executor, Settings, SpendCapAsked, Started, SubmitError, MAX_WORKERS};
pub use invoke::failure::{AttemptError, NOT_LAMBDA};
pub use invoke::report_line::Report;
pub use invoke::request::{InvokeRequest, Invoked};
pub use journal::record::{JournalError, State};
pub use journal::resume::Resume;
pub use journal::store::Journal;
pub use lambda_executor_protocol as protocol;
pub use limits::retry::RetryPolicy;
pub use logging::{forward_sdk_events, SDK as SDK_LOG_TARGET, TARGETS as LOG_TARGETS};
pub use logs::reader::{LineQuery, LogLine, LogReader, LogsError};
pub use process::per_process::PerProcess;
pub use process::runtime;
pub use s3::{GetObjectError, StoredObjects};
pub use spill::location::SpillLocation;
pub use spill::transfer::{Spill, SpillError};
