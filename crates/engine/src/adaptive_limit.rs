//! The adaptive in-flight limit of one function.
//!
//! It starts at `max_workers`. A throttle shows how many invocations the function really runs at
//! once (those still in flight when it came), so the limit drops to that at once instead of
//! halving blindly. Without a known ceiling it climbs back additively (+1 per `limit`
//! successes); at a ceiling that throttled before, it probes one above it only now and then,
//! and waits twice as long after each probe that fails, so a steady batch meets few throttles.
//!
//! A throttle for the account's concurrency may instead mean that the function is still scaling
//! (Lambda adds environments at a bounded rate, and names no reason of its own for that). Then the
//! limit ramps up from what ran at the rate the function was seen to grow: a tenth of what ran per
//! second at first (Lambda's burst is ten seconds of its scaling rate), then as measured between
//! the lowest level throttled and the latest. A fixed account limit measures as no growth.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

const FIRST_PROBE_INTERVAL: Duration = Duration::from_secs(2);
const MAX_PROBE_INTERVAL: Duration = Duration::from_secs(60);
/// How long the function is watched before its growth is measured rather than assumed.
const GROWTH_MEASURED_AFTER: Duration = Duration::from_secs(2);

/// What a concurrency throttle says of the limit it met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConcurrencyThrottle {
    /// A fixed limit (a reservation): settle at it.
    Fixed,
    /// The account's limit, or a function still scaling: settle, and ramp up as it grows.
    MayGrow,
}

/// A ramp of the limit while the function scales.
#[derive(Clone, Copy, Debug)]
struct Ramp {
    /// The fewest ran at a throttle, and when: growth is measured from there.
    lowest: usize,
    lowest_at: Instant,
    /// The latest throttle's level and time: the limit ramps up from there.
    from: usize,
    at: Instant,
    per_second: f64,
}

impl Ramp {
    fn level(&self, now: Instant) -> usize {
        self.from + (self.per_second * now.saturating_duration_since(self.at).as_secs_f64()) as usize
    }
}

pub struct AdaptiveLimit {
    max: usize,
    state: Mutex<State>,
}

struct State {
    limit: usize,
    in_flight: usize,
    /// Successes since the limit last rose (additive increase).
    successes: usize,
    /// The limit at the last throttle, above which probing is rationed.
    ceiling: Option<usize>,
    next_probe: Instant,
    probe_interval: Duration,
    ramp: Option<Ramp>,
    /// Invocations waiting for room, in order; retries wait at the front.
    waiting: VecDeque<oneshot::Sender<Permit>>,
}

/// Room taken, or a place in the queue for it.
pub enum Admission {
    Admitted(Permit),
    Queued(oneshot::Receiver<Permit>),
}

impl Admission {
    pub async fn wait(self) -> Permit {
        match self {
            Self::Admitted(permit) => permit,
            // A permit sent to a caller that went away is dropped in the channel, freeing its room.
            Self::Queued(receiver) => receiver.await.expect("a waiting sender is only dropped by sending"),
        }
    }
}

/// Room for one invocation in flight; dropping it makes room for the next.
pub struct Permit {
    /// None once the room was taken back by `admit`.
    limit: Option<Arc<AdaptiveLimit>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(limit) = self.limit.take() {
            let mut state = limit.state.lock().unwrap();
            state.in_flight -= 1;
            limit.admit(&mut state);
        }
    }
}

impl AdaptiveLimit {
    pub fn new(max: usize) -> Arc<Self> {
        let max = max.max(1);
        Arc::new(Self {
            max,
            state: Mutex::new(State {
                limit: max,
                in_flight: 0,
                successes: 0,
                ceiling: None,
                next_probe: Instant::now(),
                probe_interval: FIRST_PROBE_INTERVAL,
                ramp: None,
                waiting: VecDeque::new(),
            }),
        })
    }

    pub fn current(&self) -> usize {
        self.state.lock().unwrap().limit
    }

    /// Environments per second the function is seen to add, while the limit ramps with it.
    pub fn growth(&self) -> Option<f64> {
        let state = self.state.lock().unwrap();
        state.ramp.map(|ramp| ramp.per_second).filter(|per_second| *per_second >= 1.0 && state.limit < self.max)
    }

    /// Waits for room; `retry` puts the caller ahead of invocations not yet sent.
    pub async fn acquire(self: &Arc<Self>, retry: bool) -> Permit {
        self.reserve(retry).wait().await
    }

    /// Takes room now or a place in the queue now (so the order of calls is the order of
    /// admission), to be waited for later.
    pub fn reserve(self: &Arc<Self>, retry: bool) -> Admission {
        let mut state = self.state.lock().unwrap();
        if state.in_flight < state.limit && (retry || state.waiting.is_empty()) {
            state.in_flight += 1;
            return Admission::Admitted(Permit { limit: Some(self.clone()) });
        }
        let (sender, receiver) = oneshot::channel();
        if retry {
            state.waiting.push_front(sender);
        } else {
            state.waiting.push_back(sender);
        }
        Admission::Queued(receiver)
    }

    pub fn on_success(self: &Arc<Self>) {
        let mut state = self.state.lock().unwrap();
        if let Some(ramp) = state.ramp {
            state.limit = state.limit.max(ramp.level(Instant::now()).min(self.max));
        }
        if state.limit >= self.max {
            self.admit(&mut state);
            return;
        }
        let at_ceiling = state.ceiling.is_some_and(|ceiling| state.limit >= ceiling);
        if at_ceiling {
            let now = Instant::now();
            if now >= state.next_probe {
                // The level reached held without a throttle: confirm it and probe one above.
                state.ceiling = Some(state.limit);
                state.limit += 1;
                state.next_probe = now + state.probe_interval;
            }
        } else {
            state.successes += 1;
            if state.successes >= state.limit {
                state.successes = 0;
                state.limit += 1;
            }
        }
        self.admit(&mut state);
    }

