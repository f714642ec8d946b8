"""Bytes and NumPy arrays through the agent, without pickle (tagged JSON, see agent.py), against
LocalLambda running the agent, and moto's S3 for a spilled call."""

import asyncio
import base64
import hashlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lambda_executor import FunctionError, LambdaExecutor, LambdaPool
from lambda_executor import agent as codec
from lambda_executor.bundle import AGENT_HANDLER
from lambda_executor.cli import main
from lambda_executor.remote import decode_result, encode_call

MARKER_KEYS = [
    "lambda_executor.bytes",
    "lambda_executor.npy",
    "lambda_executor.escaped",
    "lambda_executor.tagged",
    "lambda_executor.zlib",
    "lambda_executor.s3",
]


@pytest.fixture
def agent(local, mathwork, deployed):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=30, memory_size=512)
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent") as executor:
        yield executor


def test_bytes_nested_anywhere_come_back_as_bytes(agent, mathwork):
    value = {"raw": b"\x00\xff", "many": [bytearray(b"ab"), (memoryview(b"cd"), b"")], "deep": {"x": [[b"e"]]}}
    assert agent.submit(mathwork.identity, value).result() == {
        "raw": b"\x00\xff",
        "many": [b"ab", [b"cd", b""]],
        "deep": {"x": [[b"e"]]},
    }
    assert agent.submit(mathwork.describe, b"one", key={"k": b"two"}).result() == {
        "args": [b"one"],
        "kwargs": {"key": {"k": b"two"}},
    }
    # The function is given bytes, and its bytes come back.
    data = os.urandom(1000)
    assert agent.submit(mathwork.checksum, data).result() == {"type": "bytes", "sha256": hashlib.sha256(data).digest()}
    # Over compress_over, compressed both ways.
    large = os.urandom(300_000)
    assert agent.submit(mathwork.identity, [large]).result() == [large]
    assert asyncio.run(agent.ainvoke(mathwork.identity, {"k": b"async"})) == {"k": b"async"}


def test_bytes_travel_in_a_pools_chunks(local, deployed, mathwork):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=30)
    values = [b"a", {"k": [b"b"]}, 3, "text", {"lambda_executor.bytes": "not a marker"}]
    with LambdaPool(2, function="agent", endpoint_url=local.endpoint_url) as pool:
        assert pool.map(mathwork.identity, values, chunksize=5) == values
        assert pool.starmap(mathwork.add, [(b"x", b"y"), (b"", b"z")], chunksize=2) == [b"xy", b"z"]
        assert pool.apply(mathwork.checksum, (b"abc",)) == {"type": "bytes", "sha256": hashlib.sha256(b"abc").digest()}
    assert local.stats("agent")["invocations"] == 3


def test_bytes_and_arrays_come_back_from_a_journal_that_counts_their_calls(local, deployed, mathwork, tmp_path, capsys):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=30)
    journal = tmp_path / "run.db"
    values = [b"a", np.arange(3), {"lambda_executor.s3": b"b"}, 4]

    def run():
        with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", journal=journal) as executor:
            [data, array, lookalike, number] = executor.map(mathwork.identity, values, chunksize=2)
            assert (data, lookalike, number) == (b"a", {"lambda_executor.s3": b"b"}, 4)
            assert array.dtype == values[1].dtype and np.array_equal(array, values[1])
            return executor.stats()

    assert run().from_journal == 0
    assert run().from_journal == 2
    assert local.stats("agent")["invocations"] == 2
    assert main(["journal", str(journal), "--calls"]) == 0
    assert "calls in chunks: 4 in 2 succeeded invocations, 0 of them failed" in capsys.readouterr().out


