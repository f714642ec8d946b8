"""LambdaFunction: a deployed function as a plain callable, which invokes it through an executor of
its own (made at the first call)."""

from __future__ import annotations

import threading
from typing import Any, Optional

from .executor import LambdaExecutor
from .targets import DeployedFunction


class LambdaFunction(DeployedFunction):
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
