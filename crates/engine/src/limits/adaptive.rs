//! The adaptive in-flight limit of one function: how many of its calls the executor keeps in
//! flight at once. It starts at `max_workers` and rests on one measurement, the function's
//! occupancy: how many calls Lambda ran at once, averaged over a recent window (the time calls
//! were in flight, less the time of those Lambda refused or did not run, over the window's length).
//!
//! - A concurrency throttle lowers the limit to the calls still in flight besides the refused one
//!   (what Lambda was running when it said no), but never below the occupancy: a throttle that
//!   comes while Lambda runs as many calls as before (at random, or from another workload's
//!   burst) says nothing about the function's concurrency, and leaves the limit where it is.
//! - While calls wait for room and Lambda runs as many as the limit allows, the limit grows:
//!   below the last level that was refused, by a step that doubles each time, as fast as the
//!   occupancy confirms each new level; at that level, one call above it at a time, paid for by
//!   the calls Lambda accepted (one probe per 20 of them), so that probing a fixed limit costs at
//!   most one throttled attempt in 20, and only while the calls waiting would keep the function
//!   busy longer than a refused call waits to be sent again (a probe in a batch's last rounds
//!   would only delay its end). A refused probe goes back to the level below. Once the occupancy
//!   passes the refused level (a limit raised, a function that scaled), growth doubles again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::logging::LIMITS;

/// The occupancy is kept in slices of this length, as far back as the longest window.
const SLICE: Duration = Duration::from_millis(25);
const SLICES: usize = 400;
/// The occupancy is averaged over about one latency of the function, within these bounds: long
/// enough to hold many calls, short enough that a lowered limit shows within a few latencies.
const MIN_WINDOW: Duration = Duration::from_millis(200);
const MAX_WINDOW: Duration = Duration::from_secs(5);
/// Probes above the refused level earned per call Lambda accepted.
const PROBES_PER_ACCEPTED: f64 = 0.05;

pub struct AdaptiveLimit {
    /// The function it limits, for the log.
    function: String,
    max: usize,
    state: Mutex<State>,
}

struct State {
    limit: usize,
    /// Permits held: calls waiting to be sent (for their rate turn, a worker) or in flight.
    held: usize,
    occupancy: Occupancy,
    /// The mean time calls that ran were in flight (exponentially weighted), once one has run.
    latency: Option<Duration>,
    /// How long Lambda takes to refuse a call (the slowest lately): a call in flight longer than
    /// twice this was not refused.
    refusal: Duration,
    /// The lowest level refused since the occupancy last passed it: growth to it is a probe.
    refused: Option<usize>,
    /// The next growth step below the refused level; doubles with each growth.
    step: usize,
    /// Probes earned and not spent (at most one).
    probes: f64,
    /// How long a refused call waits before it is sent again (the latest wait).
    retry_wait: Duration,
    /// Invocations waiting for room, in order; retries wait at the front.
    waiting: VecDeque<oneshot::Sender<Permit>>,
}

impl State {
    /// Calls in flight at once lately, and those Lambda ran: since the limit last changed, or over
    /// about one latency of the function if that is longer ago, or too recent to tell (calls
    /// sent before the change may still come back refused).
    fn occupancy(&mut self, now: Instant) -> Average {
        let window = self.latency.unwrap_or(MIN_WINDOW).clamp(MIN_WINDOW, MAX_WINDOW);
        let since = now.saturating_duration_since(self.occupancy.restarted);
        let recent = self.occupancy.from_idle || since > self.settle();
        self.occupancy.average(window, recent && since < window, now)
    }

    /// How long calls sent at a new limit take to show whether Lambda runs them.
    fn settle(&self) -> Duration {
        self.refusal * 2
    }

    fn set_limit(&mut self, limit: usize, now: Instant) {
        self.limit = limit;
        self.occupancy.restart(now);
    }
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

/// What became of a call sent under a permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Lambda ran it (whatever the function answered), or may have.
    Ran,
    /// Lambda refused it for the function's or the account's concurrency.
    RefusedForConcurrency,
    /// Lambda did not run it for another reason (its request rate, a 5xx, a connection not made).
    NotRun,
}

