"""LambdaPool: multiprocessing.pool.ThreadPool's API, with each call of a Python function run in
Lambda through an agent function (the LambdaPool design in the shared seeds)."""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional, Union

from .executor import DEFAULT_MAX_WORKERS, LambdaExecutor, submit_all
from .futures import ChunkFuture, LambdaFuture
from .remote import remote
from .stats import Stats

RUN, CLOSE, TERMINATE = "RUN", "CLOSE", "TERMINATE"


class AsyncResult:
    """As multiprocessing's: `get(timeout)`, `wait(timeout)`, `ready()`, `successful()`."""

    def __init__(
        self,
        futures: list[LambdaFuture],
        single: bool,
        callback: Optional[Callable[[Any], Any]],
        error_callback: Optional[Callable[[BaseException], Any]],
    ) -> None:
        self._futures = futures
        self._single = single
        self._callback, self._error_callback = callback, error_callback
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._finishing = False
        self._remaining = len(futures)
        self._value: Any = None
        self._error: Optional[BaseException] = None
        if not futures:
            self._finish(None)
        for future in futures:
            future.add_done_callback(self._one_done)

    def _one_done(self, future: concurrent.futures.Future[Any]) -> None:
        error = next((result for result in _call_results(future) if isinstance(result, BaseException)), None)
        with self._lock:
            if self._finishing:
                return
            self._remaining -= 1
            # As multiprocessing does, the first error makes the result ready at once.
            if error is None and self._remaining:
                return
            self._finishing = True
        self._finish(error)

    def _finish(self, error: Optional[BaseException]) -> None:
        if error is None:
            results = [result for future in self._futures for result in _call_results(future)]
            self._value = results[0] if self._single else results
            if self._callback is not None:
                self._callback(self._value)
        else:
            self._error = error
            if self._error_callback is not None:
                self._error_callback(error)
        self._ready.set()

    def ready(self) -> bool:
        return self._ready.is_set()

    def successful(self) -> bool:
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        return self._error is None

    def wait(self, timeout: Optional[float] = None) -> None:
        self._ready.wait(timeout)

    def get(self, timeout: Optional[float] = None) -> Any:
        self.wait(timeout)
        if not self.ready():
            raise multiprocessing.TimeoutError
        if self._error is not None:
            raise self._error
        return self._value


