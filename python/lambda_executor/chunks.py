"""Chunking, which wraps map as CPython's ProcessPoolExecutor wraps it: the calls grouped into
chunks, each sent in one invocation through the agent, and the chunks' results chained back into
one result per call."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from .errors import FunctionError
from .remote import agent_json

# A chunk of calls holds at most this many bytes of arguments as JSON (before compression), well
# under Lambda's 6 MB request limit: a larger chunk would save nothing more per call, and its
# results, which travel back together, would near the limit too.
CHUNK_BYTES = 1024 * 1024


class Chunk(list):
    """The arguments of the calls a map sends in one invocation (one call's are a tuple)."""


def chunks(calls: Iterator[tuple[int, tuple]], size: int) -> Iterator[tuple[int, Chunk]]:
    """The calls grouped in order, at most `size` and CHUNK_BYTES of arguments as JSON to a chunk
    (a call larger than that alone), each with the index of its first call. A call that cannot be
    converted, or a source that fails, ends the chunks with its error after the chunk of the calls
    before it, so that a map with buffersize still sends those."""
    chunk, first, used = Chunk(), 0, 0
    try:
        for index, args in calls:
            try:
                size_of_args = len(agent_json(args)[0])
            except TypeError as error:
                raise TypeError(f"event {index} of the map: {error}") from None
            if chunk and (len(chunk) == size or used + size_of_args > CHUNK_BYTES):
                yield first, chunk
                chunk, used = Chunk(), 0
            if not chunk:
                first = index
            chunk.append(args)
            used += size_of_args
    except Exception:
        if chunk:
            yield first, chunk
        raise
    if chunk:
        yield first, chunk


def chained(chunk_results: Generator[list, None, None]) -> Iterator[Any]:
    """Each call's result from the chunks' results, in order; a failed call's FunctionError is
    raised in its turn, which ends the map (closing it abandons what was not sent)."""
    try:
        for results in chunk_results:
            for result in results:
                if isinstance(result, FunctionError):
                    raise result
                yield result
            del results  # not kept while the next chunk is awaited
    finally:
        chunk_results.close()
