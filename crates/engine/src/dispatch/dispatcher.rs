//! Runs invocations as tokio tasks: each waits for room under its function's adaptive limit (and
//! the executor's max_workers) and for its turn at the function's learned request rate, makes its
//! attempts under the retry policy, counts the outcome in
//! the executor's stats, and hands it to the job's [`Sink`] (the Python bindings resolve a future
//! there; a test may keep it in a channel).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore};

use crate::client::config::SharedClient;
use crate::dispatch::stats::{Outcome, Stats, Summary};
use crate::invoke::attempt::{attempt, AttemptError, InvokeRequest, Invoked};
use crate::invoke::report_line::{self, Report};
use crate::journal::store::JournalEntry;
use crate::limits::adaptive::{Admission, Verdict};
use crate::limits::function::FunctionLimits;
use crate::limits::retry::{Decision, RetryPolicy};
use crate::limits::spend_cap::{CapReached, SpendCap};
use crate::process::runtime;

const QUEUED: u8 = 0;
const SENT: u8 = 1;
const CANCELLED: u8 = 2;

/// Whoever waits for an invocation's outcome.
pub trait Sink: Send + 'static {
    /// Takes the outcome; the job counts as finished once `finished` (and its guard) is dropped.
    fn deliver(self, finished: Finished);

    /// The job was abandoned while its call was in flight, and Lambda did not run it: it ends
    /// cancelled, nothing more sent. The job counts as finished once `done` is dropped.
    fn cancelled(self, done: JobGuard);
}

/// How one invocation ended.
pub struct Finished {
    /// What was asked, less its payload (let go once the call was made).
    pub request: InvokeRequest,
    /// The payload's size (a journal's outcome was not sent again, but was sent once).
    pub sent_bytes: usize,
    pub result: Result<Invoked, AttemptError>,
    /// Attempts made (1 when nothing was retried).
    pub attempts: u32,
    /// Throttles met on the way (and the last one, if it gave up throttled).
    pub throttles: u32,
    /// Lambda's REPORT line, read from the log tail when there was one.
    pub report: Option<Report>,
    /// Returned from a journal, not sent.
    pub from_journal: bool,
    /// Counts the job finished when dropped: after its outcome has been delivered (None for an
    /// outcome from a journal, which was never a job).
    pub done: Option<JobGuard>,
}

/// One submitted invocation, as its caller (to cancel it) and the task running it share it.
///
/// QUEUED while it waits for room, its rate turn or a retry's delay (cancellable), SENT while an
/// attempt is in flight (Lambda may be running it), CANCELLED at the end of a cancel.
pub struct Job<S> {
    state: AtomicU8,
    /// Set by `abandon` while SENT: if Lambda did not run the call, it ends cancelled.
    abandoned: AtomicBool,
    /// Wakes the task when the job is cancelled while it waits.
    cancelled: Notify,
    /// Taken when the job ends (or is cancelled), which frees whatever the sink holds.
    sink: Mutex<Option<S>>,
}

impl<S> Job<S> {
    pub fn new(sink: S) -> Arc<Self> {
        Arc::new(Self {
            state: AtomicU8::new(QUEUED),
            abandoned: AtomicBool::new(false),
            cancelled: Notify::new(),
            sink: Mutex::new(Some(sink)),
        })
    }

    /// Cancels the job unless an attempt is in flight; false while one is.
    pub fn cancel(&self) -> bool {
        let cancelled = self.state.compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if cancelled {
            self.sink.lock().unwrap().take();
            self.cancelled.notify_waiters();
        }
        cancelled || self.state.load(Ordering::Acquire) == CANCELLED
    }

    /// Cancels the job as `cancel` does; while an attempt is in flight, also asks that nothing
    /// more be sent: if Lambda turns out not to have run it (a throttle, a call not sent), the job
    /// ends cancelled (its sink told) rather than retried. False while an attempt is in flight.
    pub fn abandon(&self) -> bool {
        self.abandoned.store(true, Ordering::Release);
        self.cancel()
    }

    pub fn is_sent(&self) -> bool {
        self.state.load(Ordering::Acquire) == SENT
    }

    /// Marks the job as sent before an attempt; false if it was cancelled meanwhile. (A retry
    /// after a call that may have run finds it still SENT.)
    fn begin_attempt(&self) -> bool {
        match self.state.compare_exchange(QUEUED, SENT, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(current) => current == SENT,
        }
    }

    /// Lambda did not run the call: until the next attempt the job can be cancelled again. False
    /// if it was abandoned meanwhile: it is cancelled now.
    fn requeue(&self) -> bool {
        let next = if self.abandoned.load(Ordering::Acquire) { CANCELLED } else { QUEUED };
        let _ = self.state.compare_exchange(SENT, next, Ordering::AcqRel, Ordering::Acquire);
        self.state.load(Ordering::Acquire) != CANCELLED
    }

