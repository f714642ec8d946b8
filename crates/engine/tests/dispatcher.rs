//! The dispatcher against LocalLambda's emulator, started in this process, through the SDK's HTTP
//! path as against Lambda: synthetic functions and injected faults, no Python.
#![cfg(unix)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Once};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lambda_executor_emulator::faults::FaultPlan;
use lambda_executor_emulator::{Emulator, EmulatorConfig, FunctionKind, FunctionSpec};
use lambda_executor_engine::client_config::{client_for, ClientOptions};
use lambda_executor_engine::dispatcher::{Dispatcher, Finished, Job, Sink};
use lambda_executor_engine::invocation::{AttemptError, InvokeRequest};
use lambda_executor_engine::protocol::{InvocationType, REASON_RESERVED_CONCURRENCY};
use lambda_executor_engine::retry::RetryPolicy;
use lambda_executor_engine::runtime;

/// A sink that hands each outcome, with the job's index, to the test.
struct Collect {
    index: usize,
    outcomes: mpsc::Sender<(usize, Finished)>,
}

impl Sink for Collect {
    fn deliver(self, finished: Finished) {
        let _ = self.outcomes.send((self.index, finished));
    }
}

/// Faults by share, in FaultPlan's order.
#[derive(Default)]
struct Faults {
    service_error: f64,
    throttle: f64,
    drop_after: f64,
    retry_after_secs: u32,
}

struct Lab {
    emulator: Arc<Emulator>,
    dispatcher: Arc<Dispatcher>,
    outcomes: mpsc::Receiver<(usize, Finished)>,
    sender: mpsc::Sender<(usize, Finished)>,
    submitted: usize,
}

