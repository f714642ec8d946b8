"""LambdaExecutor: a concurrent.futures.Executor whose work runs in deployed Lambda functions.

The Executor contract follows CPython's Lib/concurrent/futures/thread.py; the invocations
themselves run in the Rust engine (tokio tasks, one shared aws-sdk-lambda client). What a call
sends is read in targets.py, the futures are in futures.py, map's machinery in mapping.py (with
chunking wrapped around it from chunks.py), and the asyncio methods delegate to aio.py.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import threading
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from concurrent.futures import Executor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union

from ._core import ControlPlane, Engine, Journal, RetryPolicy
from .agent import DEFAULT_COMPRESS_OVER, WARM_EVENT
from .aio import AsyncCalls
from .chunks import Chunk, chained, chunks
from .errors import PayloadTooLargeError, warn_insecure
from .futures import AgentFuture, ChunkFuture, ChunkTally, LambdaFuture, PendingFutures, abandon, attach
from .journals import Journals
from .mapping import MapRun
from .progress import Progress
from .stats import PRICE_PER_GB_SECOND, PRICE_PER_REQUEST, PRICES_PER_GB_SECOND, Stats
from .targets import FunctionRef, Targets
from .timeline import Timeline
from .tune import DEFAULT_MEMORY_SIZES, TuneResult, check, tune

if TYPE_CHECKING:
    from ._core import EncodedEvent, JobHandle, _ClientSettings

DEFAULT_MAX_WORKERS = 1000  # Lambda's default account concurrency per region
# The engine's own defaults (CONNECT_TIMEOUT and READ_TIMEOUT of crates/engine/src/client/config.rs),
# shown in the signature: a synchronous invocation may run 15 minutes, and its answer must be waited for.
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 960.0
# A RetryPolicy cannot change: one instance serves every executor as the default.
DEFAULT_RETRY = RetryPolicy()

# The engine logs to lambda_executor.<subsystem> (docs/guide/logs-and-timeline.md); shutdown is decided here.
_shutdown_log = logging.getLogger("lambda_executor.shutdown")

# As ThreadPoolExecutor's workers are joined at exit, live executors finish their work then.
_live_executors: weakref.WeakSet[LambdaExecutor] = weakref.WeakSet()


def _shutdown_at_exit() -> None:
    for executor in list(_live_executors):
        # A forked child owes nothing to executors its parent made (their calls run there).
        if executor._pid == os.getpid():
            executor.shutdown(wait=True)


threading._register_atexit(_shutdown_at_exit)  # type: ignore[attr-defined]


class LambdaExecutor(Executor):
    """A :class:`concurrent.futures.Executor` whose calls are invocations of deployed Lambda functions.

    ``submit(fn, *args, **kwargs)`` and ``map(fn, *iterables)`` take ``fn`` as a function name, an
    ARN, ``name:qualifier`` or a :class:`~lambda_executor.LambdaFunction`. The event sent is the one
    positional argument; several positional arguments are sent as a JSON array, keyword arguments
    alone as an object, and no arguments as ``{}``. Futures resolve to the decoded JSON result
    (None for an empty body). As with :class:`~concurrent.futures.ThreadPoolExecutor`, the
    ``with`` block waits for the calls submitted; leaving it on an exception cancels those not
    sent yet.

    With ``agent="function-name"`` (a function deployed with ``lambda_executor.agent.handler``),
    ``fn`` may also be a plain Python function of the deployed code: ``submit(func, *args,
    **kwargs)`` calls ``func(*args, **kwargs)`` there, sent by import path with JSON arguments,
    compressed beyond ``compress_over`` bytes. :func:`~lambda_executor.remote` names another agent
    for one call.

    ``max_cost`` caps what the invocations may cost, in US dollars at Lambda's list prices (those
    of :meth:`stats`): every call then asks for its log tail, whose REPORT line says what was
    billed, and once the cost reaches the cap nothing more is sent. Calls waiting fail with
    :class:`~lambda_executor.BudgetExceeded`; calls in flight finish (and may take the cost past
    the cap).

    ``spill="s3://bucket/prefix"`` sends the agent's arguments and results larger than Lambda takes
    (6 MB) through S3, on the executor's client settings (S3's endpoint is the SDK's:
    ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL`` or the profile's): the call carries a reference
    to the object, checked against its SHA-256 when read, and each object is deleted once read.

    Args:
        max_workers: Invocations in flight at most, per function and overall (None: the default
            too, as :class:`~concurrent.futures.ThreadPoolExecutor` takes it). Lambda's default
            account concurrency per region is 1,000.
        region: The AWS region; None: from the environment and AWS configuration
            (``AWS_REGION``, the profile's region), as the AWS SDKs find it.
        profile: The AWS profile of the credentials and settings; None: ``AWS_PROFILE``, else the
            default profile.
        endpoint_url: Another Lambda endpoint (:class:`~lambda_executor.LocalLambda`'s, a test
            server's); None: from the environment (``AWS_ENDPOINT_URL_LAMBDA``,
            ``AWS_ENDPOINT_URL``, the profile's), else AWS's own.
        verify: As boto3's ``verify``: False accepts any certificate (for a test endpoint only:
            warns :class:`~lambda_executor.InsecureRequestWarning`), a path names a CA bundle (PEM)
            to trust instead of the system's; None or True: the system's trust, or the bundle of
            ``AWS_CA_BUNDLE`` or the profile's ``ca_bundle``.
        proxies: Proxy URLs by scheme, as botocore's ``Config(proxies=...)``
            (``{"https": url, "http": url}``); None: the environment's ``HTTPS_PROXY``,
            ``HTTP_PROXY`` and ``NO_PROXY``.
        connect_timeout: Seconds that establishing a connection (TCP, a proxy's tunnel, TLS) may
            take (None: this default too).
        read_timeout: Seconds to wait for an answer (None: this default too). A synchronous
            invocation may run 15 minutes: a ``read_timeout`` shorter than the function's own
            timeout makes slow calls fail (with :class:`~lambda_executor.ConnectionLostError`,
            not retried: they may have run).
        qualifier: The version or alias every call invokes; None: the function as named
            (``$LATEST`` unless the name carries a qualifier).
        invocation_type: ``"RequestResponse"`` waits for each result; ``"Event"`` queues the
            event (futures resolve to None once Lambda accepted it).
        log_tail: Ask for each call's log tail: ``future.invocation.log_tail`` and its
            ``report`` (durations, memory, cold start; the billing figures of :meth:`stats`).
        retry: How throttles and failures before the function ran are retried (None: this
            default too).
        agent: The agent function (deployed with ``lambda_executor.agent.handler``) that plain
            Python functions passed as ``fn`` are called through; None: no agent, ``fn`` must
            name a deployed function.
        compress_over: Bytes of JSON beyond which the agent's arguments and results travel
            compressed; None: never compressed.
        journal: A resume journal (an SQLite file, created if need be): each call's outcome is
            recorded, and a rerun returns what succeeded from it rather than sending it again.
            None: no journal.
        retry_failed: With ``journal``, send again the calls that failed in an earlier run
            (False: their failure is returned again).
        resume_in_flight: With ``journal``, send again the calls in flight when an earlier run
            stopped (they may then run twice; False: they fail with
            :class:`~lambda_executor.ConnectionLostError`).
        max_cost: The spend cap, in US dollars (see above); None: no cap.
        spill: The S3 location (``s3://bucket/prefix``) of the agent's payloads too large for
            Lambda; None: such payloads fail with :class:`~lambda_executor.PayloadTooLargeError`.

    Raises:
        ConfigurationError: No region, no credentials, or a bad endpoint or CA bundle.
        JournalError: ``journal`` cannot be used (see :class:`~lambda_executor.JournalError`).
        ValueError: A setting is out of range.
        TypeError: A setting is of the wrong type.
    """

    def __init__(
        self,
        max_workers: Optional[int] = DEFAULT_MAX_WORKERS,
        *,
        region: Optional[str] = None,
        profile: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        verify: Union[bool, str, os.PathLike[str], None] = None,
        proxies: Optional[dict[str, str]] = None,
        connect_timeout: Optional[float] = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: Optional[float] = DEFAULT_READ_TIMEOUT,
        qualifier: Optional[str] = None,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
        retry: Optional[RetryPolicy] = DEFAULT_RETRY,
        agent: Optional[str] = None,
        compress_over: Optional[int] = DEFAULT_COMPRESS_OVER,
        journal: Union[str, os.PathLike[str], None] = None,
        retry_failed: bool = True,
        resume_in_flight: bool = True,
        max_cost: Optional[float] = None,
        spill: Optional[str] = None,
    ) -> None:
        """Makes an executor; its arguments are described in the class's docstring."""
        if max_workers is None:
            max_workers = DEFAULT_MAX_WORKERS
        if verify is False:
            warn_insecure(stacklevel=2)
        self._max_workers = max_workers
        self._targets = Targets(agent, compress_over, spill)
        client: _ClientSettings = {
            "region": region,
            "profile": profile,
            "endpoint_url": endpoint_url,
            "verify": verify,
            "proxies": proxies,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        self._client = client
        self._journals = Journals(journal, retry_failed, resume_in_flight)
        self._engine = Engine(
            max_workers,
            client=client,
            qualifier=qualifier,
            invocation_type=invocation_type,
            log_tail=log_tail,
            retry=retry,
            journal=self._journals.own,
            max_cost=max_cost,
            price_per_gb_second=PRICE_PER_GB_SECOND,
            price_per_request=PRICE_PER_REQUEST,
            spill=spill,
        )
        self._async = AsyncCalls(self._targets, self._start_async, self._journals, self._progress, 2 * max_workers)
        self._shutdown = False
        # Set when an interrupt stopped a wait for calls in flight: nothing waits for them again.
        self._abandoned = False
        self._pid = os.getpid()
        self._shutdown_lock = threading.Lock()
        self._rates: dict[str, tuple[str, float]] = {}
        self._pending = PendingFutures()
        self._chunk_tally = ChunkTally()
        _live_executors.add(self)

    def submit(self, fn: FunctionRef, /, *args: Any, **kwargs: Any) -> LambdaFuture:
        """Starts one invocation of ``fn`` with the event its arguments make.

        The event is the one positional argument; several are sent as a JSON array, keyword
        arguments alone as an object, no arguments as ``{}``. With an agent, a Python function is
        called there as ``fn(*args, **kwargs)``. The event is converted to JSON and checked here:
        nothing is sent for an event that cannot be.

        Args:
            fn: A function's name, ARN or ``name:qualifier``, a
                :class:`~lambda_executor.LambdaFunction`, or with an agent a Python function of
                the deployed code (or its import path, ``"package.module:function"``) or a
                :class:`~lambda_executor.RemoteFunction`.
            *args: The event, or the Python function's positional arguments.
            **kwargs: The event's members, or the Python function's keyword arguments.

        Returns:
            The invocation's future, which resolves to the decoded JSON result (None for an empty
            body) or fails with a :class:`~lambda_executor.LambdaError`.

        Raises:
            TypeError: ``fn`` is not a deployed function (nor, with an agent, an importable Python
                function), or the event or arguments cannot be sent as JSON.
            PayloadTooLargeError: The event is larger than Lambda takes.
            RuntimeError: The executor was shut down.
        """
        function, path = self._targets.resolve(fn)
        event = self._targets.event(path, args, kwargs)
        return self._submit(function, event, AgentFuture() if path else LambdaFuture(), agent=path is not None)

    def _submit(
        self, function: str, event: Any, future: LambdaFuture, log_tail: Optional[bool] = None, agent: bool = False
    ) -> LambdaFuture:
        return self._track(future, lambda: self._engine.submit(function, event, future, log_tail=log_tail, agent=agent))

    def _send(self, event: EncodedEvent, future: LambdaFuture) -> LambdaFuture:
        # A future map held back was submitted before any shutdown: it is sent all the same.
        held = future in self._pending
        return self._track(future, lambda: self._engine.send_encoded(event, future), held)

    def _track(
        self, future: LambdaFuture, start: Callable[[], Optional[JobHandle]], held: bool = False
    ) -> LambdaFuture:
        with self._shutdown_lock:
            if self._shutdown and not held:
                raise RuntimeError("cannot schedule new futures after shutdown")
            job = start()
            attach(future, job)
            # A future the journal resolved at once (no job) has nothing to cancel or wait for.
            if not held and job is not None:
                self._pending.add(future)
        return future

    def map(
        self,
        fn: FunctionRef,
        *iterables: Iterable[Any],
        timeout: Optional[float] = None,
        chunksize: int = 1,
        buffersize: Optional[int] = None,
        progress: bool = False,
        journal: Union[str, os.PathLike[str], None] = None,
    ) -> Iterator[Any]:
        """Invokes ``fn`` once per item of ``iterables`` and yields the results in order.

        As :meth:`concurrent.futures.Executor.map`: the i-th call takes the i-th item of each
        iterable as its arguments (its event, without an agent), the first error is raised when
        its result is reached, and leaving the iteration early cancels what was not sent.
        Without ``buffersize``, every event is converted before any is sent, so a bad one raises
        here with nothing sent. With ``buffersize``, events are read as results are taken: a bad
        event (or a failing source) stops the reading, the invocations submitted before it still
        run and are yielded, and then its error is raised, naming its place.

        Args:
            fn: What to invoke, as :meth:`submit` takes it.
            *iterables: The calls' arguments, one iterable per positional argument.
            timeout: Seconds from this call after which waiting for a result raises
                :class:`TimeoutError`; None: no limit.
            chunksize: With a Python function called through the agent, up to this many calls
                are sent in one invocation (with at most 1 MiB of their arguments as JSON); their
                results come back one by one all the same. Ignored without the agent.
            buffersize: How many invocations (or chunks) are submitted ahead of the results
                taken; None: all of them at once.
            progress: Show a tqdm progress bar of the finished, failed and retrying invocations.
            journal: A resume journal for this map alone (see the executor's ``journal``); None:
                the executor's, if any.

        Returns:
            An iterator of the results, in the order of the calls.

        Raises:
            TypeError: ``fn`` cannot be invoked, or (without ``buffersize``) an event cannot be
                sent as JSON.
            PayloadTooLargeError: Without ``buffersize``, an event is larger than Lambda takes.
            ValueError: ``chunksize`` or ``buffersize`` is less than 1.
        """
        if buffersize is not None and (not isinstance(buffersize, int) or buffersize < 1):
            raise ValueError("buffersize must be None or > 0")
        function, path = self._targets.resolve(fn)  # a bad function is an error now, not at the first result
        chunked = _chunked(path, chunksize)
        calls = enumerate(zip(*iterables))
        map_journal = self._journals.open(journal)
        bar = self._progress(function, iterables) if progress else None
        end_time = None if timeout is None else timeout + time.monotonic()
        on_done = None if bar is None else bar.finished_chunk if chunked else bar.finished
        run = self._map_run(function, path, chunks(calls, chunksize) if chunked else calls, map_journal, on_done)
        try:
            run.start(buffersize)
        except BaseException:
            if bar is not None:
                bar.close()
            raise
        results = run.results(buffersize, end_time, functools.partial(self._end_map, bar, map_journal))
        # Chunking wraps map, as ProcessPoolExecutor's does: the chunks' results chained back.
        return chained(results) if chunked else results

    def _map_run(
        self,
        function: str,
        path: Optional[str],
        calls: Iterator[tuple[int, Any]],
        journal: Optional[Journal],
        on_done: Optional[Callable[[Any], None]] = None,
    ) -> MapRun:
        return MapRun(
            calls,
            functools.partial(self._encode, function, path, journal),
            functools.partial(self._new_future, path),
            self._send,
            self._pending.add,
            on_done,
        )

    def _encode(
        self, function: str, path: Optional[str], journal: Optional[Journal], index: int, call: Union[tuple, Chunk]
    ) -> EncodedEvent:
        """One call of a map (or a chunk of calls, from the index-th) converted and checked; an
        event that cannot be sent names its place."""
        try:
            if isinstance(call, Chunk):
                event = self._targets.chunk_event(path or "", call)
            else:
                event = self._targets.event(path, call, {})
            return self._engine.encode(function, event, journal=journal, agent=path is not None)
        except (TypeError, PayloadTooLargeError) as error:
            last = index + len(call) - 1 if isinstance(call, Chunk) else index
            place = f"event {index}" if last == index else f"events {index} to {last} (a chunk)"
            raise type(error)(f"{place} of the map: {error}") from None

    def _new_future(self, path: Optional[str], call: Union[tuple, Chunk]) -> LambdaFuture:
        if isinstance(call, Chunk):
            return ChunkFuture(len(call), self._chunk_tally)
        return AgentFuture() if path else LambdaFuture()

    def _end_map(self, bar: Optional[Progress], journal: Optional[Journal]) -> None:
        if bar is not None:
            bar.close()
        if journal is not None:
            # Commits what was recorded; calls still in flight finish recording on their own.
            self._journals.close(journal)

    async def ainvoke(self, fn: FunctionRef, /, *args: Any, **kwargs: Any) -> Any:
        """Invokes ``fn`` from asyncio and returns its result, without blocking the event loop.

        The event follows :meth:`submit`'s rule; cancelling the awaiting task cancels the
        invocation if it was not sent yet.

        Args:
            fn: What to invoke, as :meth:`submit` takes it.
            *args: The event, or the Python function's positional arguments.
            **kwargs: The event's members, or the Python function's keyword arguments.

        Returns:
            The decoded JSON result (None for an empty body).

        Raises:
            LambdaError: The invocation failed (a :class:`~lambda_executor.FunctionError` if the
                handler did).
            TypeError: ``fn`` cannot be invoked, or the event cannot be sent as JSON.
            RuntimeError: The executor was shut down.
        """
        return await self._async.invoke(fn, args, kwargs)

    async def amap(
        self,
        fn: FunctionRef,
        events: Union[Iterable[Any], AsyncIterator[Any]],
        *,
        buffersize: Optional[int] = None,
        progress: bool = False,
        journal: Union[str, os.PathLike[str], None] = None,
    ) -> AsyncIterator[Any]:
        """Invokes ``fn`` with each event from asyncio and yields the results in order.

        The first error is raised when reached, and leaving early cancels what was not sent. A
        bad event (or a failing source) stops the reading: the invocations started before it are
        yielded, then its error is raised, naming its place.

        Args:
            fn: What to invoke, as :meth:`submit` takes it.
            events: The events (with an agent, each call's one argument), an iterable or an
                async iterable.
            buffersize: How many invocations are started ahead of the consumer; None: twice
                ``max_workers``.
            progress: Show a tqdm progress bar of the finished, failed and retrying invocations.
            journal: A resume journal for this call alone (see the executor's ``journal``).

        Yields:
            The decoded JSON result of each event's invocation, in the order of the events.

        Raises:
            LambdaError: An invocation failed, when its result is reached.
            TypeError: ``fn`` cannot be invoked, or an event cannot be sent as JSON.
            RuntimeError: The executor was shut down.
        """
        async for task in self._async.tasks(fn, events, buffersize, progress, ordered=True, journal=journal):
            yield task.result()

    async def amap_unordered(
        self,
        fn: FunctionRef,
        events: Union[Iterable[Any], AsyncIterator[Any]],
        *,
        buffersize: Optional[int] = None,
        progress: bool = False,
        journal: Union[str, os.PathLike[str], None] = None,
    ) -> AsyncIterator[Any]:
        """Invokes ``fn`` with each event from asyncio and yields each result as soon as it arrives.

        It is :meth:`amap` without the order: a slow invocation holds back no other result.

        Args:
            fn: What to invoke, as :meth:`submit` takes it.
            events: The events (with an agent, each call's one argument), an iterable or an
                async iterable.
            buffersize: How many invocations run ahead of the consumer; None: twice
                ``max_workers``.
            progress: Show a tqdm progress bar of the finished, failed and retrying invocations.
            journal: A resume journal for this call alone (see the executor's ``journal``).

        Yields:
            The decoded JSON result of each event's invocation, in the order they finish.

        Raises:
            LambdaError: An invocation failed, when its result is reached.
            TypeError: ``fn`` cannot be invoked, or an event cannot be sent as JSON.
            RuntimeError: The executor was shut down.
        """
        async for task in self._async.tasks(fn, events, buffersize, progress, ordered=False, journal=journal):
            yield task.result()

    def _start_async(self, function: str, event: Any, journal: Optional[Journal], agent: bool) -> Awaitable[Any]:
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new invocations after shutdown")
        return self._engine.ainvoke(function, event, journal=journal, agent=agent)

    def warm(self, fn: FunctionRef, n: int) -> int:
        """Starts ``n`` execution environments of ``fn`` at once, so that a following batch meets warm ones.

        It makes ``n`` concurrent invocations with :data:`~lambda_executor.WARM_EVENT`, which the
        handler should answer at once (the agent's does), and waits for them. If some failed, it
        warns how many (:class:`RuntimeWarning`).

        Args:
            fn: The deployed function, as :meth:`submit` takes it.
            n: How many environments to start: 1 to ``max_workers``.

        Returns:
            How many of the invocations that succeeded were cold starts.

        Raises:
            ValueError: ``n`` is not 1 to ``max_workers``.
            LambdaError: Every invocation failed: the first one's error.
        """
        if not isinstance(n, int) or not 1 <= n <= self._max_workers:
            raise ValueError(f"n must be 1 to max_workers ({self._max_workers}), not {n!r}")
        function = self._targets.resolve(fn)[0]
        # With the log tail: its REPORT line says whether the environment started cold.
        futures = [self._submit(function, WARM_EVENT, LambdaFuture(), log_tail=True) for _ in range(n)]
        errors = [error for error in (future.exception() for future in futures) if error is not None]
        if len(errors) == n:
            raise errors[0]
        if errors:
            warnings.warn(f"{len(errors)} of {n} warm calls of {function} failed: {errors[0]}", RuntimeWarning, 2)
        succeeded = [future.invocation for future in futures if future.exception() is None]
        return sum(bool(invocation and invocation.report and invocation.report.cold_start) for invocation in succeeded)

    def stats(
        self, *, price_per_gb_second: Optional[float] = None, price_per_request: float = PRICE_PER_REQUEST
    ) -> Stats:
        """Tells what the invocations came to so far: counts, latencies, billing and cost.

        The billing figures and the cost cover the invocations made with the log tail
        (``log_tail=True``, :meth:`warm`, a ``max_cost``), whose REPORT lines say what was billed.

        Args:
            price_per_gb_second: US dollars per GB-second for every function; None: Lambda's list
                price for each function's architecture (read once from its configuration).
            price_per_request: US dollars per request.

        Returns:
            The figures, which print as a table (and show as one in a notebook).
        """
        return self._stats(price_per_gb_second, price_per_request, self.timeline())

    def _stats(
        self, price_per_gb_second: Optional[float], price_per_request: float, timeline: Optional[Timeline]
    ) -> Stats:
        summary = self._engine.stats()
        billed = summary.pop("billed_by_function")
        priced_at = {
            name: ("as asked", price_per_gb_second) if price_per_gb_second is not None else self._rate(name)
            for name in billed
        }
        tally = self._chunk_tally
        return Stats(
            **summary,
            timeline=timeline,
            journal_unrecorded=self._journals.unrecorded(),
            chunks=tally.chunks,
            chunked_calls=tally.calls,
            chunked_call_failures=tally.failures,
            billed_by_function=billed,
            priced_at=priced_at,
            price_per_request=price_per_request,
        )

    def timeline(self) -> Timeline:
        """Draws the last calls (up to 10,000) as a timeline.

        Each call is a bar from its first send to its end, grouped by function, with its
        attempts, throttle waits, cold start and failure marked; below, the calls in flight
        beside the concurrency limits, and the request rate over time.

        Returns:
            The picture, shown inline in a notebook; ``.save("run.svg")`` or
            ``.save("run.html")`` writes it from a script.
        """
        return Timeline(self._engine.timeline())

    def tune(
        self,
        fn: str,
        events: Optional[list[Any]] = None,
        *,
        memory_sizes: tuple[int, ...] = DEFAULT_MEMORY_SIZES,
        invocations: int = 10,
        concurrency: int = 5,
        strategy: str = "balanced",
        apply: bool = False,
        alias: Optional[str] = None,
        include_cold: bool = False,
    ) -> TuneResult:
        """Measures a function at each memory size and picks the best one.

        At each size, ``fn`` is run ``invocations`` times with its ``events`` in turn,
        ``concurrency`` at a time, after as many calls to start the environments (whose cold
        starts are counted apart unless ``include_cold``). Each size is reported by its billed
        duration (the mean without the top and bottom fifth, and p90), its cost per invocation
        at the function's architecture's price with the request charge, and its cold starts.
        Afterwards $LATEST's memory is as it was (unless the best size is applied there) and the
        versions and aliases the run made are deleted, even after an error, Ctrl-C or the death
        of this process (see :class:`~lambda_executor.tune.TuneResult`).

        Args:
            fn: The deployed function's name.
            events: The events to invoke it with, in turn; None: ``{}``.
            memory_sizes: The memory sizes to try, in MB (128 to 10,240).
            invocations: Measured invocations per size.
            concurrency: Invocations at a time.
            strategy: What "best" means: ``"cost"``, ``"speed"`` or ``"balanced"``.
            apply: Set the best size on $LATEST (or, with ``alias``, on a version the alias then
                points at).
            alias: With ``apply``, the alias to point at a version with the best size; None:
                $LATEST is set.
            include_cold: Measure cold starts with the rest rather than apart.

        Returns:
            The measurements per size and the size chosen; it prints as a table (and shows a
            chart in a notebook).

        Raises:
            ValueError: A setting is out of range, or ``alias`` is given without ``apply``.
            DeployError: Lambda refused a change of the function's configuration.
        """
        check(fn, memory_sizes, invocations, concurrency, strategy)
        if alias is not None and not apply:
            raise ValueError("alias names where to apply the best size: pass apply=True with it")
        with LambdaExecutor(concurrency, log_tail=True, **self._client) as runner:
            control = ControlPlane(client=self._client)
            options = (memory_sizes, invocations, concurrency, strategy, apply, alias, include_cold)
            return tune(control, runner, self._client, fn, events or [{}], *options)

    def _rate(self, function: str) -> tuple[str, float]:
        """`function`'s architecture and its price per GB-second; x86_64's, said to be assumed,
        where its configuration cannot be read."""
        if function not in self._rates:
            architecture, why = self._engine.architecture(function)
            if architecture in PRICES_PER_GB_SECOND:
                self._rates[function] = (architecture, PRICES_PER_GB_SECOND[architecture])
            else:
                assumed = f"x86_64, assumed: {why or f'unknown architecture {architecture}'}"
                self._rates[function] = (assumed, PRICES_PER_GB_SECOND["x86_64"])
        return self._rates[function]

    def _progress(self, function: str, iterables: tuple) -> Progress:
        try:
            total: Optional[int] = min(len(iterable) for iterable in iterables) if iterables else 0
        except TypeError:
            total = None
        return Progress(total, lambda: self._engine.progress_counts(function), function)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stops taking new calls and, with ``wait``, waits for those submitted.

        An invocation already sent cannot be called back: ``cancel_futures`` cancels only the
        calls not sent yet, and those in flight finish. Ctrl-C during the wait stops waiting:
        what was not sent is cancelled, and a :class:`RuntimeWarning` says how many calls in
        flight were left to run unobserved. Once the wait ends, the executor's journal is
        committed and closed.

        Args:
            wait: Wait until every invocation submitted has ended.
            cancel_futures: Cancel the calls not sent yet.

        Raises:
            KeyboardInterrupt: Ctrl-C stopped the wait.
        """
        with self._shutdown_lock:
            self._shutdown = True
            pending = list(self._pending)
        if cancel_futures:
            _abandon_all(pending)
        if wait and not self._abandoned:
            try:
                self._engine.wait_idle()
            except KeyboardInterrupt:
                # One interrupt ends the wait, here and at exit; what was sent may still run.
                self._abandoned = True
                # What was not sent is not sent now.
                in_flight = _abandon_all(list(self._pending))
                if in_flight:
                    warnings.warn(
                        f"stopped waiting for {in_flight} invocations in flight: they were sent and may have run, "
                        f"and their results are lost",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                raise
            if self._journals.own is not None:
                self._journals.close(self._journals.own)

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> Literal[False]:
        """Shuts the executor down on leaving the ``with`` block, as :meth:`shutdown` does.

        It waits for the calls submitted, unless leaving on Ctrl-C; leaving on an exception
        cancels the calls not sent yet.

        Args:
            exc_type: The type of the exception leaving the block, if any.
            exc_val: The exception, if any.
            exc_tb: Its traceback, if any.

        Returns:
            False: the exception, if any, goes on.
        """
        # Unlike ThreadPoolExecutor, leaving on an exception cancels what was not sent yet: the
        # batch is being abandoned, so its invocations should not run. After Ctrl-C it does not
        # wait for those already sent either (they finish unobserved), so one interrupt ends it.
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        self.shutdown(wait=not interrupted, cancel_futures=exc_type is not None)
        return False

    def concurrency_limit(self, fn: FunctionRef) -> int:
        """Tells how many invocations of ``fn`` the executor lets be in flight now.

        The limit is adaptive: ``max_workers`` until Lambda's throttles lower it; it grows back
        while Lambda runs all that it lets through.

        Args:
            fn: The deployed function, as :meth:`submit` takes it.

        Returns:
            The function's current in-flight limit.
        """
        return self._engine.concurrency_limit(self._targets.resolve(fn)[0])

    def __repr__(self) -> str:
        # The engine's counters alone: a repr neither prices nor copies the timeline.
        counts = self._engine.stats()
        return (
            f"<LambdaExecutor {self._state} max_workers={self._max_workers} invocations={counts['invocations']} "
            f"failures={counts['failures']} throttles={counts['throttles']} retries={counts['retries']}>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>LambdaExecutor</b> ({self._state}, max_workers={self._max_workers})</p>"
            + self._stats(None, PRICE_PER_REQUEST, timeline=None)._repr_html_()
        )

    @property
    def _state(self) -> str:
        return "shut down" if self._shutdown else "running"


def submit_all(executor: LambdaExecutor, fn: FunctionRef, calls: Iterable[tuple], chunksize: int) -> collections.deque:
    """LambdaPool's maps: `fn(*args)` for each args of `calls`, every call converted and checked
    before any is sent (chunked as map does); the futures, in order, of plain calls or chunks."""
    function, path = executor._targets.resolve(fn)
    numbered = enumerate(calls)
    sent = chunks(numbered, chunksize) if _chunked(path, chunksize) else numbered
    run = executor._map_run(function, path, sent, None)
    run.start(None)
    return run.futures


def _abandon_all(pending: list[LambdaFuture]) -> int:
    """Cancels the futures not sent and abandons those in flight, telling the log how many of
    each (WARNING: their work is lost); returns how many were in flight."""
    cancelled = in_flight = 0
    for future in pending:
        if abandon(future):
            cancelled += 1
        elif future.running():
            in_flight += 1
    if cancelled or in_flight:
        _shutdown_log.warning(
            "shutdown cancelled %d calls not sent, and abandoned %d in flight: nothing more is sent for them, and "
            "their results arrive only if Lambda ran them",
            cancelled,
            in_flight,
        )
    return in_flight


def _chunked(path: Optional[str], chunksize: int) -> bool:
    """Whether a map sends its calls in chunks: through the agent with chunksize > 1."""
    if not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError("chunksize must be >= 1")
    return path is not None and chunksize > 1
