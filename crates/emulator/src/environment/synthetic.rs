//! Synthetic functions: answered in Rust without a Python process, so that clients can be load
//! tested at tens of thousands of invocations per second under the same concurrency rules.
//! The answer is the event itself, after the function's fixed latency and any `{"sleep_ms": n}`
//! the event asks for.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::model::invocation::Execution;

pub async fn run(payload: &Bytes, latency: Duration) -> Execution {
    let started = Instant::now();
    let pause = latency + requested_sleep(payload);
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    Execution { body: payload.clone(), duration: started.elapsed(), reusable: true, ..Execution::default() }
}

fn requested_sleep(payload: &[u8]) -> Duration {
    // Only events that mention sleep_ms are parsed, so echoing stays cheap.
    if !payload.windows(8).any(|window| window == b"sleep_ms") {
        return Duration::ZERO;
    }
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|event| event.get("sleep_ms")?.as_u64())
        .map_or(Duration::ZERO, Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_top_level_sleep_ms_pauses() {
        assert_eq!(requested_sleep(br#"{"sleep_ms": 250}"#), Duration::from_millis(250));
        assert_eq!(requested_sleep(br#"{"inner": {"sleep_ms": 250}}"#), Duration::ZERO);
        assert_eq!(requested_sleep(br#""sleep_ms""#), Duration::ZERO);
        assert_eq!(requested_sleep(b"[1, 2]"), Duration::ZERO);
    }
}
