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
    """The result of a :class:`LambdaPool`'s ``*_async`` call, as :class:`multiprocessing.pool.AsyncResult`.

    The pool makes it; the first call that fails makes it ready at once, with that call's error.
    """

    def __init__(
        self,
        futures: list[LambdaFuture],
        single: bool,
        callback: Optional[Callable[[Any], Any]],
        error_callback: Optional[Callable[[BaseException], Any]],
    ) -> None:
        """Makes the result of these futures' calls; the pool makes it."""
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
        """Tells whether the result is ready.

        Returns:
            True once every call ended, or one failed.
        """
        return self._ready.is_set()

    def successful(self) -> bool:
        """Tells whether every call succeeded.

        Returns:
            True if the result is a success, False if a call failed.

        Raises:
            ValueError: The result is not ready yet.
        """
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        return self._error is None

    def wait(self, timeout: Optional[float] = None) -> None:
        """Waits until the result is ready, or ``timeout`` passes.

        Args:
            timeout: Seconds to wait at most; None: no limit.
        """
        self._ready.wait(timeout)

    def get(self, timeout: Optional[float] = None) -> Any:
        """Waits for the result and returns it.

        Args:
            timeout: Seconds to wait at most; None: no limit.

        Returns:
            The call's result, or for a map the list of the calls' results in order.

        Raises:
            multiprocessing.TimeoutError: The result was not ready within ``timeout``.
            Exception: The first call that failed: its error.
        """
        self.wait(timeout)
        if not self.ready():
            raise multiprocessing.TimeoutError
        if self._error is not None:
            raise self._error
        return self._value


