"""LambdaExecutor: a concurrent.futures.Executor whose work runs in deployed Lambda functions.

The Executor contract follows CPython's Lib/concurrent/futures/thread.py; the invocations
themselves run in the Rust engine (tokio tasks, one shared aws-sdk-lambda client).
"""

from __future__ import annotations

import collections
import os
import threading
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures._base import CANCELLED, FINISHED, PENDING, RUNNING
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union

from ._core import Engine, InvocationInfo, Journal, RetryPolicy, on_completion_thread, to_json
from .agent import DEFAULT_COMPRESS_OVER, WARM_EVENT
from .errors import FunctionError, PayloadTooLargeError, warn_insecure
from .progress import Progress
from .remote import (
    RemoteFunction,
    decode_chunk,
    decode_result,
    encode_call,
    encode_chunk,
    import_path,
    is_dotted_import_path,
)
from .stats import PRICE_PER_GB_SECOND, PRICE_PER_REQUEST, Stats

if TYPE_CHECKING:
    from ._core import EncodedEvent, JobHandle, _ClientSettings

DEFAULT_MAX_WORKERS = 1000  # Lambda's default account concurrency per region
# map without buffersize converts every event before sending any, but keeps at most this many
# bytes of them converted: the rest wait as Python objects and are converted again (and sent)
# as earlier invocations finish, so large payloads cost memory for what is in flight only.
MAP_CONVERTED_BYTES = 16 * 1024 * 1024
# A chunk of calls holds at most this many bytes of arguments as JSON (before compression), well
# under Lambda's 6 MB request limit: a larger chunk would save nothing more per call, and its
# results, which travel back together, would near the limit too.
CHUNK_BYTES = 1024 * 1024

# As ThreadPoolExecutor's workers are joined at exit, live executors finish their work then.
_live_executors: weakref.WeakSet[LambdaExecutor] = weakref.WeakSet()


def _shutdown_at_exit() -> None:
    for executor in list(_live_executors):
        # A forked child owes nothing to executors its parent made (their calls run there).
        if executor._pid == os.getpid():
            executor.shutdown(wait=True)


threading._register_atexit(_shutdown_at_exit)  # type: ignore[attr-defined]


class _BeingSent:
    """The job handle of a held-back future while map converts and sends it: not cancellable."""

    sent = True

    def cancel(self) -> bool:
        return False

    def abandon(self) -> bool:
        return False


_BEING_SENT = _BeingSent()