impl Lab {
    /// An emulator with one synthetic function `name` and a dispatcher of `max_workers` on it.
    fn new(name: &str, latency: Duration, reserved: Option<u32>, policy: RetryPolicy, max_workers: usize) -> Self {
        static CREDENTIALS: Once = Once::new();
        // The client signs requests as for Lambda; the emulator takes any credentials.
        CREDENTIALS.call_once(|| {
            std::env::set_var("AWS_ACCESS_KEY_ID", "engine-tests");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "engine-tests");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        });
        let config = EmulatorConfig {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            account_concurrency: 1000,
            idle_timeout: Duration::from_secs(60),
            python: PathBuf::from("python3"),
            retry_after_secs: 0,
            tls: None,
        };
        let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let emulator = runtime::get().block_on(Emulator::start(config, bind)).expect("the emulator listens");
        let spec = FunctionSpec {
            name: name.into(),
            kind: FunctionKind::Synthetic { latency },
            timeout: Duration::from_secs(30),
            memory_mb: 128,
        };
        emulator.add_function(spec, reserved).unwrap();
        let options = ClientOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(format!("http://{}", emulator.address)),
            // The calls go to the emulator directly, whatever proxy this machine names.
            proxies: Some(Vec::new()),
            ..ClientOptions::default()
        };
        let client = runtime::get().block_on(client_for(&options)).expect("a client");
        let (sender, outcomes) = mpsc::channel();
        let dispatcher = Dispatcher::new(client, policy, max_workers);
        Self { emulator, dispatcher, outcomes, sender, submitted: 0 }
    }

    fn inject(&self, name: &str, faults: Faults) {
        let shares = [faults.service_error, 0.0, faults.throttle, 0.0, faults.drop_after, 0.0];
        let plan = FaultPlan::new(shares, Duration::ZERO, faults.retry_after_secs, 7).unwrap();
        self.emulator.set_faults(name, Some(plan)).unwrap();
    }

    fn submit(&mut self, function: &str) -> Arc<Job<Collect>> {
        let job = Job::new(Collect { index: self.submitted, outcomes: self.sender.clone() });
        let payload = Bytes::from(format!("{{\"i\": {}}}", self.submitted));
        let request = InvokeRequest {
            function: function.into(),
            qualifier: None,
            invocation_type: InvocationType::RequestResponse,
            log_tail: false,
            payload,
        };
        self.dispatcher.submit(job.clone(), request);
        self.submitted += 1;
        job
    }

    /// The next `count` outcomes, in job order; each is dropped (so counted finished) by the caller.
    fn outcomes(&self, count: usize) -> Vec<Finished> {
        let mut outcomes: Vec<(usize, Finished)> = (0..count)
            .map(|_| self.outcomes.recv_timeout(Duration::from_secs(60)).expect("an outcome within a minute"))
            .collect();
        outcomes.sort_by_key(|(index, _)| *index);
        outcomes.into_iter().map(|(_, finished)| finished).collect()
    }

    fn invocations(&self, name: &str) -> u64 {
        self.emulator.stats(name).unwrap().invocations
    }

    fn injected(&self, name: &str, fault: &str) -> u64 {
        self.emulator.injected_faults(name).into_iter().find(|(which, _)| *which == fault).map_or(0, |(_, n)| n)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.emulator.close();
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

#[test]
fn a_throttled_batch_runs_at_the_reserved_concurrency_and_the_limit_settles_there() {
    let (calls, reserved, latency) = (40, 4, Duration::from_millis(250));
    let mut lab = Lab::new("limited", latency, Some(reserved), policy(), 100);
    for _ in 0..calls {
        lab.submit("limited");
    }
    let outcomes = lab.outcomes(calls);
    for (index, finished) in outcomes.iter().enumerate() {
        let invoked = finished.result.as_ref().expect("no call fails because the function was busy");
        assert_eq!(invoked.payload.as_ref(), format!("{{\"i\": {index}}}").as_bytes());
    }
    // It settles at the reserved concurrency, probing one above it now and then.
    let limit = lab.dispatcher.limit_for("limited").current();
    assert!((reserved as usize - 1..=reserved as usize + 1).contains(&limit), "limit {limit}");
    let throttles = lab.dispatcher.summary().throttles;
    assert!(throttles < calls as u64, "{throttles} throttles absorbed for {calls} calls");
    assert_eq!(lab.invocations("limited"), calls as u64, "each call ran exactly once");
    // The whole reservation was used, never more: how near its floor the batch finishes is
    // bench/run.py's scenario (c).
    assert_eq!(lab.emulator.stats("limited").unwrap().peak_concurrency, reserved);
}

#[test]
fn retry_after_is_waited_between_throttled_attempts_until_the_deadline_gives_up_throttled() {
    let policy = RetryPolicy { throttle_timeout: 2.5, ..policy() };
    let mut lab = Lab::new("busy", Duration::ZERO, None, policy, 10);
    lab.inject("busy", Faults { throttle: 1.0, retry_after_secs: 1, ..Faults::default() });
    let started = Instant::now();
    lab.submit("busy");
    let finished = lab.outcomes(1).pop().unwrap();
    let elapsed = started.elapsed();
    // Attempts at 0 s, after at least 1 s, after at least 2 s; a fourth would pass the deadline.
    assert_eq!(finished.attempts, 3);
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    match &finished.result {
        Err(AttemptError::Throttled { reason, retry_after }) => {
            assert_eq!(reason, REASON_RESERVED_CONCURRENCY);
            assert_eq!(*retry_after, Some(Duration::from_secs(1)));
        }
        other => panic!("expected the throttled error, got {:?}", other.as_ref().err()),
    }
    assert_eq!(finished.throttles, 3);
    assert_eq!(lab.invocations("busy"), 0);
    assert_eq!(lab.injected("busy", "throttle"), 3);
}

#[test]
fn a_short_throttle_deadline_gives_up_with_the_throttled_error() {
    let policy = RetryPolicy { throttle_timeout: 0.3, ..policy() };
    let mut lab = Lab::new("busy", Duration::ZERO, None, policy, 10);
    lab.inject("busy", Faults { throttle: 1.0, ..Faults::default() });
    lab.submit("busy");
    let finished = lab.outcomes(1).pop().unwrap();
    assert!(matches!(finished.result, Err(AttemptError::Throttled { .. })));
    assert!(finished.attempts > 1, "backoff retries within the deadline");
    assert_eq!(lab.injected("busy", "throttle"), u64::from(finished.attempts));
}

#[test]
fn service_errors_are_retried_max_retries_times_and_the_function_never_runs() {
    let policy = RetryPolicy { max_retries: 2, base_delay: 0.01, max_delay: 0.05, ..policy() };
    let mut lab = Lab::new("failing", Duration::ZERO, None, policy, 10);
    lab.inject("failing", Faults { service_error: 1.0, ..Faults::default() });
    lab.submit("failing");
    let finished = lab.outcomes(1).pop().unwrap();
    assert_eq!(finished.attempts, 3);
    match &finished.result {
        Err(AttemptError::Unavailable { code, status, .. }) => {
            assert_eq!((code.as_str(), *status), ("ServiceException", 500))
        }
        other => panic!("expected unavailable, got {:?}", other.as_ref().err()),
    }
    assert_eq!(lab.injected("failing", "service_error"), 3);
    assert_eq!(lab.invocations("failing"), 0);
}

#[test]
fn a_call_dropped_after_it_was_sent_is_not_sent_again_unless_the_policy_says_so() {
    let mut lab = Lab::new("flaky", Duration::ZERO, None, policy(), 10);
    lab.inject("flaky", Faults { drop_after: 1.0, ..Faults::default() });
    lab.submit("flaky");
    let finished = lab.outcomes(1).pop().unwrap();
    assert!(matches!(finished.result, Err(AttemptError::MaybeSent { .. })), "{:?}", finished.result.as_ref().err());
    assert_eq!(finished.attempts, 1);
    assert_eq!(lab.invocations("flaky"), 1, "it ran once and was not sent again");

    let opted_in =
        RetryPolicy { retry_after_sent: true, max_retries: 2, base_delay: 0.01, max_delay: 0.05, ..policy() };
    let mut lab = Lab::new("flaky", Duration::ZERO, None, opted_in, 10);
    lab.inject("flaky", Faults { drop_after: 1.0, ..Faults::default() });
    lab.submit("flaky");
    let finished = lab.outcomes(1).pop().unwrap();
    assert_eq!(finished.attempts, 3);
    assert_eq!(lab.invocations("flaky"), 3);
}

#[test]
fn a_job_cancelled_before_it_is_sent_never_reaches_the_emulator() {
    let mut lab = Lab::new("slow", Duration::from_millis(300), None, policy(), 1);
    let first = lab.submit("slow");
    let second = lab.submit("slow");
    assert!(second.cancel(), "queued behind the only worker, so not sent");
    assert!(!second.is_sent());
    let finished = lab.outcomes(1).pop().unwrap();
    assert!(finished.result.is_ok());
    assert!(first.is_sent() && !first.cancel(), "a sent job cannot be cancelled");
    drop(finished);
    assert!(lab.dispatcher.wait_idle(Duration::from_secs(10)), "the cancelled job counts as finished");
    assert!(lab.outcomes.try_recv().is_err(), "a cancelled job delivers nothing");
    assert_eq!(lab.invocations("slow"), 1);
}
