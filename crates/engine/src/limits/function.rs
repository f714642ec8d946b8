//! What one function's throttles taught the executor: its adaptive concurrency limit, its learned
//! request rate, and which of Lambda's limits bound it last (for `stats()` and progress bars).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::limits::adaptive::{AdaptiveLimit, Verdict};
use crate::limits::rate::RateLimit;
use crate::logging::LIMITS;
use lambda_executor_protocol::{
    REASON_CALLER_RATE, REASON_FUNCTION_RATE, REASON_RESERVED_CONCURRENCY, REASON_RESERVED_RATE,
};

/// Which of Lambda's limits a throttle met, from its Reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The function's reserved concurrency.
    ReservedConcurrency,
    /// The account's concurrency, or the function's scaling rate (Lambda sends the same Reason).
    AccountConcurrency,
    /// Requests per second (the function's, its reservation's, or the caller's).
    RequestRate,
}

impl Limit {
    pub fn of_reason(reason: &str) -> Self {
        match reason {
            REASON_FUNCTION_RATE | REASON_RESERVED_RATE | REASON_CALLER_RATE => Self::RequestRate,
            REASON_RESERVED_CONCURRENCY => Self::ReservedConcurrency,
            // ConcurrentInvocationLimitExceeded, and a 429 with no Reason Lambda documents: the
            // executor backs off and ramps up as the limit allows.
            _ => Self::AccountConcurrency,
        }
    }
}

pub struct FunctionLimits {
    function: String,
    pub concurrency: Arc<AdaptiveLimit>,
    pub rate: RateLimit,
    binding: Mutex<Option<Limit>>,
}

impl FunctionLimits {
    pub fn new(function: &str, max_workers: usize) -> Self {
        Self {
            function: function.to_owned(),
            concurrency: AdaptiveLimit::new(function, max_workers),
            rate: RateLimit::default(),
            binding: Mutex::new(None),
        }
    }

    /// Lambda took a request of this function.
    pub fn on_ran(&self) {
        self.rate.on_accepted();
    }

    /// Lambda throttled a request sent at `sent`, for `reason`: what that says of the call, for
    /// its concurrency permit.
    pub fn on_throttle(&self, reason: &str, sent: Instant) -> Verdict {
        let limit = Limit::of_reason(reason);
        *self.binding.lock().unwrap() = Some(limit);
        match limit {
            Limit::RequestRate => {
                if let Some(rate) = self.rate.on_throttle(sent) {
                    log::info!(target: LIMITS, "{}: request rate set to {rate:.0}/s after a throttle", self.function);
                }
                Verdict::NotRun
            }
            Limit::ReservedConcurrency | Limit::AccountConcurrency => Verdict::RefusedForConcurrency,
        }
    }

    /// The limit that throttled this function last, with what the executor keeps to: e.g.
    /// "request rate: 198/s", "reserved concurrency: 20", "account concurrency or scaling: 310".
    /// None while nothing has throttled it.
    pub fn binding(&self) -> Option<String> {
        let limit = (*self.binding.lock().unwrap())?;
        let in_flight = self.concurrency.current();
        Some(match limit {
            Limit::RequestRate => match self.rate.current() {
                Some(rate) => format!("request rate: {rate:.0}/s"),
                None => "request rate".to_owned(),
            },
            Limit::ReservedConcurrency => format!("reserved concurrency: {in_flight}"),
            // Lambda names no Reason of its own for a function still scaling.
            Limit::AccountConcurrency => format!("account concurrency or scaling: {in_flight}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_documented_reason_names_its_limit_and_an_unknown_one_may_grow() {
        assert_eq!(Limit::of_reason(REASON_RESERVED_RATE), Limit::RequestRate);
        assert_eq!(Limit::of_reason(REASON_CALLER_RATE), Limit::RequestRate);
        assert_eq!(Limit::of_reason(REASON_RESERVED_CONCURRENCY), Limit::ReservedConcurrency);
        assert_eq!(Limit::of_reason("TooManyRequestsException"), Limit::AccountConcurrency);
    }

    #[test]
    fn the_binding_limit_is_the_last_one_met() {
        let limits = FunctionLimits::new("f", 50);
        assert_eq!(limits.binding(), None);
        assert_eq!(limits.on_throttle(REASON_RESERVED_CONCURRENCY, Instant::now()), Verdict::RefusedForConcurrency);
        assert_eq!(limits.binding().as_deref(), Some("reserved concurrency: 50"));
        assert_eq!(limits.on_throttle(REASON_FUNCTION_RATE, Instant::now()), Verdict::NotRun);
        assert!(limits.binding().unwrap().starts_with("request rate: "), "{:?}", limits.binding());
    }
}
