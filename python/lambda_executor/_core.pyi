import asyncio
from collections.abc import Mapping
from os import PathLike
from types import TracebackType
from typing import Any, Optional, TypedDict, Union, final

__all__ = [
    "ControlPlane",
    "EncodedEvent",
    "Engine",
    "InvocationInfo",
    "JobHandle",
    "JoinedJson",
    "Journal",
    "LogReader",
    "LocalLambda",
    "Report",
    "RetryPolicy",
    "SpillStore",
    "__version__",
    "local_lambda_operations",
    "on_completion_thread",
    "to_json",
]

__version__: str

class _ClientSettings(TypedDict, total=False):
    """One client's settings, as LambdaExecutor and the deploy CLI pass them (None: the default)."""

    region: Optional[str]
    profile: Optional[str]
    endpoint_url: Optional[str]
    verify: Union[bool, str, PathLike[str], None]
    proxies: Optional[dict[str, str]]
    connect_timeout: Optional[float]
    read_timeout: Optional[float]

class _FunctionStats(TypedDict):
    invocations: int
    throttles: int
    concurrency_throttles: int
    rate_throttles: int
    scaling_throttles: int
    cold_starts: int
    peak_concurrency: int
    errors: int
    timeouts: int
    in_flight: int
    queued_events: int
    environments: int

