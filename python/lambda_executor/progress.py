"""The progress bar of `map(..., progress=True)` and the async forms: tqdm.auto, so a widget in a
notebook and text in a terminal."""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional


class Progress:
    """Counts calls as they finish (in any order), with failures, retries and the limit of Lambda's
    that throttled the function last alongside, and, when chunks carry several calls each, the
    invocations that carried them."""

    def __init__(
        self,
        total: Optional[int],
        progress_counts: Callable[[], tuple[int, int, Optional[str]]],
        description: str,
    ) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError(
                "progress=True needs tqdm: pip install 'lambda-executor[progress]' (or pip install tqdm)"
            ) from None
        self._progress_counts = progress_counts
        self._retries_before = progress_counts()[0]
        self._lock = threading.Lock()
        self.failed = 0
        self.invocations = 0
        self.chunked = False
        self.bar = tqdm(total=total, desc=description, unit="call", dynamic_ncols=True)

    def finished(self, future: Any) -> None:
        """A done-callback: counts the one call of an invocation (a cancelled one is not counted)."""
        if not future.cancelled():
            self._count(1, future.exception() is not None, chunked=False)

    def finished_chunk(self, future: Any) -> None:
        """A done-callback of a ChunkFuture: counts each of its calls."""
        if not future.cancelled():
            self._count(future.calls, future.failures, chunked=True)

    def _count(self, calls: int, failed: int, chunked: bool) -> None:
        with self._lock:
            self.failed += failed
            self.invocations += 1
            self.chunked |= chunked
            retries, retrying, binding = self._progress_counts()
            counts: dict[str, object] = {
                "failed": self.failed,
                "retrying": retrying,
                "retries": retries - self._retries_before,
            }
            if self.chunked:
                counts["invocations"] = self.invocations
            if binding:
                counts["limit"] = binding
            self.bar.set_postfix(counts, refresh=False)
            self.bar.update(calls)

    def close(self) -> None:
        with self._lock:
            self.bar.close()