class LambdaPool:
    """:class:`multiprocessing.pool.ThreadPool`'s API, each call of a Python function made in Lambda.

    Each call runs in the agent function ``function`` (deployed with
    ``lambda_executor.agent.handler``). Functions are sent by import path and arguments as JSON,
    so they must be importable from the deployed code; a function may also be given as its import
    path, ``"package.module:function"``, whose code need not be installed here. ``chunksize``
    sends that many calls in one invocation (the agent makes them in order; each call's result or
    error comes back on its own). Leaving the ``with`` block terminates the pool, as with
    multiprocessing.

    Args:
        processes: Invocations in flight at most; None: 1,000 (Lambda's default account
            concurrency per region).
        function: The deployed agent function's name (required).
        **client_options: :class:`~lambda_executor.LambdaExecutor`'s arguments (``region``,
            ``endpoint_url``, ``retry``, ...).

    Raises:
        TypeError: ``function`` is not given.
        ValueError: ``processes`` is less than 1.
    """

    def __init__(self, processes: Optional[int] = None, function: Optional[str] = None, **client_options: Any) -> None:
        """Makes a pool; its arguments are described in the class's docstring."""
        if not function:
            raise TypeError("LambdaPool needs function=: the name of the deployed agent function")
        if processes is not None and processes < 1:
            raise ValueError("Number of processes must be at least 1")
        self._processes = processes or DEFAULT_MAX_WORKERS
        self._function = function
        self._executor = LambdaExecutor(max_workers=self._processes, agent=function, **client_options)
        self._state = RUN

    def apply(self, func: Callable[..., Any], args: Iterable[Any] = (), kwds: Optional[dict] = None) -> Any:
        """Calls ``func(*args, **kwds)`` in Lambda and waits for its result.

        Args:
            func: A function of the deployed code, or its import path.
            args: Its positional arguments.
            kwds: Its keyword arguments.

        Returns:
            What it returned.

        Raises:
            Exception: What it raised (a :class:`~lambda_executor.FunctionError`, also of the
                built-in exception's class if it raised one), or the invocation's error.
            ValueError: The pool is closed or terminated.
        """
        return self.apply_async(func, args, kwds).get()

    def apply_async(
        self,
        func: Callable[..., Any],
        args: Iterable[Any] = (),
        kwds: Optional[dict] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> AsyncResult:
        """Calls ``func(*args, **kwds)`` in Lambda without waiting.

        Args:
            func: A function of the deployed code, or its import path.
            args: Its positional arguments.
            kwds: Its keyword arguments.
            callback: Called with the result once it is ready (on the thread that resolves
                invocations: it should return quickly).
            error_callback: Called with the error instead, if a call failed.

        Returns:
            The call's result, to come.

        Raises:
            TypeError: ``func`` cannot be imported by the agent, or its arguments cannot be sent
                as JSON.
            ValueError: The pool is closed or terminated.
        """
        self._check_running()
        submitted = self._executor.submit(self._remote(func), *args, **(kwds or {}))
        return AsyncResult([submitted], True, callback, error_callback)

    def map(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: Optional[int] = None) -> list[Any]:
        """Calls ``func(item)`` in Lambda for each item and waits for the results.

        Args:
            func: A function of the deployed code, or its import path.
            iterable: The calls' arguments.
            chunksize: Calls sent in one invocation; None: chosen as multiprocessing does (about
                four chunks per process).

        Returns:
            The results, in order.

        Raises:
            Exception: The first call that failed: its error.
            ValueError: The pool is closed or terminated.
        """
        return self.map_async(func, iterable, chunksize).get()

    def map_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        chunksize: Optional[int] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> AsyncResult:
        """Calls ``func(item)`` in Lambda for each item without waiting.

        Every call is converted and checked before any is sent.

        Args:
            func: A function of the deployed code, or its import path.
            iterable: The calls' arguments.
            chunksize: Calls sent in one invocation; None: chosen as multiprocessing does.
            callback: Called with the result once it is ready (on the thread that resolves
                invocations: it should return quickly).
            error_callback: Called with the error instead, if a call failed.

        Returns:
            The list of results, to come.

        Raises:
            TypeError: ``func`` cannot be imported by the agent, or an argument cannot be sent
                as JSON.
            ValueError: The pool is closed or terminated.
        """
        return self._map_async(func, [(item,) for item in iterable], chunksize, callback, error_callback)

    def starmap(
        self, func: Callable[..., Any], iterable: Iterable[Iterable[Any]], chunksize: Optional[int] = None
    ) -> list[Any]:
        """Calls ``func(*args)`` in Lambda for each args and waits for the results.

        Args:
            func: A function of the deployed code, or its import path.
            iterable: The calls' positional arguments, an iterable each.
            chunksize: Calls sent in one invocation; None: chosen as multiprocessing does.

        Returns:
            The results, in order.

        Raises:
            Exception: The first call that failed: its error.
            ValueError: The pool is closed or terminated.
        """
        return self.starmap_async(func, iterable, chunksize).get()

    def starmap_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Iterable[Any]],
        chunksize: Optional[int] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> AsyncResult:
        """Calls ``func(*args)`` in Lambda for each args without waiting.

        Args:
            func: A function of the deployed code, or its import path.
            iterable: The calls' positional arguments, an iterable each.
            chunksize: Calls sent in one invocation; None: chosen as multiprocessing does.
            callback: Called with the result once it is ready (on the thread that resolves
                invocations: it should return quickly).
            error_callback: Called with the error instead, if a call failed.

        Returns:
            The list of results, to come.

        Raises:
            TypeError: ``func`` cannot be imported by the agent, or an argument cannot be sent
                as JSON.
            ValueError: The pool is closed or terminated.
        """
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
        """Calls ``func(item)`` in Lambda for each item, and yields the results in order.

        Everything is submitted at once, as multiprocessing does; a call's error is raised in its
        turn, and iterating on goes on with the next call.

        Args:
            func: A function of the deployed code, or its import path.
            iterable: The calls' arguments.
            chunksize: Calls sent in one invocation.

        Returns:
            An iterator of the results, in order.

        Raises:
            ValueError: The pool is closed or terminated.
        """
        self._check_running()
        futures = submit_all(self._executor, self._remote(func), ((item,) for item in iterable), chunksize)
        return _CallResults(futures.popleft() for _ in range(len(futures)))

    def imap_unordered(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]:
        """Calls ``func(item)`` in Lambda for each item, and yields the results as they finish.

        A chunk's results come in its order; a call's error is raised in its turn, and iterating
        on goes on with the next call.

        Args:
            func: A function of the deployed code, or its import path.
            iterable: The calls' arguments.
            chunksize: Calls sent in one invocation.

        Returns:
            An iterator of the results, in the order they finish.

        Raises:
            ValueError: The pool is closed or terminated.
        """
        self._check_running()
        futures = submit_all(self._executor, self._remote(func), ((item,) for item in iterable), chunksize)
        return _CallResults(concurrent.futures.as_completed(futures))

    def _remote(self, func: Union[Callable[..., Any], str]) -> Any:
        """A function, or its import path as a string (its code need not be installed here)."""
        return remote(func, self._function) if isinstance(func, str) else func

    def stats(self, **prices: float) -> Stats:
        """Tells what the pool's invocations came to so far, with the calls its chunks carried.

        Args:
            **prices: :meth:`LambdaExecutor.stats`'s ``price_per_gb_second`` and
                ``price_per_request``.

        Returns:
            The figures, as :meth:`LambdaExecutor.stats` gives them.
        """
        return self._executor.stats(**prices)

    def close(self) -> None:
        """Takes no more work; what was submitted still runs (:meth:`join` waits for it)."""
        if self._state == RUN:
            self._state = CLOSE

    def terminate(self) -> None:
        """Cancels what was not sent yet; what was sent finishes unobserved."""
        self._state = TERMINATE
        self._executor.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Waits for the submitted work to end.

        Raises:
            ValueError: The pool is still running: close or terminate it first.
        """
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
        """Terminates the pool on leaving the ``with`` block, as multiprocessing's does."""
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
