//! One execution environment: a `python -m awslambdaric module.function` process with a Runtime
//! API listener of its own, serving one invocation at a time.
//!
//! The listener is the environment's own loopback port, so a request reaching it can only be
//! about this environment (and one that names an invocation it does not hold is refused).
//! The process leads its own process group, so a kill also ends whatever the handler started,
//! and it holds a lifeline to the emulator (bootstrap.py): no environment outlives
//! the emulator, even when the Python process is killed. Where cgroups are available, it runs in
//! its own (cgroups.rs), limited to its function's memory size and the CPU that buys.

use std::io;
use std::io::PipeWriter;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{oneshot, watch, Notify};

use super::cgroups::EnvironmentCgroup;
use super::log_capture::LogCapture;
use crate::model::invocation::{error_document, Execution, InvocationRequest};
use crate::model::log_names;
use crate::model::version::version_name;

/// Runs first in every environment: it dies with the emulator, then starts awslambdaric.
const BOOTSTRAP: &str = include_str!("bootstrap.py");

/// Lambda's limit on the init phase of an on-demand environment.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// The caller's own AWS identity is not the function's: environments do not inherit it.
const CALLER_CREDENTIALS: [&str; 12] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// In their place, what Lambda gives every environment: session credentials of the function's
/// role. LocalLambda has no STS to issue them, so they are placeholders, the same for every
/// function; an S3 that does not check signatures against its own users (moto's server by
/// default) takes them. A function whose own `Environment.Variables` set any of them (which Lambda
/// refuses; LocalLambda lets a function carry the keys its S3 wants) gets none of the three.
const ROLE_CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "ASIALOCALLAMBDAROLE0"),
    ("AWS_SECRET_ACCESS_KEY", "local-lambda-role-secret"),
    ("AWS_SESSION_TOKEN", "local-lambda-role-session-token"),
];

/// What an environment needs to start.
pub struct EnvironmentSpec {
    pub python: PathBuf,
    pub handler: String,
    pub code_dir: PathBuf,
    pub function_name: String,
    /// The published version it runs; None: $LATEST.
    pub version: Option<u32>,
    pub memory_mb: u32,
    pub region: String,
    pub variables: Vec<(String, String)>,
    /// The function's layers' files, Lambda's /opt (see bootstrap.py), if it has layers.
    pub opt_dir: Option<PathBuf>,
    /// The emulator's S3 endpoint, given to the handler as AWS_ENDPOINT_URL_S3 (its own
    /// variables may say otherwise).
    pub s3_endpoint_url: Option<String>,
}

/// An invocation handed to the environment, waiting for its runtime to ask for it.
struct Dispatch {
    request: Arc<InvocationRequest>,
    timeout: Duration,
    reply: oneshot::Sender<Outcome>,
    picked_up: oneshot::Sender<()>,
}

/// The invocation the runtime is working on.
struct Current {
    request_id: String,
    reply: oneshot::Sender<Outcome>,
}

/// How the runtime ended an invocation.
enum Outcome {
    Response(Bytes),
    HandlerError(Bytes),
    /// The result was over Lambda's limit: the caller gets this error document instead.
    TooLarge(Bytes),
    InitError(Bytes),
    Exited(String),
    /// The kernel killed the runtime for going over its memory size.
    OutOfMemory,
}

#[derive(Default)]
struct State {
    pending: Option<Dispatch>,
    current: Option<Current>,
    init_duration: Option<Duration>,
    init_error: Option<Bytes>,
    served: u64,
    dead: bool,
}

