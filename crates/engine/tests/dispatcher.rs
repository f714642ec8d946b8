//! The dispatcher against LocalLambda's emulator, started in this process, through the SDK's HTTP
//! path as against Lambda: synthetic functions and injected faults, no Python.
#![cfg(unix)]

mod lab;

use std::time::{Duration, Instant};

use lab::{Faults, Lab};
use lambda_executor_engine::protocol::REASON_RESERVED_CONCURRENCY;
use lambda_executor_engine::RetryPolicy;
use lambda_executor_engine::{AttemptError, Failure};

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
    let limit = lab.dispatcher.limits_for("limited").concurrency.current();
    assert!((reserved as usize - 1..=reserved as usize + 1).contains(&limit), "limit {limit}");
    // The first burst sends all 40 (36 refused); settling and probing cost a few more, no more
    // than one per call afterwards.
    let throttles = lab.dispatcher.summary().throttles;
    assert!(throttles < 2 * calls as u64, "{throttles} throttles absorbed for {calls} calls");
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
        Err(Failure::Attempt(AttemptError::Throttled { reason, retry_after })) => {
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
    assert!(matches!(finished.result, Err(Failure::Attempt(AttemptError::Throttled { .. }))));
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
        Err(Failure::Attempt(AttemptError::Unavailable { code, status, .. })) => {
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
    assert!(
        matches!(finished.result, Err(Failure::Attempt(AttemptError::MaybeSent { .. }))),
        "{:?}",
        finished.result.as_ref().err()
    );
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
