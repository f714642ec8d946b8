//! When to try an invocation again, and how long to wait first.
//!
//! Throttles (429) are retried until a per-invocation deadline: Lambda did not run the call, and
//! the executor's concurrency limit adapts so that few retries are needed. Calls Lambda could not
//! take (5xx, not ready) and connections that failed before the request was written are retried
//! a few times. A connection lost after the request was written is retried only on request: the
//! function may have run, and invocations are not idempotent.

use std::time::Duration;

use crate::invoke::failure::AttemptError;

/// The longest wait or deadline a policy may set (a day), so that durations never overflow.
const MAX_SECONDS: f64 = 86_400.0;

/// How the engine retries:
///
/// - `throttle_timeout`: seconds an invocation keeps retrying throttles (429) before it fails as
///   throttled (default 900).
/// - `max_retries`: retries of calls Lambda could not take (5xx, ResourceNotReady,
///   ResourceConflict) and of connections that failed before sending (default 4).
/// - `base_delay`, `max_delay`: exponential backoff with full jitter between these (default
///   0.05 s and 5 s); a Retry-After from Lambda is waited at least.
/// - `retry_after_sent`: also retry when the connection was lost after the request was sent,
///   although the function may then run twice (default false).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub throttle_timeout: f64,
    pub max_retries: u32,
    pub base_delay: f64,
    pub max_delay: f64,
    pub retry_after_sent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { throttle_timeout: 900.0, max_retries: 4, base_delay: 0.05, max_delay: 5.0, retry_after_sent: false }
    }
}

impl RetryPolicy {
    /// The policy, or why its durations cannot be used.
    pub fn new(
        throttle_timeout: f64,
        max_retries: u32,
        base_delay: f64,
        max_delay: f64,
        retry_after_sent: bool,
    ) -> Result<Self, String> {
        for (name, value) in
            [("throttle_timeout", throttle_timeout), ("base_delay", base_delay), ("max_delay", max_delay)]
        {
            if !(value.is_finite() && (0.0..=MAX_SECONDS).contains(&value)) {
                return Err(format!("{name} must be 0 to {MAX_SECONDS} seconds, not {value}"));
            }
        }
        if base_delay > max_delay {
            return Err("base_delay must not exceed max_delay".into());
        }
        Ok(Self { throttle_timeout, max_retries, base_delay, max_delay, retry_after_sent })
    }
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    pub fn throttle_deadline(&self) -> Duration {
        Duration::from_secs_f64(self.throttle_timeout)
    }

    /// `retries` counts earlier retries of this kind; `time_left` is what remains of the
    /// throttle deadline.
    pub fn decide(&self, error: &AttemptError, retries: u32, time_left: Duration) -> Decision {
        let delay = self.backoff(retries);
        match error {
            AttemptError::Throttled { retry_after, .. } => {
                let delay = retry_after.map_or(delay, |wait| delay.max(wait));
                if delay < time_left {
                    Decision::RetryAfter(delay)
                } else {
                    Decision::GiveUp
                }
            }
            AttemptError::Unavailable { .. } | AttemptError::NotSent { .. } if retries < self.max_retries => {
                Decision::RetryAfter(delay)
            }
            AttemptError::MaybeSent { .. } if self.retry_after_sent && retries < self.max_retries => {
                Decision::RetryAfter(delay)
            }
            _ => Decision::GiveUp,
        }
    }

    /// Full jitter: a uniform pick up to `base_delay * 2^retries`, capped at `max_delay`.
    fn backoff(&self, retries: u32) -> Duration {
        let ceiling = (self.base_delay * 2f64.powi(retries.min(30) as i32)).min(self.max_delay);
        Duration::from_secs_f64(fastrand::f64() * ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled(retry_after: Option<f64>) -> AttemptError {
        AttemptError::Throttled {
            reason: "ReservedFunctionConcurrentInvocationLimitExceeded".into(),
            retry_after: retry_after.map(Duration::from_secs_f64),
        }
    }

    #[test]
    fn throttles_retry_until_the_deadline_and_wait_at_least_retry_after() {
        let policy = RetryPolicy::default();
        let long = Duration::from_secs(60);
        match policy.decide(&throttled(Some(1.0)), 50, long) {
            Decision::RetryAfter(wait) => assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(5)),
            other => panic!("{other:?}"),
        }
        assert_eq!(policy.decide(&throttled(Some(2.0)), 0, Duration::from_secs(1)), Decision::GiveUp);
    }

    #[test]
    fn backoff_grows_with_full_jitter_under_the_cap() {
        let policy = RetryPolicy::default();
        for retries in 0..40 {
            let ceiling = (0.05 * 2f64.powi(retries.min(30))).min(5.0);
            assert!(policy.backoff(retries as u32).as_secs_f64() <= ceiling);
        }
    }

    #[test]
    fn a_call_that_may_have_run_is_retried_only_on_request() {
        let maybe = AttemptError::MaybeSent { message: "reset".into() };
        let long = Duration::from_secs(60);
        assert_eq!(RetryPolicy::default().decide(&maybe, 0, long), Decision::GiveUp);
        let opted_in = RetryPolicy { retry_after_sent: true, ..RetryPolicy::default() };
        assert!(matches!(opted_in.decide(&maybe, 0, long), Decision::RetryAfter(_)));
        assert_eq!(opted_in.decide(&maybe, 4, long), Decision::GiveUp);
    }

    #[test]
    fn unavailable_and_unsent_calls_get_a_few_retries_and_rejections_none() {
        let policy = RetryPolicy::default();
        let long = Duration::from_secs(60);
        let unavailable =
            AttemptError::Unavailable { code: "ServiceException".into(), message: String::new(), status: 500 };
        let unsent = AttemptError::NotSent { message: "refused".into() };
        let rejected = AttemptError::Rejected {
            code: "ResourceNotFoundException".into(),
            message: String::new(),
            status: 404,
            request_id: None,
        };
        assert!(matches!(policy.decide(&unavailable, 3, long), Decision::RetryAfter(_)));
        assert_eq!(policy.decide(&unavailable, 4, long), Decision::GiveUp);
        assert!(matches!(policy.decide(&unsent, 0, long), Decision::RetryAfter(_)));
        assert_eq!(policy.decide(&rejected, 0, long), Decision::GiveUp);
    }
}
