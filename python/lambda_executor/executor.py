"""LambdaExecutor: a concurrent.futures.Executor whose work runs in deployed Lambda functions.

The Executor contract follows CPython's Lib/concurrent/futures/thread.py; the invocations
themselves run in the Rust engine (tokio tasks, one shared aws-sdk-lambda client).
"""
from __future__ import annotations

import collections
import itertools
import threading
import time
import weakref
from concurrent.futures import Executor, Future
from typing import Any, Iterable, Iterator, Optional, Union

from ._core import Engine, InvocationInfo, RetryPolicy, on_completion_thread

DEFAULT_MAX_WORKERS = 1000  # Lambda's default account concurrency per region

# As ThreadPoolExecutor's workers are joined at exit, live executors finish their work then.
_live_executors: "weakref.WeakSet[LambdaExecutor]" = weakref.WeakSet()


def _shutdown_at_exit() -> None:
    for executor in list(_live_executors):
        executor.shutdown(wait=True)


threading._register_atexit(_shutdown_at_exit)  # type: ignore[attr-defined]


class LambdaFuture(Future):
    """A Future for one invocation. `invocation` tells what happened once it is done."""

    invocation: Optional[InvocationInfo] = None
    _job = None

    def cancel(self) -> bool:
        # An invocation already sent cannot be called back, as with a thread already running.
        job = self._job
        if job is not None and not job.cancel():
            return False
        return super().cancel()

    def running(self) -> bool:
        job = self._job
        return job is not None and job.sent and not self.done()

    def result(self, timeout: Optional[float] = None) -> Any:
        self._refuse_waiting_for_itself()
        return super().result(timeout)

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        self._refuse_waiting_for_itself()
        return super().exception(timeout)

    def _refuse_waiting_for_itself(self) -> None:
        # Done-callbacks run on the one thread that resolves every LambdaFuture: waiting there
        # for one not yet done would wait forever.
        if not self.done() and on_completion_thread():
            raise RuntimeError("cannot wait for a pending LambdaFuture inside a done-callback; "
                               "submit follow-up work and collect it outside the callback")


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


FunctionRef = Union[str, LambdaFunction]


class LambdaExecutor(Executor):
    """Runs invocations of deployed Lambda functions concurrently.

    `submit(fn, *args, **kwargs)` and `map(fn, *iterables)` take `fn` as a function name, ARN,
    `name:qualifier` or LambdaFunction. The event sent is the one positional argument; several
    positional arguments are sent as a JSON array, keyword arguments alone as an object, and no
    arguments as `{}`. Futures resolve to the decoded JSON result (None for an empty body).
    """

    def __init__(self, max_workers: Optional[int] = None, *, region: Optional[str] = None,
                 profile: Optional[str] = None, endpoint_url: Optional[str] = None,
                 qualifier: Optional[str] = None, invocation_type: str = "RequestResponse",
                 log_tail: bool = False, retry: Optional[RetryPolicy] = None) -> None:
        if max_workers is None:
            max_workers = DEFAULT_MAX_WORKERS
        self._max_workers = max_workers
        self._engine = Engine(max_workers, region=region, profile=profile, endpoint_url=endpoint_url,
                              qualifier=qualifier, invocation_type=invocation_type, log_tail=log_tail,
                              retry=retry)
        self._shutdown = False
        self._shutdown_lock = threading.Lock()
        self._pending: set[LambdaFuture] = set()
        _live_executors.add(self)

    def submit(self, fn: FunctionRef, /, *args: Any, **kwargs: Any) -> LambdaFuture:
        function = _function_reference(fn)
        event = _event(args, kwargs)
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = LambdaFuture()
            future._job = self._engine.submit(function, event, future)
            self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def map(self, fn: FunctionRef, *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1, buffersize: Optional[int] = None) -> Iterator[Any]:
        """Like Executor.map: results in order, `timeout` counted from this call, the first error
        raised when reached. `buffersize` bounds how many invocations are submitted ahead."""
        if buffersize is not None and (not isinstance(buffersize, int) or buffersize < 1):
            raise ValueError("buffersize must be None or > 0")
        _function_reference(fn)  # a bad function is an error now, not at the first result
        end_time = None if timeout is None else timeout + time.monotonic()
        zipped = zip(*iterables)
        if buffersize:
            fs: collections.deque = collections.deque(
                self.submit(fn, *args) for args in itertools.islice(zipped, buffersize))
        else:
            fs = collections.deque(self.submit(fn, *args) for args in zipped)
        executor_weakref = weakref.ref(self)

        def result_iterator() -> Iterator[Any]:
            try:
                while fs:
                    if buffersize and (executor := executor_weakref()) is not None:
                        args = next(zipped, None)
                        if args is not None:
                            fs.append(executor.submit(fn, *args))
                    # Careful not to keep a reference to the popped future (and its result).
                    if end_time is None:
                        yield _result_or_cancel(fs.popleft())
                    else:
                        yield _result_or_cancel(fs.popleft(), end_time - time.monotonic())
            finally:
                for future in fs:
                    future.cancel()

        return result_iterator()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._shutdown_lock:
            self._shutdown = True
            pending = list(self._pending)
        if cancel_futures:
            for future in pending:
                future.cancel()
        if wait:
            self._engine.wait_idle()

    def __exit__(self, exc_type, exc_val, exc_tb) -> bool:
        # Unlike ThreadPoolExecutor, leaving on an exception (KeyboardInterrupt included) cancels
        # what was not sent yet: the batch is being abandoned, so its invocations should not run.
        self.shutdown(wait=True, cancel_futures=exc_type is not None)
        return False

    def concurrency_limit(self, fn: FunctionRef) -> int:
        """The current adaptive in-flight limit for `fn` (max_workers until throttles lower it)."""
        return self._engine.concurrency_limit(_function_reference(fn))

    def __repr__(self) -> str:
        invocations, failures, throttles, retries = self._engine.totals()
        state = "shut down" if self._shutdown else "running"
        return (f"<LambdaExecutor {state} max_workers={self._max_workers} invocations={invocations} "
                f"failures={failures} throttles={throttles} retries={retries}>")


def _function_reference(fn: Any) -> str:
    if isinstance(fn, str):
        return fn
    if isinstance(fn, LambdaFunction):
        return fn.reference
    raise TypeError(
        f"LambdaExecutor runs deployed Lambda functions: pass the function's name, ARN or a "
        f"LambdaFunction, e.g. executor.submit('my-function', event), not {type(fn).__name__} {fn!r}"
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


def _result_or_cancel(future: Future, timeout: Optional[float] = None) -> Any:
    try:
        try:
            return future.result(timeout)
        finally:
            future.cancel()
    finally:
        del future  # break a reference cycle with the exception in exc_info
