//! LocalLambda: an offline Lambda that serves the Invoke API and runs handlers in execution
//! environments polling the Runtime API, with Lambda's concurrency and throttling rules.
//!
//! Unix only, as awslambdaric (the runtime client it runs handlers under) is: elsewhere the crate
//! is empty, and the Python bindings say so when a LocalLambda is created.
#![cfg(unix)]

mod control_api;
mod environment;
mod function_target;
mod http;
mod invoke_api;
mod model;
mod state;
pub mod tls;
mod versions;
mod versions_api;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use environment::process::{Environment, EnvironmentSpec};
use environment::{interpreters, runtime_api, synthetic};
pub use model::function::{FunctionKind, FunctionSpec, FunctionStats};
use model::invocation::{Execution, InvocationRequest, InvocationResponse};
pub use model::invocation_log;
use model::invocation_log::InvocationLog;
pub use state::handler::{handler_module, HandlerError};
pub use state::registry::RegistryError;
use state::registry::{self, SharedRegistry, Slot};
pub use state::throttling::ThrottleLimits;
pub use state::{faults, throttling};

pub struct EmulatorConfig {
    pub region: String,
    pub account_id: String,
    pub account_concurrency: u32,
    pub idle_timeout: Duration,
    /// The interpreter that runs `python -m awslambdaric`.
    pub python: PathBuf,
    /// Seconds a throttled caller is told to wait (Retry-After).
    pub retry_after_secs: u32,
    /// Serve the Invoke and control APIs over TLS with this identity (see tls.rs).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The request-rate and scaling limits, each Lambda's by default.
    pub limits: ThrottleLimits,
}

/// Lambda takes thousands of new connections at once; the default backlog (1024) would drop the
/// rest's SYNs and stall them for a second.
const LISTEN_BACKLOG: u32 = 16384;

fn listen(bind: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if bind.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(bind)?;
    socket.listen(LISTEN_BACKLOG)
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
    registry: Arc<SharedRegistry>,
    /// Functions created through the control API: their zips and what else was declared.
    deployments: std::sync::Mutex<std::collections::HashMap<String, control_api::Deployment>>,
    /// Published versions and aliases, by function.
    published: std::sync::Mutex<std::collections::HashMap<String, versions::Published>>,
    /// Faults injected into functions' answers, by function.
    faults: std::sync::Mutex<std::collections::HashMap<String, faults::FaultPlan>>,
    stop: watch::Sender<bool>,
    /// The interpreter of each runtime functions were created with.
    interpreters: interpreters::Interpreters,
    /// Environments that may start at once (see `environment_for`).
    starting: Arc<tokio::sync::Semaphore>,
    /// Wakes invocations waiting to start an environment when one becomes idle.
    environment_idle: tokio::sync::Notify,
    /// The Invoke API's listener, to wait for its port to be free on close.
    listening: std::sync::OnceLock<http::Listening>,
}

