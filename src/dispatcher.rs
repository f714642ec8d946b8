//! Runs invocations as tokio tasks: each waits for room under its function's adaptive limit (and
//! the executor's max_workers), makes its attempts under the retry policy, counts the outcome in
//! the executor's stats, and hands it to whoever waits for it (see completion.rs).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use aws_sdk_lambda::Client;
use pyo3::prelude::*;
use tokio::sync::Semaphore;

use crate::completion::{self, Completion};
use crate::invocation::{attempt, AttemptError, InvokeRequest};
use crate::limiter::{AdaptiveLimit, Admission};
use crate::report;
use crate::retry::{Decision, RetryPolicy};
use crate::runtime;
use crate::stats::{Outcome, Stats};

const QUEUED: u8 = 0;
const SENT: u8 = 1;
const CANCELLED: u8 = 2;

/// One submitted invocation as Python's future and the task running it share it.
pub struct Job {
    state: AtomicU8,
    /// Taken when the job ends (or is cancelled), which breaks the future <-> job cycle.
    sink: Mutex<Option<Sink>>,
}

/// Who waits for the outcome; the completion thread resolves both kinds.
pub enum Sink {
    /// A concurrent.futures Future.
    Future(Py<PyAny>),
    /// An asyncio Future of `event_loop`, set through the loop (see executor.rs, `ainvoke`).
    Asyncio { event_loop: Py<PyAny>, future: Py<PyAny> },
}

impl Job {
    pub fn new(sink: Sink) -> Arc<Self> {
        Arc::new(Self { state: AtomicU8::new(QUEUED), sink: Mutex::new(Some(sink)) })
    }

    /// Cancels the job if it has not been sent; false once it has.
    pub fn cancel(&self) -> bool {
        let cancelled = self.state.compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if cancelled {
            self.sink.lock().unwrap().take();
        }
        cancelled || self.state.load(Ordering::Acquire) == CANCELLED
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

    /// Lambda did not run the call: until the next attempt the job can be cancelled again.
    fn requeue(&self) {
        let _ = self.state.compare_exchange(SENT, QUEUED, Ordering::AcqRel, Ordering::Acquire);
    }

    pub fn take_sink(&self) -> Option<Sink> {
        self.sink.lock().unwrap().take()
    }
}

pub struct Dispatcher {
    client: Client,
    policy: RetryPolicy,
    max_workers: usize,
    workers: Arc<Semaphore>,
    limits: Mutex<HashMap<String, Arc<AdaptiveLimit>>>,
    outstanding: Mutex<usize>,
    all_done: Condvar,
    pub stats: Mutex<Stats>,
    /// Invocations waiting out a backoff before their next attempt, now.
    pub retrying: AtomicUsize,
}

impl Dispatcher {
    pub fn new(client: Client, policy: RetryPolicy, max_workers: usize) -> Arc<Self> {
        Arc::new(Self {
            client,
            policy,
            max_workers,
            workers: Arc::new(Semaphore::new(max_workers)),
            limits: Mutex::new(HashMap::new()),
            outstanding: Mutex::new(0),
            all_done: Condvar::new(),
            stats: Mutex::new(Stats::default()),
            retrying: AtomicUsize::new(0),
        })
    }

    pub fn submit(self: &Arc<Self>, job: Arc<Job>, request: InvokeRequest) {
        *self.outstanding.lock().unwrap() += 1;
        // Queued here, in the caller's order: the tasks may start in any order, but invocations
        // go out in the order they were submitted (what an ordered map waits for first).
        let limit = self.limit_for(&request.function);
        let admission = limit.reserve(false);
        runtime::get().spawn(self.clone().run(job, request, limit, admission));
    }

    /// The adaptive limit of a function (created at `max_workers` on first use).
    pub fn limit_for(&self, function: &str) -> Arc<AdaptiveLimit> {
        let mut limits = self.limits.lock().unwrap();
        limits.entry(function.to_owned()).or_insert_with(|| AdaptiveLimit::new(self.max_workers)).clone()
    }

    /// Every function's current adaptive limit.
    pub fn limits(&self) -> HashMap<String, usize> {
        self.limits.lock().unwrap().iter().map(|(function, limit)| (function.clone(), limit.current())).collect()
    }

    /// Waits up to `timeout` for every submitted job to end; true if they all have.
    pub fn wait_idle(&self, timeout: std::time::Duration) -> bool {
        let outstanding = self.outstanding.lock().unwrap();
        let (outstanding, _) = self.all_done.wait_timeout_while(outstanding, timeout, |n| *n > 0).unwrap();
        *outstanding == 0
    }

    /// Called once per submitted job, after its future is resolved (or it was cancelled).
    pub fn finished(&self) {
        let mut outstanding = self.outstanding.lock().unwrap();
        *outstanding -= 1;
        if *outstanding == 0 {
            self.all_done.notify_all();
        }
    }

    async fn run(self: Arc<Self>, job: Arc<Job>, request: InvokeRequest, limit: Arc<AdaptiveLimit>, admission: Admission) {
        let mut admission = Some(admission);
        let deadline = Instant::now() + self.policy.throttle_deadline();
        let (mut attempts, mut throttles, mut retries) = (0u32, 0u32, 0u32);
        let mut first_sent = None;
        let result = loop {
            let permit = match admission.take() {
                Some(first) => first.wait().await,
                None => limit.acquire(true).await,
            };
            let worker = self.workers.clone().acquire_owned().await.expect("the semaphore is never closed");
            if !job.begin_attempt() {
                // Cancelled while waiting: the future is already cancelled.
                self.finished();
                return;
            }
            attempts += 1;
            first_sent.get_or_insert_with(Instant::now);
            // Boxed: the SDK's future is large, and queued jobs should not each carry room for it.
            let error = match Box::pin(attempt(&self.client, &request)).await {
                Ok(invoked) => {
                    limit.on_success();
                    break Ok(invoked);
                }
                Err(error) => error,
            };
            let throttled = matches!(error, AttemptError::Throttled { .. });
            if throttled {
                limit.on_throttle();
            }
            drop((permit, worker));
            let earlier = if throttled { throttles } else { retries };
            match self.policy.decide(&error, earlier, deadline.saturating_duration_since(Instant::now())) {
                Decision::RetryAfter(delay) => {
                    if !matches!(error, AttemptError::MaybeSent { .. }) {
                        job.requeue();
                    }
                    if throttled {
                        throttles += 1;
                    } else {
                        retries += 1;
                    }
                    self.retrying.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                    self.retrying.fetch_sub(1, Ordering::Relaxed);
                }
                Decision::GiveUp => {
                    throttles += u32::from(throttled);
                    break Err(error);
                }
            }
        };
        let report = result.as_ref().ok().and_then(|invoked| invoked.log_tail.as_deref()).and_then(report::parse);
        self.stats.lock().unwrap().record(Outcome {
            failed: result.as_ref().map_or(true, |invoked| invoked.function_error.is_some()),
            attempts,
            throttles,
            latency: first_sent.map_or_else(Default::default, |sent| sent.elapsed()),
            report: report.as_ref(),
        });
        completion::deliver(Completion { job, result, attempts, throttles, request, report, dispatcher: self });
    }
}
