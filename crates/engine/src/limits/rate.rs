//! The learned request rate of one function: requests go out unpaced until Lambda throttles one
//! for its rate, then evenly spaced at a rate learned from what Lambda accepted.
//!
//! A rate throttle sets the rate to what Lambda accepted over the last second (never more than the
//! rate already paced at): Lambda took that many, so its limit is no lower, whatever the round
//! trip. Throttles of requests sent before the rate was last set only raise it to what Lambda
//! accepted since (the first throttle of a burst may come back before the calls accepted with it). Between throttles
//! the rate grows, slowly at first (5 % a second) and faster the longer no throttle comes, so that
//! a steady batch meets a throttle only now and then and a limit raised meanwhile is found within
//! seconds (twice the rate in 5 s).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The rate `t` seconds after it was set is `rate * exp(GROWTH * t + GROWTH_GROWTH * t * t)`.
const GROWTH: f64 = 0.05;
const GROWTH_GROWTH: f64 = 0.02;
/// The window over which accepted requests are counted, in slices.
const SLICE: Duration = Duration::from_millis(100);
const SLICES: usize = 10;
/// No rate is learned below this (requests per second).
const MIN_RATE: f64 = 1.0;
/// Turns are booked again once the rate has grown by this factor since they were booked.
const REBOOK_GROWTH: f64 = 1.25;

pub struct RateLimit {
    state: Mutex<State>,
    /// Wakes requests waiting for their turn when the turns are booked anew.
    rebooked: Notify,
}

struct State {
    /// None until the first rate throttle: requests are not paced.
    learned: Option<Learned>,
    /// When the next paced request may go out.
    next_send: Instant,
    /// The rate the turns waited for were booked at.
    booked_rate: f64,
    accepted: RecentCount,
}

#[derive(Clone, Copy)]
struct Learned {
    rate: f64,
    /// When `rate` was set; it grows from then on.
    since: Instant,
}

impl Learned {
    fn at(&self, now: Instant) -> f64 {
        let t = now.saturating_duration_since(self.since).as_secs_f64().min(60.0);
        self.rate * (GROWTH * t + GROWTH_GROWTH * t * t).exp()
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        let now = Instant::now();
        let state = State { learned: None, next_send: now, booked_rate: 0.0, accepted: RecentCount::new(now) };
        Self { state: Mutex::new(state), rebooked: Notify::new() }
    }
}

impl RateLimit {
    /// Waits for this request's turn at the learned rate (at once while none is learned). A turn
    /// booked at a rate since changed is booked again: a rate learned low at first must not hold
    /// the requests already waiting to it.
    pub async fn pace(&self) {
        loop {
            let rebooked = self.rebooked.notified();
            tokio::pin!(rebooked);
            rebooked.as_mut().enable();
            let Some(turn) = self.book_turn() else { return };
            tokio::select! {
                () = tokio::time::sleep_until(turn.into()) => return,
                () = rebooked => {}
            }
        }
    }

    /// The next request's turn, one interval of the learned rate after the last one booked (or
    /// now, if that has passed); None while no rate is learned.
    fn book_turn(&self) -> Option<Instant> {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let rate = state.learned?.at(now);
        if rate > REBOOK_GROWTH * state.booked_rate {
            // The rate grew well past the one turns were booked at: book them again.
            self.rebook(&mut state, rate, now);
        }
        let turn = state.next_send.max(now);
        state.next_send = turn + Duration::from_secs_f64(1.0 / rate);
        Some(turn)
    }

    /// Turns booked so far are forgotten: the requests waiting for them book again at `rate`.
    fn rebook(&self, state: &mut State, rate: f64, now: Instant) {
        state.next_send = now;
        state.booked_rate = rate;
        self.rebooked.notify_waiters();
    }

    /// Lambda took a request (sent at any time) without a rate throttle.
    pub fn on_accepted(&self) {
        let mut state = self.state.lock().unwrap();
        state.accepted.add(Instant::now());
    }

    /// Lambda refused a request sent at `sent` for its rate: the rate requests are paced at from
    /// now, if it changed.
    pub fn on_throttle(&self, sent: Instant) -> Option<f64> {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let accepted = state.accepted.per_second(now);
        if let Some(learned) = state.learned.filter(|learned| sent < learned.since) {
            // Sent before the rate was set, it says nothing new of the limit; but the calls
            // accepted since show what Lambda took (a first throttle may come back before the
            // calls Lambda accepted with it), and the rate is never below that.
            let paced = learned.at(now);
            if accepted > paced {
                state.learned = Some(Learned { rate: learned.rate * accepted / paced, ..learned });
                self.rebook(&mut state, accepted, now);
                return Some(accepted);
            }
            return None;
        }
        let paced = state.learned.map_or(f64::INFINITY, |learned| learned.at(now));
        let rate = accepted.min(paced).max(MIN_RATE);
        state.learned = Some(Learned { rate, since: now });
        self.rebook(&mut state, rate, now);
        Some(rate)
    }

    /// The rate requests are paced at now, once one is learned.
    pub fn current(&self) -> Option<f64> {
        let state = self.state.lock().unwrap();
        state.learned.map(|learned| learned.at(Instant::now()))
    }
}

