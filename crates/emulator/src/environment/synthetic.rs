//! Synthetic functions: answered in Rust without a Python process, so that clients can be load
//! tested at tens of thousands of invocations per second under the same concurrency rules.
//! The answer is the event itself, after the function's fixed latency and any `{"sleep_ms": n}`
//! the event asks for, and after its CPU-bound work (the function's and any `{"cpu_ms": n}`),
//! which takes as long as it would on Lambda at the function's memory size: `n` ms at one vCPU
//! (1,769 MB) and above, proportionally longer below. The work is modelled, not done: it waits, so
//! that a load test measures the client rather than this machine's cores.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::cgroups::ONE_VCPU_MB;
use crate::model::invocation::Execution;

pub async fn run(payload: &Bytes, latency: Duration, cpu_work: Duration, memory_mb: u32) -> Execution {
    let started = Instant::now();
    let work = cpu_work + requested(payload, "cpu_ms");
    let pause = latency + requested(payload, "sleep_ms") + at_memory_size(work, memory_mb);
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    Execution { body: payload.clone(), duration: started.elapsed(), reusable: true, ..Execution::default() }
}

/// How long `work` (CPU time at one vCPU) takes with `memory_mb`'s share of a vCPU; a single
/// thread gains nothing above one vCPU.
fn at_memory_size(work: Duration, memory_mb: u32) -> Duration {
    let share = u64::from(memory_mb).min(ONE_VCPU_MB);
    Duration::from_nanos((work.as_nanos() * u128::from(ONE_VCPU_MB) / u128::from(share)) as u64)
}

/// The event's top-level `key` as milliseconds (0 when absent).
fn requested(payload: &[u8], key: &str) -> Duration {
    // Only events that mention the key are parsed, so echoing stays cheap.
    if !payload.windows(key.len()).any(|window| window == key.as_bytes()) {
        return Duration::ZERO;
    }
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|event| event.get(key)?.as_u64())
        .map_or(Duration::ZERO, Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_top_level_sleep_ms_pauses() {
        assert_eq!(requested(br#"{"sleep_ms": 250}"#, "sleep_ms"), Duration::from_millis(250));
        assert_eq!(requested(br#"{"inner": {"sleep_ms": 250}}"#, "sleep_ms"), Duration::ZERO);
        assert_eq!(requested(br#""sleep_ms""#, "sleep_ms"), Duration::ZERO);
        assert_eq!(requested(b"[1, 2]", "sleep_ms"), Duration::ZERO);
        assert_eq!(requested(br#"{"sleep_ms": 250}"#, "cpu_ms"), Duration::ZERO);
    }

    #[test]
    fn cpu_work_slows_in_proportion_below_one_vcpu_and_not_above() {
        let work = Duration::from_millis(100);
        assert_eq!(at_memory_size(work, 1769), work);
        assert_eq!(at_memory_size(work, 3008), work);
        assert_eq!(at_memory_size(work, 10240), work);
        assert_eq!(at_memory_size(work, 128).as_millis(), 1382);
        assert_eq!(at_memory_size(work, 512).as_millis(), 345);
    }
}