    /// A throttle came back for an invocation that holds a permit.
    pub fn on_throttle(&self, kind: ConcurrencyThrottle) {
        let mut state = self.state.lock().unwrap();
        let running = state.in_flight.saturating_sub(1).max(1);
        if kind == ConcurrencyThrottle::MayGrow {
            let now = Instant::now();
            let mut ramp =
                state.ramp.unwrap_or(Ramp { lowest: running, lowest_at: now, from: running, at: now, per_second: 0.0 });
            if running < ramp.lowest {
                (ramp.lowest, ramp.lowest_at) = (running, now);
            }
            let watched = now.saturating_duration_since(ramp.lowest_at);
            ramp.per_second = if watched < GROWTH_MEASURED_AFTER {
                ramp.lowest as f64 / 10.0
            } else {
                running.saturating_sub(ramp.lowest) as f64 / watched.as_secs_f64()
            };
            (ramp.from, ramp.at) = (running, now);
            state.ramp = Some(ramp);
        }
        if state.ceiling.is_some_and(|ceiling| running >= ceiling) {
            // A probe above the ceiling failed: probe less often.
            state.probe_interval = (state.probe_interval * 2).min(MAX_PROBE_INTERVAL);
        }
        if running < state.limit || state.ceiling.is_none() {
            state.limit = running.min(state.limit);
            state.ceiling = Some(state.limit);
            state.successes = 0;
        }
        state.next_probe = Instant::now() + state.probe_interval;
    }

    /// Hands permits to waiting invocations while there is room.
    fn admit(self: &Arc<Self>, state: &mut State) {
        while state.in_flight < state.limit {
            let Some(waiter) = state.waiting.pop_front() else { break };
            state.in_flight += 1;
            if let Err(mut unused) = waiter.send(Permit { limit: Some(self.clone()) }) {
                // The waiter is gone; take the room back here, under the lock already held.
                unused.limit = None;
                state.in_flight -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_throttles_settles_the_limit_at_what_ran() {
        let limit = AdaptiveLimit::new(100);
        let mut permits = acquire_many(&limit, 100).await;
        // 90 come back throttled while 10 are running.
        for _ in 0..90 {
            limit.on_throttle(ConcurrencyThrottle::Fixed);
            permits.pop();
        }
        assert_eq!(limit.current(), 10);
    }

    #[tokio::test]
    async fn waiters_are_admitted_in_order_with_retries_first() {
        let limit = AdaptiveLimit::new(1);
        let held = limit.acquire(false).await;
        let first = tokio::spawn({
            let limit = limit.clone();
            async move { limit.acquire(false).await }
        });
        tokio::task::yield_now().await;
        let retry = tokio::spawn({
            let limit = limit.clone();
            async move { limit.acquire(true).await }
        });
        tokio::task::yield_now().await;
        drop(held);
        let retry_permit = tokio::time::timeout(Duration::from_secs(1), retry).await.unwrap().unwrap();
        assert!(!first.is_finished());
        drop(retry_permit);
        tokio::time::timeout(Duration::from_secs(1), first).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn the_limit_climbs_back_additively_without_a_ceiling() {
        let limit = AdaptiveLimit::new(10);
        limit.state.lock().unwrap().limit = 2;
        limit.on_success();
        limit.on_success();
        assert_eq!(limit.current(), 3);
    }

    #[tokio::test]
    async fn probes_above_a_ceiling_are_rationed() {
        let limit = AdaptiveLimit::new(100);
        let permits: Vec<_> = acquire_many(&limit, 11).await;
        limit.on_throttle(ConcurrencyThrottle::Fixed); // 10 running besides the throttled one
        drop(permits);
        assert_eq!(limit.current(), 10);
        for _ in 0..50 {
            limit.on_success();
        }
        assert_eq!(limit.current(), 10, "no probe before the interval has passed");
    }

    #[tokio::test]
    async fn a_throttle_that_may_be_scaling_ramps_the_limit_at_a_tenth_of_what_ran_per_second() {
        let limit = AdaptiveLimit::new(1000);
        let mut permits = acquire_many(&limit, 1000).await;
        for _ in 0..900 {
            limit.on_throttle(ConcurrencyThrottle::MayGrow);
            permits.pop();
        }
        assert_eq!(limit.current(), 100);
        assert_eq!(limit.growth(), Some(10.0));
        // Half a second on (set back rather than slept, so no clock is timed here).
        limit.state.lock().unwrap().ramp.as_mut().unwrap().at -= Duration::from_millis(500);
        limit.on_success();
        assert_eq!(limit.current(), 105, "100 + 10/s for half a second");
    }

    #[tokio::test]
    async fn a_fixed_account_limit_measures_as_no_growth() {
        let limit = AdaptiveLimit::new(100);
        let _permits = acquire_many(&limit, 21).await;
        limit.on_throttle(ConcurrencyThrottle::MayGrow);
        {
            let mut state = limit.state.lock().unwrap();
            let ramp = state.ramp.as_mut().unwrap();
            ramp.lowest_at -= GROWTH_MEASURED_AFTER;
        }
        limit.on_throttle(ConcurrencyThrottle::MayGrow); // 20 running still: no growth
        assert_eq!(limit.growth(), None);
        assert_eq!(limit.current(), 20);
    }

    async fn acquire_many(limit: &Arc<AdaptiveLimit>, n: usize) -> Vec<Permit> {
        let mut permits = Vec::new();
        for _ in 0..n {
            permits.push(limit.acquire(false).await);
        }
        permits
    }
}
