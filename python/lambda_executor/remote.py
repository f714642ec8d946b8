"""Calling Python functions through an agent function (see agent.py), on the client's side: a
function is sent by its import path, its arguments as JSON (compressed when large)."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Optional

from . import agent
from ._core import to_json


class RemoteFunction:
    """`remote(func, agent="my-agent")`: `func` called in Lambda through that agent function, for
    a call that should not use the executor's default agent."""

    def __init__(self, function: Callable[..., Any], agent_function: str) -> None:
        if not isinstance(agent_function, str) or not agent_function:
            raise TypeError("agent must name the deployed agent function")
        self.function = function
        self.agent = agent_function
        self.path = import_path(function)

    def __repr__(self) -> str:
        return f"remote({self.path}, agent={self.agent!r})"


def remote(function: Callable[..., Any], agent: str) -> RemoteFunction:
    return RemoteFunction(function, agent)


def import_path(function: Any) -> str:
    """ "package.module:qualified.name" for a function the agent can import; TypeError otherwise."""
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", None)
    why = None
    if not callable(function) or not module or not qualname:
        why = "it has no module and name to import it by"
    elif module == "__main__":
        why = "it is defined in __main__ (a script or notebook), which the deployed code does not have"
    elif "<" in qualname:
        why = "a lambda or a function defined inside another one has no import path"
    else:
        target: Any = importlib.import_module(module)
        for name in qualname.split("."):
            target = getattr(target, name, None)
        if target != function:  # == : each access to a classmethod makes a new bound method
            why = f"{module}:{qualname} does not name it"
    if why:
        raise TypeError(
            f"cannot call {function!r} through the agent: {why}. Define it in a module of the "
            f"deployed code and pass it from there (or pass a deployed function's name)."
        )
    return f"{module}:{qualname}"


def encode_call(path: str, args: tuple, kwargs: dict, compress_over: Optional[int]) -> dict:
    """The agent's event for `path(*args, **kwargs)`; TypeError if the arguments are not JSON."""
    call = {"args": list(args), "kwargs": kwargs}
    document = to_json(call)
    event: dict = {"call": path, "compress_over": compress_over}
    if compress_over is not None and len(document) > compress_over:
        event[agent.COMPRESSED] = agent.pack(document)
    else:
        event.update(call)
    return event


def decode_result(result: Any) -> Any:
    return agent.unpack(result[agent.COMPRESSED]) if agent.is_packed(result) else result
