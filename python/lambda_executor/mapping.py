"""The machinery of LambdaExecutor.map (and LambdaPool's maps): a map's calls converted, sent and
read back in order, with the memory of converted events capped when every call is sent at once."""

from __future__ import annotations

import collections
import functools
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Optional

from .futures import LambdaFuture, abandon, claim

if TYPE_CHECKING:
    from ._core import EncodedEvent

# map without buffersize converts every event before sending any, but keeps at most this many
# bytes of them converted: the rest wait as Python objects and are converted again (and sent)
# as earlier invocations finish, so large payloads cost memory for what is in flight only.
MAP_CONVERTED_BYTES = 16 * 1024 * 1024


class MapRun:
    """One map's invocations: `calls` (each with its index; a call is its arguments, or a chunk of
    calls) converted by `encode` and sent by `send` with a future from `new_future`; `futures` holds
    them in order until their results are read. `hold` registers a future map holds back before
    it is sent (so that shutdown and Ctrl-C cancel it), and `on_done` is a done-callback of each
    future sent (a progress bar's)."""

    def __init__(
        self,
        calls: Iterator[tuple[int, Any]],
        encode: Callable[[int, Any], EncodedEvent],
        new_future: Callable[[Any], LambdaFuture],
        send: Callable[[EncodedEvent, LambdaFuture], LambdaFuture],
        hold: Callable[[LambdaFuture], LambdaFuture],
        on_done: Optional[Callable[[Future[Any]], None]] = None,
    ) -> None:
        self.futures: collections.deque[LambdaFuture] = collections.deque()
        self._calls = calls
        self._encode = encode
        self._new_future = new_future
        self._send_event = send
        self._hold = hold
        self._on_done = on_done
        # What stopped the reading of calls (with buffersize): raised in the bad call's place.
        self._failure: Optional[Exception] = None
        # Without buffersize: the futures held back (with their calls), and the bytes sent and not finished.
        self._held_back: collections.deque[tuple[LambdaFuture, int, Any]] = collections.deque()
        self._in_flight = 0
        self._lock = threading.Lock()

    def start(self, buffersize: Optional[int]) -> None:
        """Sends the first `buffersize` calls, or, without buffersize, converts (and so checks)
        every call before sending any, then sends them, holding back those past
        MAP_CONVERTED_BYTES until earlier ones finish. Each future joins `futures` as it is made,
        so an error or an interrupt meanwhile cancels what is not sent (and is raised)."""
        try:
            if buffersize is None:
                self._send_all()
            else:
                while len(self.futures) < buffersize and self._send_next():
                    pass
        except BaseException:
            self.abandon()
            raise

    def results(
        self, buffersize: Optional[int], end_time: Optional[float], close: Callable[[], None]
    ) -> Generator[Any, None, None]:
        """The futures' results in order (with buffersize, sending a call for each one read), each
        awaited until `end_time`; the first error raised when reached. Whichever way it ends,
        what was not sent is not sent, and `close` runs."""
        try:
            while self.futures:
                if buffersize and self._failure is None:
                    self._send_next()
                # Careful not to keep a reference to the popped future (and its result).
                if end_time is None:
                    yield _result_or_abandon(self.futures.popleft())
                else:
                    yield _result_or_abandon(self.futures.popleft(), end_time - time.monotonic())
            if self._failure is not None:
                raise self._failure
        finally:
            # Interrupted or abandoned (Ctrl-C in a notebook, an error, a break): what was not
            # sent yet is not sent.
            self.abandon()
            close()

    def abandon(self) -> None:
        for future in self.futures:
            abandon(future)

    def _send(self, event: EncodedEvent, future: LambdaFuture) -> LambdaFuture:
        future = self._send_event(event, future)
        if self._on_done is not None:
            future.add_done_callback(self._on_done)
        return future

    def _send_next(self) -> bool:
        """Sends the next call; False when there is none, or it could not be sent."""
        try:
            index, call = next(self._calls)
            self.futures.append(self._send(self._encode(index, call), self._new_future(call)))
            return True
        except StopIteration:
            return False
        except Exception as error:  # noqa: BLE001 - raised in the bad call's place
            self._failure = error
            return False

    def _send_all(self) -> None:
        converted: list[tuple[int, Any, Optional[EncodedEvent]]] = []
        kept = 0
        for index, call in self._calls:
            event = self._encode(index, call)
            keep = kept < MAP_CONVERTED_BYTES
            kept += event.size if keep else 0
            converted.append((index, call, event if keep else None))
        for index, call, kept_event in converted:
            if kept_event is not None:
                self.futures.append(self._start(kept_event, self._new_future(call)))
            else:
                waiting = self._hold(self._new_future(call))
                self._held_back.append((waiting, index, call))
                self.futures.append(waiting)
        self._send_held_back()

    def _start(self, event: EncodedEvent, future: LambdaFuture) -> LambdaFuture:
        size = event.size  # 0 once sent
        future = self._send(event, future)
        if future.done():  # resolved from a journal: nothing in flight
            return future
        with self._lock:
            self._in_flight += size
        future.add_done_callback(functools.partial(self._finished, size))
        return future

    def _finished(self, size: int, _: Future[Any]) -> None:
        with self._lock:
            self._in_flight -= size
        self._send_held_back()

    def _send_held_back(self) -> None:
        while True:
            with self._lock:
                if not self._held_back or (self._in_flight and self._in_flight >= MAP_CONVERTED_BYTES):
                    return
                future, index, call = self._held_back.popleft()
            if not claim(future):  # cancelled meanwhile
                continue
            try:
                self._start(self._encode(index, call), future)
            except Exception as error:  # noqa: BLE001 - the event changed since it was checked
                future.set_exception(error)


def _result_or_abandon(future: LambdaFuture, timeout: Optional[float] = None) -> Any:
    try:
        try:
            return future.result(timeout)
        finally:
            abandon(future)
    finally:
        del future  # break a reference cycle with the exception in exc_info
