//! Runs invocations as tokio tasks. Each passes, in [`Dispatcher::round`]'s order, the steps
//! of admission (room under its function's adaptive limit, one of the executor's max_workers,
//! its turn at the function's learned request rate, the spend cap, not cancelled meanwhile, its
//! journal's sent mark), then its attempt and the retry policy's decision; once it ends, its
//! outcome is recorded in the journal, counted in the stats, and handed to the job's [`Sink`]
//! (the Python bindings resolve a future there; a test may keep it in a channel).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client::config::SharedClient;
use crate::dispatch::job::{Failure, Finished, Job, JobGuard, Outstanding, Sink};
use crate::dispatch::stats::{Ended, Stats, Summary};
use crate::dispatch::timeline::Snapshot;
use crate::invoke::attempt::attempt;
use crate::invoke::failure::AttemptError;
use crate::invoke::report_line;
use crate::invoke::request::{InvokeRequest, Invoked};
use crate::journal::store::JournalEntry;
use crate::limits::adaptive::{Admission, Permit, Verdict};
use crate::limits::function::FunctionLimits;
use crate::limits::retry::{Decision, RetryPolicy};
use crate::limits::spend_cap::{CapReached, SpendCap};
use crate::logging::{CALL, RETRY, SPEND, THROTTLE};
use crate::process::runtime;
use crate::spill::reference::ObjectRef;

pub struct Dispatcher {
    client: Arc<SharedClient>,
    policy: RetryPolicy,
    max_workers: usize,
    workers: Arc<Semaphore>,
    limits: Mutex<HashMap<String, Arc<FunctionLimits>>>,
    outstanding: Arc<Outstanding>,
    stats: Mutex<Stats>,
    /// Invocations waiting out a backoff before their next attempt, now.
    retrying: AtomicUsize,
    /// Submitted invocations not sent yet, now (counted with a spend cap only, for its message).
    unsent: Arc<AtomicUsize>,
    spend_cap: Option<SpendCap>,
    cap_reached: Mutex<Option<CapReached>>,
}