/// Room for one invocation in flight; dropping it makes room for the next.
pub struct Permit {
    /// None once released (or taken back by `admit`).
    limit: Option<Arc<AdaptiveLimit>>,
    /// When its call was sent, once it was.
    sent: Option<Instant>,
}

impl Permit {
    /// Its call goes out now.
    pub fn send(&mut self) {
        self.send_at(Instant::now());
    }

    /// Releases the room, saying what became of the call.
    pub fn release(mut self, verdict: Verdict) {
        self.release_at(verdict, Instant::now());
    }

    fn send_at(&mut self, now: Instant) {
        if let Some(limit) = &self.limit {
            limit.state.lock().unwrap().occupancy.send(now);
            self.sent = Some(now);
        }
    }

    fn release_at(&mut self, verdict: Verdict, now: Instant) {
        if let Some(limit) = self.limit.take() {
            limit.release(self.sent, verdict, now);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Released without a verdict (its task ended): a call sent counts as run, the safe side.
        self.release_at(Verdict::Ran, Instant::now());
    }
}

impl AdaptiveLimit {
    pub fn new(function: &str, max: usize) -> Arc<Self> {
        let max = max.max(1);
        Arc::new(Self {
            function: function.to_owned(),
            max,
            state: Mutex::new(State {
                limit: max,
                held: 0,
                occupancy: Occupancy::new(Instant::now()),
                latency: None,
                refusal: Duration::ZERO,
                refused: None,
                step: 1,
                probes: 1.0,
                retry_wait: Duration::ZERO,
                waiting: VecDeque::new(),
            }),
        })
    }

    pub fn current(&self) -> usize {
        self.state.lock().unwrap().limit
    }

    /// Waits for room; `retry` puts the caller ahead of invocations not yet sent.
    pub async fn acquire(self: &Arc<Self>, retry: bool) -> Permit {
        self.reserve(retry).wait().await
    }

    /// Takes room now or a place in the queue now (so the order of calls is the order of
    /// admission), to be waited for later.
    pub fn reserve(self: &Arc<Self>, retry: bool) -> Admission {
        let mut state = self.state.lock().unwrap();
        if state.held < state.limit && (retry || state.waiting.is_empty()) {
            state.held += 1;
            return Admission::Admitted(self.permit());
        }
        let (sender, receiver) = oneshot::channel();
        if retry {
            state.waiting.push_front(sender);
        } else {
            state.waiting.push_back(sender);
        }
        Admission::Queued(receiver)
    }

    fn permit(self: &Arc<Self>) -> Permit {
        Permit { limit: Some(self.clone()), sent: None }
    }

    fn release(self: &Arc<Self>, sent: Option<Instant>, verdict: Verdict, now: Instant) {
        let mut state = self.state.lock().unwrap();
        let before = (state.limit, state.refused);
        if let Some(sent) = sent {
            state.occupancy.back(sent, verdict == Verdict::Ran, now);
            match verdict {
                Verdict::Ran => self.on_ran(&mut state, now.saturating_duration_since(sent), now),
                Verdict::RefusedForConcurrency => {
                    Self::on_refused(&mut state, now.saturating_duration_since(sent), now)
                }
                Verdict::NotRun => {}
            }
        }
        state.held -= 1;
        self.admit(&mut state);
        let after = (state.limit, state.refused);
        // Logged with the lock let go: a log record may wait for Python's GIL.
        drop(state);
        if after != before {
            self.log_change(before, after);
        }
    }

    /// Tells the log how the limit changed: INFO when throttles lowered it, when it is back at
    /// `max`, and when Lambda runs more than it refused before; DEBUG for the steps of growth and
    /// the probes.
    fn log_change(&self, (was, refused_before): (usize, Option<usize>), (limit, refused): (usize, Option<usize>)) {
        let function = &self.function;
        let probe = |level: usize, refused: Option<usize>| refused.is_some_and(|refused| level >= refused);
        if let (Some(was_refused), None) = (refused_before, refused) {
            log::info!(
                target: LIMITS,
                "{function}: Lambda now runs more calls at once than the {was_refused} it refused before; \
                 concurrency limit {limit}, growing again"
            );
        } else if limit < was && probe(was, refused_before) {
            log::debug!(target: LIMITS, "{function}: probe of concurrency {was} refused; back to {limit}");
        } else if limit < was {
            log::info!(target: LIMITS, "{function}: concurrency limit lowered from {was} to {limit} after a throttle");
        } else if limit > was && limit == self.max {
            log::info!(target: LIMITS, "{function}: concurrency limit recovered to max_workers ({limit})");
        } else if limit > was && probe(limit, refused) {
            log::debug!(target: LIMITS, "{function}: probing concurrency {limit}, refused before");
        } else if limit > was {
            log::debug!(target: LIMITS, "{function}: concurrency limit raised from {was} to {limit}");
        }
    }