def test_large_bytes_go_through_the_spill_location_and_none_is_left(local, mathwork, deployed, bucket, role):
    local.add_function("agent", AGENT_HANDLER, deployed, timeout=60, memory_size=1024, environment=role)
    data = os.urandom(7_000_000)  # over 6 MB both ways, however it is encoded
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", spill="s3://spill/bytes") as executor:
        assert executor.submit(mathwork.identity, {"data": data}).result() == {"data": data}
    assert local.stats("agent")["invocations"] == 1
    assert "Contents" not in bucket.list_objects_v2(Bucket="spill"), "every object was deleted once read"


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.int64).reshape(3, 4),
        np.array([[1, -2], [3, 4]], dtype=np.int8),
        np.linspace(0, 1, 5, dtype=np.float32),
        np.array([[True, False]]),
        np.array(["ab", "c", "ünï"]),
        np.array([b"ab", b"c"], dtype="S4"),
        np.zeros((0, 3)),
        np.array(2.5),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
    ids=["int64", "int8", "float32", "bool", "unicode", "bytes", "empty", "0-d", "fortran"],
)
def test_numpy_arrays_round_trip_with_their_dtype_and_shape(agent, mathwork, array):
    back = agent.submit(mathwork.identity, {"array": array}).result()["array"]
    assert type(back) is np.ndarray
    assert (back.dtype, back.shape) == (array.dtype, array.shape)
    assert np.array_equal(back, array)
    # Lambda computes with it, as the array it was (a 0-d array's product is a NumPy scalar).
    if array.dtype.kind in "if" and array.ndim:
        answer = agent.submit(mathwork.scaled, array, 2).result()
        assert answer["given"] == [str(array.dtype), list(array.shape)]
        assert answer["result"].dtype == (array * 2).dtype and np.array_equal(answer["result"], array * 2)


def test_an_array_of_python_objects_is_refused_before_sending_and_as_a_result(agent, local, mathwork):
    for array in (np.array([1, "a", None], dtype=object), np.zeros(2, dtype=[("n", "i4"), ("o", "O")])):
        with pytest.raises(TypeError, match="holds Python objects"):
            agent.submit(mathwork.identity, [array])
    assert local.stats("agent")["invocations"] == 0, "nothing was sent"
    with pytest.raises(FunctionError) as raised:
        agent.submit(mathwork.object_array).result()
    assert raised.value.error_type == "TypeError" and "holds Python objects" in raised.value.error_message


@pytest.mark.parametrize("key", MARKER_KEYS)
def test_a_dict_that_looks_like_a_marker_round_trips_unchanged(agent, mathwork, key):
    for value in (
        {key: "AAAA"},
        {key: {"bucket": "b", "key": "k", "size": 1, "sha256": "00"}},
        {key: [["x", 1]], "other": b"bytes"},
        [{"nested": {key: None}}],
        f'a string quoting "{key}"',
    ):
        assert agent.submit(mathwork.identity, value).result() == value
        assert agent.submit(mathwork.describe, value, kw=value).result() == {"args": [value], "kwargs": {"kw": value}}
    assert list(agent.map(mathwork.identity, [{key: 1}, {key: b"2"}], chunksize=2)) == [{key: 1}, {key: b"2"}]


RECORDER = '''
"""An agent that answers with the event it was given, as Lambda handed it over."""


def handler(event, context):
    if "chunk" in event:
        return {"chunk": [{"result": {"seen": event}} for _ in event["chunk"]]}
    return {"seen": event}
'''


def test_plain_values_travel_exactly_as_before_and_tagged_ones_as_documented(local, tmp_path, mathwork):
    (tmp_path / "recorder.py").write_text(RECORDER)
    local.add_function("recorder", "recorder.handler", tmp_path)
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="recorder") as executor:
        plain = executor.submit(mathwork.describe, 1, "two", [3.5, None], x={"y": True}).result()["seen"]
        assert plain == {
            "call": "mathwork:describe",
            "compress_over": 65536,
            "args": [1, "two", [3.5, None]],
            "kwargs": {"x": {"y": True}},
        }
        chunk = list(executor.map(mathwork.add, [1, 2], chunksize=2))
        tagged = executor.submit(mathwork.describe, b"\x00", k={"lambda_executor.s3": 1}).result()["seen"]
    seen = {"seen": {"call": "mathwork:add", "compress_over": 65536, "chunk": [[[1], {}], [[2], {}]], "args": None}}
    assert chunk == [seen, seen]
    assert tagged == {
        "call": "mathwork:describe",
        "compress_over": 65536,
        "lambda_executor.tagged": {
            "args": [{"lambda_executor.bytes": "AA=="}],
            "kwargs": {"k": {"lambda_executor.escaped": [["lambda_executor.s3", 1]]}},
        },
        "args": None,
    }


