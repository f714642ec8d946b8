//! `lambda_executor.LocalLambda`: the Python face of the emulator.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lambda_executor_emulator::faults::FaultPlan;
use lambda_executor_emulator::tls::server_config;
use lambda_executor_emulator::{
    handler_module, Emulator, EmulatorConfig, FunctionKind, FunctionSpec, ObjectError, ObjectRead, ObjectSource,
    S3Endpoint, ThrottleLimits, OPERATIONS,
};
use lambda_executor_engine::protocol::is_valid_function_name;
use lambda_executor_engine::{runtime, GetObjectError, StoredObjects};
use pyo3::prelude::*;

use crate::errors::{Error, Result};

/// Where LocalLambda looks for the cgroup hierarchies (default /sys/fs/cgroup).
const CGROUP_ROOT_VARIABLE: &str = "LOCAL_LAMBDA_CGROUP_ROOT";
use crate::payload::to_python;

/// An offline AWS Lambda on loopback that runs real Python handlers.
///
/// Clients (boto3, :class:`~lambda_executor.LambdaExecutor`) call its Invoke API at
/// :attr:`endpoint_url`; its execution environments run Python handlers under awslambdaric
/// through the Runtime API, as on Lambda:
///
/// .. code-block:: python
///
///     with LocalLambda() as local:
///         local.add_function("echo", handler="app.handler", code_dir="src")
///         boto3.client("lambda", endpoint_url=local.endpoint_url, ...).invoke(FunctionName="echo")
///
/// Beside concurrency, synchronous calls meet Lambda's request-rate limit (``rate_limit``
/// requests per second per unit of a function's concurrency, 10 on Lambda) and its scaling limit
/// (``scaling_limit`` execution environments a function may add every 10 s, 1,000 on Lambda);
/// each is on with Lambda's value unless set lower for a test, or None to turn it off.
///
/// A failed Event invocation is retried as Lambda retries it (MaximumRetryAttempts, 2 by
/// default, and MaximumEventAgeInSeconds of its event invoke configuration), but sooner: the
/// first retry after ``event_retry_delay`` seconds (Lambda's is about a minute; 60 waits as
/// long), each further one after twice the last wait.
///
/// Code and layers may come from S3 (S3Bucket, S3Key), read from ``s3_endpoint_url``, which
/// handlers are given as their ``AWS_ENDPOINT_URL_S3``. Where Linux cgroups can be made (as root,
/// or in a delegated cgroup), each execution environment gets its function's memory size as a
/// limit and CPU in proportion (1,769 MB is one vCPU); the hierarchies are looked for under
/// ``LOCAL_LAMBDA_CGROUP_ROOT`` (default ``/sys/fs/cgroup``). Elsewhere LocalLambda says so on
/// stderr when it starts, and environments run unconfined.
///
/// Args:
///     host: The IP address to serve on: a loopback one unless ``allow_remote``.
///     port: The port to serve on; 0 picks a free one (:attr:`endpoint_url` names it).
///     account_concurrency: The account's concurrency limit, which every function shares.
///     idle_timeout: Seconds an execution environment may stay idle before it is ended.
///     region: The region of the functions' ARNs and of their handlers' ``AWS_REGION``.
///     retry_after: The seconds a throttled (429) answer's Retry-After header asks for.
///     python: The interpreter that runs the handlers; None: this one (``sys.executable``).
///     allow_remote: Serve on an address other than loopback, which exposes it to the network.
///     tls: ``(certificate, key)``, PEM files to serve https with; None: http.
///     rate_limit: Requests per second a function takes per unit of its concurrency; None: off.
///     scaling_limit: Execution environments a function may add every 10 s; None: off.
///     s3_endpoint_url: The S3 endpoint that code and layers from S3 are read from; None: the
///         environment's ``AWS_ENDPOINT_URL_S3``, and without it code from S3 is refused.
///     event_retry_delay: Seconds before the first retry of a failed Event invocation.
///
/// Raises:
///     ValueError: A setting is out of range, or ``host`` is not a loopback address and
///         ``allow_remote`` is False.
///     RuntimeError: ``host`` and ``port`` cannot be served on (the port is taken).
#[pyclass(module = "lambda_executor._core", name = "LocalLambda", frozen)]
pub struct PyLocalLambda {
    emulator: Arc<Emulator>,
    /// The process that started the emulator; a forked child cannot use it.
    owner_pid: u32,
}