impl Emulator {
    /// Binds the Invoke API and starts serving it, the Event queue and the idle reaper.
    pub async fn start(config: EmulatorConfig, bind: SocketAddr) -> std::io::Result<Arc<Self>> {
        let listener = listen(bind)?;
        let address = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let registry = SharedRegistry::new(config.account_concurrency, config.limits);
        let tls = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        let emulator = Arc::new(Self {
            config,
            address,
            registry,
            deployments: Default::default(),
            published: Default::default(),
            faults: Default::default(),
            stop,
            interpreters: interpreters::Interpreters::default(),
            starting: Arc::new(tokio::sync::Semaphore::new(environment_starts())),
            environment_idle: tokio::sync::Notify::new(),
            listening: std::sync::OnceLock::new(),
        });
        let served = emulator.clone();
        let listening =
            http::serve(listener, stopped.clone(), tls, move |request| invoke_api::handle(served.clone(), request));
        let _ = emulator.listening.set(listening);
        tokio::spawn(emulator.clone().run_event_queue(stopped.clone()));
        tokio::spawn(emulator.clone().reap_idle_environments(stopped));
        Ok(emulator)
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
        for (_, deployment) in self.deployments().drain() {
            control_api::remove_unpacked(&deployment.dir);
        }
        let names: Vec<String> = self.published().keys().cloned().collect();
        for name in names {
            self.forget_versions(&name);
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
    pub fn set_faults(&self, name: &str, plan: Option<faults::FaultPlan>) -> Result<(), RegistryError> {
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
    pub(crate) fn draw_fault(&self, name: &str) -> Option<(faults::Fault, Duration, u32)> {
        let mut all = self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let plan = all.get_mut(name)?;
        plan.draw().map(|fault| (fault, plan.slow_by, plan.retry_after_secs))
    }

    /// How many times each fault was injected into `name`'s answers.
    pub fn injected_faults(&self, name: &str) -> Vec<(&'static str, u64)> {
        let all = self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        all.get(name).map(faults::FaultPlan::injected).unwrap_or_default()
    }

    pub(crate) fn deployments(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, control_api::Deployment>> {
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
            control_api::remove_unpacked(&deployment.dir);
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

    fn registry(&self) -> std::sync::MutexGuard<'_, registry::Registry> {
        self.registry.lock()
    }

    pub fn function_arn(&self, name: &str) -> String {
        format!("arn:{}:lambda:{}:{}:function:{name}", self.partition(), self.config.region, self.config.account_id)
    }

    /// The partition of the emulator's region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        lambda_executor_protocol::partition_of(&self.config.region)
    }

    /// Runs a synchronous invocation now, or refuses it (429) when the function is at its limit.
    /// The invocation runs to its end even if the caller goes away, as on Lambda.
    pub(crate) async fn invoke(
        self: &Arc<Self>,
        name: &str,
        request: InvocationRequest,
    ) -> Result<InvocationResponse, RegistryError> {
        let slot = self.registry.acquire(name)?;
        let emulator = self.clone();
        let execution = tokio::spawn(async move { emulator.execute(slot, Arc::new(request)).await });
        Ok(execution.await.expect("an invocation task panicked"))
    }

    /// Accepts an Event invocation; it runs when the function has capacity.
    pub(crate) fn enqueue(&self, name: &str, request: InvocationRequest) -> Result<(), RegistryError> {
        self.registry().enqueue(name, Arc::new(request))?;
        self.registry.capacity_freed.notify_one();
        Ok(())
    }

    pub fn exists(&self, name: &str) -> bool {
        self.registry().spec(name).is_ok()
    }

    async fn execute(self: &Arc<Self>, mut slot: Slot, request: Arc<InvocationRequest>) -> InvocationResponse {
        if let Some(version) = &request.version {
            slot.run_version(version.number, version.spec.clone());
        }
        let spec = slot.spec.clone();
        let execution = match &spec.kind {
            FunctionKind::Synthetic { latency } => synthetic::run(&request.payload, *latency).await,
            FunctionKind::Python { .. } => self.execute_in_environment(&slot, request.clone()).await,
        };
        let log = InvocationLog {
            request_id: &request.request_id,
            version: &model::version::version_name(slot.version),
            output: &execution.output,
            duration: execution.duration,
            memory_size_mb: spec.memory_mb,
            max_memory_mb: execution.max_memory_mb,
            init_duration: execution.init_duration,
            status: execution.status,
            error_type: execution.status.and(execution.error_type.as_deref()),
        };
        self.registry().record_outcome(&slot, execution.error_type.as_deref());
        InvocationResponse { body: execution.body, function_error: execution.error_type.is_some(), log: log.log() }
    }

    async fn execute_in_environment(self: &Arc<Self>, slot: &Slot, request: Arc<InvocationRequest>) -> Execution {
        let spec = &slot.spec;
        let environment = match self.environment_for(slot).await {
            Ok(environment) => environment,
            Err(error) => {
                let message = format!("RequestId: {} Error: cannot start the runtime: {error}", request.request_id);
                return Execution::failed("Runtime.ExitError", &message);
            }
        };
        let execution = environment.invoke(request, spec.timeout).await;
        let kept = execution.reusable && self.registry().release(slot, &environment);
        if kept {
            self.environment_idle.notify_waiters();
        } else {
            self.registry().forget(slot, &environment);
            environment.kill();
        }
        execution
    }

    /// An idle environment of the slot's function, or a new one. Lambda gives each environment
    /// CPU of its own; this machine has a few cores, and hundreds of runtimes starting at once
    /// would each take seconds, past the handler's timeout. So at most `starting`'s permits start
    /// at once, each until its runtime has initialised; an invocation waiting for its turn takes an
    /// environment that becomes idle meanwhile, and its wait counts as init.
    async fn environment_for(&self, slot: &Slot) -> std::io::Result<Arc<Environment>> {
        let since = Instant::now();
        loop {
            let idle = self.environment_idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if let Some(warm) = self.registry().take_idle(slot) {
                return Ok(warm);
            }
            tokio::select! {
                permit = self.starting.clone().acquire_owned() => {
                    let permit = permit.expect("the semaphore is never closed");
                    let cold = self.start_environment(slot, since).await?;
                    // Its start slot is held until the runtime has initialised (or died); the
                    // invocation is handed over meanwhile, as on Lambda.
                    let starting = cold.clone();
                    tokio::spawn(async move {
                        starting.initialized().await;
                        drop(permit);
                    });
                    if let Some(orphan) = self.registry().adopt(slot, cold.clone()) {
                        orphan.kill();
                    }
                    return Ok(cold);
                }
                () = &mut idle => {}
            }
        }
    }

    async fn start_environment(&self, slot: &Slot, since: Instant) -> std::io::Result<Arc<Environment>> {
        let spec = &slot.spec;
        let FunctionKind::Python { handler, code_dir, variables } = &spec.kind else {
            unreachable!("only Python functions have environments");
        };
        // A function created with a runtime runs under that runtime's interpreter, if one was found.
        let runtime = self.deployments().get(&spec.name).map(|deployment| deployment.runtime.clone());
        let python = runtime.and_then(|runtime| self.interpreters.known(&runtime));
        let environment_spec = EnvironmentSpec {
            python: python.unwrap_or_else(|| self.config.python.clone()),
            handler: handler.clone(),
            code_dir: code_dir.clone(),
            function_name: spec.name.clone(),
            version: slot.version,
            memory_mb: spec.memory_mb,
            region: self.config.region.clone(),
            variables: variables.clone(),
        };
        let (environment, runtime_api) = Environment::spawn(&environment_spec, since).await?;
        runtime_api::serve(runtime_api, environment.clone());
        Ok(environment)
    }

    /// Starts queued Event invocations whenever capacity frees, in arrival order per function.
    async fn run_event_queue(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        loop {
            let freed = self.registry.capacity_freed.notified();
            for (slot, request) in self.registry.start_queued_events() {
                let emulator = self.clone();
                tokio::spawn(async move { emulator.execute(slot, request).await });
            }
            tokio::select! {
                _ = freed => {}
                _ = http::stopped(&mut stopped) => return,
            }
        }
    }

    async fn reap_idle_environments(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let idle_timeout = self.config.idle_timeout;
        let period = (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = http::stopped(&mut stopped) => return,
            }
            let now = Instant::now();
            for environment in self.registry().take_idle_since(now, idle_timeout) {
                environment.kill();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.close();
    }
}
