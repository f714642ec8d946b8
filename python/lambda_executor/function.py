"""LambdaFunction: a deployed function as a plain callable, which invokes it through an executor of
its own (made at the first call)."""

from __future__ import annotations

import threading
from typing import Any, Optional

from .executor import LambdaExecutor
from .targets import DeployedFunction


class LambdaFunction(DeployedFunction):
    """A callable handle on a deployed function: ``fn(event)`` invokes it and returns its result.

    It works wherever a callable does (``ThreadPoolExecutor().map(fn, events)``), and
    ``LambdaExecutor().map(fn, events)`` invokes it directly. Its first call makes the
    :class:`~lambda_executor.LambdaExecutor` it calls through, with ``client_options``.

    Args:
        name: The function's name or ARN.
        qualifier: The version or alias to invoke; None: the function as named.
        **client_options: :class:`~lambda_executor.LambdaExecutor`'s arguments (``region``,
            ``endpoint_url``, ``retry``, ...).

    Attributes:
        name (str): As given.
        qualifier (Optional[str]): As given.
        client_options (dict): As given.
    """

    def __init__(self, name: str, qualifier: Optional[str] = None, **client_options: Any) -> None:
        """Makes the handle; its arguments are described in the class's docstring."""
        self.name = name
        self.qualifier = qualifier
        self.client_options = client_options
        self._executor: Optional[LambdaExecutor] = None
        self._lock = threading.Lock()

    @property
    def reference(self) -> str:
        """The function as the executor invokes it (its name or ARN, or ``name:qualifier``)."""
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Invokes the function and waits for its result.

        Args:
            *args: The event, by :meth:`LambdaExecutor.submit`'s rule.
            **kwargs: The event's members, by the same rule.

        Returns:
            The decoded JSON result.

        Raises:
            LambdaError: The invocation failed.
        """
        with self._lock:
            if self._executor is None:
                self._executor = LambdaExecutor(**self.client_options)
        return self._executor.submit(self, *args, **kwargs).result()

    def __repr__(self) -> str:
        return f"LambdaFunction({self.reference!r})"
