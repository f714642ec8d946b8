//! The harness of the engine's tests: LocalLambda's emulator started in this process, a
//! dispatcher on it, and a sink that hands outcomes to the test (no Python).
#![allow(dead_code)] // each test file uses part of it

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Once};
use std::time::Duration;

use bytes::Bytes;
use lambda_executor_emulator::faults::FaultPlan;
use lambda_executor_emulator::{Emulator, EmulatorConfig, FunctionKind, FunctionSpec, ThrottleLimits};
use lambda_executor_engine::protocol::InvocationType;
use lambda_executor_engine::runtime;
use lambda_executor_engine::InvokeRequest;
use lambda_executor_engine::Journal;
use lambda_executor_engine::RetryPolicy;
use lambda_executor_engine::{client_for, ClientOptions, SharedClient};
use lambda_executor_engine::{Dispatcher, Finished, Job, JobGuard, Sink};

/// A sink that hands each outcome, with the job's index, to the test.
pub struct Collect {
    pub index: usize,
    pub outcomes: mpsc::Sender<(usize, Finished)>,
}

impl Sink for Collect {
    fn deliver(self, finished: Finished) {
        let _ = self.outcomes.send((self.index, finished));
    }

    fn cancelled(self, done: JobGuard) {
        drop(done);
    }
}

/// Faults by share, in FaultPlan's order.
#[derive(Default)]
pub struct Faults {
    pub service_error: f64,
    pub throttle: f64,
    pub drop_after: f64,
    pub retry_after_secs: u32,
}

pub struct Lab {
    pub emulator: Arc<Emulator>,
    pub dispatcher: Arc<Dispatcher>,
    /// The client the dispatcher sends through, for an executor of a test's own.
    pub client: Arc<SharedClient>,
    pub outcomes: mpsc::Receiver<(usize, Finished)>,
    sender: mpsc::Sender<(usize, Finished)>,
    pub submitted: usize,
    /// Where submissions are journaled, if anywhere.
    pub journal: Option<Arc<Journal>>,
}

impl Lab {
    /// An emulator with one synthetic function `name` and a dispatcher of `max_workers` on it.
    pub fn new(name: &str, latency: Duration, reserved: Option<u32>, policy: RetryPolicy, max_workers: usize) -> Self {
        static CREDENTIALS: Once = Once::new();
        // The client signs requests as for Lambda; the emulator takes any credentials.
        CREDENTIALS.call_once(|| {
            std::env::set_var("AWS_ACCESS_KEY_ID", "engine-tests");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "engine-tests");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        });
        let config = EmulatorConfig {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            account_concurrency: 1000,
            idle_timeout: Duration::from_secs(60),
            python: PathBuf::from("python3"),
            retry_after_secs: 0,
            event_retry_delay: Duration::from_secs(1),
            tls: None,
            limits: ThrottleLimits::default(),
            s3: None,
            // Synthetic functions only: no environments to confine.
            cgroup_root: None,
        };
        let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let emulator = runtime::get().block_on(Emulator::start(config, bind)).expect("the emulator listens");
        let spec = FunctionSpec {
            name: name.into(),
            kind: FunctionKind::Synthetic { latency, cpu_work: Duration::ZERO },
            timeout: Duration::from_secs(30),
            memory_mb: 128,
        };
        emulator.add_function(spec, reserved).unwrap();
        let options = ClientOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(format!("http://{}", emulator.address)),
            // The calls go to the emulator directly, whatever proxy this machine names.
            proxies: Some(Vec::new()),
            ..ClientOptions::default()
        };
        let client = runtime::get().block_on(client_for(&options)).expect("a client");
        let (sender, outcomes) = mpsc::channel();
        let dispatcher = Dispatcher::new(client.clone(), policy, max_workers, None);
        Self { emulator, dispatcher, client, outcomes, sender, submitted: 0, journal: None }
    }

    /// Where a `Collect` sink hands outcomes to this lab.
    pub fn sender(&self) -> mpsc::Sender<(usize, Finished)> {
        self.sender.clone()
    }

    pub fn inject(&self, name: &str, faults: Faults) {
        let shares = [faults.service_error, 0.0, faults.throttle, 0.0, faults.drop_after, 0.0];
        let plan = FaultPlan::new(shares, Duration::ZERO, faults.retry_after_secs, 7).unwrap();
        self.emulator.set_faults(name, Some(plan)).unwrap();
    }

    pub fn submit(&mut self, function: &str) -> Arc<Job<Collect>> {
        let job = Job::new(Collect { index: self.submitted, outcomes: self.sender.clone() });
        let payload = Bytes::from(format!("{{\"i\": {}}}", self.submitted));
        self.submit_payload(function, job.clone(), payload);
        job
    }

    /// Submits `payload` for `job` (journaled when the lab has a journal).
    pub fn submit_payload(&mut self, function: &str, job: Arc<Job<Collect>>, payload: Bytes) {
        let request = InvokeRequest {
            function: function.into(),
            qualifier: None,
            invocation_type: InvocationType::RequestResponse,
            log_tail: false,
            payload,
            spill: None,
        };
        let entry = self.journal.as_ref().map(|journal| journal.entry(journal.key_for(&request)).unwrap());
        self.dispatcher.submit(job, request, entry);
        self.submitted += 1;
    }

    /// The next `count` outcomes, in job order; each is dropped (so counted finished) by the caller.
    pub fn outcomes(&self, count: usize) -> Vec<Finished> {
        let mut outcomes: Vec<(usize, Finished)> = (0..count)
            .map(|_| self.outcomes.recv_timeout(Duration::from_secs(60)).expect("an outcome within a minute"))
            .collect();
        outcomes.sort_by_key(|(index, _)| *index);
        outcomes.into_iter().map(|(_, finished)| finished).collect()
    }

    pub fn invocations(&self, name: &str) -> u64 {
        self.emulator.stats(name).unwrap().invocations
    }

    pub fn injected(&self, name: &str, fault: &str) -> u64 {
        self.emulator.injected_faults(name).into_iter().find(|(which, _)| *which == fault).map_or(0, |(_, n)| n)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.emulator.close();
    }
}