impl Dispatcher {
    pub fn new(
        client: Arc<SharedClient>,
        policy: RetryPolicy,
        max_workers: usize,
        spend_cap: Option<SpendCap>,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            policy,
            max_workers,
            workers: Arc::new(Semaphore::new(max_workers)),
            limits: Mutex::new(HashMap::new()),
            outstanding: Arc::default(),
            stats: Mutex::new(Stats::default()),
            retrying: AtomicUsize::new(0),
            unsent: Arc::default(),
            spend_cap,
            cap_reached: Mutex::new(None),
        })
    }

    pub fn has_spend_cap(&self) -> bool {
        self.spend_cap.is_some()
    }

    /// Why a call may not be sent now: the spend cap is reached.
    fn over_spend_cap(&self) -> Option<Failure> {
        let cap = self.spend_cap.as_ref()?;
        let (CapReached { spent, waiting }, just_reached) = {
            let mut stats = self.stats.lock().unwrap();
            let spent = stats.spent(cap);
            let mut reached = self.cap_reached.lock().unwrap();
            let just_reached = reached.is_none();
            if just_reached {
                if spent < cap.max_cost {
                    return None;
                }
                *reached = Some(CapReached { spent, waiting: self.unsent.load(Ordering::Relaxed) });
            }
            stats.not_sent_over_cap += 1;
            ((*reached)?, just_reached)
        };
        if just_reached {
            log::warn!(
                target: SPEND,
                "the spend cap is reached: ${spent:.6} spent of max_cost ${:.6}; the {waiting} calls waiting, and any \
                 submitted from now on, are not sent",
                cap.max_cost
            );
        }
        Some(Failure::OverSpendCap { spent, max_cost: cap.max_cost, waiting })
    }

    /// Starts invoking; with a journal entry, the invocation is marked sent there before it goes
    /// out and its outcome recorded.
    pub fn submit<S: Sink>(self: &Arc<Self>, job: Arc<Job<S>>, request: InvokeRequest, journal: Option<JournalEntry>) {
        let done = JobGuard::new(&self.outstanding);
        // Queued here, in the caller's order: the tasks may start in any order, but invocations
        // go out in the order they were submitted (what an ordered map waits for first).
        let limits = self.limits_for(&request.function);
        // A call whose argument goes up to S3 first takes its place in the queue once it is there.
        let admission = (!request.oversized()).then(|| limits.concurrency.reserve(false));
        let unsent = self.spend_cap.is_some().then(|| NotYetSent::new(&self.unsent));
        let queued = Queued { job, request, journal, admission, done, unsent };
        runtime::get().spawn(self.clone().run(queued, limits));
    }

    /// An outcome a journal held, as if the invocation had just ended: nothing is sent.
    pub fn from_journal(&self, mut request: InvokeRequest, result: Result<Invoked, AttemptError>) -> Finished {
        self.stats.lock().unwrap().from_journal += 1;
        let sent_bytes = std::mem::take(&mut request.payload).len();
        Finished {
            request,
            sent_bytes,
            result: result.map_err(Failure::Attempt),
            attempts: 0,
            throttles: 0,
            report: None,
            from_journal: true,
            client: self.client.clone(),
            done: None,
        }
    }

    /// Counts an invocation a journal showed in flight when its run stopped, about to be resent.
    pub fn count_resent_in_flight(&self) {
        self.stats.lock().unwrap().resent_in_flight += 1;
    }

    /// What a function's throttles taught (its adaptive limit is created at `max_workers`).
    pub fn limits_for(&self, function: &str) -> Arc<FunctionLimits> {
        let mut limits = self.limits.lock().unwrap();
        limits
            .entry(function.to_owned())
            .or_insert_with(|| Arc::new(FunctionLimits::new(function, self.max_workers)))
            .clone()
    }

    /// What the invocations came to so far, with each function's adaptive limit and the limit of
    /// Lambda's that throttled it last.
    pub fn summary(&self) -> Summary {
        let (mut concurrency_limits, mut binding_limits) = (BTreeMap::new(), BTreeMap::new());
        for (function, limits) in self.limits.lock().unwrap().iter() {
            concurrency_limits.insert(function.clone(), limits.concurrency.current());
            if let Some(binding) = limits.binding() {
                binding_limits.insert(function.clone(), binding);
            }
        }
        self.stats.lock().unwrap().summary(self.retrying(), self.spend_cap.as_ref(), concurrency_limits, binding_limits)
    }

    /// `function`'s architecture, for its price (see `architecture`).
    pub async fn architecture(&self, function: &str) -> Result<String, String> {
        super::architecture::architecture(&self.client, function).await
    }

    /// The last calls, attempt by attempt (see `timeline`).
    pub fn timeline(&self) -> Snapshot {
        self.stats.lock().unwrap().timeline.snapshot()
    }

    /// Retries made so far: cheaper than `stats()`, for progress bars.
    pub fn retries(&self) -> u64 {
        self.stats.lock().unwrap().retries
    }

    /// Invocations waiting out a backoff before their next attempt, now.
    pub fn retrying(&self) -> usize {
        self.retrying.load(Ordering::Relaxed)
    }

    /// Waits up to `timeout` for every submitted job to finish; true if they all have.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.outstanding.wait_until_none(timeout)
    }

    /// One job, from its queue to its outcome: rounds of admission and an attempt until it ends,
    /// waiting out each retry's delay in between (cancellable then).
    async fn run<S: Sink>(self: Arc<Self>, queued: Queued<S>, limits: Arc<FunctionLimits>) {
        let Queued { job, mut request, journal, admission, done, unsent } = queued;
        let mut progress = Progress {
            admission,
            unsent,
            deadline: Instant::now() + self.policy.throttle_deadline(),
            attempts: 0,
            throttles: 0,
            retries: 0,
            first_sent: None,
            spans: Vec::new(),
            not_run: None,
            spilled_argument: None,
        };
        // 0: an argument too large for Lambda goes up to S3 first; the call carries its reference.
        if let Some(spill) = request.spill.clone().filter(|_| request.oversized()) {
            match job.unless_cancelled(spill.put("argument", request.payload.clone())).await {
                None => return record_cancelled(journal, None),
                Some(Ok(reference)) => {
                    progress.spilled_argument = Some(reference.key.clone());
                    request.payload = reference.envelope().into();
                }
                Some(Err(error)) => {
                    let sent_bytes = std::mem::take(&mut request.payload).len();
                    return self.finish(job, request, sent_bytes, journal, Err(Failure::Spill(error)), progress, done);
                }
            }
        }
        let function = &request.function;
        let result = loop {
            match self.round(&job, &request, journal.as_ref(), &limits, &mut progress).await {
                Round::Ended(result) => break result,
                Round::Cancelled => {
                    log::debug!(target: CALL, "{function}: cancelled before it was sent");
                    return record_cancelled(journal, progress.not_run);
                }
                Round::Abandoned => {
                    // Abandoned while in flight, and Lambda did not run it: nothing more is sent,
                    // and it ends cancelled.
                    log::debug!(target: CALL, "{function}: abandoned, and Lambda did not run it: not sent again");
                    record_cancelled(journal, progress.not_run);
                    if let Some(sink) = job.take_sink() {
                        sink.cancelled(done);
                    }
                    return;
                }
                Round::RetryAfter(delay) => {
                    self.retrying.fetch_add(1, Ordering::Relaxed);
                    // A job waiting to retry a call Lambda did not run can be cancelled meanwhile.
                    let waited = job.unless_cancelled(tokio::time::sleep(delay)).await;
                    self.retrying.fetch_sub(1, Ordering::Relaxed);
                    if waited.is_none() {
                        log::debug!(target: CALL, "{function}: cancelled while it waited to be sent again");
                        return record_cancelled(journal, progress.not_run);
                    }
                }
            }
        };
        // Nothing sends the payload again: let it go now rather than after delivery.
        let sent_bytes = std::mem::take(&mut request.payload).len();
        // 9: a result the agent spilled is read back from S3 (checked, then deleted there).
        let result = match (result, &request.spill) {
            (Ok(mut invoked), Some(spill)) if !invoked.failed() => match ObjectRef::in_envelope(&invoked.payload) {
                Some(reference) => match spill.take(&reference).await {
                    Ok(payload) => {
                        invoked.payload = payload;
                        Ok(invoked)
                    }
                    Err(error) => Err(Failure::Spill(error)),
                },
                None => Ok(invoked),
            },
            (result, _) => result,
        };
        self.finish(job, request, sent_bytes, journal, result, progress, done);
    }

    /// Admission, step by step in this order, then one attempt and what its failure means.
    async fn round<S: Sink>(
        &self,
        job: &Job<S>,
        request: &InvokeRequest,
        journal: Option<&JournalEntry>,
        limits: &FunctionLimits,
        progress: &mut Progress,
    ) -> Round {
        // 1-3: room under the function's limit, a worker, the turn at its rate; while the job
        // waits for them it can be cancelled.
        let first = progress.attempts == 0;
        let Some((mut permit, worker)) =
            job.unless_cancelled(self.turn(limits, progress.admission.take(), first)).await
        else {
            return Round::Cancelled;
        };
        // 4: the spend cap.
        if let Some(refusal) = self.over_spend_cap() {
            return Round::Ended(Err(refusal));
        }
        // 5: not cancelled meanwhile (from here on, the call may run).
        if !job.begin_attempt() {
            return Round::Cancelled;
        }
        // 6: the journal's sent mark, committed before the first attempt goes out.
        if let (0, Some(entry)) = (progress.attempts, journal) {
            if let Err(why) = entry.mark_sent().await {
                return Round::Ended(Err(Failure::JournalUnwritable { why: format!("{why}; nothing was sent") }));
            }
        }
        // 7: the attempt.
        let sent = progress.sending();
        permit.send();
        // Boxed: the SDK's future is large, and queued jobs should not each carry room for it.
        let answer = CatchPanic(Box::pin(attempt(&self.client, request))).await;
        let throttled = matches!(answer, Ok(Err(AttemptError::Throttled { .. })));
        progress.spans.push((sent, Instant::now(), throttled));
        let error = match answer {
            Ok(Ok(invoked)) => {
                limits.on_ran();
                permit.release(Verdict::Ran);
                return Round::Ended(Ok(invoked));
            }
            Ok(Err(error)) => error,
            // A panic below (in the HTTP or TLS stack) must not lose the job's outcome.
            Err(panic) => AttemptError::MaybeSent { message: format!("the HTTP client failed: {panic}") },
        };
        // 8: what the failure taught the limits, and the retry policy's decision.
        let verdict = match &error {
            AttemptError::Throttled { reason, .. } => limits.on_throttle(reason, sent),
            AttemptError::MaybeSent { .. } => Verdict::Ran,
            _ => Verdict::NotRun,
        };
        permit.release(verdict);
        drop(worker);
        if let AttemptError::Throttled { reason, .. } = &error {
            // The limit that follows is read only for a record that is kept.
            if log::log_enabled!(target: THROTTLE, log::Level::Debug) {
                let follows = limits.binding().unwrap_or_default();
                log::debug!(target: THROTTLE, "{}: throttled ({reason}); {follows}", request.function);
            }
        }
        self.decide(job, &request.function, limits, verdict, error, progress)
    }

    /// Admission's first three steps, each awaited in turn (`reserved`: the place taken in the
    /// queue at submission; a retry goes to the front).
    async fn turn(
        &self,
        limits: &FunctionLimits,
        reserved: Option<Admission>,
        first: bool,
    ) -> (Permit, OwnedSemaphorePermit) {
        let permit = match reserved {
            Some(reserved) => reserved.wait().await,
            None => limits.concurrency.acquire(!first).await,
        };
        let worker = self.workers.clone().acquire_owned().await.expect("the semaphore is never closed");
        limits.rate.pace().await;
        (permit, worker)
    }

    /// After a failed attempt: retry it after a delay, or give up.
    fn decide<S: Sink>(
        &self,
        job: &Job<S>,
        function: &str,
        limits: &FunctionLimits,
        verdict: Verdict,
        error: AttemptError,
        progress: &mut Progress,
    ) -> Round {
        let throttled = matches!(error, AttemptError::Throttled { .. });
        let earlier = if throttled { progress.throttles } else { progress.retries };
        match self.policy.decide(&error, earlier, progress.deadline.saturating_duration_since(Instant::now())) {
            Decision::RetryAfter(delay) => {
                if log::log_enabled!(target: RETRY, log::Level::Debug) {
                    let (seconds, attempt, why) = (delay.as_secs_f64(), progress.attempts, error.brief());
                    log::debug!(target: RETRY, "{function}: retrying in {seconds:.3} s after attempt {attempt}: {why}");
                }
                if verdict == Verdict::RefusedForConcurrency {
                    limits.concurrency.refused_call_waits(delay);
                }
                if throttled {
                    progress.throttles += 1;
                } else {
                    progress.retries += 1;
                }
                if !matches!(error, AttemptError::MaybeSent { .. }) {
                    let abandoned = !job.requeue();
                    progress.not_run = Some(error);
                    if abandoned {
                        return Round::Abandoned;
                    }
                }
                Round::RetryAfter(delay)
            }
            Decision::GiveUp => {
                progress.throttles += u32::from(throttled);
                if error.retryable() {
                    let (attempts, why) = (attempts(progress.attempts), error.brief());
                    log::warn!(target: RETRY, "{function}: gave up after {attempts}: {why}");
                }
                Round::Ended(Err(Failure::Attempt(error)))
            }
        }
    }

    /// Records how the job ended in its journal and the stats, and hands it to its sink.
    #[allow(clippy::too_many_arguments)]
    fn finish<S: Sink>(
        &self,
        job: Arc<Job<S>>,
        request: InvokeRequest,
        sent_bytes: usize,
        journal: Option<JournalEntry>,
        result: Result<Invoked, Failure>,
        mut progress: Progress,
        done: JobGuard,
    ) {
        // A call not sent (the spend cap, the journal) leaves nothing in the journal (a rerun
        // sends it); the spend cap's are counted apart in the stats.
        if let Some(entry) = &journal {
            match &result {
                Ok(invoked) => entry.record(Ok(invoked)),
                Err(Failure::Attempt(error)) => entry.record(Err(error)),
                // Not sent (or, for a result that could not be read back, in flight for a rerun).
                Err(Failure::OverSpendCap { .. } | Failure::JournalUnwritable { .. } | Failure::Spill(_)) => {}
            }
        }
        // The agent has read a spilled argument by now, or never will.
        if let (Some(key), Some(spill)) = (progress.spilled_argument.take(), &request.spill) {
            spill.delete_later(key);
        }
        // Let go of the journal before the job counts finished: whoever waited for the executor
        // may open the file next (`lambda-executor journal`), and it is held exclusively.
        drop(journal);
        let report = result.as_ref().ok().and_then(|invoked| invoked.log_tail.as_deref()).and_then(report_line::parse);
        let limit = self.limits_for(&request.function).concurrency.current();
        if !matches!(result, Err(Failure::OverSpendCap { .. })) {
            self.stats.lock().unwrap().record(Ended {
                function: &request.function,
                failed: result.as_ref().map_or(true, Invoked::failed),
                attempts: progress.attempts,
                throttles: progress.throttles,
                latency: progress.first_sent.map_or_else(Default::default, |sent| sent.elapsed()),
                report: report.as_ref(),
                spans: &progress.spans,
                limit,
            });
        }
        if log::log_enabled!(target: CALL, log::Level::Debug) {
            log_ended(&request.function, &result, &progress);
        }
        if let Some(sink) = job.take_sink() {
            sink.deliver(Finished {
                request,
                sent_bytes,
                result,
                attempts: progress.attempts,
                throttles: progress.throttles,
                report,
                from_journal: false,
                client: self.client.clone(),
                done: Some(done),
            });
        }
    }
}