#[pymethods]
impl PyLocalLambda {
    #[new]
    #[pyo3(signature = (*, host="127.0.0.1", port=0, account_concurrency=1000, idle_timeout=300.0,
                        region="us-east-1", retry_after=1, python=None, allow_remote=false, tls=None,
                        rate_limit=10.0, scaling_limit=1000, s3_endpoint_url=None, event_retry_delay=1.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        host: &str,
        port: u16,
        account_concurrency: i64,
        idle_timeout: f64,
        region: &str,
        retry_after: u32,
        python: Option<PathBuf>,
        allow_remote: bool,
        tls: Option<(PathBuf, PathBuf)>,
        rate_limit: Option<f64>,
        scaling_limit: Option<i64>,
        s3_endpoint_url: Option<String>,
        event_retry_delay: f64,
    ) -> Result<Self> {
        let ip: IpAddr =
            host.parse().map_err(|_| Error::Invalid(format!("host must be an IP address, not '{host}'")))?;
        if !ip.is_loopback() && !allow_remote {
            return Err(Error::Invalid(format!(
                "LocalLambda serves loopback only; binding {host} exposes it to the network: pass allow_remote=True to do so"
            )));
        }
        if !(1..=1_000_000).contains(&account_concurrency) {
            return Err(Error::Invalid(format!("account_concurrency must be at least 1, not {account_concurrency}")));
        }
        if !(idle_timeout.is_finite() && idle_timeout > 0.0) {
            return Err(Error::Invalid(format!(
                "idle_timeout must be a positive number of seconds, not {idle_timeout}"
            )));
        }
        if !(event_retry_delay.is_finite() && event_retry_delay >= 0.0) {
            return Err(Error::Invalid(format!(
                "event_retry_delay must be a number of seconds, 0 or more, not {event_retry_delay}"
            )));
        }
        if rate_limit.is_some_and(|rate| !(rate.is_finite() && rate > 0.0)) {
            return Err(Error::Invalid(format!(
                "rate_limit is requests per second per unit of concurrency, a positive number (or None: off), not {}",
                rate_limit.unwrap_or_default()
            )));
        }
        let scaling_limit = scaling_limit
            .map(|limit| u32::try_from(limit).ok().filter(|limit| *limit > 0).ok_or(limit))
            .transpose()
            .map_err(|limit| {
                Error::Invalid(format!(
                    "scaling_limit is execution environments a function may add every 10 s, at least 1 (or None: off), not {limit}"
                ))
            })?;
        // Code and layers from S3 are read there, and handlers reach it as AWS_ENDPOINT_URL_S3.
        let s3_endpoint_url =
            s3_endpoint_url.or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok()).filter(|url| !url.is_empty());
        if let Some(url) = &s3_endpoint_url {
            let valid = url
                .split_once("://")
                .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && !rest.is_empty());
            if !valid {
                return Err(Error::Invalid(format!(
                    "s3_endpoint_url must be an http:// or https:// URL with a host (and a port), not '{url}'"
                )));
            }
        }
        let python = match python {
            Some(path) => path,
            None => py.import("sys")?.getattr("executable")?.extract()?,
        };
        let config = EmulatorConfig {
            region: region.to_owned(),
            account_id: "123456789012".into(),
            account_concurrency: account_concurrency as u32,
            idle_timeout: Duration::from_secs_f64(idle_timeout),
            python,
            retry_after_secs: retry_after,
            event_retry_delay: Duration::from_secs_f64(event_retry_delay),
            tls: match tls {
                Some((certificate, key)) => Some(server_config(&certificate, &key).map_err(Error::Invalid)?),
                None => None,
            },
            limits: ThrottleLimits { rate_limit, scaling_limit },
            s3: s3_endpoint_url.map(|url| S3Endpoint {
                objects: Arc::new(EngineObjects(StoredObjects::new(url.clone(), region.to_owned()))),
                url,
            }),
            cgroup_root: Some(
                std::env::var_os(CGROUP_ROOT_VARIABLE).map_or_else(|| "/sys/fs/cgroup".into(), PathBuf::from),
            ),
        };
        let runtime = runtime::get();
        let bind = SocketAddr::new(ip, port);
        let emulator = py
            .detach(|| runtime.block_on(Emulator::start(config, bind)))
            .map_err(|error| Error::Unusable(format!("cannot listen on {bind}: {error}")))?;
        Ok(Self { emulator, owner_pid: std::process::id() })
    }

    /// The URL clients use as their Lambda endpoint, such as ``http://127.0.0.1:50123``.
    ///
    /// It is https with ``tls=(certificate, key)``.
    #[getter]
    fn endpoint_url(&self) -> String {
        let scheme = if self.emulator.config.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.emulator.address)
    }

    /// The S3 endpoint that functions' code and layers given as S3Bucket and S3Key are read from.
    ///
    /// Handlers are given it as ``AWS_ENDPOINT_URL_S3``. It is the ``s3_endpoint_url`` given, else
    /// ``AWS_ENDPOINT_URL_S3`` of the environment it started in; None: code from S3 is refused.
    #[getter]
    fn s3_endpoint_url(&self) -> Option<&str> {
        self.emulator.config.s3.as_ref().map(|s3| s3.url.as_str())
    }

    /// The region of the functions' ARNs, and of their handlers' ``AWS_REGION``.
    #[getter]
    fn region(&self) -> &str {
        &self.emulator.config.region
    }

    /// The cgroup layout that gives environments their memory limit and CPU share.
    ///
    /// It is ``"v1"`` or ``"v2"``; None where LocalLambda cannot make cgroups (it said why on
    /// stderr when it started), and environments run unconfined.
    #[getter]
    fn cgroups(&self) -> Option<&'static str> {
        self.emulator.cgroups()
    }

    /// Adds a Python function, run by handlers under awslambdaric.
    ///
    /// Each of its execution environments is a ``python -m awslambdaric HANDLER`` process.
    ///
    /// Args:
    ///     name: The function's name: 1 to 64 letters, digits, hyphens or underscores.
    ///     handler: ``module.function``, importable from ``code_dir``.
    ///     code_dir: The folder of the function's code.
    ///     timeout: Seconds an invocation may run, 1 to 900.
    ///     memory_size: Megabytes of memory, 128 to 10,240 (with cgroups, its limit and CPU share).
    ///     reserved_concurrency: Concurrency reserved for it out of the account's; None: none.
    ///     environment: Its environment variables, beside those Lambda sets.
    ///
    /// Raises:
    ///     ValueError: A setting is out of range, ``handler`` is malformed, or a function of this
    ///         name exists.
    ///     FileNotFoundError: ``code_dir`` or the handler's module is not there.
    ///     ModuleNotFoundError: awslambdaric is not installed for this interpreter.
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    #[pyo3(signature = (name, handler, code_dir, *, timeout=3, memory_size=128, reserved_concurrency=None, environment=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_function(
        &self,
        py: Python<'_>,
        name: &str,
        handler: &str,
        code_dir: PathBuf,
        timeout: i64,
        memory_size: i64,
        reserved_concurrency: Option<i64>,
        environment: Option<HashMap<String, String>>,
    ) -> Result<()> {
        self.check_usable()?;
        check_awslambdaric(py, &self.emulator.config.python)?;
        let code_dir = check_handler(handler, &code_dir)?;
        let kind = FunctionKind::Python {
            handler: handler.to_owned(),
            code_dir,
            variables: environment.unwrap_or_default().into_iter().collect(),
            opt_dir: None,
        };
        self.add(name, kind, timeout, memory_size, reserved_concurrency)
    }

    /// Adds a synthetic function answered in Rust, which echoes its event.
    ///
    /// It answers after ``latency_ms``, plus ``sleep_ms`` when the event is
    /// ``{"sleep_ms": n, ...}``, plus CPU-bound work of ``cpu_ms`` (and the event's ``cpu_ms``)
    /// milliseconds at one vCPU, which takes 1,769 / ``memory_size`` times as long below
    /// 1,769 MB, as on Lambda (modelled: it waits). It meets the same concurrency rules as Python
    /// functions.
    ///
    /// Args:
    ///     name: The function's name: 1 to 64 letters, digits, hyphens or underscores.
    ///     latency_ms: Milliseconds every invocation waits before answering.
    ///     cpu_ms: Milliseconds of CPU-bound work at one vCPU every invocation does.
    ///     timeout: Seconds an invocation may run, 1 to 900.
    ///     memory_size: Megabytes of memory, 128 to 10,240, which sets its CPU share.
    ///     reserved_concurrency: Concurrency reserved for it out of the account's; None: none.
    ///
    /// Raises:
    ///     ValueError: A setting is out of range, or a function of this name exists.
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    #[pyo3(signature = (name, *, latency_ms=0, cpu_ms=0, timeout=3, memory_size=128, reserved_concurrency=None))]
    fn add_synthetic(
        &self,
        name: &str,
        latency_ms: u64,
        cpu_ms: u64,
        timeout: i64,
        memory_size: i64,
        reserved_concurrency: Option<i64>,
    ) -> Result<()> {
        self.check_usable()?;
        let kind = FunctionKind::Synthetic {
            latency: Duration::from_millis(latency_ms),
            cpu_work: Duration::from_millis(cpu_ms),
        };
        self.add(name, kind, timeout, memory_size, reserved_concurrency)
    }

    /// Sets or removes a function's reserved concurrency.
    ///
    /// Args:
    ///     name: The function's name.
    ///     reserved_concurrency: Concurrency reserved for it out of the account's (0 disables it);
    ///         None removes the reservation.
    ///
    /// Raises:
    ///     KeyError: There is no function of this name.
    ///     ValueError: It is below 0, or more than the account's unreserved concurrency.
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    fn set_reserved_concurrency(&self, name: &str, reserved_concurrency: Option<i64>) -> Result<()> {
        self.check_usable()?;
        let reserved = check_reservation(reserved_concurrency)?;
        Ok(self.emulator.set_reserved_concurrency(name, reserved)?)
    }

    /// Makes a share of a function's Invoke requests meet each fault, from now on.
    ///
    /// Each share is 0 to 1; all zero turns faults off.
    ///
    /// Args:
    ///     name: The function's name.
    ///     service_error: The share answered 500 ServiceException.
    ///     not_ready: The share answered 502 ResourceNotReadyException.
    ///     throttle: The share answered 429 with Retry-After ``retry_after`` seconds.
    ///     drop_before: The share whose connection is dropped before the request is read (the
    ///         function does not run).
    ///     drop_after: The share whose connection is dropped after the function ran.
    ///     slow: The share answered ``slow_ms`` late.
    ///     slow_ms: Milliseconds by which a slow answer is late.
    ///     retry_after: The seconds a throttle's Retry-After header asks for.
    ///     seed: The seed of the draws, which makes them repeatable.
    ///
    /// Raises:
    ///     KeyError: There is no function of this name.
    ///     ValueError: A share is not 0 to 1, or the shares add up to more than 1.
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    #[pyo3(signature = (name, *, service_error=0.0, not_ready=0.0, throttle=0.0, drop_before=0.0, drop_after=0.0,
                        slow=0.0, slow_ms=0, retry_after=0, seed=0))]
    #[allow(clippy::too_many_arguments)]
    fn inject_faults(
        &self,
        name: &str,
        service_error: f64,
        not_ready: f64,
        throttle: f64,
        drop_before: f64,
        drop_after: f64,
        slow: f64,
        slow_ms: u64,
        retry_after: u32,
        seed: u64,
    ) -> Result<()> {
        self.check_usable()?;
        let shares = [service_error, not_ready, throttle, drop_before, drop_after, slow];
        let plan = if shares.iter().all(|share| *share == 0.0) {
            None
        } else {
            Some(FaultPlan::new(shares, Duration::from_millis(slow_ms), retry_after, seed).map_err(Error::Invalid)?)
        };
        Ok(self.emulator.set_faults(name, plan)?)
    }

    /// Counts the faults injected into a function's answers so far (see :meth:`inject_faults`).
    ///
    /// Args:
    ///     name: The function's name.
    ///
    /// Returns:
    ///     How many times each fault was injected, by the name of its share in
    ///     :meth:`inject_faults` (``"throttle"``, ...); empty for a function without faults.
    ///
    /// Raises:
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    fn injected_faults(&self, name: &str) -> Result<HashMap<&'static str, u64>> {
        self.check_usable()?;
        Ok(self.emulator.injected_faults(name).into_iter().collect())
    }

    /// Removes a function and ends its execution environments.
    ///
    /// Args:
    ///     name: The function's name.
    ///
    /// Raises:
    ///     KeyError: There is no function of this name.
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    fn remove_function(&self, name: &str) -> Result<()> {
        self.check_usable()?;
        Ok(self.emulator.remove_function(name)?)
    }

    /// Lists the functions.
    ///
    /// Returns:
    ///     The names of the functions, sorted.
    ///
    /// Raises:
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    fn functions(&self) -> Result<Vec<String>> {
        self.check_usable()?;
        Ok(self.emulator.function_names())
    }

    /// Tells what happened to a function so far, and what it is doing now.
    ///
    /// Args:
    ///     name: The function's name.
    ///
    /// Returns:
    ///     The counts so far, as a dict with ``invocations``, ``throttles`` (and of them
    ///     ``concurrency_throttles``, ``rate_throttles``, ``scaling_throttles``), ``cold_starts``,
    ///     ``peak_concurrency``, ``errors``, ``timeouts``; and of now, ``in_flight``,
    ///     ``queued_events``, ``environments``.
    ///
    /// Raises:
    ///     KeyError: There is no function of this name.
    ///     RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
    fn stats(&self, py: Python<'_>, name: &str) -> Result<Py<PyAny>> {
        self.check_usable()?;
        let stats = self.emulator.stats(name)?;
        to_python(py, &stats)
    }

    /// Stops serving and ends every execution environment; closing it again does nothing.
    fn close(&self) {
        if std::process::id() == self.owner_pid {
            self.emulator.close();
        }
    }

    /// Whether :meth:`close` was called (or the ``with`` block left).
    #[getter]
    fn closed(&self) -> bool {
        self.emulator.is_closed()
    }

    /// Returns this LocalLambda, which leaving the ``with`` block closes.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes it (see :meth:`close`).
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) {
        self.close();
    }

    fn __repr__(&self) -> String {
        let state = if self.emulator.is_closed() { "closed" } else { "serving" };
        let functions = match self.emulator.function_names().len() {
            1 => "1 function".to_owned(),
            count => format!("{count} functions"),
        };
        format!("<LocalLambda {} {state}, {functions}>", self.endpoint_url())
    }
}

