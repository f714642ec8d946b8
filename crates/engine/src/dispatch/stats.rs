//! What an executor's invocations came to: counts, latency percentiles, and what Lambda billed
//! (from REPORT lines, so only for invocations made with the log tail).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::dispatch::timeline::{Attempt, Call, Timeline};
use crate::invoke::report_line::Report;
use crate::limits::spend_cap::SpendCap;

/// Latencies by bucket, each 2 % wider than the one before: percentiles within 2 %, constant memory.
const BUCKET_GROWTH: f64 = 1.02;
const BUCKETS: usize = 1200; // 1 µs to beyond an hour

pub struct Stats {
    pub invocations: u64,
    pub failures: u64,
    pub throttles: u64,
    pub retries: u64,
    /// What Lambda billed, by function, for the invocations whose REPORT line came back (made
    /// with the log tail): priced by each function's architecture.
    pub billed: BTreeMap<String, Billed>,
    /// Results a journal already held: returned without sending.
    pub from_journal: u64,
    /// Invocations a journal showed in flight when an earlier run stopped, sent again.
    pub resent_in_flight: u64,
    /// Calls not sent because the spend cap was reached.
    pub not_sent_over_cap: u64,
    latency: Vec<u64>,
    max_latency: Duration,
    /// The last calls, attempt by attempt, for `timeline()`.
    pub timeline: Timeline,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            invocations: 0,
            failures: 0,
            throttles: 0,
            retries: 0,
            billed: BTreeMap::new(),
            from_journal: 0,
            resent_in_flight: 0,
            not_sent_over_cap: 0,
            latency: vec![0; BUCKETS],
            max_latency: Duration::ZERO,
            timeline: Timeline::default(),
        }
    }
}

/// What Lambda billed for the reported invocations of one function (or of all).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Billed {
    pub reported: u64,
    pub cold_starts: u64,
    pub billed_ms: f64,
    pub gb_seconds: f64,
    /// GB of memory restored from SnapStart snapshots, priced apart.
    pub restored_gb: f64,
}

impl Billed {
    fn add(&mut self, other: &Billed) {
        self.reported += other.reported;
        self.cold_starts += other.cold_starts;
        self.billed_ms += other.billed_ms;
        self.gb_seconds += other.gb_seconds;
        self.restored_gb += other.restored_gb;
    }
}

/// The figures an executor reports: counts, latency percentiles in seconds, what was billed, and
/// each function's adaptive limit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub invocations: u64,
    pub failures: u64,
    pub throttles: u64,
    pub retries: u64,
    /// Invocations waiting out a backoff before their next attempt, now.
    pub retrying: usize,
    pub reported: u64,
    pub cold_starts: u64,
    pub billed_ms: f64,
    pub gb_seconds: f64,
    pub restored_gb: f64,
    /// The same by function, to price each at its architecture's rate.
    pub billed_by_function: BTreeMap<String, Billed>,
    pub latency_p50: Option<f64>,
    pub latency_p90: Option<f64>,
    pub latency_p99: Option<f64>,
    pub latency_max: Option<f64>,
    pub from_journal: u64,
    pub resent_in_flight: u64,
    /// With a spend cap: the cap, what was spent at its prices, and the calls it kept from being sent.
    pub max_cost: Option<f64>,
    pub spent: Option<f64>,
    pub not_sent_over_cap: u64,
    /// By function name, so that what prints it prints the same order each time.
    pub concurrency_limits: BTreeMap<String, usize>,
    /// The limit of Lambda's that throttled each function last, and what the executor keeps to
    /// (functions never throttled are left out).
    pub binding_limits: BTreeMap<String, String>,
}

/// One finished invocation, as the stats count it.
pub struct Ended<'a> {
    pub function: &'a str,
    pub failed: bool,
    pub attempts: u32,
    pub throttles: u32,
    /// From the first attempt's start to the end of the last.
    pub latency: Duration,
    pub report: Option<&'a Report>,
    /// Its attempts: when each went out, when it ended, and whether it was throttled.
    pub spans: &'a [(std::time::Instant, std::time::Instant, bool)],
    /// Its function's concurrency limit as it ended.
    pub limit: usize,
}

impl Stats {
    pub fn record(&mut self, outcome: Ended<'_>) {
        self.invocations += 1;
        self.failures += u64::from(outcome.failed);
        self.throttles += u64::from(outcome.throttles);
        self.retries += u64::from(outcome.attempts.saturating_sub(1));
        self.latency[bucket(outcome.latency)] += 1;
        self.max_latency = self.max_latency.max(outcome.latency);
        if !outcome.spans.is_empty() {
            let attempts = outcome.spans.iter().map(|&(start, end, throttled)| Attempt {
                start: self.timeline.seconds(start),
                end: self.timeline.seconds(end),
                throttled,
            });
            let call = Call {
                function: outcome.function.to_owned(),
                attempts: attempts.collect(),
                cold_start: outcome.report.is_some_and(Report::cold_start),
                failed: outcome.failed,
                limit: outcome.limit,
            };
            self.timeline.record(call);
        }
        if let Some(report) = outcome.report {
            let billed = Billed {
                reported: 1,
                cold_starts: u64::from(report.cold_start()),
                billed_ms: report.billed_duration_ms + report.billed_restore_duration_ms.unwrap_or(0.0),
                gb_seconds: report.gb_seconds(),
                restored_gb: report.restored_gb(),
            };
            match self.billed.get_mut(outcome.function) {
                Some(function) => function.add(&billed),
                None => {
                    self.billed.insert(outcome.function.to_owned(), billed);
                }
            }
        }
    }