def test_the_agents_answer_is_plain_json_unless_it_holds_bytes_or_arrays(agent):
    """The agent invoked by name, not through the executor's decoding: its answer as sent."""
    call = {"call": "mathwork:identity", "kwargs": {}}
    assert agent.submit("agent", {**call, "args": [{"a": [1, "b"]}]}).result() == {"a": [1, "b"]}
    assert agent.submit("agent", {**call, "args": ["AA=="]}).result() == "AA=="
    tagged = {**call, "args": None, "lambda_executor.tagged": {"args": [{"lambda_executor.bytes": "AA=="}]}}
    assert agent.submit("agent", tagged).result() == {"lambda_executor.tagged": {"lambda_executor.bytes": "AA=="}}
    answer = agent.submit("agent", {**call, "lambda_executor.tagged": {"args": [_npy(np.arange(3))]}}).result()
    assert list(answer) == ["lambda_executor.tagged"]
    assert list(answer["lambda_executor.tagged"]) == ["lambda_executor.npy"]


def _npy(array, allow_pickle=False):
    file = io.BytesIO()
    np.save(file, array, allow_pickle=allow_pickle)
    return {"lambda_executor.npy": base64.b64encode(file.getvalue()).decode()}


def test_a_malformed_or_pickled_marker_is_refused_before_anything_is_called(agent):
    for value, says in (
        ({"lambda_executor.bytes": "not base64!"}, "must hold base64"),
        ({"lambda_executor.bytes": 1}, "malformed marker"),
        ({"lambda_executor.bytes": "AA==", "more": 1}, "malformed marker"),
        ({"lambda_executor.escaped": [["k"]]}, "malformed marker"),
        ({"lambda_executor.zlib": "AA=="}, "malformed marker"),
        ({"lambda_executor.npy": "AAAA"}, "must hold a .npy file"),
        (_npy(np.array([{"a": 1}], dtype=object), allow_pickle=True), "without pickle"),
    ):
        event = {"call": "mathwork:fail", "lambda_executor.tagged": {"args": [value], "kwargs": {}}}
        with pytest.raises(FunctionError) as raised:
            agent.submit("agent", event).result()
        assert raised.value.error_type == "AgentError", raised.value
        assert says in raised.value.error_message


NO_NUMPY = """
import json, sys
from lambda_executor import agent
from lambda_executor.remote import decode_result, encode_call

event = encode_call("m:f", (b"x", {"lambda_executor.npy": [1]}), {}, None)
call = agent.untag(json.loads(json.dumps(event))["lambda_executor.tagged"])
assert call == {"args": [b"x", {"lambda_executor.npy": [1]}], "kwargs": {}}, call
document, tagged = agent.dump(call)
assert tagged and decode_result(json.loads(b'{"lambda_executor.tagged":' + document + b"}")) == call
print("numpy" in sys.modules)
"""


def test_numpy_is_imported_only_for_an_array():
    ran = subprocess.run([sys.executable, "-c", NO_NUMPY], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False", ran.stderr


LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from([f'"{key}"' for key in MARKER_KEYS]),
    st.binary(max_size=6),
)
KEYS = st.text(max_size=3) | st.sampled_from(MARKER_KEYS)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)


def _special(value):
    """Whether a value holds bytes or a dict with a marker's key (what is tagged)."""
    if isinstance(value, list):
        return any(map(_special, value))
    if isinstance(value, dict):
        return any(key in MARKER_KEYS for key in value) or any(map(_special, value.values()))
    return isinstance(value, bytes)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_any_value_is_read_as_it_was_sent_both_ways_and_a_plain_one_untagged(value):
    """The two codecs in-process (the client's encode_call and decode_result, the agent's
    reading of a call and writing of a result), over JSON text as Lambda carries it."""
    event = json.loads(json.dumps(encode_call("m:f", (value,), {"k": value}, None)))
    assert ("lambda_executor.tagged" in event) == _special(value)
    if not _special(value):
        assert event == {"call": "m:f", "compress_over": None, "args": [value], "kwargs": {"k": value}}
    call = codec.untag(event["lambda_executor.tagged"]) if "lambda_executor.tagged" in event else event
    assert (call["args"], call["kwargs"]) == ([value], {"k": value})
    document, tagged = codec.dump(value)
    assert tagged == _special(value)
    assert decode_result(json.loads(codec.tagged_json(document) if tagged else document)) == value