    /// A call ran: grow if calls wait for room and Lambda runs as many as the limit lets through.
    fn on_ran(&self, state: &mut State, latency: Duration, now: Instant) {
        state.latency = Some(state.latency.map_or(latency, |mean| (mean * 7 + latency) / 8));
        state.probes = (state.probes + PROBES_PER_ACCEPTED).min(1.0);
        if state.limit >= self.max {
            // Nothing to grow to (the unthrottled case): no occupancy to read on this hot path.
            return;
        }
        let occupancy = state.occupancy(now).ran;
        if state.refused.is_some_and(|refused| occupancy > refused as f64 - 0.5) {
            // Lambda now runs what it refused before: the limit was raised, or the function scaled.
            state.refused = None;
        }
        let limit = state.limit;
        // The calls sent at this level have been in flight longer than a refusal takes, and as
        // many ran as the limit lets through.
        let settled = now.saturating_duration_since(state.occupancy.restarted) > state.settle();
        let confirmed = settled && occupancy >= limit as f64 - 0.5 - 0.02 * limit as f64;
        if state.waiting.is_empty() || state.held < limit || !confirmed {
            return;
        }
        match state.refused {
            Some(refused) if limit + 1 >= refused => {
                // A refused probe's call waits `retry_wait`: probe only while the calls waiting
                // keep the limit busy longer than that (not in a batch's last rounds).
                let busy_for = state.latency.unwrap_or_default().mul_f64(state.waiting.len() as f64 / limit as f64);
                if state.probes >= 1.0 && busy_for >= state.retry_wait {
                    state.probes -= 1.0;
                    state.set_limit(limit + 1, now);
                }
            }
            refused => {
                let below = refused.map_or(self.max, |refused| refused - 1);
                state.set_limit((limit + state.step).min(below).min(self.max), now);
                state.step *= 2;
            }
        }
    }

    /// Lambda refused a call for concurrency (in flight `took`): if it ran fewer of the calls in
    /// flight than were sent (by half a call or more), the limit falls to the calls it may be running.
    fn on_refused(state: &mut State, took: Duration, now: Instant) {
        state.refusal = if took > state.refusal { took } else { (state.refusal * 7 + took) / 8 };
        let Average { in_flight, ran } = state.occupancy(now);
        // A probe refused goes back to the level below it. Otherwise the calls still in flight
        // are at least what Lambda runs (some may yet come back refused): the limit falls to
        // them, and growing past them again is a probe.
        let probe_refused = state.refused.is_some_and(|refused| state.limit >= refused);
        let still = state.occupancy.in_flight;
        let (lowered, refused_at) =
            if probe_refused { ((state.limit - 1).max(1), state.limit) } else { (still.max(1), still + 1) };
        if (probe_refused || ran < in_flight - 0.5) && lowered < state.limit {
            state.refused = Some(refused_at.min(state.limit));
            state.step = 1;
            state.set_limit(lowered, now);
        }
        if let Some(refused) = &mut state.refused {
            *refused = (*refused).min(refused_at).max(state.limit + 1);
        }
    }

    /// A call Lambda refused for concurrency waits `wait` before it is sent again.
    pub fn refused_call_waits(&self, wait: Duration) {
        self.state.lock().unwrap().retry_wait = wait;
    }

