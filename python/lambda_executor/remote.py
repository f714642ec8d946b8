"""Calling Python functions through an agent function (see agent.py), on the client's side: a
function is sent by its import path, its arguments as JSON (bytes and arrays tagged, compressed
when large: the formats are agent.py's)."""

from __future__ import annotations

import importlib
import re
from typing import Any, Callable, Optional, Union

from ._core import JoinedJson, to_json
from .agent import COMPRESSED, MARKED, TAGGED, is_packed, is_tagged, pack, shrinks, tag, tagged_json, unpack, untag
from .errors import FunctionError, InvocationError, SpillError


class RemoteFunction:
    """A Python function to call in Lambda through a given agent function; :func:`remote` makes it.

    Passed as ``fn`` to :meth:`LambdaExecutor.submit <lambda_executor.LambdaExecutor.submit>` or
    ``map``, it is called through ``agent_function`` rather than the executor's agent.

    Args:
        function: A function of the deployed code, or its import path
            (``"package.module:name"``), whose code need not be installed here.
        agent_function: The deployed agent function's name.

    Attributes:
        function (Union[Callable, str]): As given.
        agent (str): The agent function's name.
        path (str): The function's import path, as the agent receives it.

    Raises:
        TypeError: ``agent_function`` is not a name, or ``function`` has no import path (a
            lambda, a function of ``__main__``, ...).
    """

    def __init__(self, function: Union[Callable[..., Any], str], agent_function: str) -> None:
        """Makes the handle; its arguments are described in the class's docstring."""
        if not isinstance(agent_function, str) or not agent_function:
            raise TypeError("agent must name the deployed agent function")
        self.function = function
        self.agent = agent_function
        self.path = import_path(function)

    def __repr__(self) -> str:
        return f"remote({self.path}, agent={self.agent!r})"


def remote(function: Union[Callable[..., Any], str], agent: str) -> RemoteFunction:
    """Names a Python function to call in Lambda through the agent function ``agent``.

    It is for a call that should not use the executor's default agent, or whose code is not
    installed here: ``executor.submit(remote("pkg.mod:func", agent="my-agent"), x)``.

    Args:
        function: A function of the deployed code, or its import path
            (``"package.module:name"``).
        agent: The deployed agent function's name.

    Returns:
        What :meth:`LambdaExecutor.submit <lambda_executor.LambdaExecutor.submit>` and ``map``
        take as ``fn``.

    Raises:
        TypeError: ``agent`` is not a name, or ``function`` has no import path.
    """
    return RemoteFunction(function, agent)


# "package.module:qualified.name", as the agent receives it.
IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def is_dotted_import_path(text: str) -> bool:
    """An import path with a dot in it, which no Lambda function name or qualifier has."""
    return "." in text and IMPORT_PATH.fullmatch(text) is not None


def import_path(function: Any) -> str:
    """ "package.module:qualified.name" for a function the agent can import (or that path itself,
    given as a string: its code need not be installed here); TypeError otherwise."""
    if isinstance(function, str):
        if IMPORT_PATH.fullmatch(function) is None:
            raise TypeError(f"{function!r} is not an import path such as 'package.module:function'")
        return function
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


def encode_call(
    path: str, args: tuple, kwargs: dict, compress_over: Optional[int], spill: Optional[str] = None
) -> Union[dict, JoinedJson]:
    """The agent's event for `path(*args, **kwargs)`; TypeError if the arguments are not JSON."""
    return _envelope(path, {"args": list(args), "kwargs": kwargs}, compress_over, spill)


def encode_chunk(
    path: str, calls: list[tuple], compress_over: Optional[int], spill: Optional[str] = None
) -> Union[dict, JoinedJson]:
    """The agent's event for `path(*args)` for each args of `calls`, made in order in one invocation."""
    # "args": None makes an agent older than chunks refuse the event ("'args' must be a list")
    # rather than call the function once without arguments.
    return _envelope(path, {"chunk": [[list(args), {}] for args in calls], "args": None}, compress_over, spill)


def _envelope(path: str, call: dict, compress_over: Optional[int], spill: Optional[str]) -> Union[dict, JoinedJson]:
    """The event: compressed when that pays, else the call's JSON as made here (tagged when it
    holds bytes or arrays), joined to the envelope's members rather than converted again."""
    document, tagged = agent_json(call)
    if tagged:
        # "args": None makes an agent older than tagged values refuse the call.
        document = tagged_json(document, b',"args":null')
    head: dict = {"call": path, "compress_over": compress_over}
    tail = {} if spill is None else {"spill": spill}
    if compress_over is not None and len(document) > compress_over and shrinks(document):
        return {**head, COMPRESSED: pack(document), **tail}
    return JoinedJson(head, document, tail)


def agent_json(value: Any) -> tuple[bytes, bool]:
    """The JSON of `value` as the agent reads it, and whether that is tagged (it holds bytes, arrays
    or dicts with a marker's key); TypeError for what JSON cannot carry even so, or for an array of
    Python objects. A plain value is converted once, as is."""
    try:
        document: Optional[bytes] = to_json(value)
    except TypeError:
        document = None  # bytes or arrays to tag, or what to_json refuses again below
    if document is not None and MARKED not in document:
        return document, False
    tagged, tags = tag(value)
    if document is not None and not tags:
        return document, False  # only a string quoting a marker's key
    return to_json(tagged), True


def decode_result(result: Any) -> Any:
    if is_packed(result):
        result = unpack(result[COMPRESSED])
    return untag(result[TAGGED]) if is_tagged(result) else result


def spill_error(error: FunctionError) -> SpillError:
    """The agent's SpillError (a spilled payload S3 refused it, or failed), as the client's: its
    object and the permission its message names."""
    url = re.search(r"s3://\S+", error.error_message)
    permission = re.search(r"needs (s3:\w+)", error.error_message)
    request = f", request {error.request_id}" if error.request_id else ""
    return SpillError(
        f"{error.error_message} (in the agent {error.function or ''}{request})",
        url.group(0) if url else "",
        permission.group(1) if permission else "",
    )


def decode_chunk(reply: Any, calls: int, function: str, request_id: Optional[str]) -> list[Any]:
    """The results of a chunk of `calls` calls, in order, each failed call's as its FunctionError
    (a JSON result is never an exception); InvocationError if the reply is not a chunk's."""
    reply = decode_result(reply)
    entries = reply.get("chunk") if isinstance(reply, dict) else None
    if not isinstance(entries, list) or len(entries) != calls or not all(map(_is_entry, entries)):
        raise InvocationError(
            f"{function} answered a chunk of {calls} calls with something else than their {calls} results: is "
            f"its agent older than chunks? Update it (lambda-executor update) or pass chunksize=1",
            "UnreadableResult",
            request_id=request_id,
        )
    return [
        entry["result"]
        if "result" in entry
        else FunctionError(
            entry["error"]["errorType"],
            entry["error"].get("errorMessage", ""),
            entry["error"].get("stackTrace", []),
            request_id,
            function,
        )
        for entry in entries
    ]


def _is_entry(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    error = entry.get("error")
    return "result" in entry or (isinstance(error, dict) and isinstance(error.get("errorType"), str))