/// Events over the last second, in slices of 100 ms.
struct RecentCount {
    origin: Instant,
    /// The slice of the last event: slices older than `SLICES` before it are cleared.
    last_slice: u64,
    counts: [u32; SLICES],
}

impl RecentCount {
    fn new(origin: Instant) -> Self {
        Self { origin, last_slice: 0, counts: [0; SLICES] }
    }

    fn slice(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.origin).as_millis() / SLICE.as_millis()) as u64
    }

    fn advance(&mut self, slice: u64) {
        for cleared in self.last_slice.max(slice.saturating_sub(SLICES as u64)) + 1..=slice {
            self.counts[cleared as usize % SLICES] = 0;
        }
        self.last_slice = self.last_slice.max(slice);
    }

    fn add(&mut self, now: Instant) {
        let slice = self.slice(now);
        self.advance(slice);
        self.counts[slice as usize % SLICES] += 1;
    }

    /// Events over the last second (just after the origin, those since: a rate learned that
    /// early errs low, and grows).
    fn per_second(&mut self, now: Instant) -> f64 {
        self.advance(self.slice(now));
        f64::from(self.counts.iter().sum::<u32>())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn recent_counts_forget_what_is_older_than_a_second() {
        let origin = Instant::now();
        let mut count = RecentCount::new(origin);
        for _ in 0..50 {
            count.add(origin + Duration::from_millis(1500));
        }
        assert_eq!(count.per_second(origin + Duration::from_millis(1600)), 50.0);
        assert_eq!(count.per_second(origin + Duration::from_millis(2600)), 0.0);
    }

    #[tokio::test]
    async fn a_rate_throttle_paces_requests_at_what_was_accepted_over_the_last_second() {
        let limit = RateLimit::default();
        let sent = Instant::now();
        for _ in 0..100 {
            limit.on_accepted();
        }
        assert_eq!(limit.current(), None);
        limit.on_throttle(sent);
        let rate = limit.current().unwrap();
        assert!((100.0..=100.1).contains(&rate), "{rate}");
        // A throttle of a request sent before the rate was set changes nothing.
        limit.on_throttle(sent);
        assert!(limit.current().unwrap() >= rate);
    }

    #[tokio::test]
    async fn repeated_throttles_at_once_never_pace_below_what_lambda_accepts() {
        // An instant function: each throttle comes back before the next request is sent, so
        // every one of them counts. The rate stays at what Lambda takes each second.
        let limit = RateLimit::default();
        for _ in 0..50 {
            limit.on_accepted();
        }
        for _ in 0..20 {
            limit.on_throttle(Instant::now());
        }
        let rate = limit.current().unwrap();
        assert!((50.0..=50.1).contains(&rate), "{rate}");
    }

    #[tokio::test]
    async fn a_first_throttle_back_before_the_calls_accepted_with_it_does_not_pace_below_them() {
        // A burst against an instant function: Lambda takes 10 and refuses the rest, and the first
        // refusal is back before any of the 10.
        let limit = RateLimit::default();
        let sent = Instant::now();
        limit.on_throttle(sent);
        assert!(limit.current().unwrap() < 1.01 * MIN_RATE);
        for _ in 0..10 {
            limit.on_accepted();
        }
        for _ in 0..5 {
            limit.on_throttle(sent);
        }
        let rate = limit.current().unwrap();
        assert!((10.0..=10.1).contains(&rate), "{rate}");
    }

    #[tokio::test]
    async fn requests_waiting_at_a_rate_learned_low_go_at_the_rate_raised() {
        let limit = Arc::new(RateLimit::default());
        let sent = Instant::now();
        limit.on_throttle(sent);
        // Paced at 1/s, the fifth waits 4 s ...
        let waiting: Vec<_> = (0..5)
            .map(|_| {
                tokio::spawn({
                    let limit = limit.clone();
                    async move { limit.pace().await }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        // ... until the calls Lambda accepted raise the rate to 100/s: all five go within 50 ms.
        for _ in 0..100 {
            limit.on_accepted();
        }
        limit.on_throttle(sent);
        for request in waiting {
            tokio::time::timeout(Duration::from_secs(1), request).await.expect("still waiting at 1/s").unwrap();
        }
    }

    #[test]
    fn the_rate_doubles_within_seconds_without_a_throttle() {
        let now = Instant::now();
        let learned = Learned { rate: 100.0, since: now };
        assert!(learned.at(now + Duration::from_secs(1)) < 108.0, "slowly at first");
        let later = learned.at(now + Duration::from_secs(5));
        assert!((200.0..230.0).contains(&later), "{later}");
    }

    #[test]
    fn paced_requests_are_booked_evenly_at_the_learned_rate() {
        let limit = RateLimit::default();
        assert_eq!(limit.book_turn(), None, "unpaced until a rate throttle");
        limit.state.lock().unwrap().learned = Some(Learned { rate: 50.0, since: Instant::now() });
        let turns: Vec<Instant> = (0..11).map(|_| limit.book_turn().unwrap()).collect();
        // Each turn 20 ms after the one before (the rate's growth over these microseconds aside).
        for pair in turns.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap > Duration::from_micros(19_900) && gap <= Duration::from_millis(20), "{gap:?}");
        }
    }
}
