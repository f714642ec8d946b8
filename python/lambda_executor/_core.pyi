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
    """An offline AWS Lambda on loopback: the Invoke API for clients and the Runtime API for
    execution environments that run real Python handlers under awslambdaric."""

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
    def endpoint_url(self) -> str: ...
    @property
    def s3_endpoint_url(self) -> Optional[str]: ...
    @property
    def region(self) -> str: ...
    @property
    def cgroups(self) -> Optional[str]: ...
    @property
    def closed(self) -> bool: ...
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
    ) -> None: ...
    def add_synthetic(
        self,
        name: str,
        *,
        latency_ms: int = 0,
        cpu_ms: int = 0,
        timeout: int = 3,
        memory_size: int = 128,
        reserved_concurrency: Optional[int] = None,
    ) -> None: ...
    def set_reserved_concurrency(self, name: str, reserved_concurrency: Optional[int]) -> None: ...
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
    ) -> None: ...
    def injected_faults(self, name: str) -> dict[str, int]: ...
    def remove_function(self, name: str) -> None: ...
    def functions(self) -> list[str]: ...
    def stats(self, name: str) -> _FunctionStats: ...
    def close(self) -> None: ...
    def __enter__(self) -> LocalLambda: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...

@final
class RetryPolicy:
    """How LambdaExecutor retries: throttles until throttle_timeout, 5xx and unsent calls
    max_retries times, calls that may have run only with retry_after_sent=True."""

    throttle_timeout: float
    max_retries: int
    base_delay: float
    max_delay: float
    retry_after_sent: bool
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
    """What happened to one invocation (``future.invocation``)."""

    function: str
    request_id: Optional[str]
    status_code: Optional[int]
    executed_version: Optional[str]
    attempts: int
    throttles: int
    log_tail: Optional[str]
    report: Optional[Report]
    from_journal: bool
    def logs(self, timeout: float = 30.0) -> list[str]:
        """The call's whole log from CloudWatch Logs, START to REPORT, a line each, waiting up to
        `timeout` seconds for it to get there; LogsError if it is not all there by then."""
    def alogs(self, timeout: float = 30.0) -> asyncio.Future[list[str]]:
        """`logs` for asyncio (`await future.invocation.alogs()`)."""

@final
class Report:
    """Lambda's REPORT line for one invocation, from its log tail."""

    duration_ms: float
    billed_duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: Optional[float]
    restore_duration_ms: Optional[float]
    billed_restore_duration_ms: Optional[float]
    @property
    def cold_start(self) -> bool: ...
    @property
    def gb_seconds(self) -> float: ...
    @property
    def restored_gb(self) -> float: ...

@final
class JobHandle:
    @property
    def sent(self) -> bool: ...
    def cancel(self) -> bool: ...
    def abandon(self) -> bool: ...

@final
class EncodedEvent:
    """One event converted and checked by `Engine.encode`, not yet sent."""

    @property
    def size(self) -> int: ...

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
    ) -> Optional[JobHandle]: ...
    def encode(
        self, function: str, event: object, *, journal: Optional[Journal] = None, agent: bool = False
    ) -> EncodedEvent: ...
    def send_encoded(self, event: EncodedEvent, future: object) -> Optional[JobHandle]: ...
    def ainvoke(
        self, function: str, event: object, *, journal: Optional[Journal] = None, agent: bool = False
    ) -> asyncio.Future[Any]: ...
    def wait_idle(self) -> None: ...
    def concurrency_limit(self, function: str) -> int: ...
    def progress_counts(self, function: str) -> tuple[int, int, Optional[str]]: ...
    def stats(self) -> dict[str, Any]: ...
    def architecture(self, function: str) -> tuple[Optional[str], Optional[str]]: ...
    def timeline(self) -> dict[str, Any]: ...

@final
class Journal:
    """An open resume journal (an SQLite file): what succeeded is returned from it, not sent again."""

    def __new__(
        cls, path: Union[str, PathLike[str]], *, retry_failed: bool = True, resume_in_flight: bool = True
    ) -> Journal: ...
    @property
    def path(self) -> str: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def unrecorded(self) -> tuple[int, Optional[str]]: ...
    def counts(self) -> list[dict[str, Any]]: ...
    def failures(self, limit: Optional[int] = None) -> list[dict[str, Any]]: ...
    def export(self, out: Union[str, PathLike[str]]) -> int: ...