/// Tells the log how a call ended: its outcome, attempts and time (never its payload or result).
fn log_ended(function: &str, result: &Result<Invoked, Failure>, progress: &Progress) {
    let outcome = match result {
        Ok(invoked) => match (&invoked.function_error, invoked.unreadable) {
            (Some(error), _) => format!("the function failed ({error})"),
            (None, true) => "answered with a result that is not JSON".to_owned(),
            (None, false) => "succeeded".to_owned(),
        },
        Err(Failure::Attempt(error)) => format!("failed: {}", error.brief()),
        Err(Failure::OverSpendCap { .. }) => "not sent: the spend cap is reached".to_owned(),
        Err(Failure::JournalUnwritable { .. }) => "not sent: its journal could not record it".to_owned(),
        Err(Failure::Spill(error)) => format!("failed: {error}"),
    };
    let seconds = progress.first_sent.map_or(0.0, |sent| sent.elapsed().as_secs_f64());
    let attempts = attempts(progress.attempts);
    log::debug!(target: CALL, "{function}: {outcome} ({attempts}, {seconds:.3} s)");
}

/// "1 attempt", "3 attempts".
fn attempts(count: u32) -> String {
    if count == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{count} attempts")
    }
}

/// What a round of admission and an attempt came to.
enum Round {
    Ended(Result<Invoked, Failure>),
    /// Cancelled before its call went out (or while waiting to retry one Lambda did not run).
    Cancelled,
    /// Abandoned while in flight, and Lambda did not run it.
    Abandoned,
    RetryAfter(Duration),
}