    /// Hands permits to waiting invocations while there is room.
    fn admit(self: &Arc<Self>, state: &mut State) {
        while state.held < state.limit {
            let Some(waiter) = state.waiting.pop_front() else { break };
            state.held += 1;
            if let Err(mut unused) = waiter.send(self.permit()) {
                // The waiter is gone; take the room back here, under the lock already held.
                unused.limit = None;
                state.held -= 1;
            }
        }
    }
}

/// Calls in flight at once on average, and how many of them Lambda ran: Little's law kept as the
/// time calls were in flight and the time of those that turned out not to have run, per slice of
/// a ring and since the last restart (a change of the limit, which a window would blur).
struct Occupancy {
    origin: Instant,
    /// Calls sent and not back.
    in_flight: usize,
    /// Time is added up to here.
    counted_to: Instant,
    /// The slice `counted_to` falls in; older slices of the ring are done.
    slice: u64,
    slices: Box<[Time; SLICES]>,
    restarted: Instant,
    since_restart: Time,
    /// The restart was the first send after none were in flight: a window would count the idle
    /// time before it.
    from_idle: bool,
    /// When none were last in flight, and the first send after a pause longer than a slice: a
    /// window starts there at the earliest, so a burst after a pause is not averaged with it.
    idle_from: Instant,
    active_from: Instant,
}

/// Seconds of calls in flight, and of those among them that did not run.
#[derive(Clone, Copy, Default)]
struct Time {
    in_flight: f64,
    not_run: f64,
}

/// Calls in flight at once on average, and those of them Lambda ran.
#[derive(Clone, Copy, Debug)]
struct Average {
    in_flight: f64,
    ran: f64,
}

impl Occupancy {
    fn new(origin: Instant) -> Self {
        Self {
            origin,
            in_flight: 0,
            counted_to: origin,
            slice: 0,
            slices: Box::new([Time::default(); SLICES]),
            restarted: origin,
            since_restart: Time::default(),
            from_idle: true,
            idle_from: origin,
            active_from: origin,
        }
    }