    /// Runs `wait` unless the job is cancelled first (or was already): None then.
    async fn unless_cancelled<T>(&self, wait: impl std::future::Future<Output = T>) -> Option<T> {
        let cancelled = self.cancelled.notified();
        tokio::pin!(cancelled);
        // Registered before the state is read, so a cancel in between still wakes it.
        cancelled.as_mut().enable();
        if self.state.load(Ordering::Acquire) == CANCELLED {
            return None;
        }
        tokio::select! {
            biased;
            () = cancelled => None,
            done = wait => Some(done),
        }
    }

    fn take_sink(&self) -> Option<S> {
        self.sink.lock().unwrap().take()
    }
}

/// How many submitted jobs have not finished, and a way to wait until none is left.
#[derive(Default)]
struct Outstanding {
    count: Mutex<usize>,
    all_done: Condvar,
}

/// One submitted job not yet finished; dropping it counts the job finished.
pub struct JobGuard(Arc<Outstanding>);

impl JobGuard {
    fn new(outstanding: &Arc<Outstanding>) -> Self {
        *outstanding.count.lock().unwrap() += 1;
        Self(outstanding.clone())
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap();
        *count -= 1;
        if *count == 0 {
            self.0.all_done.notify_all();
        }
    }
}

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
    fn over_spend_cap(&self) -> Option<AttemptError> {
        let cap = self.spend_cap.as_ref()?;
        let mut stats = self.stats.lock().unwrap();
        let spent = stats.spent(cap);
        let mut reached = self.cap_reached.lock().unwrap();
        if reached.is_none() {
            if spent < cap.max_cost {
                return None;
            }
            *reached = Some(CapReached { spent, waiting: self.unsent.load(Ordering::Relaxed) });
        }
        let CapReached { spent, waiting } = (*reached)?;
        stats.not_sent_over_cap += 1;
        Some(AttemptError::OverSpendCap { spent, max_cost: cap.max_cost, waiting })
    }

    /// Starts invoking; with a journal entry, the invocation is marked sent there before it goes
    /// out and its outcome recorded.
    pub fn submit<S: Sink>(self: &Arc<Self>, job: Arc<Job<S>>, request: InvokeRequest, journal: Option<JournalEntry>) {
        let done = JobGuard::new(&self.outstanding);
        // Queued here, in the caller's order: the tasks may start in any order, but invocations
        // go out in the order they were submitted (what an ordered map waits for first).
        let limits = self.limits_for(&request.function);
        let admission = limits.concurrency.reserve(false);
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
            result,
            attempts: 0,
            throttles: 0,
            report: None,
            from_journal: true,
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
        limits.entry(function.to_owned()).or_insert_with(|| Arc::new(FunctionLimits::new(self.max_workers))).clone()
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
        let count = self.outstanding.count.lock().unwrap();
        let (count, _) = self.outstanding.all_done.wait_timeout_while(count, timeout, |n| *n > 0).unwrap();
        *count == 0
    }

    async fn run<S: Sink>(self: Arc<Self>, queued: Queued<S>, limits: Arc<FunctionLimits>) {
        let Queued { job, mut request, journal, admission, done, mut unsent } = queued;
        let mut admission = Some(admission);
        let deadline = Instant::now() + self.policy.throttle_deadline();
        let (mut attempts, mut throttles, mut retries) = (0u32, 0u32, 0u32);
        let mut first_sent = None;
        // Why the last attempt did not run, while the job waits to retry it: what the journal
        // keeps if the job is cancelled meanwhile, so that a rerun sends it.
        let mut not_run: Option<AttemptError> = None;
        let result = loop {
            // Room under the function's limit, a worker, the turn at its rate: while it waits for
            // them the job can be cancelled, which ends it here (dropping `done` counts it finished).
            let admitted = job.unless_cancelled(async {
                let permit = match admission.take() {
                    Some(first) => first.wait().await,
                    None => limits.concurrency.acquire(true).await,
                };
                let worker = self.workers.clone().acquire_owned().await.expect("the semaphore is never closed");
                limits.rate.pace().await;
                (permit, worker)
            });
            let Some((mut permit, worker)) = admitted.await else {
                return record_cancelled(journal, not_run);
            };
            if let Some(refusal) = self.over_spend_cap() {
                break Err(refusal);
            }
            if !job.begin_attempt() {
                return record_cancelled(journal, not_run);
            }
            if attempts == 0 {
                if let Some(entry) = &journal {
                    if let Err(why) = entry.mark_sent().await {
                        break Err(AttemptError::Rejected {
                            code: "JournalError".into(),
                            message: format!("{why}; nothing was sent"),
                            status: 0,
                            request_id: None,
                        });
                    }
                }
            }
            attempts += 1;
            unsent.take();
            let sent = Instant::now();
            first_sent.get_or_insert(sent);
            permit.send();
            // Boxed: the SDK's future is large, and queued jobs should not each carry room for it.
            let error = match CatchPanic(Box::pin(attempt(&self.client, &request))).await {
                Ok(Ok(invoked)) => {
                    limits.on_ran();
                    permit.release(Verdict::Ran);
                    break Ok(invoked);
                }
                Ok(Err(error)) => error,
                // A panic below (in the HTTP or TLS stack) must not lose the job's outcome.
                Err(panic) => AttemptError::MaybeSent { message: format!("the HTTP client failed: {panic}") },
            };
            let throttled = matches!(error, AttemptError::Throttled { .. });
            let verdict = match &error {
                AttemptError::Throttled { reason, .. } => limits.on_throttle(reason, sent),
                AttemptError::MaybeSent { .. } => Verdict::Ran,
                _ => Verdict::NotRun,
            };
            permit.release(verdict);
            drop(worker);
            let earlier = if throttled { throttles } else { retries };
            match self.policy.decide(&error, earlier, deadline.saturating_duration_since(Instant::now())) {
                Decision::RetryAfter(delay) => {
                    if verdict == Verdict::RefusedForConcurrency {
                        limits.concurrency.refused_call_waits(delay);
                    }
                    if throttled {
                        throttles += 1;
                    } else {
                        retries += 1;
                    }
                    if !matches!(error, AttemptError::MaybeSent { .. }) {
                        let abandoned = !job.requeue();
                        not_run = Some(error);
                        if abandoned {
                            // Abandoned while in flight, and Lambda did not run it: nothing more
                            // is sent, and it ends cancelled.
                            record_cancelled(journal, not_run);
                            if let Some(sink) = job.take_sink() {
                                sink.cancelled(done);
                            }
                            return;
                        }
                    }
                    self.retrying.fetch_add(1, Ordering::Relaxed);
                    // A job waiting to retry a call Lambda did not run can be cancelled meanwhile.
                    let waited = job.unless_cancelled(tokio::time::sleep(delay)).await;
                    self.retrying.fetch_sub(1, Ordering::Relaxed);
                    if waited.is_none() {
                        return record_cancelled(journal, not_run);
                    }
                }
                Decision::GiveUp => {
                    throttles += u32::from(throttled);
                    break Err(error);
                }
            }
        };
        // Nothing sends the payload again: let it go now rather than after delivery.
        let sent_bytes = std::mem::take(&mut request.payload).len();
        // A call the spend cap kept back was not sent: the journal keeps nothing of it (a rerun
        // sends it), and the stats counted it as not sent.
        let over_cap = matches!(result, Err(AttemptError::OverSpendCap { .. }));
        if let Some(entry) = journal.as_ref().filter(|_| !over_cap) {
            entry.record(&result);
        }
        // Let go of the journal before the job counts finished: whoever waited for the executor
        // may open the file next (`lambda-executor journal`), and it is held exclusively.
        drop(journal);
        let report = result.as_ref().ok().and_then(|invoked| invoked.log_tail.as_deref()).and_then(report_line::parse);
        if !over_cap {
            self.stats.lock().unwrap().record(Outcome {
                failed: result.as_ref().map_or(true, Invoked::failed),
                attempts,
                throttles,
                latency: first_sent.map_or_else(Default::default, |sent| sent.elapsed()),
                report: report.as_ref(),
            });
        }
        if let Some(sink) = job.take_sink() {
            sink.deliver(Finished {
                request,
                sent_bytes,
                result,
                attempts,
                throttles,
                report,
                from_journal: false,
                done: Some(done),
            });
        }
    }
}

/// A job cancelled after attempts Lambda did not run: its journal keeps why the last did not
/// run (a failure a rerun sends again), and is let go before the job counts finished.
fn record_cancelled(journal: Option<JournalEntry>, not_run: Option<AttemptError>) {
    if let (Some(entry), Some(error)) = (&journal, not_run) {
        entry.record(&Err(error));
    }
}

/// A submitted invocation as its task takes it: the job, what to send, its journal entry, its
/// place in the function's queue, and the guards that count it outstanding and not yet sent.
struct Queued<S> {
    job: Arc<Job<S>>,
    request: InvokeRequest,
    journal: Option<JournalEntry>,
    admission: Admission,
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
