//! Lambda's limits beyond concurrency: the request rate (a multiple of a function's concurrency
//! per second) and the scaling rate (how fast a function may add execution environments). The
//! facts and what is chosen where AWS publishes none are in docs/lambda-throttles.md.

use std::time::Instant;

/// Lambda's values: 10 requests per second per unit of concurrency, 1,000 new execution
/// environments per function every 10 seconds.
pub const LAMBDA_RATE_LIMIT: f64 = 10.0;
pub const LAMBDA_SCALING_LIMIT: u32 = 1000;

/// Which of the limits beyond concurrency an emulator applies (None: that limit is off).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleLimits {
    /// Synchronous Invoke requests per second a function takes per unit of its concurrency
    /// (its reservation, or what the account leaves unreserved).
    pub rate_limit: Option<f64>,
    /// Execution environments a function may add every 10 seconds.
    pub scaling_limit: Option<u32>,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self { rate_limit: Some(LAMBDA_RATE_LIMIT), scaling_limit: Some(LAMBDA_SCALING_LIMIT) }
    }
}

/// Tokens refilled continuously up to a capacity; unused refill beyond it is lost, as Lambda's
/// scaling rate "does not accumulate".
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A bucket that starts full, whatever capacity its first `take` gives it.
    pub fn full(now: Instant) -> Self {
        Self { tokens: f64::INFINITY, updated: now }
    }

    /// Takes one token if there is one, after refilling at `per_second` up to `capacity` (which may
    /// change between calls, as a reservation does).
    pub fn take(&mut self, capacity: f64, per_second: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_gives_its_capacity_at_once_then_its_refill_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(start);
        assert_eq!((0..10).filter(|_| bucket.take(5.0, 10.0, start)).count(), 5);
        let later = start + Duration::from_millis(300);
        assert_eq!((0..10).filter(|_| bucket.take(5.0, 10.0, later)).count(), 3);
    }

    #[test]
    fn unused_refill_does_not_accumulate_beyond_the_capacity() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(start);
        let much_later = start + Duration::from_secs(3600);
        assert_eq!((0..100).filter(|_| bucket.take(5.0, 10.0, much_later)).count(), 5);
    }
}