impl PyLocalLambda {
    fn check_usable(&self) -> Result<()> {
        if std::process::id() != self.owner_pid {
            return Err(Error::Unusable(format!(
                "this LocalLambda belongs to process {} and cannot be used after fork; create a new one in the child",
                self.owner_pid
            )));
        }
        if self.emulator.is_closed() {
            return Err(Error::Unusable("this LocalLambda is closed".into()));
        }
        Ok(())
    }

    fn add(&self, name: &str, kind: FunctionKind, timeout: i64, memory_size: i64, reserved: Option<i64>) -> Result<()> {
        if !is_valid_function_name(name) {
            return Err(Error::Invalid(format!(
                "invalid function name '{name}': use 1 to 64 letters, digits, hyphens or underscores"
            )));
        }
        if !(1..=900).contains(&timeout) {
            return Err(Error::Invalid(format!("timeout must be 1 to 900 seconds, not {timeout}")));
        }
        if !(128..=10240).contains(&memory_size) {
            return Err(Error::Invalid(format!("memory_size must be 128 to 10240 MB, not {memory_size}")));
        }
        let reserved = check_reservation(reserved)?;
        let spec = FunctionSpec {
            name: name.to_owned(),
            kind,
            timeout: Duration::from_secs(timeout as u64),
            memory_mb: memory_size as u32,
        };
        Ok(self.emulator.add_function(spec, reserved)?)
    }
}