/// A job's attempts so far.
struct Progress {
    /// Its place in the function's queue, taken by the first round.
    admission: Option<Admission>,
    /// Counts it not yet sent, until its first attempt.
    unsent: Option<NotYetSent>,
    /// When throttles stop being retried.
    deadline: Instant,
    attempts: u32,
    /// Throttles met on the way (and the last one, if it gave up throttled).
    throttles: u32,
    /// Retries of other failures.
    retries: u32,
    first_sent: Option<Instant>,
    /// Each attempt: when it went out, when it ended, and whether it was throttled.
    spans: Vec<(Instant, Instant, bool)>,
    /// Why the last attempt did not run, while the job waits to retry it: what the journal
    /// keeps if the job is cancelled meanwhile, so that a rerun sends it.
    not_run: Option<AttemptError>,
    /// The key of its argument in S3, deleted once the call has ended.
    spilled_argument: Option<String>,
}

impl Progress {
    /// Counts an attempt going out now, and returns when.
    fn sending(&mut self) -> Instant {
        self.attempts += 1;
        self.unsent.take();
        let now = Instant::now();
        self.first_sent.get_or_insert(now);
        now
    }
}

/// A job cancelled after attempts Lambda did not run: its journal keeps why the last did not
/// run (a failure a rerun sends again), and is let go before the job counts finished.
fn record_cancelled(journal: Option<JournalEntry>, not_run: Option<AttemptError>) {
    if let (Some(entry), Some(error)) = (&journal, not_run) {
        entry.record(Err(&error));
    }
}

/// A submitted invocation as its task takes it: the job, what to send, its journal entry, its
/// place in the function's queue, and the guards that count it outstanding and not yet sent.
struct Queued<S> {
    job: Arc<Job<S>>,
    request: InvokeRequest,
    journal: Option<JournalEntry>,
    /// Its place in the function's queue (None for a call whose argument goes to S3 first).
    admission: Option<Admission>,
    done: JobGuard,
    unsent: Option<NotYetSent>,
}

/// Counts a submitted invocation as not sent yet, until dropped: at its first attempt, or when it
/// ends without one.
struct NotYetSent(Arc<AtomicUsize>);

impl NotYetSent {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for NotYetSent {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A future whose panic becomes an error: the job's outcome is delivered whatever happens below.
struct CatchPanic<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(panic) => {
                let words = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned());
                std::task::Poll::Ready(Err(words.unwrap_or_else(|| "a panic".into())))
            }
        }
    }
}
