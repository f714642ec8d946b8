//! What one function's throttles taught the executor: its adaptive concurrency limit, its learned
//! request rate, and which of Lambda's limits bound it last (for `stats()` and progress bars).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::adaptive_limit::{AdaptiveLimit, ConcurrencyThrottle};
use crate::protocol::{REASON_CALLER_RATE, REASON_FUNCTION_RATE, REASON_RESERVED_CONCURRENCY, REASON_RESERVED_RATE};
use crate::rate_limit::RateLimit;

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
    pub concurrency: Arc<AdaptiveLimit>,
    pub rate: RateLimit,
    binding: Mutex<Option<Limit>>,
}

impl FunctionLimits {
    pub fn new(max_workers: usize) -> Self {
        Self { concurrency: AdaptiveLimit::new(max_workers), rate: RateLimit::default(), binding: Mutex::new(None) }
    }

    /// Lambda took a request of this function.
    pub fn on_success(&self) {
        self.rate.on_accepted();
        self.concurrency.on_success();
    }

    /// Lambda throttled a request sent at `sent`, for `reason`.
    pub fn on_throttle(&self, reason: &str, sent: Instant) {
        let limit = Limit::of_reason(reason);
        *self.binding.lock().unwrap() = Some(limit);
        match limit {
            Limit::RequestRate => self.rate.on_throttle(sent),
            Limit::ReservedConcurrency => self.concurrency.on_throttle(ConcurrencyThrottle::Fixed),
            Limit::AccountConcurrency => self.concurrency.on_throttle(ConcurrencyThrottle::MayGrow),
        }
    }

    /// The limit that throttled this function last, with what the executor keeps to: e.g.
    /// "request rate: 198/s", "reserved concurrency: 20", "account concurrency or scaling: 310,
    /// growing 30/s". None while nothing has throttled it.
    pub fn binding(&self) -> Option<String> {
        let limit = (*self.binding.lock().unwrap())?;
        let in_flight = self.concurrency.current();
        Some(match limit {
            Limit::RequestRate => match self.rate.current() {
                Some(rate) => format!("request rate: {rate:.0}/s"),
                None => "request rate".to_owned(),
            },
            Limit::ReservedConcurrency => format!("reserved concurrency: {in_flight}"),
            Limit::AccountConcurrency => match self.concurrency.growth() {
                Some(growth) => format!("account concurrency or scaling: {in_flight}, growing {growth:.0}/s"),
                None => format!("account concurrency: {in_flight}"),
            },
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

    #[tokio::test]
    async fn the_binding_limit_is_the_last_one_met() {
        let limits = FunctionLimits::new(50);
        assert_eq!(limits.binding(), None);
        let _permit = limits.concurrency.acquire(false).await;
        limits.on_throttle(REASON_RESERVED_CONCURRENCY, Instant::now());
        assert_eq!(limits.binding().as_deref(), Some("reserved concurrency: 1"));
        limits.on_throttle(REASON_FUNCTION_RATE, Instant::now());
        assert!(limits.binding().unwrap().starts_with("request rate: "), "{:?}", limits.binding());
    }
}