class LambdaPool:
    """`LambdaPool(processes, function="my-agent", **client_options)`: `processes` invocations at
    once, each calling a Python function of the code deployed as `function` (with
    lambda_executor.agent.handler). Functions are sent by import path and arguments as JSON, so
    they must be importable from the deployed code. `chunksize` sends that many calls in one
    invocation (the agent makes them in order; each call's result or error comes back on its own);
    map's and starmap's default, None, chooses it as multiprocessing does. Leaving the `with` block
    terminates the pool, as with multiprocessing."""

    def __init__(self, processes: Optional[int] = None, function: Optional[str] = None, **client_options: Any) -> None:
        if not function:
            raise TypeError("LambdaPool needs function=: the name of the deployed agent function")
        if processes is not None and processes < 1:
            raise ValueError("Number of processes must be at least 1")
        self._processes = processes or DEFAULT_MAX_WORKERS
        self._function = function
        self._executor = LambdaExecutor(max_workers=self._processes, agent=function, **client_options)
        self._state = RUN

    def apply(self, func: Callable[..., Any], args: Iterable[Any] = (), kwds: Optional[dict] = None) -> Any:
        return self.apply_async(func, args, kwds).get()

    def apply_async(
        self,
        func: Callable[..., Any],
        args: Iterable[Any] = (),
        kwds: Optional[dict] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> AsyncResult:
        self._check_running()
        submitted = self._executor.submit(self._remote(func), *args, **(kwds or {}))
        return AsyncResult([submitted], True, callback, error_callback)

    def map(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: Optional[int] = None) -> list[Any]:
        return self.map_async(func, iterable, chunksize).get()

    def map_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        chunksize: Optional[int] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> AsyncResult:
        return self._map_async(func, [(item,) for item in iterable], chunksize, callback, error_callback)

    def starmap(
        self, func: Callable[..., Any], iterable: Iterable[Iterable[Any]], chunksize: Optional[int] = None
    ) -> list[Any]:
        return self.starmap_async(func, iterable, chunksize).get()

    def starmap_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Iterable[Any]],
        chunksize: Optional[int] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> AsyncResult:
        return self._map_async(func, [tuple(args) for args in iterable], chunksize, callback, error_callback)

    def _map_async(
        self,
        func: Callable[..., Any],
        calls: list[tuple],
        chunksize: Optional[int],
        callback: Optional[Callable[[Any], Any]],
        error_callback: Optional[Callable[[BaseException], Any]],
    ) -> AsyncResult:
        self._check_running()
        if chunksize is None:
            # As multiprocessing chooses: about four chunks per process (map caps a chunk's bytes).
            chunksize, extra = divmod(len(calls), 4 * self._processes)
            chunksize = max(1, chunksize + bool(extra))
        futures = submit_all(self._executor, self._remote(func), calls, chunksize)
        return AsyncResult(list(futures), False, callback, error_callback)

    def imap(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]:
        """Results in order, as they become available (everything is submitted at once, as
        multiprocessing does); a call's error is raised in its turn, and the next call follows."""
        self._check_running()
        futures = submit_all(self._executor, self._remote(func), ((item,) for item in iterable), chunksize)
        return _CallResults(futures.popleft() for _ in range(len(futures)))

    def imap_unordered(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]:
        """Results as they finish (a chunk's in its order); a call's error is raised in its turn."""
        self._check_running()
        futures = submit_all(self._executor, self._remote(func), ((item,) for item in iterable), chunksize)
        return _CallResults(concurrent.futures.as_completed(futures))

    def _remote(self, func: Union[Callable[..., Any], str]) -> Any:
        """A function, or its import path as a string (its code need not be installed here)."""
        return remote(func, self._function) if isinstance(func, str) else func

    def stats(self, **prices: float) -> Stats:
        """The pool's invocations so far, with the calls its chunks carried (LambdaExecutor.stats)."""
        return self._executor.stats(**prices)

    def close(self) -> None:
        """No more work will be submitted; what was submitted still runs."""
        if self._state == RUN:
            self._state = CLOSE

    def terminate(self) -> None:
        """Cancels what was not sent yet; what was sent finishes unobserved."""
        self._state = TERMINATE
        self._executor.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Waits for the submitted work to end; the pool must be closed or terminated first."""
        if self._state == RUN:
            raise ValueError("Pool is still running")
        self._executor.shutdown(wait=True)

    def _check_running(self) -> None:
        if self._state != RUN:
            raise ValueError("Pool not running")

    def __enter__(self) -> LambdaPool:
        self._check_running()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.terminate()

    def __repr__(self) -> str:
        return f"<LambdaPool state={self._state} processes={self._processes} function={self._function!r}>"


class _CallResults(Iterator[Any]):
    """imap's results, from futures taken in the order given: each call's result, or its error
    raised in its turn, after which the next call's follows (as with multiprocessing)."""

    def __init__(self, futures: Iterator[concurrent.futures.Future[Any]]) -> None:
        self._futures = futures
        self._ready: collections.deque = collections.deque()

    def __next__(self) -> Any:
        while not self._ready:
            future = next(self._futures)
            try:
                future.exception()  # waits (Ctrl-C cancels what was not sent, as any wait does)
            except concurrent.futures.CancelledError:
                pass
            self._ready.extend(_call_results(future))
        result = self._ready.popleft()
        if isinstance(result, BaseException):
            raise result
        return result


def _call_results(future: concurrent.futures.Future[Any]) -> list[Any]:
    """The results of a done future's calls in order, a failed call's as its exception: one call's,
    or a chunk's calls' (each failing with the chunk's error if its invocation failed)."""
    calls = future.calls if isinstance(future, ChunkFuture) else 1
    if future.cancelled():
        return [concurrent.futures.CancelledError("the pool was terminated")] * calls
    error = future.exception()
    if error is not None:
        return [error] * calls
    return future.result() if isinstance(future, ChunkFuture) else [future.result()]
