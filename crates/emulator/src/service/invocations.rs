//! How the service runs invocations: a synchronous one at once (or refused), Event ones from their
//! queue as capacity frees (a failed one retried as Lambda does), each in a warm execution environment of its function or a new one (in
//! Rust, for a synthetic function); and how environments left idle are ended.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::emulator::Emulator;
use crate::environment::process::{Environment, EnvironmentSpec};
use crate::environment::{runtime_api, synthetic};
use crate::http;
use crate::model::clock::unix_millis;
use crate::model::event_invoke::RetryRule;
use crate::model::function::FunctionKind;
use crate::model::invocation::{Execution, InvocationRequest, InvocationResponse};
use crate::model::invocation_log::InvocationLog;
use crate::model::log_names::{log_group, log_stream};
use crate::model::version::{version_name, LATEST};
use crate::state::registry::{RegistryError, Slot};

impl Emulator {
    /// Starts the Event queue and the reaper of idle environments, until `stopped`.
    pub(crate) fn start_background_work(self: &Arc<Self>, stopped: watch::Receiver<bool>) {
        tokio::spawn(self.clone().run_event_queue(stopped.clone()));
        tokio::spawn(self.clone().reap_idle_environments(stopped));
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

    async fn execute(self: &Arc<Self>, mut slot: Slot, request: Arc<InvocationRequest>) -> InvocationResponse {
        if let Some(version) = &request.version {
            slot.run_version(version.number, version.spec.clone());
        }
        let spec = slot.spec.clone();
        let execution = match &spec.kind {
            FunctionKind::Synthetic { latency, cpu_work } => {
                synthetic::run(&request.payload, *latency, *cpu_work, spec.memory_mb).await
            }
            FunctionKind::Python { .. } => self.execute_in_environment(&slot, request.clone()).await,
        };
        let version = version_name(slot.version);
        let log = InvocationLog {
            request_id: &request.request_id,
            version: &version,
            output: &execution.output,
            duration: execution.duration,
            memory_size_mb: spec.memory_mb,
            max_memory_mb: execution.max_memory_mb,
            init_duration: execution.init_duration,
            status: execution.status,
            error_type: execution.status.and(execution.error_type.as_deref()),
        };
        let log = log.log();
        self.write_log(&spec.name, &version, execution.log_stream, &log, execution.duration);
        self.registry().record_outcome(&slot, execution.error_type.as_deref());
        InvocationResponse { body: execution.body, function_error: execution.error_type.is_some(), log }
    }

    /// Writes an invocation's log to its function's log group, a line an event, as Lambda does:
    /// START at its start, the rest at its end (output is caught whole, not line by line). One
    /// that ran in no environment (a synthetic function's, or one whose runtime could not start)
    /// goes to a stream of its function's version that stands for every such invocation.
    fn write_log(&self, function: &str, version: &str, stream: Option<String>, log: &str, duration: Duration) {
        let ended = SystemTime::now();
        let (started_ms, ended_ms) = (unix_millis(ended - duration), unix_millis(ended));
        let stream = stream.unwrap_or_else(|| {
            let mut streams = self.streams_without_environment.lock().unwrap();
            let key = (function.to_owned(), version.to_owned());
            streams.entry(key).or_insert_with(|| log_stream(version, ended)).clone()
        });
        let lines = log
            .split_inclusive('\n')
            .enumerate()
            .map(|(index, line)| (if index == 0 { started_ms } else { ended_ms }, line.to_owned()));
        self.logs.append(&log_group(function), &stream, lines, ended_ms);
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
        let FunctionKind::Python { handler, code_dir, variables, opt_dir } = &spec.kind else {
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
            opt_dir: opt_dir.clone(),
            s3_endpoint_url: self.config.s3.as_ref().map(|s3| s3.url.clone()),
        };
        let cgroup = self.cgroups.as_ref().map(|cgroups| cgroups.environment(spec.memory_mb)).transpose()?;
        let (environment, runtime_api) = Environment::spawn(&environment_spec, cgroup, since).await?;
        runtime_api::serve(runtime_api, environment.clone());
        Ok(environment)
    }

    /// Starts queued Event invocations whenever capacity frees, in arrival order per function.
    async fn run_event_queue(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        loop {
            let freed = self.registry.capacity_freed.notified();
            for (slot, request) in self.registry.start_queued_events() {
                let (emulator, stopped) = (self.clone(), stopped.clone());
                tokio::spawn(async move { emulator.execute_event(slot, request, stopped).await });
            }
            tokio::select! {
                _ = freed => {}
                _ = http::stopped(&mut stopped) => return,
            }
        }
    }

    /// Runs a queued Event invocation; a failed one is queued again as its event invoke
    /// configuration says (Lambda's defaults without one): up to MaximumRetryAttempts retries, each
    /// after a wait twice the last (`event_retry_delay` first, Lambda's minute scaled down), and
    /// none that would start past MaximumEventAgeInSeconds (see `RetryRule::retry_wait`).
    async fn execute_event(
        self: Arc<Self>,
        slot: Slot,
        request: Arc<InvocationRequest>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let name = slot.spec.name.clone();
        if !self.execute(slot, request.clone()).await.function_error {
            return;
        }
        let key = request.qualifier.as_deref().unwrap_or(LATEST);
        let rule = RetryRule::of(self.deployments().get(&name).and_then(|d| d.event_invoke_configs.get(key)));
        let age = request.accepted.elapsed();
        let Some(wait) = rule.retry_wait(request.attempt, age, self.config.event_retry_delay) else { return };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = http::stopped(&mut stopped) => return,
        }
        let retry = InvocationRequest { attempt: request.attempt + 1, ..(*request).clone() };
        // A function deleted meanwhile (or an emulator closing) drops it, as its queue would.
        let _ = self.enqueue(&name, retry);
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
