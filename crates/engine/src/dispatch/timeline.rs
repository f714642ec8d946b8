//! What `timeline()` draws: the last calls an executor finished, each as the attempts it made (a
//! throttled attempt marked, the gaps between them waits), with its cold start, its failure and its
//! function's concurrency limit when it ended. Bounded: the last KEPT_CALLS calls.

use std::collections::VecDeque;
use std::time::Instant;

use serde::Serialize;

/// The calls a timeline keeps (about 100 bytes each): older ones are let go, and counted.
pub const KEPT_CALLS: usize = 10_000;

/// One attempt, in seconds since the executor started.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attempt {
    pub start: f64,
    pub end: f64,
    pub throttled: bool,
}

/// One finished call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Call {
    pub function: String,
    pub attempts: Vec<Attempt>,
    pub cold_start: bool,
    pub failed: bool,
    /// The function's concurrency limit (the executor's, adapted to Lambda's) when it ended.
    pub limit: usize,
}

/// What `Timeline::snapshot` gives: the calls kept, oldest first, and how many were let go.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub calls: Vec<Call>,
    pub dropped: u64,
    pub kept: usize,
}

pub struct Timeline {
    origin: Instant,
    calls: VecDeque<Call>,
    dropped: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Self { origin: Instant::now(), calls: VecDeque::new(), dropped: 0 }
    }
}

impl Timeline {
    /// Seconds from the executor's start to `instant`.
    pub fn seconds(&self, instant: Instant) -> f64 {
        instant.saturating_duration_since(self.origin).as_secs_f64()
    }

    pub fn record(&mut self, call: Call) {
        if self.calls.len() == KEPT_CALLS {
            self.calls.pop_front();
            self.dropped += 1;
        }
        self.calls.push_back(call);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot { calls: self.calls.iter().cloned().collect(), dropped: self.dropped, kept: KEPT_CALLS }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_calls_and_counts_the_others() {
        let mut timeline = Timeline::default();
        for index in 0..KEPT_CALLS + 5 {
            let attempt = Attempt { start: index as f64, end: index as f64 + 0.5, throttled: false };
            let call =
                Call { function: "f".into(), attempts: vec![attempt], cold_start: false, failed: false, limit: 1 };
            timeline.record(call);
        }
        let snapshot = timeline.snapshot();
        assert_eq!((snapshot.calls.len(), snapshot.dropped), (KEPT_CALLS, 5));
        assert_eq!(snapshot.calls[0].attempts[0].start, 5.0);
    }
}
