//! Runs invocations as tokio tasks: each waits for room under its function's adaptive limit (and
//! the executor's max_workers), makes its attempts under the retry policy, and hands its outcome
//! to the completion thread, which resolves the Python future.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use aws_sdk_lambda::Client;
use pyo3::prelude::*;
use tokio::sync::Semaphore;

use crate::completion::{self, Completion};
use crate::invocation::{attempt, AttemptError, InvokeRequest};
use crate::limiter::AdaptiveLimit;
use crate::retry::{Decision, RetryPolicy};
use crate::runtime;

const QUEUED: u8 = 0;
const SENT: u8 = 1;
const CANCELLED: u8 = 2;

/// One submitted invocation as Python's future and the task running it share it.
pub struct Job {
    state: AtomicU8,
    /// Taken when the job ends (or is cancelled), which breaks the future <-> job cycle.
    future: Mutex<Option<Py<PyAny>>>,
}

impl Job {
    pub fn new(future: Py<PyAny>) -> Arc<Self> {
        Arc::new(Self { state: AtomicU8::new(QUEUED), future: Mutex::new(Some(future)) })
    }

    /// Cancels the job if it has not been sent; false once it has.
    pub fn cancel(&self) -> bool {
        let cancelled = self.state.compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if cancelled {
            self.future.lock().unwrap().take();
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

    pub fn take_future(&self) -> Option<Py<PyAny>> {
        self.future.lock().unwrap().take()
    }
}

/// Totals over the executor's life.
#[derive(Clone, Default)]
pub struct Totals {
    pub invocations: u64,
    pub failures: u64,
    pub throttles: u64,
    pub retries: u64,
}

pub struct Dispatcher {
    client: Client,
    policy: RetryPolicy,
    max_workers: usize,
    workers: Arc<Semaphore>,
    limits: Mutex<HashMap<String, Arc<AdaptiveLimit>>>,
    outstanding: Mutex<usize>,
    all_done: Condvar,
    pub totals: Mutex<Totals>,
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
            totals: Mutex::new(Totals::default()),
        })
    }

    pub fn submit(self: &Arc<Self>, job: Arc<Job>, request: InvokeRequest) {
        *self.outstanding.lock().unwrap() += 1;
        runtime::get().spawn(self.clone().run(job, request));
    }

    /// The adaptive limit of a function (created at `max_workers` on first use).
    pub fn limit_for(&self, function: &str) -> Arc<AdaptiveLimit> {
        let mut limits = self.limits.lock().unwrap();
        limits.entry(function.to_owned()).or_insert_with(|| AdaptiveLimit::new(self.max_workers)).clone()
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

    async fn run(self: Arc<Self>, job: Arc<Job>, request: InvokeRequest) {
        let limit = self.limit_for(&request.function);
        let deadline = Instant::now() + self.policy.throttle_deadline();
        let (mut attempts, mut throttles, mut retries) = (0u32, 0u32, 0u32);
        let result = loop {
            let permit = limit.acquire(attempts > 0).await;
            let worker = self.workers.clone().acquire_owned().await.expect("the semaphore is never closed");
            if !job.begin_attempt() {
                // Cancelled while waiting: the future is already cancelled.
                self.finished();
                return;
            }
            attempts += 1;
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
                    tokio::time::sleep(delay).await;
                }
                Decision::GiveUp => {
                    throttles += u32::from(throttled);
                    break Err(error);
                }
            }
        };
        {
            let mut totals = self.totals.lock().unwrap();
            totals.invocations += 1;
            totals.failures += u64::from(result.as_ref().map_or(true, |invoked| invoked.function_error.is_some()));
            totals.throttles += u64::from(throttles);
            totals.retries += u64::from(attempts - 1);
        }
        completion::deliver(Completion { job, result, attempts, throttles, request, dispatcher: self });
    }
}