class LambdaFuture(Future):
    """A Future for one invocation. `invocation` tells what happened once it is done.

    Its state is RUNNING only while an attempt is in flight (Lambda may be running it), as a
    thread pool's future is while a worker runs it; waiting for room, its turn at the rate, or a
    throttle's or retry's delay, it is PENDING and can be cancelled.
    """

    invocation: Optional[InvocationInfo] = None
    _job: Optional[Union[JobHandle, _BeingSent]] = None
    _stored_state = PENDING
    # The executor's pending futures: each submitted future gets the executor's own set; this
    # shared default is only read (by a future never submitted).
    _siblings: set[LambdaFuture] = set()  # noqa: RUF012

    # Future's own methods read and write `_state`; sent but not done reads as RUNNING.
    @property
    def _state(self) -> str:
        state = self._stored_state
        if state == PENDING and self._job is not None and self._job.sent:
            return RUNNING
        return state

    @_state.setter
    def _state(self, state: str) -> None:
        self._stored_state = state

    def cancel(self) -> bool:
        if self._stored_state == FINISHED:  # the common case (map cancels each future it read): no lock
            return False
        # An invocation already sent cannot be called back, as with a thread already running.
        job = self._job
        if job is not None and not job.cancel():
            return False
        if not super().cancel():
            return False
        # What a pool's worker does with a cancelled future it takes: mark it notified, so that
        # wait() and as_completed() count it done.
        with self._condition:
            if self._stored_state == CANCELLED:
                self.set_running_or_notify_cancel()
        return True

    def _abandon(self) -> bool:
        """What shutdown, Ctrl-C and an abandoned map do: cancel(), and for a call in flight, nothing
        more sent: if Lambda turns out not to run it (a throttle), the future is cancelled then."""
        job = self._job
        if job is not None and self._stored_state != FINISHED:
            job.abandon()
        return self.cancel()

    def _claim(self) -> bool:
        """Takes a future map held back, to send it: False if it was cancelled meanwhile; from
        now on cancel() returns False, as for a sent one."""
        with self._condition:
            if self._stored_state != PENDING:
                return False
            self._job = _BEING_SENT
            return True

    def result(self, timeout: Optional[float] = None) -> Any:
        # Finished is final (set once, under the lock): a result can be read without the lock,
        # which a map returning a journal's stored results does 100,000 times a second.
        if self._stored_state == FINISHED and self._exception is None:
            return self._result
        return self._wait(super().result, timeout)

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        return self._wait(super().exception, timeout)

    def _wait(self, wait: Callable[[Optional[float]], Any], timeout: Optional[float]) -> Any:
        self._refuse_waiting_for_itself()
        try:
            return wait(timeout)
        except KeyboardInterrupt:
            # Ctrl-C while waiting (a notebook's interrupt button) means stop: the executor's
            # invocations not sent yet are cancelled; it stays usable for new work.
            for future in list(self._siblings):
                future._abandon()
            raise

    def _refuse_waiting_for_itself(self) -> None:
        # Done-callbacks run on the one thread that resolves every LambdaFuture: waiting there
        # for one not yet done would wait forever.
        if on_completion_thread() and not self.done():
            raise RuntimeError(
                "cannot wait for a pending LambdaFuture inside a done-callback; "
                "submit follow-up work and collect it outside the callback"
            )


class AgentFuture(LambdaFuture):
    """The future of a Python function called through the agent: it unpacks a compressed result."""

    def set_result(self, result: Any) -> None:
        try:
            result = decode_result(result)
        except Exception as error:  # noqa: BLE001 - a corrupt envelope fails this future alone
            self.set_exception(error)
            return
        super().set_result(result)


class ChunkFuture(LambdaFuture):
    """The future of one invocation carrying a chunk of calls through the agent. It resolves to
    the calls' results in order, a failed call's as its FunctionError; `calls` says how many it
    carries and, once done, `failures` how many of them failed (all, if the invocation did)."""

    failures = 0

    def __init__(self, calls: int, tally: _ChunkTally) -> None:
        super().__init__()
        self.calls = calls
        self._tally = tally

    def set_result(self, result: Any) -> None:
        request_id = self.invocation.request_id if self.invocation else None
        function = self.invocation.function if self.invocation else None
        try:
            results = decode_chunk(result, self.calls, function or "the agent", request_id)
        except Exception as error:  # noqa: BLE001 - an unreadable answer fails this chunk alone
            self.set_exception(error)
            return
        self.failures = sum(isinstance(result, FunctionError) for result in results)
        self._tally.add(self.calls, self.failures)
        super().set_result(results)

    def set_exception(self, exception: Optional[BaseException]) -> None:
        self.failures = self.calls
        self._tally.add(self.calls, self.calls)
        super().set_exception(exception)


