"""The futures of LambdaExecutor: one invocation's (LambdaFuture), a Python function's called
through the agent (AgentFuture), a chunk of calls' (ChunkFuture), and the set of an executor's
pending ones that shutdown and Ctrl-C cancel.

The executor and map drive a future's life with the functions below (attach, claim, abandon),
which are not methods so that a future's public face stays that of concurrent.futures.Future.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures._base import CANCELLED, FINISHED, PENDING, RUNNING
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._core import on_completion_thread
from .errors import FunctionError, SpillError
from .remote import decode_chunk, decode_result, spill_error

if TYPE_CHECKING:
    from ._core import InvocationInfo, JobHandle


class _BeingSent:
    """The job handle of a held-back future while map converts and sends it: not cancellable."""

    sent = True

    def cancel(self) -> bool:
        return False

    def abandon(self) -> bool:
        return False


_BEING_SENT = _BeingSent()


class PendingFutures:
    """An executor's futures not done yet (sent, or held back by map), which shutdown and Ctrl-C
    while waiting for any of them cancel."""

    def __init__(self) -> None:
        self._futures: set[LambdaFuture] = set()

    def add(self, future: LambdaFuture) -> LambdaFuture:
        future._siblings = self
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def __contains__(self, future: object) -> bool:
        return future in self._futures

    def __iter__(self) -> Iterator[LambdaFuture]:
        # A copy: done-callbacks on the completion thread remove futures meanwhile.
        return iter(list(self._futures))


class LambdaFuture(Future):
    """The :class:`~concurrent.futures.Future` of one invocation, which the executor makes.

    Its state is RUNNING only while an attempt is in flight (Lambda may be running it), as a
    thread pool's future is while a worker runs it; waiting for room, its turn at the rate, or a
    throttle's or retry's delay, it is PENDING and can be cancelled.

    Attributes:
        invocation (Optional[InvocationInfo]): What happened to the invocation (its request id,
            attempts, log tail and REPORT line), once it is done; None before.
    """

    invocation: Optional[InvocationInfo] = None
    _job: Optional[Union[JobHandle, _BeingSent]] = None
    _stored_state = PENDING
    # The executor's pending futures: each submitted future gets its executor's; this shared
    # default is only read (by a future never submitted), and stays empty.
    _siblings = PendingFutures()

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
        """Cancels the invocation unless an attempt of it is in flight or it is done.

        An invocation already sent cannot be called back, as a thread pool's call already running
        cannot.

        Returns:
            True if it is cancelled (now or before), False if it is running or done.
        """
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

    def result(self, timeout: Optional[float] = None) -> Any:
        """Waits for the invocation's result.

        Ctrl-C while waiting cancels the executor's invocations not sent yet (the executor stays
        usable for new work).

        Args:
            timeout: Seconds to wait at most; None: no limit.

        Returns:
            The decoded JSON result (None for an empty body, or for an Event invocation).

        Raises:
            concurrent.futures.CancelledError: The invocation was cancelled.
            TimeoutError: It did not end within ``timeout``.
            LambdaError: It failed (a :class:`~lambda_executor.FunctionError` if the handler
                did).
            RuntimeError: Called inside a done-callback for a future not done yet (the callbacks
                run on the one thread that resolves every future: it would wait forever).
        """
        # Finished is final (set once, under the lock): a result can be read without the lock,
        # which a map returning a journal's stored results does 100,000 times a second.
        if self._stored_state == FINISHED and self._exception is None:
            return self._result
        return self._wait(super().result, timeout)

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        """Waits for the invocation to end and returns its error.

        Ctrl-C while waiting cancels the executor's invocations not sent yet, as :meth:`result`.

        Args:
            timeout: Seconds to wait at most; None: no limit.

        Returns:
            The error the invocation failed with, or None if it succeeded.

        Raises:
            concurrent.futures.CancelledError: The invocation was cancelled.
            TimeoutError: It did not end within ``timeout``.
            RuntimeError: Called inside a done-callback for a future not done yet.
        """
        return self._wait(super().exception, timeout)

    def _wait(self, wait: Callable[[Optional[float]], Any], timeout: Optional[float]) -> Any:
        self._refuse_waiting_for_itself()
        try:
            return wait(timeout)
        except KeyboardInterrupt:
            # Ctrl-C while waiting (a notebook's interrupt button) means stop: the executor's
            # invocations not sent yet are cancelled; it stays usable for new work.
            for future in self._siblings:
                abandon(future)
            raise

    def _refuse_waiting_for_itself(self) -> None:
        # Done-callbacks run on the one thread that resolves every LambdaFuture: waiting there
        # for one not yet done would wait forever.
        if on_completion_thread() and not self.done():
            raise RuntimeError(
                "cannot wait for a pending LambdaFuture inside a done-callback; "
                "submit follow-up work and collect it outside the callback"
            )


def attach(future: LambdaFuture, job: Optional[JobHandle]) -> None:
    """Gives a future the handle of its job in the engine, once sent (None: the journal resolved
    it at once)."""
    future._job = job


def abandon(future: LambdaFuture) -> bool:
    """What shutdown, Ctrl-C and an abandoned map do: cancel(), and for a call in flight, nothing
    more sent: if Lambda turns out not to run it (a throttle), the future is cancelled then."""
    job = future._job
    if job is not None and future._stored_state != FINISHED:
        job.abandon()
    return future.cancel()


def claim(future: LambdaFuture) -> bool:
    """Takes a future map held back, to send it: False if it was cancelled meanwhile; from now on
    cancel() returns False, as for a sent one."""
    with future._condition:
        if future._stored_state != PENDING:
            return False
        future._job = _BEING_SENT
        return True


class AgentFuture(LambdaFuture):
    """The future of a Python function called through the agent: it unpacks a compressed result."""

    def set_result(self, result: Any) -> None:
        try:
            result = decode_result(result)
        except Exception as error:  # noqa: BLE001 - a corrupt envelope fails this future alone
            self.set_exception(error)
            return
        super().set_result(result)

    def set_exception(self, exception: Optional[BaseException]) -> None:
        # The agent's refusal to read or write a spilled payload is the same error as the client's.
        if isinstance(exception, FunctionError) and exception.error_type == SpillError.__name__:
            exception = spill_error(exception)
        super().set_exception(exception)


class ChunkTally:
    """The calls made in chunks so far, for stats(): invocations, calls, failed calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.chunks = self.calls = self.failures = 0

    def add(self, calls: int, failures: int) -> None:
        with self._lock:
            self.chunks += 1
            self.calls += calls
            self.failures += failures


class ChunkFuture(LambdaFuture):
    """The future of one invocation carrying a chunk of calls through the agent. It resolves to
    the calls' results in order, a failed call's as its FunctionError; `calls` says how many it
    carries and, once done, `failures` how many of them failed (all, if the invocation did)."""

    failures = 0

    def __init__(self, calls: int, tally: ChunkTally) -> None:
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
