"""The agent: a Lambda handler, deployed with your code, that calls one of its Python functions by
import path, so `LambdaExecutor(agent="my-function").submit(mypackage.work, 1, x=2)` runs
`mypackage.work(1, x=2)` in Lambda.

The event is JSON: ``{"call": "package.module:function", "args": [...], "kwargs": {...}}``; the
result is the function's JSON result. A chunk of calls of one function is
``{"call": "package.module:function", "chunk": [[args, kwargs], ...], "args": null}`` (the null is
for agents older than chunks, which refuse it rather than call with no arguments): the agent
makes them in order and answers ``{"chunk": [{"result": ...} or {"error": {"errorType",
"errorMessage", "stackTrace"}}, ...]}``, one entry per call, so that one call's exception fails
that call alone.
Arguments or results larger than ``compress_over`` bytes of JSON travel zlib-compressed
(``{"call": ..., "lambda_executor.zlib": "<base64>"}``, the base64 holding the rest of the event,
or the whole result), which the client and the agent undo on their side.

With a spill location (``LambdaExecutor(spill="s3://bucket/prefix")``), what is still larger than
Lambda takes goes through S3: an event of exactly ``{"lambda_executor.s3": {"bucket", "key",
"size", "sha256"}}`` stands for the event stored there, which the agent reads and checks against
the size and SHA-256 before anything else; and the event names the location (``"spill":
"s3://bucket/prefix"``), where the agent writes a result too large to return, returning the same
reference to it, which the client reads, checks and deletes.

Bytes and NumPy arrays travel as JSON too, each as a marker: a one-key object standing for it.
``{"lambda_executor.bytes": "<base64>"}`` is a ``bytes`` value (a bytearray or memoryview is sent
as its bytes, and arrives as bytes); ``{"lambda_executor.npy": "<base64>"}`` is a NumPy array, the
base64 holding its ``.npy`` file (``numpy.save(file, array, allow_pickle=False)``: the header
carries its dtype and shape exactly), for any dtype but one holding Python objects, which is
refused (TypeError) before anything is sent. NumPy is imported only to send or read an array. A
dict of the user's with a marker's key (``lambda_executor.`` followed by ``zlib``, ``s3``,
``bytes``, ``npy``, ``escaped`` or ``tagged``) is escaped: ``{"lambda_executor.escaped": [[key,
value], ...]}``, its items in order (a list of pairs, so that no key of it is read as a marker),
the values themselves tagged. A value holding markers or escaped dicts is tagged as a whole, so
that a plain one is sent and read exactly as before and never walked again: the call's part of
the event (``{"args", "kwargs"}``, or ``{"chunk", "args"}``) becomes ``{"lambda_executor.tagged":
{"args": [...], "kwargs": {...}}, "args": null}`` (the null makes an agent older than markers
refuse the call rather than make it with marker objects), and a result, or a chunk's whole
answer, becomes ``{"lambda_executor.tagged": <result>}``. Inside a tagged value an object with a
marker's key must be a bytes, array or escaped marker (anything else is an error). Tagging comes
before compression and spilling: a compressed or spilled event or result holds the tagged JSON,
bytes and arrays as base64 in it.

Nothing is ever unpickled (an array is read with ``allow_pickle=False``), and only modules of the
deployed code (under LAMBDA_TASK_ROOT) are imported. Standard library only (boto3, which Lambda's
Python runtimes include, only for a spill; NumPy only for an array): in Lambda this module runs
without the rest of lambda_executor.
"""

import base64
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import os
import sys
import traceback
import uuid
import zlib
from typing import Any

COMPRESSED = "lambda_executor.zlib"
DEFAULT_COMPRESS_OVER = 64 * 1024
# Lambda's payloads are 6 MB at most; their JSON compresses well, but not beyond this.
MAX_UNPACKED = 256 * 1024 * 1024
WARM_EVENT = {"lambda_executor": "warm"}
SPILLED = "lambda_executor.s3"
# A result of more bytes than this is written to the spill location: Lambda returns 6 MB at most.
MAX_RETURNED = 6 * 1024 * 1024 - 1024
BYTES = "lambda_executor.bytes"
ARRAY = "lambda_executor.npy"
ESCAPED = "lambda_executor.escaped"
TAGGED = "lambda_executor.tagged"
# A user's dict with one of these keys is escaped, so that it is never read as a marker.
MARKERS = frozenset({COMPRESSED, SPILLED, BYTES, ARRAY, ESCAPED, TAGGED})
# In the JSON of any value holding a marker or a dict with a marker's key.
MARKED = b'"lambda_executor.'


