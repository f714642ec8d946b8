"""The asyncio API of LambdaExecutor (ainvoke, amap, amap_unordered), which it delegates to: calls
awaited on the event loop rather than futures a thread waits for. asyncio itself is imported when
a map runs, so that `import lambda_executor` stays light."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from .errors import PayloadTooLargeError
from .remote import decode_result

if TYPE_CHECKING:
    import asyncio

    from ._core import Journal
    from .journals import Journals
    from .progress import Progress
    from .targets import FunctionRef, Targets


class AsyncCalls:
    """An executor's calls from asyncio: `targets` reads `fn` and makes the events, `start` admits
    and starts one invocation (the executor's shutdown check, then the engine's ainvoke), and
    `progress` makes a bar for a map; a map keeps `buffersize` invocations running, by default
    `default_buffersize`."""

    def __init__(
        self,
        targets: Targets,
        start: Callable[[str, Any, Optional[Journal], bool], Awaitable[Any]],
        journals: Journals,
        progress: Callable[[str, tuple], Progress],
        default_buffersize: int,
    ) -> None:
        self._targets = targets
        self._start = start
        self._journals = journals
        self._progress = progress
        self._default_buffersize = default_buffersize

    async def invoke(self, fn: FunctionRef, args: tuple, kwargs: dict) -> Any:
        function, path = self._targets.resolve(fn)
        return await _decoded(self._start_call(function, path, args, kwargs, None), path)

    def _start_call(
        self, function: str, path: Optional[str], args: tuple, kwargs: dict, journal: Optional[Journal]
    ) -> Awaitable[Any]:
        """Starts one invocation: an event that cannot be sent raises here, before anything is sent."""
        return self._start(function, self._targets.event(path, args, kwargs), journal, path is not None)

    async def tasks(
        self,
        fn: FunctionRef,
        events: Any,
        buffersize: Optional[int],
        progress: bool,
        ordered: bool,
        journal: Union[str, os.PathLike[str], None],
    ) -> AsyncIterator[asyncio.Future[Any]]:
        """Keeps up to `buffersize` invocations running; yields each finished task (in order, or
        as they finish)."""
        import asyncio  # only for the async API: `import lambda_executor` stays light

        if buffersize is not None and (not isinstance(buffersize, int) or buffersize < 1):
            raise ValueError("buffersize must be None or > 0")
        function, path = self._targets.resolve(fn)
        buffersize = buffersize or self._default_buffersize
        bar = self._progress(function, (events,)) if progress else None
        call_journal = self._journals.open(journal)  # None: the executor's own journal, if any
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
                        started = self._start_call(function, path, (event,), {}, call_journal)
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
                self._journals.close(call_journal)


async def _decoded(started: Awaitable[Any], path: Optional[str]) -> Any:
    """An invocation's result, decoded from the agent's answer when it called a Python function."""
    result = await started
    return decode_result(result) if path else result


async def _aiterate(events: Any) -> AsyncIterator[Any]:
    if hasattr(events, "__aiter__"):
        async for event in events:
            yield event
    else:
        for event in events:
            yield event
