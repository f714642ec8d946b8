//! Faults injected on purpose into a function's Invoke answers, for testing what clients do under
//! them: Lambda's retryable errors, throttles, connections dropped before the request is read or
//! after the function ran, slow answers. A fixed share of requests each, drawn from a seeded RNG.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 ServiceException: the function did not run.
    ServiceError,
    /// 502 ResourceNotReadyException: the function did not run.
    NotReady,
    /// 429 TooManyRequestsException: the function did not run.
    Throttle,
    /// The connection closes before the request is read: the function did not run, but the caller
    /// cannot know that.
    DropBefore,
    /// The function runs, then the connection closes without its answer.
    DropAfter,
    /// The function runs and its answer comes late.
    Slow,
}

const FAULTS: [Fault; 6] =
    [Fault::ServiceError, Fault::NotReady, Fault::Throttle, Fault::DropBefore, Fault::DropAfter, Fault::Slow];

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Self::ServiceError => "service_error",
            Self::NotReady => "not_ready",
            Self::Throttle => "throttle",
            Self::DropBefore => "drop_before",
            Self::DropAfter => "drop_after",
            Self::Slow => "slow",
        }
    }
}

pub struct FaultPlan {
    /// The share of requests that meet each fault, in FAULTS' order; they sum to 1 at most.
    shares: [f64; 6],
    pub slow_by: Duration,
    pub retry_after_secs: u32,
    rng: fastrand::Rng,
    /// How many times each fault was injected, in FAULTS' order.
    injected: [u64; 6],
}

impl FaultPlan {
    pub fn new(shares: [f64; 6], slow_by: Duration, retry_after_secs: u32, seed: u64) -> Result<Self, String> {
        for (fault, share) in FAULTS.iter().zip(shares) {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{} must be a share from 0 to 1, not {share}", fault.name()));
            }
        }
        if shares.iter().sum::<f64>() > 1.0 + 1e-9 {
            return Err("the shares of all faults add up to more than 1".into());
        }
        Ok(Self { shares, slow_by, retry_after_secs, rng: fastrand::Rng::with_seed(seed), injected: [0; 6] })
    }

    /// The fault this request meets, if any (counted).
    pub fn draw(&mut self) -> Option<Fault> {
        let mut draw = self.rng.f64();
        for (index, share) in self.shares.iter().enumerate() {
            if draw < *share {
                self.injected[index] += 1;
                return Some(FAULTS[index]);
            }
            draw -= share;
        }
        None
    }

    /// (fault name, times injected) for every fault.
    pub fn injected(&self) -> Vec<(&'static str, u64)> {
        FAULTS.iter().zip(self.injected).map(|(fault, count)| (fault.name(), count)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fault_takes_its_share_and_is_counted() {
        let mut plan = FaultPlan::new([0.1, 0.2, 0.0, 0.0, 0.3, 0.0], Duration::ZERO, 0, 7).unwrap();
        let draws: Vec<Option<Fault>> = (0..10_000).map(|_| plan.draw()).collect();
        let count = |fault| draws.iter().filter(|d| **d == Some(fault)).count() as f64 / 10_000.0;
        assert!((count(Fault::ServiceError) - 0.1).abs() < 0.02);
        assert!((count(Fault::NotReady) - 0.2).abs() < 0.02);
        assert!((count(Fault::DropAfter) - 0.3).abs() < 0.02);
        assert_eq!(count(Fault::Throttle), 0.0);
        let injected: u64 = plan.injected().iter().map(|(_, n)| n).sum();
        assert_eq!(injected as usize, draws.iter().filter(|d| d.is_some()).count());
    }

    #[test]
    fn shares_are_checked() {
        assert!(FaultPlan::new([1.5, 0.0, 0.0, 0.0, 0.0, 0.0], Duration::ZERO, 0, 1).is_err());
        assert!(FaultPlan::new([0.6, 0.6, 0.0, 0.0, 0.0, 0.0], Duration::ZERO, 0, 1).is_err());
    }
}
