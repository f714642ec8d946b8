"""What `fn` names in submit, map and the async forms: the deployed function to invoke and, for a
Python function called through the agent, its import path; and the event its arguments make."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

from .remote import RemoteFunction, encode_call, encode_chunk, import_path, is_dotted_import_path


class DeployedFunction:
    """A handle on a deployed function, which the executor invokes by its `reference`: the base of
    LambdaFunction, which lives above the executor (it calls through one)."""

    @property
    def reference(self) -> str:
        """The function's name, ARN or `name:qualifier`."""
        raise NotImplementedError


FunctionRef = Union[str, DeployedFunction, RemoteFunction, Callable[..., Any]]


class Targets:
    """An executor's reading of `fn` and of the arguments of a call: with `agent`, a plain Python
    function (or a dotted import path) is called through that agent function, its arguments
    compressed beyond `compress_over` bytes; with `spill` (an s3://bucket/prefix URL), the agent
    writes results too large to return there."""

    def __init__(self, agent: Optional[str], compress_over: Optional[int], spill: Optional[str] = None) -> None:
        self.agent = agent
        self.compress_over = compress_over
        self.spill = spill

    def resolve(self, fn: FunctionRef) -> tuple[str, Optional[str]]:
        """(the deployed function to invoke, the import path of the Python function to call there
        through the agent, or None for a plain invocation)."""
        if isinstance(fn, RemoteFunction):
            return fn.agent, fn.path
        if self.agent is not None and (
            (callable(fn) and not isinstance(fn, DeployedFunction))
            or (isinstance(fn, str) and is_dotted_import_path(fn))
        ):
            return self.agent, import_path(fn)
        return _function_reference(fn), None

    def event(self, path: Optional[str], args: tuple, kwargs: dict) -> Any:
        """The event of one call: the agent's call of `path`, or the arguments by `submit`'s rule."""
        if path is None:
            return _plain_event(args, kwargs)
        return encode_call(path, args, kwargs, self.compress_over, self.spill)

    def chunk_event(self, path: str, chunk: list[tuple]) -> Any:
        """The agent's event for a chunk of calls of `path`, made in order in one invocation."""
        return encode_chunk(path, chunk, self.compress_over, self.spill)


def _function_reference(fn: Any) -> str:
    if isinstance(fn, str):
        return fn
    if isinstance(fn, DeployedFunction):
        return fn.reference
    raise TypeError(
        f"LambdaExecutor runs deployed Lambda functions: pass the function's name, ARN or a "
        f"LambdaFunction, e.g. executor.submit('my-function', event), not {type(fn).__name__} {fn!r}; "
        f"to call a Python function of deployed code, create the executor with agent='function-name'"
    )


def _plain_event(args: tuple, kwargs: dict) -> Any:
    """The one positional argument; several as a JSON array, keyword arguments alone as an object,
    none as {}."""
    if args and kwargs:
        raise TypeError("pass the event as positional arguments or as keyword arguments, not both")
    if kwargs:
        return kwargs
    if len(args) == 1:
        return args[0]
    if args:
        return list(args)
    return {}