class _ChunkTally:
    """The calls made in chunks so far, for stats(): invocations, calls, failed calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.chunks = self.calls = self.failures = 0

    def add(self, calls: int, failures: int) -> None:
        with self._lock:
            self.chunks += 1
            self.calls += calls
            self.failures += failures


class _Chunk(list):
    """The arguments of the calls a map sends in one invocation (one call's are a tuple)."""


class LambdaFunction:
    """A callable handle on a deployed function: `fn(event)` invokes it and returns its result.

    It works wherever a callable does (`ThreadPoolExecutor().map(fn, events)`), and
    `LambdaExecutor().map(fn, events)` sends it down the fast path.
    """

    def __init__(self, name: str, qualifier: Optional[str] = None, **client_options: Any) -> None:
        self.name = name
        self.qualifier = qualifier
        self.client_options = client_options
        self._executor: Optional[LambdaExecutor] = None
        self._lock = threading.Lock()

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._executor is None:
                self._executor = LambdaExecutor(**self.client_options)
        return self._executor.submit(self, *args, **kwargs).result()

    def __repr__(self) -> str:
        return f"LambdaFunction({self.reference!r})"


FunctionRef = Union[str, LambdaFunction, RemoteFunction, Callable[..., Any]]


class LambdaExecutor(Executor):
    """Runs invocations of deployed Lambda functions concurrently.

    `submit(fn, *args, **kwargs)` and `map(fn, *iterables)` take `fn` as a function name, ARN,
    `name:qualifier` or LambdaFunction. The event sent is the one positional argument; several
    positional arguments are sent as a JSON array, keyword arguments alone as an object, and no
    arguments as `{}`. Futures resolve to the decoded JSON result (None for an empty body).

    With `agent="function-name"` (a function deployed with lambda_executor.agent.handler), `fn` may
    also be a plain Python function of the deployed code: `submit(func, *args, **kwargs)` calls
    `func(*args, **kwargs)` there, sent by import path with JSON arguments, compressed beyond
    `compress_over` bytes. `remote(func, agent=...)` names another agent for one call.

    `max_cost` caps what the invocations may cost, in US dollars at Lambda's list prices (those of
    `stats()`): every call then asks for its log tail, whose REPORT line says what was billed, and
    once the cost reaches the cap nothing more is sent. Calls waiting fail with BudgetExceeded;
    calls in flight finish (and may take the cost past the cap).
    """

    def __init__(
        self,
        max_workers: Optional[int] = None,
        *,
        region: Optional[str] = None,
        profile: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        verify: Union[bool, str, os.PathLike[str], None] = None,
        proxies: Optional[dict[str, str]] = None,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        qualifier: Optional[str] = None,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
        retry: Optional[RetryPolicy] = None,
        agent: Optional[str] = None,
        compress_over: Optional[int] = DEFAULT_COMPRESS_OVER,
        journal: Union[str, os.PathLike[str], None] = None,
        retry_failed: bool = True,
        resume_in_flight: bool = True,
        max_cost: Optional[float] = None,
    ) -> None:
        if max_workers is None:
            max_workers = DEFAULT_MAX_WORKERS
        if verify is False:
            warn_insecure(stacklevel=2)
        self._max_workers = max_workers
        self._agent = agent
        self._compress_over = compress_over
        client: _ClientSettings = {
            "region": region,
            "profile": profile,
            "endpoint_url": endpoint_url,
            "verify": verify,
            "proxies": proxies,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        self._retry_failed = retry_failed
        self._resume_in_flight = resume_in_flight
        self._journal = self._open_journal(journal)
        # Outcomes the journals of single maps could not write (the executor's own journal counts its own).
        self._unrecorded_by_calls = 0
        self._engine = Engine(
            max_workers,
            client=client,
            qualifier=qualifier,
            invocation_type=invocation_type,
            log_tail=log_tail,
            retry=retry,
            journal=self._journal,
            max_cost=max_cost,
            price_per_gb_second=PRICE_PER_GB_SECOND,
            price_per_request=PRICE_PER_REQUEST,
        )
        self._shutdown = False
        # Set when an interrupt stopped a wait for calls in flight: nothing waits for them again.
        self._abandoned = False
        self._pid = os.getpid()
        self._shutdown_lock = threading.Lock()
        self._pending: set[LambdaFuture] = set()
        self._chunk_tally = _ChunkTally()
        _live_executors.add(self)

    def submit(self, fn: FunctionRef, /, *args: Any, **kwargs: Any) -> LambdaFuture:
        function, path = self._target(fn)
        return self._submit(function, self._event(path, args, kwargs), AgentFuture() if path else LambdaFuture())

    def _submit(self, function: str, event: Any, future: LambdaFuture, log_tail: Optional[bool] = None) -> LambdaFuture:
        return self._track(future, lambda: self._engine.submit(function, event, future, log_tail=log_tail))

    def _send(self, event: EncodedEvent, future: LambdaFuture) -> LambdaFuture:
        # A future map held back was submitted before any shutdown: it is sent all the same.
        held = future in self._pending
        return self._track(future, lambda: self._engine.send_encoded(event, future), held)

    def _open_journal(self, path: Union[str, os.PathLike[str], None]) -> Optional[Journal]:
        if path is None:
            return None
        return Journal(path, retry_failed=self._retry_failed, resume_in_flight=self._resume_in_flight)

    def _track(
        self, future: LambdaFuture, start: Callable[[], Optional[JobHandle]], held: bool = False
    ) -> LambdaFuture:
        with self._shutdown_lock:
            if self._shutdown and not held:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future._job = start()
            # A future the journal resolved at once (no job) has nothing to cancel or wait for.
            if not held and future._job is not None:
                self._register(future)
        return future

    def _encode(
        self, function: str, path: Optional[str], call: Union[tuple, _Chunk], index: int, journal: Optional[Journal]
    ) -> EncodedEvent:
        """One call of a map (or a chunk of calls, from the index-th) converted and checked; an
        event that cannot be sent names its place."""
        try:
            if isinstance(call, _Chunk):
                event = encode_chunk(path or "", call, self._compress_over)
            else:
                event = self._event(path, call, {})
            return self._engine.encode(function, event, journal=journal)
        except (TypeError, PayloadTooLargeError) as error:
            last = index + len(call) - 1 if isinstance(call, _Chunk) else index
            place = f"event {index}" if last == index else f"events {index} to {last} (a chunk)"
            raise type(error)(f"{place} of the map: {error}") from None

    def _new_future(self, path: Optional[str], call: Union[tuple, _Chunk]) -> LambdaFuture:
        if isinstance(call, _Chunk):
            return ChunkFuture(len(call), self._chunk_tally)
        return AgentFuture() if path else LambdaFuture()

    def _calls(
        self, path: Optional[str], calls: Iterator[tuple[int, tuple]], chunksize: int
    ) -> Iterator[tuple[int, Union[tuple, _Chunk]]]:
        """What a map sends, each with the index of its (first) call: its calls one by one, or,
        through the agent with chunksize > 1, in chunks."""
        if not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError("chunksize must be >= 1")
        return _chunks(calls, chunksize) if path is not None and chunksize > 1 else calls

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
        """Like Executor.map: results in order, `timeout` counted from this call, the first error
        raised when reached. Without `buffersize`, every event is converted before any is sent, so
        a bad one raises here with nothing sent. `buffersize` bounds how many invocations are
        submitted ahead, reading events as results are taken: a bad event (or a failing source)
        stops the reading, the invocations submitted before it still run and are yielded, and the
        error is raised in its place. `progress=True` shows a tqdm bar of finished, failed and
        retrying invocations. `journal` journals this map alone (see the executor's `journal`).

        With a Python function sent to the agent, `chunksize` > 1 sends up to that many calls in
        one invocation (and at most CHUNK_BYTES of their arguments as JSON); the results come back
        one by one all the same, and `buffersize` then counts chunks."""
        if buffersize is not None and (not isinstance(buffersize, int) or buffersize < 1):
            raise ValueError("buffersize must be None or > 0")
        function, path = self._target(fn)  # a bad function is an error now, not at the first result
        calls = self._calls(path, enumerate(zip(*iterables)), chunksize)
        map_journal = self._open_journal(journal)
        bar = self._progress(fn, iterables) if progress else None
        end_time = None if timeout is None else timeout + time.monotonic()
        executor_weakref = weakref.ref(self)

        def send(event: EncodedEvent, future: LambdaFuture) -> LambdaFuture:
            future = self._send(event, future)
            if bar is not None:
                future.add_done_callback(bar.finished_chunk if isinstance(future, ChunkFuture) else bar.finished)
            return future

        fs: collections.deque = collections.deque()
        # What stopped the reading of events (with buffersize): raised in the bad event's place.
        failure: list[Exception] = []

        def submit_next() -> bool:
            """Submits the next event; False when there is none, or it could not be sent."""
            try:
                index, call = next(calls)
                fs.append(send(self._encode(function, path, call, index, map_journal), self._new_future(path, call)))
                return True
            except StopIteration:
                return False
            except Exception as error:  # noqa: BLE001 - raised in the bad event's place
                failure.append(error)
                return False

        try:
            if buffersize is None:
                self._send_all(function, path, calls, send, fs, map_journal)
            else:
                while len(fs) < buffersize and submit_next():
                    pass
        except BaseException:
            for future in fs:
                future._abandon()
            if bar is not None:
                bar.close()
            raise

        def result_iterator() -> Iterator[Any]:
            try:
                while fs:
                    if buffersize and not failure and executor_weakref() is not None:
                        submit_next()
                    chunk = isinstance(fs[0], ChunkFuture)
                    # Careful not to keep a reference to the popped future (and its result).
                    if end_time is None:
                        result = _result_or_cancel(fs.popleft())
                    else:
                        result = _result_or_cancel(fs.popleft(), end_time - time.monotonic())
                    if not chunk:
                        yield result
                        continue
                    for call_result in result:
                        if isinstance(call_result, FunctionError):
                            raise call_result
                        yield call_result
                    del result
                if failure:
                    raise failure[0]
            finally:
                # Interrupted or abandoned (Ctrl-C in a notebook, an error, a break): what was not
                # sent yet is not sent.
                for future in fs:
                    future._abandon()
                if bar is not None:
                    bar.close()
                if map_journal is not None:
                    # Commits what was recorded; calls still in flight finish recording on their own.
                    self._close_journal(map_journal, of_a_call=True)

        return result_iterator()

    def _send_all(
        self,
        function: str,
        path: Optional[str],
        calls: Iterable[tuple[int, Union[tuple, _Chunk]]],
        send: Callable[[EncodedEvent, LambdaFuture], LambdaFuture],
        fs: collections.deque,
        journal: Optional[Journal],
    ) -> None:
        """map without buffersize: converts (and so checks) every event before sending any, then
        sends them, holding back those past MAP_CONVERTED_BYTES until earlier ones finish. Each
        future joins `fs` as it is made, so an interrupt while sending cancels what is not sent."""
        converted: list[tuple[int, Union[tuple, _Chunk], Optional[EncodedEvent]]] = []
        kept = 0
        for index, call in calls:
            event = self._encode(function, path, call, index, journal)
            keep = kept < MAP_CONVERTED_BYTES
            kept += event.size if keep else 0
            converted.append((index, call, event if keep else None))
        held_back: collections.deque = collections.deque()
        in_flight = [0]  # bytes sent and not finished
        lock = threading.Lock()

        def finished(size: int) -> Callable[[Future[Any]], None]:
            def release(_: Future[Any]) -> None:
                with lock:
                    in_flight[0] -= size
                send_held_back()

            return release

        def start(event: EncodedEvent, future: LambdaFuture) -> LambdaFuture:
            size = event.size  # 0 once sent
            future = send(event, future)
            if future.done():  # resolved from a journal: nothing in flight
                return future
            with lock:
                in_flight[0] += size
            future.add_done_callback(finished(size))
            return future

        def send_held_back() -> None:
            while True:
                with lock:
                    if not held_back or (in_flight[0] and in_flight[0] >= MAP_CONVERTED_BYTES):
                        return
                    future, index, call = held_back.popleft()
                if not future._claim():  # cancelled meanwhile
                    continue
                try:
                    start(self._encode(function, path, call, index, journal), future)
                except Exception as error:  # noqa: BLE001 - the event changed since it was checked
                    future.set_exception(error)

        for index, call, kept_event in converted:
            if kept_event is not None:
                fs.append(start(kept_event, self._new_future(path, call)))
            else:
                waiting = self._register(self._new_future(path, call))
                held_back.append((waiting, index, call))
                fs.append(waiting)
        send_held_back()

    def _submit_map(self, fn: FunctionRef, calls: Iterable[tuple], chunksize: int) -> collections.deque:
        """LambdaPool's maps: `fn(*args)` for each args of `calls`, every call converted and checked
        before any is sent (chunked as map does); the futures, in order, of plain calls or chunks."""
        function, path = self._target(fn)
        fs: collections.deque = collections.deque()
        try:
            self._send_all(function, path, self._calls(path, enumerate(calls), chunksize), self._send, fs, None)
        except BaseException:
            for future in fs:
                future._abandon()
            raise
        return fs

    def _register(self, future: LambdaFuture) -> LambdaFuture:
        """Counts a future among the executor's pending ones, which Ctrl-C and shutdown cancel
        (map registers the ones it holds back before they are sent)."""
        future._siblings = self._pending
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def ainvoke(self, fn: FunctionRef, /, *args: Any, **kwargs: Any) -> Any:
        """Invokes `fn` from asyncio and returns its result, without blocking the event loop. The
        event follows `submit`'s rule; cancelling the awaiting task cancels an invocation not yet sent."""
        return await self._ainvoke(fn, args, kwargs, None)

    async def _ainvoke(self, fn: FunctionRef, args: tuple, kwargs: dict, journal: Optional[Journal]) -> Any:
        function, path = self._target(fn)
        return await _decoded(self._astart(function, path, args, kwargs, journal), path)

    def _astart(
        self, function: str, path: Optional[str], args: tuple, kwargs: dict, journal: Optional[Journal]
    ) -> Awaitable[Any]:
        """Starts one invocation from asyncio: an event that cannot be sent raises here, before
        anything is sent."""
        event = self._event(path, args, kwargs)
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new invocations after shutdown")
        return self._engine.ainvoke(function, event, journal=journal)

    async def amap(
        self,
        fn: FunctionRef,
        events: Union[Iterable[Any], AsyncIterator[Any]],
        *,
        buffersize: Optional[int] = None,
        progress: bool = False,
        journal: Union[str, os.PathLike[str], None] = None,
    ) -> AsyncIterator[Any]:
        """Yields the result of invoking `fn` with each event, in order. At most `buffersize`
        invocations (default 2 x max_workers) are started ahead of the consumer; the first error
        is raised when reached, and leaving early cancels what was not sent. A bad event (or a
        failing source) stops the reading: the invocations started before it are yielded, then
        its error is raised, naming its place. `journal` journals this call alone."""
        async for task in self._atasks(fn, events, buffersize, progress, ordered=True, journal=journal):
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
        """As `amap`, but yields each result as soon as it arrives."""
        async for task in self._atasks(fn, events, buffersize, progress, ordered=False, journal=journal):
            yield task.result()

    async def _atasks(
        self,
        fn: FunctionRef,
        events: Any,
        buffersize: Optional[int],
        progress: bool,
        ordered: bool,
        journal: Union[str, os.PathLike[str], None],
    ) -> AsyncIterator[Any]:
        """Keeps up to `buffersize` invocations running; yields each finished task (in order, or
        as they finish)."""
        import asyncio  # only for the async API: `import lambda_executor` stays light

        if buffersize is not None and (not isinstance(buffersize, int) or buffersize < 1):
            raise ValueError("buffersize must be None or > 0")
        function, path = self._target(fn)
        buffersize = buffersize or 2 * self._max_workers
        bar = self._progress(fn, (events,)) if progress else None
        call_journal = self._open_journal(journal)  # None: the executor's own journal, if any
        source = _aiterate(events)
        running: dict = {}  # the tasks, in the order they were started
        exhausted, index = False, 0
        # What stopped the reading of events: raised once the invocations before it are yielded.
        failure: Optional[Exception] = None
        try:
            while True:
                while not exhausted and len(running) < buffersize:
                    try:
                        event = await source.__anext__()
                        started = self._astart(function, path, (event,), {}, call_journal)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    except (TypeError, PayloadTooLargeError) as error:
                        exhausted, failure = True, type(error)(f"event {index} of the map: {error}")
                        break
                    except Exception as error:  # noqa: BLE001 - a failing source, raised in its place
                        exhausted, failure = True, error
                        break
                    index += 1
                    task = asyncio.ensure_future(_decoded(started, path))
                    if bar is not None:
                        task.add_done_callback(bar.finished)
                    running[task] = None
                if not running:
                    if failure is not None:
                        raise failure
                    return
                if ordered:
                    first = next(iter(running))
                    await asyncio.wait((first,))
                    done = [first]
                else:
                    done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    del running[task]
                    yield task
        finally:
            for task in running:
                task.cancel()
            if bar is not None:
                bar.close()
            if call_journal is not None:
                self._close_journal(call_journal, of_a_call=True)

    def warm(self, fn: FunctionRef, n: int) -> int:
        """Starts `n` execution environments of `fn` at once (n concurrent invocations with
        WARM_EVENT, which the handler should answer at once), so a following batch meets warm
        ones. Returns how many of the calls that succeeded were cold starts. If every call
        failed, raises the first error; if some did, warns how many."""
        if not isinstance(n, int) or not 1 <= n <= self._max_workers:
            raise ValueError(f"n must be 1 to max_workers ({self._max_workers}), not {n!r}")
        function = self._target(fn)[0]
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
        self, *, price_per_gb_second: float = PRICE_PER_GB_SECOND, price_per_request: float = PRICE_PER_REQUEST
    ) -> Stats:
        """What the invocations came to so far; cost at the given prices (Lambda's x86 list
        prices by default)."""
        tally = self._chunk_tally
        unrecorded = self._unrecorded_by_calls + (self._journal.unrecorded()[0] if self._journal is not None else 0)
        return Stats(
            **self._engine.stats(),
            journal_unrecorded=unrecorded,
            chunks=tally.chunks,
            chunked_calls=tally.calls,
            chunked_call_failures=tally.failures,
            price_per_gb_second=price_per_gb_second,
            price_per_request=price_per_request,
        )

    def _progress(self, fn: FunctionRef, iterables: tuple) -> Progress:
        try:
            total: Optional[int] = min(len(iterable) for iterable in iterables) if iterables else 0
        except TypeError:
            total = None
        function = self._target(fn)[0]
        return Progress(total, lambda: self._engine.progress_counts(function), function)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._shutdown_lock:
            self._shutdown = True
            pending = list(self._pending)
        if cancel_futures:
            for future in pending:
                future._abandon()
        if wait and not self._abandoned:
            try:
                self._engine.wait_idle()
            except KeyboardInterrupt:
                # One interrupt ends the wait, here and at exit; what was sent may still run.
                self._abandoned = True
                pending = list(self._pending)
                for future in pending:  # what was not sent is not sent now
                    future._abandon()
                in_flight = sum(future.running() for future in pending)
                if in_flight:
                    warnings.warn(
                        f"stopped waiting for {in_flight} invocations in flight: they were sent and may have run, "
                        f"and their results are lost",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                raise
            if self._journal is not None:
                self._close_journal(self._journal, of_a_call=False)

    def _close_journal(self, journal: Journal, of_a_call: bool) -> None:
        """Closes a journal, warning of the outcomes it could not write (counted in `stats()`)."""
        journal.close()
        unrecorded, why = journal.unrecorded()
        if unrecorded:
            if of_a_call:
                self._unrecorded_by_calls += unrecorded
            warnings.warn(
                f"the outcomes of {unrecorded} calls could not be written to the journal {journal.path} ({why}): a "
                f"rerun sends those calls again",
                RuntimeWarning,
                stacklevel=4,
            )

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> Literal[False]:
        # Unlike ThreadPoolExecutor, leaving on an exception cancels what was not sent yet: the
        # batch is being abandoned, so its invocations should not run. After Ctrl-C it does not
        # wait for those already sent either (they finish unobserved), so one interrupt ends it.
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        self.shutdown(wait=not interrupted, cancel_futures=exc_type is not None)
        return False

    def concurrency_limit(self, fn: FunctionRef) -> int:
        """The current adaptive in-flight limit for `fn` (max_workers until throttles lower it)."""
        return self._engine.concurrency_limit(self._target(fn)[0])

    def _target(self, fn: FunctionRef) -> tuple[str, Optional[str]]:
        """(the deployed function to invoke, the import path of the Python function to call there
        through the agent, or None for a plain invocation)."""
        if isinstance(fn, RemoteFunction):
            return fn.agent, fn.path
        if self._agent is not None and (
            (callable(fn) and not isinstance(fn, LambdaFunction)) or (isinstance(fn, str) and is_dotted_import_path(fn))
        ):
            return self._agent, import_path(fn)
        return _function_reference(fn), None

    def _event(self, path: Optional[str], args: tuple, kwargs: dict) -> Any:
        return encode_call(path, args, kwargs, self._compress_over) if path else _event(args, kwargs)

    def __repr__(self) -> str:
        stats = self.stats()
        return (
            f"<LambdaExecutor {self._state} max_workers={self._max_workers} invocations={stats.invocations} "
            f"failures={stats.failures} throttles={stats.throttles} retries={stats.retries}>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>LambdaExecutor</b> ({self._state}, max_workers={self._max_workers})</p>"
            + self.stats()._repr_html_()
        )

    @property
    def _state(self) -> str:
        return "shut down" if self._shutdown else "running"


async def _decoded(started: Awaitable[Any], path: Optional[str]) -> Any:
    """An invocation's result, decoded from the agent's answer when it called a Python function."""
    result = await started
    return decode_result(result) if path else result


def _function_reference(fn: Any) -> str:
    if isinstance(fn, str):
        return fn
    if isinstance(fn, LambdaFunction):
        return fn.reference
    raise TypeError(
        f"LambdaExecutor runs deployed Lambda functions: pass the function's name, ARN or a "
        f"LambdaFunction, e.g. executor.submit('my-function', event), not {type(fn).__name__} {fn!r}; "
        f"to call a Python function of deployed code, create the executor with agent='function-name'"
    )


def _event(args: tuple, kwargs: dict) -> Any:
    if args and kwargs:
        raise TypeError("pass the event as positional arguments or as keyword arguments, not both")
    if kwargs:
        return kwargs
    if len(args) == 1:
        return args[0]
    if args:
        return list(args)
    return {}


def _chunks(calls: Iterator[tuple[int, tuple]], size: int) -> Iterator[tuple[int, _Chunk]]:
    """The calls grouped in order, at most `size` and CHUNK_BYTES of arguments as JSON to a chunk
    (a call larger than that alone), each with the index of its first call. A call that cannot be
    converted, or a source that fails, ends the chunks with its error after the chunk of the calls
    before it, so that a map with buffersize still sends those."""
    chunk, first, used = _Chunk(), 0, 0
    try:
        for index, args in calls:
            try:
                size_of_args = len(to_json(args))
            except TypeError as error:
                raise TypeError(f"event {index} of the map: {error}") from None
            if chunk and (len(chunk) == size or used + size_of_args > CHUNK_BYTES):
                yield first, chunk
                chunk, used = _Chunk(), 0
            if not chunk:
                first = index
            chunk.append(args)
            used += size_of_args
    except Exception:
        if chunk:
            yield first, chunk
        raise
    if chunk:
        yield first, chunk


async def _aiterate(events: Any) -> AsyncIterator[Any]:
    if hasattr(events, "__aiter__"):
        async for event in events:
            yield event
    else:
        for event in events:
            yield event


def _result_or_cancel(future: LambdaFuture, timeout: Optional[float] = None) -> Any:
    try:
        try:
            return future.result(timeout)
        finally:
            future._abandon()
    finally:
        del future  # break a reference cycle with the exception in exc_info
