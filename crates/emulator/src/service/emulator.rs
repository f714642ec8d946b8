//! The service: the state of one emulator (its registry of functions, the code store's records,
//! published versions and layers, injected faults, the interpreters found, the functions' logs)
//! and the operations on functions that the HTTP API and the Python bindings call. How it runs
//! invocations is in invocations.rs, its versions' operations in versions.rs; `api::server` starts it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::environment::cgroups::Cgroups;
use crate::environment::interpreters::Interpreters;
use crate::http::Listening;
use crate::model::code::S3Endpoint;
use crate::model::function::{FunctionSpec, FunctionStats};
use crate::state::code_store::{default_deployment, remove_unpacked, Deployment};
use crate::state::faults::{Fault, FaultPlan};
use crate::state::layers::LayerStore;
use crate::state::log_store::LogStore;
use crate::state::registry::{Registry, RegistryError, SharedRegistry};
use crate::state::throttling::ThrottleLimits;
use crate::state::versions::Published;

pub struct EmulatorConfig {
    pub region: String,
    pub account_id: String,
    pub account_concurrency: u32,
    pub idle_timeout: Duration,
    /// The interpreter that runs `python -m awslambdaric`.
    pub python: PathBuf,
    /// Seconds a throttled caller is told to wait (Retry-After).
    pub retry_after_secs: u32,
    /// The wait before a failed Event invocation's first retry, doubled before each further one
    /// (Lambda waits about a minute, then two).
    pub event_retry_delay: Duration,
    /// Serve the Invoke and control APIs over TLS with this identity (see tls.rs).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The request-rate and scaling limits, each Lambda's by default.
    pub limits: ThrottleLimits,
    /// The S3 code and layers are read from (S3Bucket, S3Key), whose URL handlers are given as
    /// AWS_ENDPOINT_URL_S3; None: code from S3 is refused.
    pub s3: Option<S3Endpoint>,
    /// Where the cgroup hierarchies are mounted (/sys/fs/cgroup), to give each execution
    /// environment its memory size and CPU share; None: environments run unconfined.
    pub cgroup_root: Option<PathBuf>,
}

/// How many environments may start at once: a few per core, and enough that the small bursts of
/// tests and warm-ups (up to 8 at once) each start their own, as on Lambda.
fn environment_starts() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    (4 * cores).max(8)
}

pub struct Emulator {
    pub config: EmulatorConfig,
    pub address: SocketAddr,
    pub(super) registry: Arc<SharedRegistry>,
    /// Functions created through the control API: their zips and what else was declared.
    deployments: Mutex<HashMap<String, Deployment>>,
    /// Published versions and aliases, by function.
    published: Mutex<HashMap<String, Published>>,
    /// Faults injected into functions' answers, by function.
    faults: Mutex<HashMap<String, FaultPlan>>,
    /// Published layers and their versions.
    layers: Mutex<LayerStore>,
    stop: watch::Sender<bool>,
    /// The interpreter of each runtime functions were created with.
    pub(super) interpreters: Interpreters,
    /// Environments that may start at once (see `environment_for` in invocations.rs).
    pub(super) starting: Arc<tokio::sync::Semaphore>,
    /// Wakes invocations waiting to start an environment when one becomes idle.
    pub(super) environment_idle: tokio::sync::Notify,
    /// The Invoke API's listener, to wait for its port to be free on close.
    listening: std::sync::OnceLock<Listening>,
    /// The functions' log lines, as CloudWatch Logs keeps them.
    pub(crate) logs: LogStore,
    /// The log stream of each function version's invocations that ran in no environment.
    pub(super) streams_without_environment: Mutex<HashMap<(String, String), String>>,
    /// Where execution environments get their memory limit and CPU share (None: they cannot).
    pub(super) cgroups: Option<Cgroups>,
}

impl Emulator {
    /// The emulator of `config` serving at `address` until `stop` (see `api::server`, which
    /// starts it).
    pub(crate) fn new(config: EmulatorConfig, address: SocketAddr, stop: watch::Sender<bool>) -> Arc<Self> {
        let registry = SharedRegistry::new(config.account_concurrency, config.limits);
        let cgroups = config.cgroup_root.as_deref().and_then(|root| {
            Cgroups::create(root)
                .inspect_err(|why| {
                    eprintln!(
                        "LocalLambda: memory sizes are not enforced here ({why}): execution environments run \
                         without a memory limit or a CPU share"
                    );
                })
                .ok()
        });
        Arc::new(Self {
            config,
            address,
            registry,
            deployments: Default::default(),
            published: Default::default(),
            faults: Default::default(),
            layers: Default::default(),
            stop,
            interpreters: Interpreters::default(),
            starting: Arc::new(tokio::sync::Semaphore::new(environment_starts())),
            environment_idle: tokio::sync::Notify::new(),
            listening: std::sync::OnceLock::new(),
            logs: LogStore::default(),
            streams_without_environment: Mutex::default(),
            cgroups,
        })
    }

    /// Keeps the listener that serves the API, to wait for its port to be free on close.
    pub(crate) fn serving(&self, listening: Listening) {
        let _ = self.listening.set(listening);
    }