/// The operations a LocalLambda serves, one (service, operation, method, path) row each.
///
/// The service is ``"lambda"`` (the path is the request URI's template of AWS's Lambda API
/// model), ``"logs"`` (CloudWatch Logs' reads of the functions' logs: a POST to ``/`` whose
/// ``X-Amz-Target`` names the operation) or ``"local-lambda"`` (LocalLambda's own endpoints).
/// Any other request is answered with an ``UnknownOperationException``.
///
/// Raises:
///     NotImplementedError: on Windows, where LocalLambda does not run.
#[pyfunction(name = "local_lambda_operations")]
pub fn py_local_lambda_operations() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    OPERATIONS
        .iter()
        .map(|operation| (operation.service.name(), operation.name, operation.method, operation.path))
        .collect()
}

impl Drop for PyLocalLambda {
    fn drop(&mut self) {
        self.close();
    }
}

/// The emulator reads code and layers from S3 through the engine's client configuration (one
/// HTTP/TLS stack, the same trust and proxies); the emulator crate itself has no S3 client.
struct EngineObjects(StoredObjects);

impl ObjectSource for EngineObjects {
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str, version: Option<&'a str>) -> ObjectRead<'a> {
        Box::pin(async move {
            self.0.get(bucket, key, version).await.map(Vec::from).map_err(|error| match error {
                GetObjectError::Refused { code, message } => ObjectError::Refused { code, message },
                GetObjectError::Failed(why) => ObjectError::Failed(why),
            })
        })
    }
}