    /// The latency below which `fraction` (0..=1) of invocations finished; None before any.
    pub fn latency_percentile(&self, fraction: f64) -> Option<Duration> {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((fraction * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in self.latency.iter().enumerate() {
            seen += count;
            if seen >= rank {
                // The bucket's upper edge, but never above the largest latency seen.
                return Some(upper_edge(index).min(self.max_latency));
            }
        }
        Some(self.max_latency)
    }

    /// What was billed for every function's reported invocations.
    pub fn billed_in_all(&self) -> Billed {
        let mut all = Billed::default();
        self.billed.values().for_each(|function| all.add(function));
        all
    }

    /// Dollars at `cap`'s prices for the invocations whose REPORT lines were counted.
    pub fn spent(&self, cap: &SpendCap) -> f64 {
        let all = self.billed_in_all();
        cap.spent(all.gb_seconds, all.reported)
    }

    pub fn max_latency(&self) -> Option<Duration> {
        (self.invocations > 0).then_some(self.max_latency)
    }

    pub fn summary(
        &self,
        retrying: usize,
        spend_cap: Option<&SpendCap>,
        concurrency_limits: BTreeMap<String, usize>,
        binding_limits: BTreeMap<String, String>,
    ) -> Summary {
        let seconds = |latency: Option<Duration>| latency.map(|latency| latency.as_secs_f64());
        let all = self.billed_in_all();
        Summary {
            invocations: self.invocations,
            failures: self.failures,
            throttles: self.throttles,
            retries: self.retries,
            retrying,
            reported: all.reported,
            cold_starts: all.cold_starts,
            billed_ms: all.billed_ms,
            gb_seconds: all.gb_seconds,
            restored_gb: all.restored_gb,
            billed_by_function: self.billed.clone(),
            latency_p50: seconds(self.latency_percentile(0.50)),
            latency_p90: seconds(self.latency_percentile(0.90)),
            latency_p99: seconds(self.latency_percentile(0.99)),
            latency_max: seconds(self.max_latency()),
            from_journal: self.from_journal,
            resent_in_flight: self.resent_in_flight,
            max_cost: spend_cap.map(|cap| cap.max_cost),
            spent: spend_cap.map(|cap| self.spent(cap)),
            not_sent_over_cap: self.not_sent_over_cap,
            concurrency_limits,
            binding_limits,
        }
    }
}

fn bucket(latency: Duration) -> usize {
    let micros = latency.as_micros().max(1) as f64;
    ((micros.ln() / BUCKET_GROWTH.ln()) as usize).min(BUCKETS - 1)
}

fn upper_edge(index: usize) -> Duration {
    Duration::from_micros(BUCKET_GROWTH.powi(index as i32 + 1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(stats: &mut Stats, millis: u64, report: Option<&Report>) {
        stats.record(Ended {
            function: "f",
            failed: false,
            attempts: 1,
            throttles: 0,
            latency: Duration::from_millis(millis),
            report,
            spans: &[],
            limit: 1,
        });
    }

    #[test]
    fn percentiles_are_within_two_percent() {
        let mut stats = Stats::default();
        for millis in 1..=1000 {
            finished(&mut stats, millis, None);
        }
        for (fraction, expected) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = stats.latency_percentile(fraction).unwrap().as_secs_f64() * 1000.0;
            assert!((got - expected).abs() / expected <= 0.02, "p{fraction}: {got} ms");
        }
        assert_eq!(stats.latency_percentile(1.0), Some(Duration::from_millis(1000)));
        assert_eq!(Stats::default().latency_percentile(0.5), None);
    }

    #[test]
    fn counts_retries_throttles_and_what_was_billed() {
        let mut stats = Stats::default();
        let cold = Report {
            duration_ms: 99.0,
            billed_duration_ms: 100.0,
            memory_size_mb: 1024,
            max_memory_used_mb: 60,
            init_duration_ms: Some(150.0),
            restore_duration_ms: None,
            billed_restore_duration_ms: None,
        };
        let warm = Report { init_duration_ms: None, ..cold.clone() };
        stats.record(Ended {
            function: "f",
            failed: true,
            attempts: 3,
            throttles: 2,
            latency: Duration::from_millis(5),
            report: Some(&cold),
            spans: &[],
            limit: 1,
        });
        finished(&mut stats, 5, Some(&warm));
        finished(&mut stats, 5, None);
        assert_eq!((stats.invocations, stats.failures, stats.throttles, stats.retries), (3, 1, 2, 2));
        let all = stats.billed_in_all();
        assert_eq!((all.reported, all.cold_starts, all.billed_ms), (2, 1, 200.0));
        assert!((all.gb_seconds - 0.2).abs() < 1e-12);
        assert_eq!(stats.billed.keys().collect::<Vec<_>>(), ["f"]);
    }
}