@final
class LocalLambda:
    """An offline AWS Lambda on loopback that runs real Python handlers.

    Clients (boto3, :class:`~lambda_executor.LambdaExecutor`) call its Invoke API at
    :attr:`endpoint_url`; its execution environments run Python handlers under awslambdaric
    through the Runtime API, as on Lambda:

    .. code-block:: python

        with LocalLambda() as local:
            local.add_function("echo", handler="app.handler", code_dir="src")
            boto3.client("lambda", endpoint_url=local.endpoint_url, ...).invoke(FunctionName="echo")

    Beside concurrency, synchronous calls meet Lambda's request-rate limit (``rate_limit``
    requests per second per unit of a function's concurrency, 10 on Lambda) and its scaling limit
    (``scaling_limit`` execution environments a function may add every 10 s, 1,000 on Lambda);
    each is on with Lambda's value unless set lower for a test, or None to turn it off.

    A failed Event invocation is retried as Lambda retries it (MaximumRetryAttempts, 2 by
    default, and MaximumEventAgeInSeconds of its event invoke configuration), but sooner: the
    first retry after ``event_retry_delay`` seconds (Lambda's is about a minute; 60 waits as
    long), each further one after twice the last wait.

    Code and layers may come from S3 (S3Bucket, S3Key), read from ``s3_endpoint_url``, which
    handlers are given as their ``AWS_ENDPOINT_URL_S3``. Where Linux cgroups can be made (as root,
    or in a delegated cgroup), each execution environment gets its function's memory size as a
    limit and CPU in proportion (1,769 MB is one vCPU); the hierarchies are looked for under
    ``LOCAL_LAMBDA_CGROUP_ROOT`` (default ``/sys/fs/cgroup``). Elsewhere LocalLambda says so on
    stderr when it starts, and environments run unconfined.

    Args:
        host: The IP address to serve on: a loopback one unless ``allow_remote``.
        port: The port to serve on; 0 picks a free one (:attr:`endpoint_url` names it).
        account_concurrency: The account's concurrency limit, which every function shares.
        idle_timeout: Seconds an execution environment may stay idle before it is ended.
        region: The region of the functions' ARNs and of their handlers' ``AWS_REGION``.
        retry_after: The seconds a throttled (429) answer's Retry-After header asks for.
        python: The interpreter that runs the handlers; None: this one (``sys.executable``).
        allow_remote: Serve on an address other than loopback, which exposes it to the network.
        tls: ``(certificate, key)``, PEM files to serve https with; None: http.
        rate_limit: Requests per second a function takes per unit of its concurrency; None: off.
        scaling_limit: Execution environments a function may add every 10 s; None: off.
        s3_endpoint_url: The S3 endpoint that code and layers from S3 are read from; None: the
            environment's ``AWS_ENDPOINT_URL_S3``, and without it code from S3 is refused.
        event_retry_delay: Seconds before the first retry of a failed Event invocation.

    Raises:
        ValueError: A setting is out of range, or ``host`` is not a loopback address and
            ``allow_remote`` is False.
        RuntimeError: ``host`` and ``port`` cannot be served on (the port is taken).
    """

    def __new__(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_concurrency: int = 1000,
        idle_timeout: float = 300.0,
        region: str = "us-east-1",
        retry_after: int = 1,
        python: Optional[Union[str, PathLike[str]]] = None,
        allow_remote: bool = False,
        tls: Optional[tuple[Union[str, PathLike[str]], Union[str, PathLike[str]]]] = None,
        rate_limit: Optional[float] = 10.0,
        scaling_limit: Optional[int] = 1000,
        s3_endpoint_url: Optional[str] = None,
        event_retry_delay: float = 1.0,
    ) -> LocalLambda: ...
    @property
    def endpoint_url(self) -> str:
        """The URL clients use as their Lambda endpoint, such as ``http://127.0.0.1:50123``.

        It is https with ``tls=(certificate, key)``.
        """
    @property
    def s3_endpoint_url(self) -> Optional[str]:
        """The S3 endpoint that functions' code and layers given as S3Bucket and S3Key are read from.

        Handlers are given it as ``AWS_ENDPOINT_URL_S3``. It is the ``s3_endpoint_url`` given, else
        ``AWS_ENDPOINT_URL_S3`` of the environment it started in; None: code from S3 is refused.
        """
    @property
    def region(self) -> str:
        """The region of the functions' ARNs, and of their handlers' ``AWS_REGION``."""
    @property
    def cgroups(self) -> Optional[str]:
        """The cgroup layout that gives environments their memory limit and CPU share.

        It is ``"v1"`` or ``"v2"``; None where LocalLambda cannot make cgroups (it said why on
        stderr when it started), and environments run unconfined.
        """
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the ``with`` block left)."""
    def add_function(
        self,
        name: str,
        handler: str,
        code_dir: Union[str, PathLike[str]],
        *,
        timeout: int = 3,
        memory_size: int = 128,
        reserved_concurrency: Optional[int] = None,
        environment: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Adds a Python function, run by handlers under awslambdaric.

        Each of its execution environments is a ``python -m awslambdaric HANDLER`` process.

        Args:
            name: The function's name: 1 to 64 letters, digits, hyphens or underscores.
            handler: ``module.function``, importable from ``code_dir``.
            code_dir: The folder of the function's code.
            timeout: Seconds an invocation may run, 1 to 900.
            memory_size: Megabytes of memory, 128 to 10,240 (with cgroups, its limit and CPU share).
            reserved_concurrency: Concurrency reserved for it out of the account's; None: none.
            environment: Its environment variables, beside those Lambda sets.

        Raises:
            ValueError: A setting is out of range, ``handler`` is malformed, or a function of this
                name exists.
            FileNotFoundError: ``code_dir`` or the handler's module is not there.
            ModuleNotFoundError: awslambdaric is not installed for this interpreter.
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def add_synthetic(
        self,
        name: str,
        *,
        latency_ms: int = 0,
        cpu_ms: int = 0,
        timeout: int = 3,
        memory_size: int = 128,
        reserved_concurrency: Optional[int] = None,
    ) -> None:
        """Adds a synthetic function answered in Rust, which echoes its event.

        It answers after ``latency_ms``, plus ``sleep_ms`` when the event is
        ``{"sleep_ms": n, ...}``, plus CPU-bound work of ``cpu_ms`` (and the event's ``cpu_ms``)
        milliseconds at one vCPU, which takes 1,769 / ``memory_size`` times as long below
        1,769 MB, as on Lambda (modelled: it waits). It meets the same concurrency rules as Python
        functions.

        Args:
            name: The function's name: 1 to 64 letters, digits, hyphens or underscores.
            latency_ms: Milliseconds every invocation waits before answering.
            cpu_ms: Milliseconds of CPU-bound work at one vCPU every invocation does.
            timeout: Seconds an invocation may run, 1 to 900.
            memory_size: Megabytes of memory, 128 to 10,240, which sets its CPU share.
            reserved_concurrency: Concurrency reserved for it out of the account's; None: none.

        Raises:
            ValueError: A setting is out of range, or a function of this name exists.
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def set_reserved_concurrency(self, name: str, reserved_concurrency: Optional[int]) -> None:
        """Sets or removes a function's reserved concurrency.

        Args:
            name: The function's name.
            reserved_concurrency: Concurrency reserved for it out of the account's (0 disables it);
                None removes the reservation.

        Raises:
            KeyError: There is no function of this name.
            ValueError: It is below 0, or more than the account's unreserved concurrency.
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def inject_faults(
        self,
        name: str,
        *,
        service_error: float = 0.0,
        not_ready: float = 0.0,
        throttle: float = 0.0,
        drop_before: float = 0.0,
        drop_after: float = 0.0,
        slow: float = 0.0,
        slow_ms: int = 0,
        retry_after: int = 0,
        seed: int = 0,
    ) -> None:
        """Makes a share of a function's Invoke requests meet each fault, from now on.

        Each share is 0 to 1; all zero turns faults off.

        Args:
            name: The function's name.
            service_error: The share answered 500 ServiceException.
            not_ready: The share answered 502 ResourceNotReadyException.
            throttle: The share answered 429 with Retry-After ``retry_after`` seconds.
            drop_before: The share whose connection is dropped before the request is read (the
                function does not run).
            drop_after: The share whose connection is dropped after the function ran.
            slow: The share answered ``slow_ms`` late.
            slow_ms: Milliseconds by which a slow answer is late.
            retry_after: The seconds a throttle's Retry-After header asks for.
            seed: The seed of the draws, which makes them repeatable.

        Raises:
            KeyError: There is no function of this name.
            ValueError: A share is not 0 to 1, or the shares add up to more than 1.
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def injected_faults(self, name: str) -> dict[str, int]:
        """Counts the faults injected into a function's answers so far (see :meth:`inject_faults`).

        Args:
            name: The function's name.

        Returns:
            How many times each fault was injected, by the name of its share in
            :meth:`inject_faults` (``"throttle"``, ...); empty for a function without faults.

        Raises:
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def remove_function(self, name: str) -> None:
        """Removes a function and ends its execution environments.

        Args:
            name: The function's name.

        Raises:
            KeyError: There is no function of this name.
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def functions(self) -> list[str]:
        """Lists the functions.

        Returns:
            The names of the functions, sorted.

        Raises:
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def stats(self, name: str) -> _FunctionStats:
        """Tells what happened to a function so far, and what it is doing now.

        Args:
            name: The function's name.

        Returns:
            The counts so far, as a dict with ``invocations``, ``throttles`` (and of them
            ``concurrency_throttles``, ``rate_throttles``, ``scaling_throttles``), ``cold_starts``,
            ``peak_concurrency``, ``errors``, ``timeouts``; and of now, ``in_flight``,
            ``queued_events``, ``environments``.

        Raises:
            KeyError: There is no function of this name.
            RuntimeError: This LocalLambda is closed, or belongs to the parent of a forked process.
        """
    def close(self) -> None:
        """Stops serving and ends every execution environment; closing it again does nothing."""
    def __enter__(self) -> LocalLambda:
        """Returns this LocalLambda, which leaving the ``with`` block closes."""
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Closes it (see :meth:`close`)."""

@final
class RetryPolicy:
    """How a :class:`~lambda_executor.LambdaExecutor` retries the invocations Lambda did not run.

    Throttles (429) are retried until ``throttle_timeout``; calls Lambda could not take (5xx,
    ResourceNotReady, ResourceConflict) and connections that failed before sending, up to
    ``max_retries`` times; a call whose connection was lost after it was sent, only with
    ``retry_after_sent``. Retries wait an exponential backoff with full jitter between
    ``base_delay`` and ``max_delay``, and at least the Retry-After Lambda asked for.

    Args:
        throttle_timeout: Seconds an invocation keeps retrying throttles before it fails with
            :class:`~lambda_executor.ThrottledError`.
        max_retries: Retries of a call Lambda could not take, 0 to 1,000.
        base_delay: Seconds of the first backoff.
        max_delay: Seconds the backoff grows to at most.
        retry_after_sent: Also retry a call whose connection was lost after it was sent, although
            the function may then run twice.

    Raises:
        ValueError: A setting is out of range (a negative delay, ``base_delay`` above
            ``max_delay``, ...).
        TypeError: ``max_retries`` is not a whole number.
    """

    @property
    def throttle_timeout(self) -> float:
        """Seconds an invocation keeps retrying throttles (429) before it fails."""
    @property
    def max_retries(self) -> int:
        """Retries of a call Lambda could not take (5xx, ResourceNotReady, ResourceConflict)."""
    @property
    def base_delay(self) -> float:
        """Seconds of the first backoff."""
    @property
    def max_delay(self) -> float:
        """Seconds the backoff grows to at most."""
    @property
    def retry_after_sent(self) -> bool:
        """Whether a call whose connection was lost after it was sent is retried (it may run twice)."""
    def __new__(
        cls,
        *,
        throttle_timeout: float = 900.0,
        max_retries: int = 4,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        retry_after_sent: bool = False,
    ) -> RetryPolicy: ...

@final
class InvocationInfo:
    """What happened to one invocation, as its future's ``invocation`` tells once it is done.

    :attr:`lambda_executor.LambdaFuture.invocation` holds it; the executor makes it, not the user.
    """

    @property
    def function(self) -> str:
        """The function invoked, as the call named it (name, ARN or ``name:qualifier``)."""
    @property
    def request_id(self) -> Optional[str]:
        """Lambda's request id of the last attempt; None if no attempt reached Lambda."""
    @property
    def status_code(self) -> Optional[int]:
        """The HTTP status of Lambda's answer (200, or 202 for an Event); None without one."""
    @property
    def executed_version(self) -> Optional[str]:
        """The version of the function that ran (``$LATEST`` or a number); None if none ran."""
    @property
    def attempts(self) -> int:
        """Attempts made (1 when nothing was retried)."""
    @property
    def throttles(self) -> int:
        """Throttles (429) met and absorbed on the way."""
    @property
    def log_tail(self) -> Optional[str]:
        """The decoded log tail (the last 4 KB of the log), when the executor has ``log_tail=True``."""
    @property
    def report(self) -> Optional[Report]:
        """Lambda's REPORT line from the log tail (durations, memory, cold start)."""
    @property
    def from_journal(self) -> bool:
        """Whether the outcome came from the journal (nothing was sent this time)."""
    def logs(self, timeout: float = 30.0) -> list[str]:
        """Reads the call's whole log from CloudWatch Logs, START to REPORT.

        Lines reach CloudWatch Logs some seconds after the call ends: this waits for them.

        Args:
            timeout: Seconds to wait for the whole log to be there.

        Returns:
            The log's lines, START to REPORT, without their newlines.

        Raises:
            LogsError: The log is not all there within ``timeout``, the function has no log group,
                or CloudWatch Logs refused the call.
            RuntimeError: The invocation never reached Lambda (it has no request id).
        """
    def alogs(self, timeout: float = 30.0) -> asyncio.Future[list[str]]:
        """Reads the call's whole log from CloudWatch Logs without blocking the event loop.

        It is :meth:`logs` run on the running loop's default executor:
        ``await future.invocation.alogs()``.

        Args:
            timeout: Seconds to wait for the whole log to be there.

        Returns:
            An asyncio future of the log's lines, START to REPORT, without their newlines.

        Raises:
            RuntimeError: No event loop is running (when called); the invocation never reached
                Lambda (when awaited).
            LogsError: When awaited, as :meth:`logs` raises it.
        """

@final
class Report:
    """Lambda's REPORT line for one invocation: its durations, memory and cold start.

    It is :attr:`InvocationInfo.report`, read from the log tail of an executor made with
    ``log_tail=True``.
    """

    @property
    def duration_ms(self) -> float:
        """Milliseconds the handler ran (Duration)."""
    @property
    def billed_duration_ms(self) -> float:
        """Milliseconds billed (Billed Duration)."""
    @property
    def memory_size_mb(self) -> int:
        """The function's configured memory in MB (Memory Size)."""
    @property
    def max_memory_used_mb(self) -> int:
        """The most memory the execution environment used, in MB (Max Memory Used)."""
    @property
    def init_duration_ms(self) -> Optional[float]:
        """Milliseconds the new execution environment took to start (Init Duration); None when warm.

        It is set only when the invocation started a new execution environment (a cold start),
        and billed with the invocation (Billed Duration includes it).
        """
    @property
    def restore_duration_ms(self) -> Optional[float]:
        """Milliseconds a SnapStart function's cold start took to restore its snapshot; else None."""
    @property
    def billed_restore_duration_ms(self) -> Optional[float]:
        """Milliseconds of the restore billed as duration (SnapStart cold starts only); else None."""
    @property
    def cold_start(self) -> bool:
        """Whether the invocation started a new execution environment (a cold start)."""
    @property
    def gb_seconds(self) -> float:
        """The GB-seconds billed (billed duration, and billed restore duration, times configured memory)."""
    @property
    def restored_gb(self) -> float:
        """GB of memory restored from a snapshot, priced per GB (SnapStart cold starts only)."""

@final
class JobHandle:
    """A submitted invocation's handle, held by its future for `cancel()`."""
    @property
    def sent(self) -> bool: ...
    def cancel(self) -> bool:
        """Cancels the invocation unless an attempt is in flight (Lambda may be running it); False
        while one is.
        """
    def abandon(self) -> bool:
        """Cancels it as `cancel` does; while an attempt is in flight, nothing more is sent: if
        Lambda does not run it (a throttle), its future is cancelled then. False while in flight.
        """

@final
class EncodedEvent:
    """One event converted and checked, not yet sent (see `Engine.encode`), with the journal it
    goes through.
    """

    @property
    def size(self) -> int:
        """The bytes of JSON it will send (0 once sent)."""

@final
class Engine:
    def __new__(
        cls,
        max_workers: int,
        *,
        client: Optional[_ClientSettings] = None,
        qualifier: Optional[str] = None,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
        retry: Optional[RetryPolicy] = None,
        journal: Optional[Journal] = None,
        max_cost: Optional[float] = None,
        price_per_gb_second: float = 0.0,
        price_per_request: float = 0.0,
        spill: Optional[str] = None,
    ) -> Engine: ...
    def submit(
        self,
        function: str,
        event: object,
        future: object,
        *,
        log_tail: Optional[bool] = None,
        journal: Optional[Journal] = None,
        agent: bool = False,
    ) -> Optional[JobHandle]:
        """Converts `event` to JSON, checks it, and starts invoking `function`; `future` is resolved
        when the invocation ends, or at once with an outcome the journal already holds (then
        None is returned, as there is nothing to cancel). Raises before sending anything if the
        input is bad. `log_tail` and `journal` override the executor's settings for this call;
        an `agent`'s call spills through S3 when the executor has a spill location.
        """
    def encode(
        self, function: str, event: object, *, journal: Optional[Journal] = None, agent: bool = False
    ) -> EncodedEvent:
        """`submit` in two steps, so that a batch is converted whole before any of it is sent:
        `encode` converts and checks one event, `send_encoded` starts it.
        """
    def send_encoded(self, event: EncodedEvent, future: object) -> Optional[JobHandle]: ...
    def ainvoke(
        self, function: str, event: object, *, journal: Optional[Journal] = None, agent: bool = False
    ) -> asyncio.Future[Any]:
        """As `submit`, for asyncio: returns an asyncio future of the running loop, resolved by the
        completion thread like any other. Cancelling it cancels the invocation if it has not been
        sent. (pyo3-async-runtimes finds the running loop; its future_into_py is not used, because
        it sets each result from a blocking-pool thread of its own: a thread per completion under
        load, and one still inside Python when the interpreter exits crashes it.)
        """
    def wait_idle(self) -> None:
        """Blocks (without the GIL) until every submitted invocation has ended; Ctrl-C interrupts it.
        In a forked child it returns at once: the parent's invocations are not the child's to wait
        for (and can never end there).
        """
    def concurrency_limit(self, function: str) -> int:
        """The current adaptive in-flight limit for `function`."""
    def progress_counts(self, function: str) -> tuple[int, int, Optional[str]]:
        """(retries made so far, invocations waiting to retry now, the limit of Lambda's that
        throttled `function` last): cheap, for progress bars.
        """
    def stats(self) -> dict[str, Any]:
        """What the invocations came to so far (the Python facade turns it into `Stats`)."""
    def architecture(self, function: str) -> tuple[Optional[str], Optional[str]]:
        """`function`'s architecture and None, or None and why it could not be read."""
    def timeline(self) -> dict[str, Any]:
        """The last calls, attempt by attempt, and how many older ones were let go."""

@final
class Journal:
    def __new__(
        cls, path: Union[str, PathLike[str]], *, retry_failed: bool = True, resume_in_flight: bool = True
    ) -> Journal: ...
    @property
    def path(self) -> str: ...
    def flush(self) -> None:
        """Waits until every outcome recorded so far is on disk."""
    def close(self) -> None:
        """Commits what was recorded and gives up the file (it closes once the invocations in flight
        through it end); invocations not yet sent through it fail unsent.
        """
    def unrecorded(self) -> tuple[int, Optional[str]]:
        """Outcomes that could not be written so far (a full disk, a file gone: a rerun sends those
        calls again), and why the last could not be.
        """
    def counts(self) -> list[dict[str, Any]]:
        """Per function: succeeded, failed, throttled and unknown (in flight when a run stopped)
        counts, and the bytes of results stored; as dicts, by function name.
        """
    def failures(self, limit: Optional[int] = None) -> list[dict[str, Any]]:
        """The failed and throttled-out invocations, oldest first (at most `limit`), as dicts."""
    def export(self, out: Union[str, PathLike[str]]) -> int:
        """Writes every stored result to `out` as JSON lines; returns how many."""

def on_completion_thread() -> bool:
    """`lambda_executor._core.on_completion_thread()`, for the Python facade's guards."""

def to_json(value: object) -> bytes:
    """`lambda_executor._core.to_json(value)`: the JSON bytes the engine would send, under the same
    rules (for the agent's compression, which must measure and pack exactly that).
    """

@final
class JoinedJson:
    """`lambda_executor._core.JoinedJson`: a JSON object made of the members of several, in one
    buffer, which the engine sends as it is (the agent's event: its head, then the call's own JSON,
    made once by `to_json`, then its tail), rather than converting a dict holding them again.
    """

    def __new__(cls, head: dict[str, Any], document: bytes, tail: dict[str, Any]) -> JoinedJson: ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...

@final
class SpillStore:
    def __new__(cls, url: str, *, client: Optional[_ClientSettings] = None) -> SpillStore: ...
    def objects(self) -> list[dict[str, Any]]:
        """The objects at the location, as dicts of key, size (bytes) and age (seconds)."""
    def put(self, purpose: str, data: bytes) -> dict[str, Any]:
        """Stores `data` under a new key of the location, made of `purpose` and random bits; returns
        its reference (bucket, key, size, sha256).
        """
    def expire_after(self, days: int) -> str:
        """Expires the location's objects `days` days after they were written, by a rule of the
        bucket's lifecycle (the bucket's other rules are kept); its id is returned.
        """
    def delete(self, keys: list[str]) -> None:
        """Deletes these keys (of the location: any other is refused)."""

class _LogLine(TypedDict):
    stream: str
    timestamp: int
    message: str
    event_id: str

@final
class LogReader:
    def __new__(cls, *, client: Optional[_ClientSettings] = None) -> LogReader: ...
    def call(
        self, function: str, request_id: str, *, timeout: float = 30.0, ended: Optional[float] = None
    ) -> list[str]:
        """One call's lines, START to REPORT (see `InvocationInfo.logs`); `ended` (seconds since the
        epoch), when the call ended, if known, narrows the search.
        """
    def lines(
        self,
        function: str,
        *,
        start_time: Optional[int] = None,
        end_time: Optional[int] = None,
        filter_pattern: Optional[str] = None,
    ) -> list[_LogLine]:
        """The function's lines from `start_time` to `end_time` (milliseconds since the epoch,
        inclusive) that `filter_pattern` matches, oldest first, at most 10,000: dicts of stream,
        timestamp, message and event_id.
        """

@final
class ControlPlane:
    def __new__(
        cls,
        *,
        client: Optional[_ClientSettings] = None,
        iam_endpoint_url: Optional[str] = None,
    ) -> ControlPlane: ...
    def get_function(self, name: str) -> Optional[dict[str, Any]]:
        """The function's configuration with its tags and reserved concurrency; None if there is none."""
    def create_function(
        self,
        name: str,
        package: Union[bytes, tuple[str, str]],
        *,
        role: str,
        handler: str,
        runtime: str,
        memory: int,
        timeout: int,
        layers: list[str],
        environment: dict[str, str],
        tags: dict[str, str],
        architecture: str,
    ) -> dict[str, Any]: ...
    def update_code(self, name: str, package: Union[bytes, tuple[str, str]]) -> dict[str, Any]: ...
    def publish_layer(
        self,
        name: str,
        package: Union[bytes, tuple[str, str]],
        *,
        description: str,
        runtime: str,
        architecture: str,
    ) -> dict[str, Any]:
        """Publishes `package` as a new version of layer `name` (arn, version, description)."""
    def layer_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of layer `name`, newest first (none if there is no such layer)."""
    def update_configuration(
        self,
        name: str,
        *,
        role: str,
        handler: str,
        memory: int,
        timeout: int,
        layers: list[str],
        environment: dict[str, str],
    ) -> dict[str, Any]: ...
    def set_reserved_concurrency(self, name: str, reserved: Optional[int]) -> None:
        """Sets the function's reserved concurrency, or removes it with None."""
    def publish_version(
        self, name: str, *, code_sha256: Optional[str] = None, description: Optional[str] = None
    ) -> tuple[str, str]:
        """Publishes $LATEST as a version and returns its number and description (the last one's,
        with its own description, if nothing changed); with `code_sha256`, only if $LATEST's code
        is still that.
        """
    def set_memory(self, name: str, memory: int) -> dict[str, Any]:
        """Sets the function's memory size alone; its configuration after."""
    def versions(self, name: str) -> list[tuple[str, str]]:
        """The function's published versions, each as (number, description)."""
    def aliases(self, name: str) -> list[tuple[str, str]]:
        """The function's aliases, each as (name, version)."""
    def delete_alias(self, name: str, alias: str) -> None:
        """Deletes an alias (none there is no error)."""
    def delete_version(self, name: str, version: str) -> None:
        """Deletes a published version (none there is no error)."""
    def set_alias(self, name: str, alias: str, version: str) -> Optional[str]:
        """Points alias `alias` at `version` alone, creating it if needed; returns the version it
        pointed at before, or None if it was created.
        """
    def delete_function(self, name: str) -> None: ...
    def list_functions(self) -> list[dict[str, Any]]:
        """Every function's configuration (all pages)."""
    def list_tags(self, arn: str) -> dict[str, str]: ...
    def get_role(self, name: str) -> Optional[dict[str, Any]]:
        """The IAM role named `name` (name, arn, tags); None if there is none."""
    def create_execution_role(self, name: str, *, description: str, tags: dict[str, str]) -> dict[str, Any]:
        """Creates a role that Lambda may assume, with the basic execution policy alone (logs)."""
    def allow_spill(self, name: str, arn: str, url: str) -> None:
        """Lets the role `name` (`arn`) read and write the objects of the spill location `url`."""
    def delete_role(self, name: str) -> None:
        """Detaches the role's managed policies, deletes its inline ones, then the role."""
    def wait_until_ready(self, name: str) -> None:
        """Waits until Lambda has applied the last change: another update before then is refused
        with ResourceConflictException. Ctrl-C interrupts the wait.
        """

def local_lambda_operations() -> list[tuple[str, str, str, str]]:
    """The operations a LocalLambda serves, one (service, operation, method, path) row each.

    The service is ``"lambda"`` (the path is the request URI's template of AWS's Lambda API
    model), ``"logs"`` (CloudWatch Logs' reads of the functions' logs: a POST to ``/`` whose
    ``X-Amz-Target`` names the operation) or ``"local-lambda"`` (LocalLambda's own endpoints).
    Any other request is answered with an ``UnknownOperationException``.

    Raises:
        NotImplementedError: on Windows, where LocalLambda does not run.
    """