    /// Stops serving and ends every execution environment; outside the runtime, returns once the
    /// port is free (a script run twice, or a test after a test, binds it again at once).
    pub fn close(&self) {
        let _ = self.stop.send(true);
        if let Some(listening) = self.listening.get().filter(|_| tokio::runtime::Handle::try_current().is_err()) {
            listening.wait_closed(Duration::from_secs(5));
        }
        let environments = self.registry().close();
        for environment in environments {
            environment.kill();
        }
        if let Some(cgroups) = &self.cgroups {
            cgroups.remove();
        }
        for (_, deployment) in self.deployments().drain() {
            deployment.remove_files();
        }
        let names: Vec<String> = self.published().keys().cloned().collect();
        for name in names {
            self.forget_versions(&name);
        }
        for version in self.layers().drain() {
            remove_unpacked(&version.dir);
        }
    }

    /// Finds the interpreter of the runtime `function` is created with; if none is, says on
    /// stderr which one serves it (the CreateFunction answer has no place for a warning).
    pub(crate) async fn choose_interpreter(&self, function: &str, runtime: &str) {
        if let Err(why) = self.interpreters.for_runtime(runtime, &self.config.python).await {
            eprintln!(
                "LocalLambda: {function} asks for {runtime}, but {why}: code built for {runtime} (compiled \
                 dependencies) may not import"
            );
        }
    }

    /// Injects faults into `name`'s answers from now on (None: no more).
    pub fn set_faults(&self, name: &str, plan: Option<FaultPlan>) -> Result<(), RegistryError> {
        self.registry().spec(name)?;
        let mut all = self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match plan {
            Some(plan) => all.insert(name.to_owned(), plan),
            None => all.remove(name),
        };
        Ok(())
    }

    /// The fault this request to `name` meets, if faults are injected there, with how long to be
    /// slow and what Retry-After to send.
    pub(crate) fn draw_fault(&self, name: &str) -> Option<(Fault, Duration, u32)> {
        let mut all = self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let plan = all.get_mut(name)?;
        plan.draw().map(|fault| (fault, plan.slow_by, plan.retry_after_secs))
    }

    /// How many times each fault was injected into `name`'s answers.
    pub fn injected_faults(&self, name: &str) -> Vec<(&'static str, u64)> {
        let all = self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        all.get(name).map(FaultPlan::injected).unwrap_or_default()
    }

    pub(crate) fn deployments(&self) -> MutexGuard<'_, HashMap<String, Deployment>> {
        self.deployments.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn spec(&self, name: &str) -> Result<Arc<FunctionSpec>, RegistryError> {
        self.registry().spec(name)
    }

    pub fn replace_function(&self, spec: FunctionSpec) -> Result<(), RegistryError> {
        for environment in self.registry().replace(spec)? {
            environment.kill();
        }
        Ok(())
    }

    pub fn reserved_concurrency(&self, name: &str) -> Result<Option<u32>, RegistryError> {
        self.registry().reserved(name)
    }

    /// (the account's concurrency limit, what reservations leave of it).
    pub fn account_concurrency(&self) -> (u32, u32) {
        self.registry().account_concurrency()
    }

    /// The cgroup layout that enforces memory sizes ("v1" or "v2"), or None where none can.
    pub fn cgroups(&self) -> Option<&'static str> {
        self.cgroups.as_ref().map(|cgroups| cgroups.layout.name())
    }

    pub fn is_closed(&self) -> bool {
        *self.stop.borrow()
    }

    pub fn add_function(&self, spec: FunctionSpec, reserved: Option<u32>) -> Result<(), RegistryError> {
        self.registry().add(spec, reserved)
    }

    pub fn remove_function(&self, name: &str) -> Result<(), RegistryError> {
        for environment in self.registry().remove(name)? {
            environment.kill();
        }
        if let Some(deployment) = self.deployments().remove(name) {
            deployment.remove_files();
        }
        self.forget_versions(name);
        Ok(())
    }

    pub fn set_reserved_concurrency(&self, name: &str, reserved: Option<u32>) -> Result<(), RegistryError> {
        self.registry().set_reserved(name, reserved)?;
        self.registry.capacity_freed.notify_one();
        Ok(())
    }

    pub fn stats(&self, name: &str) -> Result<FunctionStats, RegistryError> {
        self.registry().stats(name)
    }

    pub fn function_names(&self) -> Vec<String> {
        self.registry().names()
    }

    pub(super) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock()
    }

    pub fn function_arn(&self, name: &str) -> String {
        format!("arn:{}:lambda:{}:{}:function:{name}", self.partition(), self.config.region, self.config.account_id)
    }

    /// The partition of the emulator's region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        lambda_executor_protocol::partition_of(&self.config.region)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.registry().spec(name).is_ok()
    }

    /// What the control plane recorded of $LATEST (defaults for a function added from Python,
    /// kept from the first look so that its RevisionId holds until it changes).
    pub(crate) fn deployment(&self, name: &str) -> Deployment {
        let exists = self.exists(name); // asked first: the registry's lock is never taken inside this one
        let mut deployments = self.deployments();
        match deployments.get(name) {
            Some(deployment) => deployment.clone(),
            None if exists => deployments.entry(name.to_owned()).or_insert_with(default_deployment).clone(),
            None => default_deployment(),
        }
    }

    pub(crate) fn layers(&self) -> MutexGuard<'_, LayerStore> {
        self.layers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn published(&self) -> MutexGuard<'_, HashMap<String, Published>> {
        self.published.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets a deleted function's versions and aliases, and removes their code.
    fn forget_versions(&self, name: &str) {
        if let Some(function) = self.published().remove(name) {
            for version in function.versions.values() {
                version.deployment.remove_files();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.close();
    }
}