pub struct Environment {
    pid: u32,
    /// Set once the process is reaped: its pid (and group id) may then belong to someone else.
    reaped: std::sync::atomic::AtomicBool,
    /// When the invocation that started it began waiting for it: its init counts from there.
    spawned_at: Instant,
    state: Mutex<State>,
    /// Turns true once the runtime has initialised (its first request for work) or died.
    initialized: watch::Sender<bool>,
    /// Wakes the runtime's pending `next` request when an invocation is handed over.
    handed_over: Notify,
    log: Arc<LogCapture>,
    stop_api: watch::Sender<bool>,
    /// The lifeline's write end: the process watches for it to close (with this environment, or
    /// with the emulator's process, however that ends).
    _lifeline: PipeWriter,
    pub last_used: Mutex<Instant>,
    /// The published version it runs (None: $LATEST); it serves no other.
    pub version: Option<u32>,
    /// Its log stream in its function's log group, as Lambda names it.
    pub log_stream: String,
    /// Its cgroups, where memory sizes are enforced; removed when it ends.
    cgroup: Option<EnvironmentCgroup>,
}

impl Environment {
    /// Starts the process; the runtime then initialises (imports the handler) and asks for work
    /// on the returned listener, where the caller serves the Runtime API. Its init duration
    /// counts from `since`, when its invocation began waiting for it. With `cgroup`, the process
    /// enters it before it runs anything.
    pub async fn spawn(
        spec: &EnvironmentSpec,
        cgroup: Option<EnvironmentCgroup>,
        since: Instant,
    ) -> io::Result<(Arc<Self>, TcpListener)> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let api_address = listener.local_addr()?;
        let (log, child_output) = LogCapture::start()?;
        // Both ends are close-on-exec: only this child gets the read end, below.
        let (lifeline_reader, lifeline) = io::pipe()?;
        let lifeline_fd = lifeline_reader.as_raw_fd();
        // Opened here: between fork and exec the child may only make plain syscalls.
        let cgroup_procs = cgroup.as_ref().map(EnvironmentCgroup::procs_files).transpose()?.unwrap_or_default();
        let cgroup_procs_fds: Vec<_> = cgroup_procs.iter().map(AsRawFd::as_raw_fd).collect();
        let mut command = Command::new(&spec.python);
        command
            .args(["-c", BOOTSTRAP, &lifeline_fd.to_string(), &spec.handler])
            .args(spec.opt_dir.iter())
            .current_dir(&spec.code_dir)
            .stdin(std::process::Stdio::null())
            .stdout(child_output.stdout)
            .stderr(child_output.stderr)
            .process_group(0)
            .kill_on_drop(true);
        for name in CALLER_CREDENTIALS {
            command.env_remove(name);
        }
        let version = version_name(spec.version);
        let log_stream = log_names::log_stream(&version, SystemTime::now());
        command
            .env("AWS_LAMBDA_RUNTIME_API", api_address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.function_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", &version)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory_mb.to_string())
            .env("AWS_LAMBDA_LOG_GROUP_NAME", log_names::log_group(&spec.function_name))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &log_stream)
            .env("AWS_REGION", &spec.region)
            .env("AWS_DEFAULT_REGION", &spec.region)
            .env("LAMBDA_TASK_ROOT", &spec.code_dir)
            .env("_HANDLER", &spec.handler)
            .env("PYTHONUNBUFFERED", "1")
            // Nor the caller's profile files or instance role (the function's `environment` may say otherwise).
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if !spec.variables.iter().any(|(name, _)| ROLE_CREDENTIALS.iter().any(|(credential, _)| credential == name)) {
            command.envs(ROLE_CREDENTIALS);
        }
        if let Some(url) = &spec.s3_endpoint_url {
            command.env("AWS_ENDPOINT_URL_S3", url);
        }
        if let Some(opt_dir) = &spec.opt_dir {
            // As Lambda's PATH ends with /opt/bin and LD_LIBRARY_PATH with /opt/lib.
            for (variable, folder) in [("PATH", "bin"), ("LD_LIBRARY_PATH", "lib")] {
                let mut paths: Vec<PathBuf> =
                    std::env::var_os(variable).map(|value| std::env::split_paths(&value).collect()).unwrap_or_default();
                paths.push(opt_dir.join(folder));
                if let Ok(joined) = std::env::join_paths(paths) {
                    command.env(variable, joined);
                }
            }
        }
        command.envs(spec.variables.iter().map(|(k, v)| (k, v)));
        // SAFETY: fcntl and write are async-signal-safe, as pre_exec requires.
        unsafe {
            command.pre_exec(move || {
                // "0" moves the writer itself: the runtime starts inside its cgroups.
                for fd in &cgroup_procs_fds {
                    if libc::write(*fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(io::Error::last_os_error());
                    }
                }
                // The child's copy of the read end survives exec.
                let flags = libc::fcntl(lifeline_fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(lifeline_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        drop(command); // closes our copies of the output pipe's write end
        drop(lifeline_reader);
        drop(cgroup_procs);
        let pid = child.id().unwrap_or_default();
        let (stop_api, _) = watch::channel(false);
        let environment = Arc::new(Self {
            pid,
            reaped: std::sync::atomic::AtomicBool::new(false),
            spawned_at: since,
            state: Mutex::new(State::default()),
            initialized: watch::channel(false).0,
            handed_over: Notify::new(),
            log,
            stop_api,
            _lifeline: lifeline,
            last_used: Mutex::new(Instant::now()),
            version: spec.version,
            log_stream,
            cgroup,
        });
        let supervised = environment.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            // End what the handler left running in the group, then never signal this pid again.
            supervised.kill();
            supervised.reaped.store(true, std::sync::atomic::Ordering::Release);
            supervised.exited(status).await;
            if supervised.cgroup.is_some() {
                // Waits (a moment, bounded) for what the kill above ended to leave the cgroups.
                tokio::task::spawn_blocking(move || supervised.cgroup.as_ref().map(EnvironmentCgroup::remove));
            }
        });
        Ok((environment, listener))
    }

    /// Ends when the environment is killed: its Runtime API stops serving then.
    pub fn api_stopped(&self) -> watch::Receiver<bool> {
        self.stop_api.subscribe()
    }

    pub fn is_alive(&self) -> bool {
        !self.state.lock().unwrap().dead
    }

    /// Runs one invocation: hands it to the runtime, then waits for its outcome until the
    /// function's timeout (counted from when the runtime took it).
    pub async fn invoke(self: &Arc<Self>, request: Arc<InvocationRequest>, timeout: Duration) -> Execution {
        let (reply, outcome) = oneshot::channel();
        let (picked_up, taken) = oneshot::channel();
        let first = {
            let mut state = self.state.lock().unwrap();
            if state.dead {
                // Died between being picked and being handed work.
                drop(state);
                let message =
                    format!("RequestId: {} Error: Runtime exited before the invocation started", request.request_id);
                return Execution::failed("Runtime.ExitError", &message);
            }
            let first = state.served == 0;
            state.served += 1;
            state.pending = Some(Dispatch { request: request.clone(), timeout, reply, picked_up });
            first
        };
        self.handed_over.notify_one();
        // The runtime may still be initialising: that phase has its own limit. (If the process
        // dies first, the dispatch is dropped and `taken` ends at once.)
        let taken_in_time = tokio::time::timeout(INIT_LIMIT, taken).await.is_ok();
        let started = Instant::now();
        let outcome = if taken_in_time {
            let vanished = |_| Outcome::Exited("the runtime vanished".into());
            tokio::time::timeout(timeout, outcome).await.ok().map(|o| o.unwrap_or_else(vanished))
        } else {
            None
        };
        let duration = started.elapsed();
        let max_memory_mb = self.max_memory_mb();
        let init_duration = if first { self.state.lock().unwrap().init_duration } else { None };
        let id = &request.request_id;
        let log_stream = Some(self.log_stream.clone());
        let mut execution = Execution { duration, init_duration, max_memory_mb, log_stream, ..Execution::default() };
        match outcome {
            Some(Outcome::Response(body)) => {
                execution.body = body;
                execution.reusable = self.is_alive();
            }
            Some(Outcome::HandlerError(document)) => {
                execution.error_type = Some(error_type_of(&document));
                execution.body = document;
                execution.reusable = self.is_alive();
            }
            Some(Outcome::TooLarge(document)) => {
                // Refused its result, awslambdaric exits: the next call gets a new environment.
                execution.error_type = Some(error_type_of(&document));
                execution.body = document;
            }
            Some(Outcome::InitError(document)) => {
                execution.error_type = Some(error_type_of(&document));
                execution.body = document;
                execution.status = Some("error");
            }
            Some(Outcome::Exited(reason)) => {
                let message = format!("RequestId: {id} Error: Runtime exited with error: {reason}");
                execution.body = error_document("Runtime.ExitError", &message);
                execution.error_type = Some("Runtime.ExitError".into());
                execution.status = Some("error");
            }
            Some(Outcome::OutOfMemory) => {
                // Lambda's words: the runtime (Go's exec) names the signal.
                let message = format!("RequestId: {id} Error: Runtime exited with error: signal: killed");
                execution.body = error_document("Runtime.OutOfMemory", &message);
                execution.error_type = Some("Runtime.OutOfMemory".into());
                execution.status = Some("error");
                // It used all it had: the process's own peak is gone with it.
                execution.max_memory_mb = self.cgroup.as_ref().map_or(max_memory_mb, |cgroup| cgroup.memory_mb.into());
            }
            None => {
                // Timed out: the caller gets its answer now; the process is killed.
                let limit = if taken_in_time { timeout } else { INIT_LIMIT };
                self.abandon();
                let message = format!("RequestId: {id} Error: Task timed out after {:.2} seconds", limit.as_secs_f64());
                execution.body = error_document("Sandbox.Timedout", &message);
                execution.error_type = Some("Sandbox.Timedout".into());
                execution.status = Some("timeout");
            }
        }
        execution.output = self.log.take();
        *self.last_used.lock().unwrap() = Instant::now();
        execution
    }

    /// The runtime asks for its next invocation; `None` once the environment is dead.
    pub async fn next(&self) -> Option<(Arc<InvocationRequest>, SystemTime)> {
        // What was printed before this request (init, or after the last result) is not the
        // next invocation's output.
        self.log.settle().await;
        loop {
            let handed_over = self.handed_over.notified();
            {
                let mut state = self.state.lock().unwrap();
                if state.dead {
                    return None;
                }
                if state.init_duration.is_none() {
                    state.init_duration = Some(self.spawned_at.elapsed());
                    self.initialized.send_replace(true);
                }
                if let Some(Dispatch { request, timeout, reply, picked_up }) = state.pending.take() {
                    self.log.clear();
                    state.current = Some(Current { request_id: request.request_id.clone(), reply });
                    let _ = picked_up.send(());
                    return Some((request, SystemTime::now() + timeout));
                }
            }
            handed_over.await;
        }
    }

    /// The runtime posted the result of `request_id`; false if it holds no such invocation.
    pub async fn respond(&self, request_id: &str, body: Bytes, failed: bool) -> bool {
        self.finish(request_id, if failed { Outcome::HandlerError(body) } else { Outcome::Response(body) }).await
    }

    /// The runtime's result for `request_id` was over Lambda's limit: the caller gets `document`
    /// and the environment serves no further invocation; false if it holds no such invocation.
    pub async fn response_too_large(&self, request_id: &str, document: Bytes) -> bool {
        self.finish(request_id, Outcome::TooLarge(document)).await
    }

    async fn finish(&self, request_id: &str, outcome: Outcome) -> bool {
        let current = {
            let mut state = self.state.lock().unwrap();
            match state.current.take_if(|current| current.request_id == request_id) {
                Some(current) => current,
                None => return false,
            }
        };
        self.log.settle().await;
        let _ = current.reply.send(outcome);
        true
    }

    /// The runtime could not initialise; it exits next, and the waiting invocation gets `document`.
    pub fn init_failed(&self, document: Bytes) {
        self.state.lock().unwrap().init_error = Some(document);
    }

    /// Waits until the runtime has initialised or died, at most Lambda's init limit.
    pub async fn initialized(&self) {
        let mut initialized = self.initialized.subscribe();
        let _ = tokio::time::timeout(INIT_LIMIT, initialized.wait_for(|done| *done)).await;
    }

    /// Ends the environment now (idle reaping, timeouts, shutdown).
    pub fn kill(&self) {
        self.state.lock().unwrap().dead = true;
        self.initialized.send_replace(true);
        self.handed_over.notify_waiters();
        if self.pid != 0 && !self.reaped.load(std::sync::atomic::Ordering::Acquire) {
            // SAFETY: plain syscall; the negative pid names the process group the child leads.
            unsafe { libc::kill(-(self.pid as i32), libc::SIGKILL) };
        }
        let _ = self.stop_api.send(true);
    }

    /// Drops the invocation in progress without answering it (the caller answers), then kills.
    fn abandon(&self) {
        {
            let mut state = self.state.lock().unwrap();
            state.pending = None;
            state.current = None;
        }
        self.kill();
    }

    async fn exited(&self, status: io::Result<ExitStatus>) {
        self.state.lock().unwrap().dead = true;
        self.initialized.send_replace(true);
        self.log.settle().await;
        let (pending, current, init_error) = {
            let mut state = self.state.lock().unwrap();
            (state.pending.take(), state.current.take(), state.init_error.take())
        };
        let out_of_memory = status.as_ref().is_ok_and(|status| status.signal() == Some(libc::SIGKILL))
            && self.cgroup.as_ref().is_some_and(EnvironmentCgroup::out_of_memory);
        let reason = match status {
            Ok(status) => describe_exit(status),
            Err(error) => error.to_string(),
        };
        let ended = || if out_of_memory { Outcome::OutOfMemory } else { Outcome::Exited(reason.clone()) };
        if let Some(dispatch) = pending {
            let outcome = match init_error {
                Some(document) => Outcome::InitError(document),
                None => ended(),
            };
            let _ = dispatch.reply.send(outcome);
        }
        if let Some(current) = current {
            let _ = current.reply.send(ended());
        }
        self.kill();
    }

    /// Peak memory of the runtime process, in MB, as Lambda's REPORT line gives it.
    fn max_memory_mb(&self) -> u64 {
        peak_memory_kb(self.pid).map_or(0, |kb| kb.div_ceil(1024))
    }
}

/// The process's peak resident set (VmHWM), in KB.
#[cfg(target_os = "linux")]
fn peak_memory_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// The process's peak physical footprint over its life, in KB.
#[cfg(target_os = "macos")]
fn peak_memory_kb(pid: u32) -> Option<u64> {
    // SAFETY: rusage_info_v4 is plain integers; proc_pid_rusage fills at most that struct.
    let mut usage: libc::rusage_info_v4 = unsafe { std::mem::zeroed() };
    let buffer = (&raw mut usage).cast::<libc::rusage_info_t>();
    let status = unsafe { libc::proc_pid_rusage(pid as libc::c_int, libc::RUSAGE_INFO_V4, buffer) };
    (status == 0).then(|| usage.ri_lifetime_max_phys_footprint / 1024)
}

/// Other Unixes report no peak memory ("Max Memory Used: 0 MB").
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn peak_memory_kb(_pid: u32) -> Option<u64> {
    None
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
    }
}

fn error_type_of(document: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(document)
        .ok()
        .and_then(|parsed| Some(parsed.get("errorType")?.as_str()?.to_owned()))
        .unwrap_or_else(|| "Unhandled".into())
}

fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal: {signal}"),
        _ => status.to_string(),
    }
}