    fn slice_of(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.origin).as_nanos() / SLICE.as_nanos()) as u64
    }

    fn slice_start(&self, slice: u64) -> Instant {
        self.origin + SLICE * slice as u32
    }

    fn at_slice(&mut self, slice: u64) -> &mut Time {
        &mut self.slices[(slice % SLICES as u64) as usize]
    }

    /// Adds the in-flight time up to `now`, slice by slice (clearing slices the ring reuses).
    fn count_to(&mut self, now: Instant) {
        if now <= self.counted_to {
            return;
        }
        let in_flight = self.in_flight as f64;
        self.since_restart.in_flight += in_flight * now.saturating_duration_since(self.counted_to).as_secs_f64();
        let last = self.slice_of(now);
        if last >= self.slice + SLICES as u64 {
            // Longer than the ring since the last event: every slice is the same.
            let each = Time { in_flight: in_flight * SLICE.as_secs_f64(), not_run: 0.0 };
            *self.slices = [each; SLICES];
            let partial = now.saturating_duration_since(self.slice_start(last)).as_secs_f64();
            *self.at_slice(last) = Time { in_flight: in_flight * partial, not_run: 0.0 };
            (self.slice, self.counted_to) = (last, now);
            return;
        }
        while self.counted_to < now {
            let end = self.slice_start(self.slice + 1).min(now);
            let seconds = end.saturating_duration_since(self.counted_to).as_secs_f64();
            self.at_slice(self.slice).in_flight += in_flight * seconds;
            self.counted_to = end;
            if end < now {
                self.slice += 1;
                *self.at_slice(self.slice) = Time::default();
            }
        }
    }

    fn send(&mut self, now: Instant) {
        if self.in_flight == 0 {
            self.restart(now);
            self.from_idle = true;
            if now.saturating_duration_since(self.idle_from) > SLICE {
                self.active_from = now;
            }
        }
        self.count_to(now);
        self.in_flight += 1;
    }

    /// A call sent at `sent` is back; the time in flight of one that did not run is counted apart.
    fn back(&mut self, sent: Instant, ran: bool, now: Instant) {
        self.count_to(now);
        self.in_flight -= 1;
        if self.in_flight == 0 {
            self.idle_from = now;
        }
        if !ran {
            self.at_slice(self.slice).not_run += now.saturating_duration_since(sent).as_secs_f64();
            self.since_restart.not_run += now.saturating_duration_since(sent.max(self.restarted)).as_secs_f64();
        }
    }

    fn restart(&mut self, now: Instant) {
        self.count_to(now);
        (self.restarted, self.since_restart, self.from_idle) = (now, Time::default(), false);
    }

    /// Since the restart, or over the last `window`.
    fn average(&mut self, window: Duration, since_restart: bool, now: Instant) -> Average {
        self.count_to(now);
        let (time, span) = if since_restart {
            (self.since_restart, now.saturating_duration_since(self.restarted).as_secs_f64())
        } else {
            let slices = (window.as_nanos() / SLICE.as_nanos()) as u64;
            let first = self.slice.saturating_sub(slices.min(SLICES as u64 - 1)).max(self.slice_of(self.active_from));
            let time = (first..=self.slice).fold(Time::default(), |total, slice| {
                let time = self.slices[(slice % SLICES as u64) as usize];
                Time { in_flight: total.in_flight + time.in_flight, not_run: total.not_run + time.not_run }
            });
            let start = self.slice_start(first).max(self.active_from);
            (time, self.counted_to.saturating_duration_since(start).as_secs_f64())
        };
        if span <= 0.0 {
            let now = self.in_flight as f64;
            return Average { in_flight: now, ran: now };
        }
        let in_flight = (time.in_flight / span).max(0.0);
        Average { in_flight, ran: ((time.in_flight - time.not_run) / span).clamp(0.0, in_flight) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_throttles_settles_the_limit_at_what_ran() {
        let limit = AdaptiveLimit::new("f", 100);
        let now = Instant::now();
        let mut permits = acquire_many(&limit, 100).await;
        for permit in &mut permits {
            permit.send_at(now);
        }
        // 90 come back throttled while 10 are running: the last refused still counts as one.
        for (i, mut permit) in permits.drain(10..).enumerate() {
            permit.release_at(Verdict::RefusedForConcurrency, now + Duration::from_millis(1 + i as u64 / 10));
        }
        let after_burst = limit.current();
        assert!(after_burst < 20, "{after_burst}");
        // The room above 10 keeps being refused a few round trips on: the limit settles at 10.
        let mut extra: Vec<Permit> = (10..after_burst).map(|_| held(&limit)).collect();
        for mut permit in extra.drain(..) {
            permit.send_at(now + Duration::from_millis(20));
            permit.release_at(Verdict::RefusedForConcurrency, now + Duration::from_millis(21));
        }
        assert_eq!(limit.current(), 10);
    }

    #[tokio::test]
    async fn a_few_refusals_after_a_pause_bring_the_limit_to_what_ran() {
        for (sent, reserved) in [(3, 1), (10, 2), (40, 5)] {
            let limit = AdaptiveLimit::new("f", 100);
            let now = Instant::now() + Duration::from_secs(1);
            let mut permits = acquire_many(&limit, sent).await;
            for permit in &mut permits {
                permit.send_at(now);
            }
            // The calls past the reservation come back refused one after the other, within 2 ms.
            for (i, mut permit) in permits.drain(reserved..).enumerate() {
                permit.release_at(Verdict::RefusedForConcurrency, now + Duration::from_micros(50 * (i as u64 + 1)));
            }
            assert!(limit.current() <= reserved + 1, "{sent} sent, {reserved} ran: {}", limit.current());
            // One call more than ran is the level refused: growing to it is a probe.
            assert_eq!(limit.state.lock().unwrap().refused, Some(reserved + 1));
        }
    }

    #[tokio::test]
    async fn a_probe_waits_for_enough_calls_waiting_to_pay_for_a_refused_one() {
        // Settled at 20 below a refused 21, 200 ms calls, a refused call waits 1 s to be resent:
        // a probe pays off only with more than 1 s of calls waiting (100 at 20 per 200 ms).
        for (waiting, probed) in [(5, false), (99, false), (101, true), (400, true)] {
            let limit = AdaptiveLimit::new("f", 100);
            limit.refused_call_waits(Duration::from_secs(1));
            let origin = Instant::now();
            let mut permits = acquire_many(&limit, 20).await;
            {
                let mut state = limit.state.lock().unwrap();
                state.set_limit(20, origin);
                state.refused = Some(21);
            }
            for permit in &mut permits {
                permit.send_at(origin);
            }
            let queued: Vec<Admission> = (0..waiting).map(|_| limit.reserve(false)).collect();
            permits.pop().unwrap().release_at(Verdict::Ran, origin + Duration::from_millis(200));
            // The room freed went to the first waiting: one fewer waits.
            let grown = limit.current() == 21;
            assert_eq!(grown, probed, "{waiting} waiting");
            drop(queued);
        }
    }

    #[tokio::test]
    async fn waiters_are_admitted_in_order_with_retries_first() {
        let limit = AdaptiveLimit::new("f", 1);
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

    #[test]
    fn occupancy_is_the_time_calls_were_in_flight_and_ran_over_the_window() {
        let origin = Instant::now();
        let mut occupancy = Occupancy::new(origin);
        let at = |ms| origin + Duration::from_millis(ms);
        let near = |average: Average, in_flight: f64, ran: f64| {
            assert!((average.in_flight - in_flight).abs() < 0.01 && (average.ran - ran).abs() < 0.01, "{average:?}")
        };
        // 4 calls run from 0 to 1 s; 4 more are sent at 0.5 s and refused 100 ms later.
        for _ in 0..4 {
            occupancy.send(at(0));
        }
        for _ in 0..4 {
            occupancy.send(at(500));
        }
        for _ in 0..4 {
            occupancy.back(at(500), false, at(600));
        }
        near(occupancy.average(Duration::from_secs(1), false, at(1010)), 4.44 / 1.01, 4.0);
        for _ in 0..4 {
            occupancy.back(at(0), true, at(1010));
        }
        // Half a second on, the last second (and 10 ms) held 4 running for its first half.
        near(occupancy.average(Duration::from_secs(1), false, at(1510)), 2.44 / 1.01, 2.04 / 1.01);
        // Since a restart, only what was in flight since.
        occupancy.send(at(1500));
        occupancy.restart(at(1600));
        near(occupancy.average(Duration::from_secs(1), true, at(1700)), 1.0, 1.0);
        // A minute on, still the one.
        near(occupancy.average(Duration::from_secs(1), false, at(61_710)), 1.0, 1.0);
    }

    /// What a simulated run saw: the limit every 100 ms, the calls run and those refused.
    struct Run {
        limits: Vec<usize>,
        ran: usize,
        refused: usize,
    }

    /// Lambda in a test: a concurrency `capacity(t)` (ms since the origin), a share of calls
    /// refused at random, a latency; the executor keeps calls waiting for room. Runs from
    /// `from_ms` to `to_ms` with `in_flight` (back at, permit, verdict) already sent. Time is
    /// simulated in steps of 1 ms: nothing is slept.
    fn simulate(
        limit: &Arc<AdaptiveLimit>,
        origin: Instant,
        mut in_flight: Vec<(u64, Permit, Verdict)>,
        lambda: (impl Fn(u64) -> usize, f64, u64),
        (from_ms, to_ms): (u64, u64),
    ) -> Run {
        let (capacity, random, latency_ms) = lambda;
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let mut rng = fastrand::Rng::with_seed(11);
        let mut waiting: VecDeque<oneshot::Receiver<Permit>> = VecDeque::new();
        let mut run = Run { limits: Vec::new(), ran: 0, refused: 0 };
        for ms in from_ms..to_ms {
            let (back, still): (Vec<_>, Vec<_>) = in_flight.drain(..).partition(|(back, _, _)| *back <= ms);
            in_flight = still;
            for (_, mut permit, verdict) in back {
                permit.release_at(verdict, at(ms));
                run.ran += usize::from(verdict == Verdict::Ran);
                run.refused += usize::from(verdict != Verdict::Ran);
            }
            while waiting.len() < 2 * limit.max {
                match limit.reserve(false) {
                    Admission::Admitted(permit) => waiting.push_front(ready(permit)),
                    Admission::Queued(receiver) => waiting.push_back(receiver),
                }
            }
            while let Some(Ok(mut permit)) = waiting.front_mut().map(|receiver| receiver.try_recv()) {
                waiting.pop_front();
                permit.send_at(at(ms));
                let running = in_flight.iter().filter(|(_, _, verdict)| *verdict == Verdict::Ran).count();
                let (back, verdict) = if running >= capacity(ms) || rng.f64() < random {
                    (ms + 1, Verdict::RefusedForConcurrency)
                } else {
                    // Latencies vary by a fifth either way, as real ones do.
                    (ms + latency_ms * rng.u64(80..=120) / 100, Verdict::Ran)
                };
                in_flight.push((back, permit, verdict));
            }
            if ms % 100 == 0 {
                run.limits.push(limit.current());
            }
        }
        run
    }

    /// A fresh limit of `max` against a simulated Lambda for `duration_ms`.
    fn simulate_fresh(max: usize, lambda: (impl Fn(u64) -> usize, f64, u64), duration_ms: u64) -> Run {
        simulate(&AdaptiveLimit::new("f", max), Instant::now(), Vec::new(), lambda, (0, duration_ms))
    }

    fn ready(permit: Permit) -> oneshot::Receiver<Permit> {
        let (sender, receiver) = oneshot::channel();
        let _ = sender.send(permit);
        receiver
    }

    #[test]
    fn random_throttles_keep_the_limit_near_what_runs() {
        // 10% of calls refused at random, none for capacity: 100 may run at once.
        let Run { limits, ran, .. } = simulate_fresh(100, (|_| usize::MAX, 0.1, 100), 10_000);
        // The first burst cannot tell 10% refused at random from a capacity of 90; after it,
        // the limit stays at what runs.
        let lowest = *limits.iter().min().unwrap();
        assert!(lowest >= 85, "the limit fell to {lowest}: {limits:?}");
        assert!(limits[5..].iter().all(|limit| *limit >= 95), "{limits:?}");
        // 100 at once for 10 s of 100 ms calls: 10,000 at most.
        assert!(ran >= 9_500, "{ran} ran");
    }

    #[test]
    fn the_limit_climbs_back_once_random_throttles_stop() {
        let origin = Instant::now();
        let limit = AdaptiveLimit::new("f", 100);
        let mut permits: Vec<Permit> = (0..100).map(|_| held(&limit)).collect();
        for permit in &mut permits {
            permit.send_at(origin);
        }
        // A burst of throttles lowers it to about the 50 left running ...
        for mut permit in permits.drain(50..) {
            permit.release_at(Verdict::RefusedForConcurrency, origin + Duration::from_millis(1));
        }
        assert!((50..=51).contains(&limit.current()), "{}", limit.current());
        // ... then calls run and more wait: it climbs back, to the level refused and past it.
        let in_flight = permits.into_iter().map(|permit| (100, permit, Verdict::Ran)).collect();
        let Run { limits, .. } = simulate(&limit, origin, in_flight, (|_| usize::MAX, 0.0, 100), (2, 2_000));
        assert_eq!(*limits.last().unwrap(), 100, "{limits:?}");
    }

    fn held(limit: &Arc<AdaptiveLimit>) -> Permit {
        match limit.reserve(false) {
            Admission::Admitted(permit) => permit,
            Admission::Queued(_) => panic!("no room"),
        }
    }

    #[test]
    fn a_fixed_limit_is_found_and_probed_sparingly() {
        let Run { limits, ran, refused } = simulate_fresh(100, (|_| 20, 0.0, 200), 10_000);
        let settled = &limits[20..];
        assert!(settled.iter().all(|limit| (20..=21).contains(limit)), "{limits:?}");
        // 20 at once for 10 s of 200 ms calls: 1,000 at most.
        assert!(ran >= 950, "{ran} ran");
        // The first burst (80 above the 20), then about one probe in 20 calls that ran.
        assert!(refused <= 80 + ran / 20 + 10, "{refused} refused, {ran} ran");
    }

    #[test]
    fn a_limit_halved_then_doubled_is_found_within_seconds() {
        let capacity = |ms| if (4_000..8_000).contains(&ms) { 10 } else { 20 };
        let Run { limits, .. } = simulate_fresh(64, (capacity, 0.0, 200), 12_000);
        // Limits are sampled every 100 ms: within 2 s of each change, the new level.
        assert!(limits[60..80].iter().all(|limit| (10..=11).contains(limit)), "{limits:?}");
        assert!(limits[100..120].iter().all(|limit| (20..=21).contains(limit)), "{limits:?}");
    }

    async fn acquire_many(limit: &Arc<AdaptiveLimit>, n: usize) -> Vec<Permit> {
        let mut permits = Vec::new();
        for _ in 0..n {
            permits.push(limit.acquire(false).await);
        }
        permits
    }
}