def on_completion_thread() -> bool: ...
def to_json(value: object) -> bytes: ...

@final
class JoinedJson:
    """`{**head, **json.loads(document), **tail}` as JSON bytes made once, which the engine sends
    as they are."""

    def __new__(cls, head: dict[str, Any], document: bytes, tail: dict[str, Any]) -> JoinedJson: ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...

@final
class SpillStore:
    """The objects at an S3 location (`s3://bucket/prefix`): for `lambda-executor spill`, and for
    `deploy`'s packages too large to send to Lambda directly."""

    def __new__(cls, url: str, *, client: Optional[_ClientSettings] = None) -> SpillStore: ...
    def objects(self) -> list[dict[str, Any]]: ...
    def put(self, purpose: str, data: bytes) -> dict[str, Any]: ...
    def expire_after(self, days: int) -> str: ...
    def delete(self, keys: list[str]) -> None: ...

class _LogLine(TypedDict):
    stream: str
    timestamp: int
    message: str
    event_id: str

@final
class LogReader:
    """Functions' logs from CloudWatch Logs, for `lambda-executor logs`."""

    def __new__(cls, *, client: Optional[_ClientSettings] = None) -> LogReader: ...
    def call(
        self, function: str, request_id: str, *, timeout: float = 30.0, ended: Optional[float] = None
    ) -> list[str]: ...
    def lines(
        self,
        function: str,
        *,
        start_time: Optional[int] = None,
        end_time: Optional[int] = None,
        filter_pattern: Optional[str] = None,
    ) -> list[_LogLine]: ...

@final
class ControlPlane:
    """The control-plane calls of `lambda-executor deploy` (see deploy.py); functions as dicts."""

    def __new__(
        cls,
        *,
        client: Optional[_ClientSettings] = None,
        iam_endpoint_url: Optional[str] = None,
    ) -> ControlPlane: ...
    def get_function(self, name: str) -> Optional[dict[str, Any]]: ...
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
    ) -> dict[str, Any]: ...
    def layer_versions(self, name: str) -> list[dict[str, Any]]: ...
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
    def set_reserved_concurrency(self, name: str, reserved: Optional[int]) -> None: ...
    def publish_version(
        self, name: str, *, code_sha256: Optional[str] = None, description: Optional[str] = None
    ) -> tuple[str, str]: ...
    def set_memory(self, name: str, memory: int) -> dict[str, Any]: ...
    def versions(self, name: str) -> list[tuple[str, str]]: ...
    def aliases(self, name: str) -> list[tuple[str, str]]: ...
    def delete_alias(self, name: str, alias: str) -> None: ...
    def delete_version(self, name: str, version: str) -> None: ...
    def set_alias(self, name: str, alias: str, version: str) -> Optional[str]: ...
    def delete_function(self, name: str) -> None: ...
    def list_functions(self) -> list[dict[str, Any]]: ...
    def list_tags(self, arn: str) -> dict[str, str]: ...
    def get_role(self, name: str) -> Optional[dict[str, Any]]: ...
    def create_execution_role(self, name: str, *, description: str, tags: dict[str, str]) -> dict[str, Any]: ...
    def allow_spill(self, name: str, arn: str, url: str) -> None: ...
    def delete_role(self, name: str) -> None: ...
    def wait_until_ready(self, name: str) -> None: ...

def local_lambda_operations() -> list[tuple[str, str, str, str]]:
    """The operations a LocalLambda serves, one (service, operation, method, path) row each.

    The service is ``"lambda"`` (the path is the request URI's template of AWS's Lambda API
    model), ``"logs"`` (CloudWatch Logs' reads of the functions' logs: a POST to ``/`` whose
    ``X-Amz-Target`` names the operation) or ``"local-lambda"`` (LocalLambda's own endpoints).
    Any other request is answered with an ``UnknownOperationException``.

    Raises:
        NotImplementedError: on Windows, where LocalLambda does not run.
    """
