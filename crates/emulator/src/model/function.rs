//! A function as LocalLambda runs it: its kind (a Python handler or a synthetic echo), timeout and
//! memory, and the statistics it reports.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone)]
pub enum FunctionKind {
    /// A real Python handler run by awslambdaric in execution environments. `opt_dir`: its
    /// layers' files, extracted in order into one folder (Lambda's /opt), if it has layers.
    Python { handler: String, code_dir: PathBuf, variables: Vec<(String, String)>, opt_dir: Option<PathBuf> },
    /// Answered in Rust: echoes its event, after `latency` and any `sleep_ms` the event asks for,
    /// and `cpu_work` plus any `cpu_ms` it asks for: CPU-bound work measured at one vCPU, which
    /// takes longer in proportion below 1,769 MB, as on Lambda.
    Synthetic { latency: Duration, cpu_work: Duration },
}

pub struct FunctionSpec {
    pub name: String,
    pub kind: FunctionKind,
    pub timeout: Duration,
    pub memory_mb: u32,
}

/// What `LocalLambda.stats(name)` reports.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FunctionStats {
    /// Invocations that ran (synchronous and Event).
    pub invocations: u64,
    /// Synchronous invocations refused with 429, for any of the three reasons below.
    pub throttles: u64,
    /// Refused because the function (or the account) ran all the concurrency it may.
    pub concurrency_throttles: u64,
    /// Refused because requests came faster than the request-rate limit.
    pub rate_throttles: u64,
    /// Refused because the function could not add execution environments that fast.
    pub scaling_throttles: u64,
    pub cold_starts: u64,
    pub peak_concurrency: u32,
    pub errors: u64,
    pub timeouts: u64,
    pub in_flight: u32,
    pub queued_events: usize,
    pub environments: usize,
}
