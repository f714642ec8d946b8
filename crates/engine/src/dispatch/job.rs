//! A submitted invocation as its caller and its task share it (the job, its state and its sink),
//! the guard that counts it outstanding, and how it ended.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::client::config::SharedClient;
use crate::invoke::failure::AttemptError;
use crate::invoke::report_line::Report;
use crate::invoke::request::{InvokeRequest, Invoked};
use crate::spill::transfer::SpillError;

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
    pub result: Result<Invoked, Failure>,
    /// Attempts made (1 when nothing was retried).
    pub attempts: u32,
    /// Throttles met on the way (and the last one, if it gave up throttled).
    pub throttles: u32,
    /// Lambda's REPORT line, read from the log tail when there was one.
    pub report: Option<Report>,
    /// Returned from a journal, not sent.
    pub from_journal: bool,
    /// The client it was (or would have been) sent with: its logs are read on its configuration.
    pub client: Arc<SharedClient>,
    /// Counts the job finished when dropped: after its outcome has been delivered (None for an
    /// outcome from a journal, which was never a job).
    pub done: Option<JobGuard>,
}

/// Why an invocation ended without a response from Lambda.
#[derive(Debug)]
pub enum Failure {
    /// Its last attempt failed, and the retry policy gave up on it (what a journal keeps).
    Attempt(AttemptError),
    /// Not sent: the executor's spend cap was reached (`spent` dollars of `max_cost`, with
    /// `waiting` calls then waiting to be sent).
    OverSpendCap { spent: f64, max_cost: f64, waiting: usize },
    /// Not sent: its journal could not record it as sent (why, naming the file).
    JournalUnwritable { why: String },
    /// Its argument could not be stored in S3 (it was not sent), or its result read back from
    /// there (it ran).
    Spill(SpillError),
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
    pub(crate) fn begin_attempt(&self) -> bool {
        match self.state.compare_exchange(QUEUED, SENT, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => true,
            Err(current) => current == SENT,
        }
    }

    /// Lambda did not run the call: until the next attempt the job can be cancelled again. False
    /// if it was abandoned meanwhile: it is cancelled now.
    pub(crate) fn requeue(&self) -> bool {
        let next = if self.abandoned.load(Ordering::Acquire) { CANCELLED } else { QUEUED };
        let _ = self.state.compare_exchange(SENT, next, Ordering::AcqRel, Ordering::Acquire);
        self.state.load(Ordering::Acquire) != CANCELLED
    }

    /// Runs `wait` unless the job is cancelled first (or was already): None then.
    pub(crate) async fn unless_cancelled<T>(&self, wait: impl std::future::Future<Output = T>) -> Option<T> {
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

    pub(crate) fn take_sink(&self) -> Option<S> {
        self.sink.lock().unwrap().take()
    }
}

/// How many submitted jobs have not finished, and a way to wait until none is left.
#[derive(Default)]
pub(crate) struct Outstanding {
    count: Mutex<usize>,
    all_done: Condvar,
}

impl Outstanding {
    /// Waits up to `timeout` until no job is outstanding; true if none is.
    pub(crate) fn wait_until_none(&self, timeout: Duration) -> bool {
        let count = self.count.lock().unwrap();
        let (count, _) = self.all_done.wait_timeout_while(count, timeout, |n| *n > 0).unwrap();
        *count == 0
    }
}

/// One submitted job not yet finished; dropping it counts the job finished.
pub struct JobGuard(Arc<Outstanding>);

impl JobGuard {
    pub(crate) fn new(outstanding: &Arc<Outstanding>) -> Self {
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