class AgentError(Exception):
    """The event asks for something the agent will not do (a malformed call, a module outside the
    deployed code)."""


def handler(event, context):
    if event == WARM_EVENT:
        return None
    if is_spilled(event):
        event = json.loads(read_spilled(event[SPILLED]))
    spill = event.get("spill") if isinstance(event, dict) else None
    result, size = call(event)
    return spill_if_large(result, size, spill)


def call(event):
    """What the event's call returns (its result, or the chunk's answers, compressed beyond
    compress_over), with the length of that value's JSON."""
    if not isinstance(event, dict) or not isinstance(event.get("call"), str):
        raise AgentError("the agent expects {'call': 'module:function', 'args': [...], 'kwargs': {...}}")
    call = unpack(event[COMPRESSED]) if COMPRESSED in event else event
    if not isinstance(call, dict):
        raise AgentError(f"'{COMPRESSED}' must unpack to an object")
    if TAGGED in call:
        call = untag(call[TAGGED])
        if not isinstance(call, dict):
            raise AgentError(f"'{TAGGED}' must hold an object")
    # The whole envelope is checked before anything is called.
    compress_over = event.get("compress_over", DEFAULT_COMPRESS_OVER)
    if compress_over is not None and (type(compress_over) is not int or compress_over < 0):
        raise AgentError("'compress_over' must be a whole number of bytes, or null")
    if "chunk" in call:
        chunk = call["chunk"]
        if not isinstance(chunk, list) or not all(_is_call(item) for item in chunk):
            raise AgentError("'chunk' must be a list of [args, kwargs] pairs, args a list and kwargs an object")
        return call_each(resolve(event["call"]), chunk, compress_over)
    args, kwargs = call.get("args", []), call.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise AgentError("'args' must be a list and 'kwargs' an object")
    function = resolve(event["call"])
    return pack_result(function(*args, **kwargs), compress_over)


def _is_call(item):
    return isinstance(item, list) and len(item) == 2 and isinstance(item[0], list) and isinstance(item[1], dict)


def call_each(function, chunk, compress_over):
    """The chunk's calls in order, each answered by its JSON result or its error document (as the
    runtime writes a handler's), so that one call's exception fails that call alone."""
    entries, tagged = [], False
    for args, kwargs in chunk:
        try:
            # Checked call by call: a result JSON cannot carry fails its own call, not the chunk.
            entry, tags = dump({"result": function(*args, **kwargs)})
        except Exception as error:  # noqa: BLE001 - the call's failure is its answer
            entry, tags = _dumps({"error": error_document(error)}), False
        entries.append(entry)
        tagged |= tags
    document = b'{"chunk":[' + b",".join(entries) + b"]}"
    if tagged:  # the answer as a whole: an untagged entry reads the same inside it
        document = tagged_json(document)
    if compress_over is not None and len(document) > compress_over:
        return packed(document)
    return json.loads(document), len(document)


def error_document(error):
    """What the runtime reports for a handler's exception; the traceback starts in the user's
    function (call_each's own frame left out)."""
    frames = traceback.extract_tb(error.__traceback__.tb_next if error.__traceback__ else None)
    return {"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": traceback.format_list(frames)}


def _dumps(value):
    return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()