fn check_reservation(reserved: Option<i64>) -> Result<Option<u32>> {
    match reserved {
        Some(n) if !(0..=i64::from(u32::MAX)).contains(&n) => {
            Err(Error::Invalid(format!("reserved_concurrency must be 0 or more, not {n}")))
        }
        other => Ok(other.map(|n| n as u32)),
    }
}

/// Environments run `python -m awslambdaric`: say so now rather than at the first invocation.
fn check_awslambdaric(py: Python<'_>, python: &Path) -> Result<()> {
    let this_interpreter: PathBuf = py.import("sys")?.getattr("executable")?.extract()?;
    if python != this_interpreter {
        return Ok(());
    }
    let spec = py.import("importlib.util")?.call_method1("find_spec", ("awslambdaric",))?;
    if spec.is_none() {
        return Err(Error::NotInstalled(
            "LocalLambda runs Python handlers under awslambdaric, which is not installed: pip install awslambdaric (the package's [local] extra)".into(),
        ));
    }
    Ok(())
}

/// Checks that `module.function` names a module file inside `code_dir`; returns the directory.
fn check_handler(handler: &str, code_dir: &Path) -> Result<PathBuf> {
    let code_dir = code_dir
        .canonicalize()
        .ok()
        .filter(|dir| dir.is_dir())
        .ok_or_else(|| Error::Missing(format!("code_dir {} is not a directory", code_dir.display())))?;
    handler_module(handler, &code_dir)?;
    Ok(code_dir)
}