def resolve(path):
    """The function named by "package.module:qualified.name", imported from the deployed code only."""
    module_name, _, qualname = path.partition(":")
    names = module_name.split(".") + qualname.split(".")
    if not qualname or not all(name.isidentifier() and not name.startswith("__") for name in names):
        raise AgentError(f"'{path}' is not a 'package.module:function' path")
    if module_name.split(".")[0] == "lambda_executor":
        raise AgentError(f"'{path}': the agent does not call itself")
    root = os.path.realpath(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    for depth in range(1, len(module_name.split(".")) + 1):
        # Each package on the way is checked before it is imported (importing runs its code).
        spec = importlib.util.find_spec(".".join(module_name.split(".")[:depth]))
        # A file of the code, or a namespace package whose folders all are; never a built-in.
        places = ([spec.origin] if spec.has_location else list(spec.submodule_search_locations or [])) if spec else []
        if not places or not all(_inside(place, root) for place in places):
            raise AgentError(f"'{module_name}' is not a module of the deployed code (under {root})")
    target: Any = importlib.import_module(module_name)
    for name in qualname.split("."):
        target = getattr(target, name, None)
        # No walking into another module: `app:os.system` would reach what app imported.
        if inspect.ismodule(target):
            raise AgentError(f"'{path}' names a module, not a function of the deployed code")
    # What is called must be defined in the deployed code, not merely imported into it
    # (`from subprocess import run` puts subprocess's function in the user's module).
    defined_in = sys.modules.get(getattr(target, "__module__", None) or "")
    if (
        not callable(target)
        or defined_in is None
        or not _inside(getattr(defined_in, "__file__", None), root)
        or defined_in.__name__.split(".")[0] == "lambda_executor"
    ):
        raise AgentError(f"'{path}' is not a function of the deployed code")
    return target


def _inside(origin, root):
    return bool(origin) and os.path.commonpath([os.path.realpath(origin), root]) == root


def pack(document):
    """JSON bytes compressed, as the envelope carries them."""
    return base64.b64encode(zlib.compress(document, 6)).decode("ascii")


def unpack(packed):
    if not isinstance(packed, str):
        raise AgentError(f"'{COMPRESSED}' must be a base64 string")
    try:
        compressed = base64.b64decode(packed, validate=True)
        # Bounded: a few bytes of zlib can ask for gigabytes.
        inflater = zlib.decompressobj()
        document = inflater.decompress(compressed, MAX_UNPACKED)
        complete = inflater.eof
    except (ValueError, zlib.error) as error:
        raise AgentError(f"'{COMPRESSED}' is not base64 of a zlib stream: {error}") from None
    if inflater.unconsumed_tail:
        raise AgentError(f"'{COMPRESSED}' unpacks to more than {MAX_UNPACKED} bytes")
    if not complete:
        raise AgentError(f"'{COMPRESSED}' is a zlib stream cut short")
    try:
        return json.loads(document)
    except ValueError as error:
        raise AgentError(f"'{COMPRESSED}' does not unpack to JSON: {error}") from None


def pack_result(result, compress_over):
    """The result as the agent returns it, with the length of its JSON."""
    document, tagged = dump(result)
    if tagged:
        document = tagged_json(document)
    if compress_over is not None and len(document) > compress_over:
        return packed(document)
    return json.loads(document) if tagged else result, len(document)


def packed(document):
    """The compressed envelope of a JSON document, with the length of the envelope's JSON."""
    envelope = {COMPRESSED: pack(document)}
    return envelope, len(_dumps(envelope))


def is_packed(result):
    return isinstance(result, dict) and len(result) == 1 and COMPRESSED in result


def is_spilled(value):
    return isinstance(value, dict) and len(value) == 1 and SPILLED in value


def is_tagged(value):
    return isinstance(value, dict) and len(value) == 1 and TAGGED in value


def dump(value):
    """The JSON of a value as the agent sends it, and whether it is tagged (holds bytes, arrays or
    dicts with a marker's key): then it is the JSON of `tag(value)`, to be sent inside the
    envelope's TAGGED."""
    made = 0

    def default(item):  # called only for what JSON has no type for
        nonlocal made
        marker = marker_of(item)
        if marker is None:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
        made += 1
        return marker

    document = json.dumps(value, allow_nan=False, separators=(",", ":"), default=default).encode()
    tags = made
    # Each marker made holds MARKED once: more is a dict with a marker's key, or a string quoting one.
    if document.count(MARKED) > made:
        tagged, tags = tag(value)
        if tags > made:
            document = _dumps(tagged)
    return document, tags > 0


def tagged_json(document, rest=b""):
    """The JSON of ``{TAGGED: <document>, <rest>}``, without converting the document again."""
    return b'{"' + TAGGED.encode() + b'":' + document + rest + b"}"


def tag(value):
    """`value` with its bytes and arrays as markers and its dicts with a marker's key escaped
    (tuples as lists, as in JSON), and how many of those it holds; TypeError for an array of
    Python objects. What JSON cannot carry is left for the JSON encoder to refuse."""
    made = 0

    def walk(value):
        nonlocal made
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            if MARKERS.isdisjoint(value):
                return {key: walk(item) for key, item in value.items()}
            made += 1
            for key in value:
                if not isinstance(key, str):
                    raise TypeError(f"dict keys must be str for JSON, not {type(key).__name__}")
            return {ESCAPED: [[key, walk(item)] for key, item in value.items()]}
        marker = marker_of(value)
        if marker is None:
            return value
        made += 1
        return marker

    return walk(value), made


def marker_of(value):
    """The marker of bytes (a bytearray's or memoryview's: their bytes) or of a NumPy array; None
    for anything else."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {BYTES: base64.b64encode(value if isinstance(value, bytes) else bytes(value)).decode("ascii")}
    numpy: Any = sys.modules.get("numpy")  # an array exists only once NumPy is imported
    if numpy is None or type(value) is not numpy.ndarray:
        return None
    if value.dtype.hasobject:
        raise TypeError(
            f"an array of dtype {value.dtype} holds Python objects, which could only be sent pickled: send "
            f"an array of numbers, bools or fixed-width strings, or a list"
        )
    npy = io.BytesIO()
    numpy.save(npy, value, allow_pickle=False)
    return {ARRAY: base64.b64encode(npy.getbuffer()).decode("ascii")}


def untag(value):
    """A tagged value as it was: its markers read back, its escaped dicts unescaped."""
    if isinstance(value, list):
        return [untag(item) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: untag(item) for key, item in value.items()}
    return value if MARKERS.isdisjoint(value) else unmark(value)


def unmark(marker):
    """The value a marker (or an escaped dict) stands for."""
    key, content = next(iter(marker.items()))
    if len(marker) == 1 and isinstance(content, str) and key in (BYTES, ARRAY):
        try:
            data = base64.b64decode(content, validate=True)
        except ValueError as error:
            raise AgentError(f"'{key}' must hold base64: {error}") from None
        return data if key == BYTES else load_array(data)
    if len(marker) == 1 and key == ESCAPED and isinstance(content, list):
        if all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in content):
            return dict(content)
    raise AgentError(f"a tagged value holds a malformed marker: an object with the keys {sorted(marker)}")


def load_array(npy):
    """The NumPy array of a .npy file's bytes (never unpickled)."""
    try:
        numpy: Any = importlib.import_module("numpy")
    except ImportError:
        raise AgentError(f"'{ARRAY}' holds a NumPy array, and NumPy is not installed here") from None
    if not npy.startswith(b"\x93NUMPY"):
        raise AgentError(f"'{ARRAY}' must hold a .npy file")
    try:
        return numpy.load(io.BytesIO(npy), allow_pickle=False)
    except ValueError as error:
        raise AgentError(f"'{ARRAY}' holds no array NumPy reads without pickle: {error}") from None


def spill_location(url):
    """(bucket, prefix) of an s3://bucket/prefix URL."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise AgentError(f"'spill' must be an s3://bucket/prefix URL, not {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def read_spilled(reference):
    """The bytes a spill reference stands for, checked against its size and SHA-256."""
    if not isinstance(reference, dict) or set(reference) != {"bucket", "key", "size", "sha256"}:
        raise AgentError(f"'{SPILLED}' must hold bucket, key, size and sha256")
    body = _s3().get_object(Bucket=reference["bucket"], Key=reference["key"])["Body"].read()
    if len(body) != reference["size"] or hashlib.sha256(body).hexdigest() != reference["sha256"]:
        raise AgentError(
            f"s3://{reference['bucket']}/{reference['key']} is not the {reference['size']} bytes it was written with"
        )
    return body


def spill_if_large(result, size, spill):
    """The result (whose JSON is `size` bytes), or, when that is more than Lambda returns, the
    reference to it written at the spill location."""
    if size <= MAX_RETURNED:
        return result
    if spill is None:
        raise AgentError(
            f"the result is {size} bytes of JSON, more than Lambda returns; with "
            f"LambdaExecutor(spill='s3://bucket/prefix') larger results go through S3"
        )
    bucket, prefix = spill_location(spill)
    document = _dumps(result)
    key = f"{prefix}result-{uuid.uuid4().hex}"
    _s3().put_object(Bucket=bucket, Key=key, Body=document)
    return {
        SPILLED: {"bucket": bucket, "key": key, "size": len(document), "sha256": hashlib.sha256(document).hexdigest()}
    }


def _s3():
    import boto3  # type: ignore[import-untyped]  # only for a spill: Lambda's Python runtimes include it

    return boto3.client("s3")
