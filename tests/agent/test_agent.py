"""Calling Python functions in Lambda through the agent (lambda_executor.agent.handler), against
LocalLambda running the agent under awslambdaric with tests/agent_code as the deployed code."""

import asyncio
import base64
import importlib
import os
import re
import zlib
from pathlib import Path

import pytest
from helpers import AGENT_CODE
from lambda_executor import (
    WARM_EVENT,
    FunctionError,
    FunctionNotFoundError,
    InvocationError,
    LambdaExecutor,
    LambdaPool,
    PayloadTooLargeError,
    remote,
)
from lambda_executor.bundle import AGENT_HANDLER, stage
from lambda_executor.cli import main


@pytest.fixture
def agent(local, mathwork, deployed):
    local.add_function("agent", AGENT_HANDLER, deployed, memory_size=256)
    with LambdaExecutor(max_workers=8, endpoint_url=local.endpoint_url, agent="agent") as executor:
        yield executor


def test_calls_a_function_by_import_path_with_json_arguments(agent, mathwork):
    assert agent.submit(mathwork.add, 2, b=3).result() == 5
    assert agent.submit(mathwork.describe, 1, [2], x={"y": None}).result() == {
        "args": [1, [2]],
        "kwargs": {"x": {"y": None}},
    }
    assert agent.submit(mathwork.Geometry.area, 3, 4).result() == 12
    assert agent.submit(mathwork.Geometry.name).result() == "Geometry"
    assert list(agent.map(mathwork.add, [1, 2, 3], [10, 20, 30])) == [11, 22, 33]
    assert asyncio.run(agent.ainvoke(mathwork.add, 1, 1)) == 2


def test_an_exception_comes_back_with_its_type_name_and_traceback(agent, mathwork):
    with pytest.raises(FunctionError) as raised:
        agent.submit(mathwork.fail, "no good").result()
    assert (raised.value.error_type, raised.value.error_message) == ("WorkError", "no good")
    assert any("mathwork.py" in line for line in raised.value.stack_trace)


def test_functions_without_an_import_path_are_refused_before_sending(agent, local, mathwork):
    def local_function(x):
        return x

    main_function = type(mathwork.add)(mathwork.add.__code__, {}, "main_function")
    main_function.__module__ = "__main__"
    for function, why in ((lambda x: x, "lambda"), (local_function, "inside another"), (main_function, "__main__")):
        with pytest.raises(TypeError, match=why):
            agent.submit(function, 1)
    assert local.stats("agent")["invocations"] == 0


def test_without_an_agent_a_python_function_is_a_type_error_that_says_how(local, mathwork):
    with LambdaExecutor(endpoint_url=local.endpoint_url) as executor:
        with pytest.raises(TypeError, match="agent="):
            executor.submit(mathwork.add, 1, 2)


@pytest.mark.parametrize(
    "path",
    [
        "os:getcwd",  # the standard library is not deployed code
        "posix:system",  # nor are built-in modules
        "subprocess:run",
        "json:loads",
        "mathwork:__class__",  # no dunder walking
        "../mathwork:add",  # not a module path
        "mathwork",  # no function named
        "mathwork:no_such_function",
        "mathwork:time.sleep",  # no walking into what the code imported
        "lambda_executor.agent:os.system",  # nor into the agent's own imports
        "lambda_executor.agent:importlib.import_module",
        "lambda_executor.agent:handler",  # the agent does not call itself
        "mathwork:imported_run",  # defined elsewhere, only imported here
    ],
)
def test_the_agent_refuses_anything_but_functions_of_the_deployed_code(agent, path):
    with pytest.raises(FunctionError) as raised:
        agent.submit("agent", {"call": path, "args": []}).result()
    assert raised.value.error_type == "AgentError", raised.value


def test_the_agent_refuses_code_outside_its_root_even_if_importable_there(local, tmp_path, deployed, mathwork):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.py").write_text("def run():\n    return 'ran'\n")
    local.add_function("agent", AGENT_HANDLER, deployed, environment={"PYTHONPATH": str(outside)})
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent") as executor:
        assert executor.submit(mathwork.importable, "elsewhere").result()  # Python could import it
        with pytest.raises(FunctionError, match="not a module of the deployed code"):
            executor.submit("agent", {"call": "elsewhere:run"}).result()


def test_large_arguments_and_results_travel_compressed_and_limits_apply_after(agent, mathwork, local):
    big = "lambda " * 1_000_000  # 7 MB of JSON, a few KB compressed
    assert agent.submit(mathwork.length, big).result() == len(big)
    assert agent.submit(mathwork.repeat, "abc", 2_000_000).result() == "abc" * 2_000_000
    incompressible = base64.b64encode(os.urandom(5_000_000)).decode()  # 6.7 MB, still over 6 MB packed
    with pytest.raises(PayloadTooLargeError):
        agent.submit(mathwork.length, incompressible)
    # A result shaped like the envelope comes back as it was.
    envelope_like = {"lambda_executor.zlib": "not base64"}
    assert agent.submit(mathwork.identity, envelope_like).result() == envelope_like
    spilled_like = {"lambda_executor.s3": {"bucket": "b", "key": "k", "size": 1, "sha256": "00"}}
    assert agent.submit(mathwork.identity, spilled_like).result() == spilled_like


def test_compression_can_be_turned_off(local, mathwork, deployed):
    local.add_function("agent", AGENT_HANDLER, deployed)
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", compress_over=None) as executor:
        with pytest.raises(PayloadTooLargeError):
            executor.submit(mathwork.length, "lambda " * 1_000_000)
        assert executor.submit(mathwork.add, 1, 2).result() == 3


def test_remote_names_another_agent_for_one_call(agent, local, mathwork, deployed):
    local.add_function("other-agent", AGENT_HANDLER, deployed)
    assert agent.submit(remote(mathwork.add, agent="other-agent"), 5, 5).result() == 10
    assert local.stats("other-agent")["invocations"] == 1
    with LambdaExecutor(endpoint_url=local.endpoint_url) as plain:  # no default agent needed
        assert plain.submit(remote(mathwork.add, agent="agent"), 1, 2).result() == 3


def test_a_function_of_code_not_installed_here_is_called_by_its_import_path(local, tmp_path, mathwork):
    root = tmp_path / "deployed"
    root.mkdir()
    stage([AGENT_CODE / "mathwork.py"], root)
    (root / "notinstalled").mkdir()
    (root / "notinstalled" / "__init__.py").write_text("")
    (root / "notinstalled" / "ops.py").write_text("def double(x):\n    return 2 * x\n")
    local.add_function("deps-agent", AGENT_HANDLER, root)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("notinstalled")
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="deps-agent") as executor:
        assert list(executor.map("notinstalled.ops:double", [1, 2, 3])) == [2, 4, 6]
        assert list(executor.map("notinstalled.ops:double", [1, 2, 3], chunksize=3)) == [2, 4, 6]
    with LambdaExecutor(endpoint_url=local.endpoint_url) as plain:
        assert plain.submit(remote("notinstalled.ops:double", agent="deps-agent"), 5).result() == 10
        # Without a dot, a string is what it always was: a function's name (and qualifier).
        with pytest.raises(FunctionNotFoundError):
            plain.submit("mathwork:add", 5).result()
    with LambdaPool(2, function="deps-agent", endpoint_url=local.endpoint_url) as pool:
        assert pool.map("mathwork:add", [1, 2], chunksize=1) == [1, 2]
        assert pool.apply("notinstalled.ops:double", (4,)) == 8
    with pytest.raises(TypeError, match="not an import path"):
        remote("not a path", agent="deps-agent")


def test_the_agent_answers_warm_up(agent, local):
    assert agent.warm("agent", 3) == 3
    assert agent.submit("agent", WARM_EVENT).result() is None
    assert local.stats("agent")["cold_starts"] == 3


def test_nothing_is_ever_unpickled():
    package = Path(importlib.import_module("lambda_executor").__file__).parent
    sources = list(package.rglob("*.py"))
    assert len(sources) > 5
    for source in sources:
        assert not re.search(
            r"^\s*(import|from)\s+(c?pickle|dill|cloudpickle|marshal|shelve)\b", source.read_text(), re.M
        ), source


def test_a_compressed_call_cannot_unpack_into_gigabytes():
    from lambda_executor import agent

    packer = zlib.compressobj()
    bomb = b"".join(packer.compress(b"\0" * 2**20) for _ in range(300)) + packer.flush()  # 300 MB of zeros
    with pytest.raises(agent.AgentError, match="more than"):
        agent.handler({"call": "mathwork:add", agent.COMPRESSED: base64.b64encode(bomb).decode()}, None)


def test_cpythons_test_map_exception_passes_against_the_executor(agent, mathwork):
    """Lib/test/test_concurrent_futures' test_map_exception, with divmod deployed (and JSON's
    lists for its tuples)."""
    i = agent.map(mathwork.quotient, [1, 1, 1, 1], [2, 3, 0, 5])
    assert i.__next__() == [0, 1]
    assert i.__next__() == [0, 1]
    with pytest.raises(ZeroDivisionError):
        i.__next__()


def test_a_remote_built_in_exception_is_caught_as_it_and_as_a_function_error(agent, mathwork):
    with pytest.raises(KeyError) as raised:
        agent.submit(mathwork.lookup, {"a": 1}, "b").result()
    error = raised.value
    assert isinstance(error, FunctionError) and isinstance(error, LookupError)
    assert (error.error_type, error.error_message) == ("KeyError", "'b'")
    assert any("mathwork.py" in line for line in error.stack_trace)
    assert "Remote traceback" in str(error)
    # A type of the user's own stays a plain FunctionError, as does one that is not a built-in
    # Exception's, though Python has it.
    with pytest.raises(FunctionError) as raised:
        agent.submit(mathwork.fail, "no good").result()
    assert type(raised.value) is FunctionError
    assert type(FunctionError("SystemExit", "bye")) is FunctionError


def test_a_chunked_map_returns_what_one_call_per_invocation_returns(agent, local, mathwork):
    numbers = list(range(95))
    one_by_one = list(agent.map(mathwork.add, numbers, numbers))
    assert local.stats("agent")["invocations"] == 95
    for chunksize in (2, 10, 94, 95, 1000):
        sent_before = local.stats("agent")["invocations"]
        assert list(agent.map(mathwork.add, numbers, numbers, chunksize=chunksize)) == one_by_one
        assert local.stats("agent")["invocations"] - sent_before == -(-95 // chunksize)
    # A plain function's map ignores chunksize, as ThreadPoolExecutor's does.
    local.add_synthetic("echo")
    assert list(agent.map("echo", numbers[:5], chunksize=3)) == numbers[:5]
    stats = agent.stats()
    assert (stats.chunks, stats.chunked_calls, stats.chunked_call_failures) == (48 + 10 + 2 + 1 + 1, 95 * 5, 0)
    assert "475 in 62 invocations, 0 failed" in str(stats)
    with pytest.raises(ValueError, match="chunksize"):
        agent.map(mathwork.add, numbers, chunksize=0)


@pytest.mark.parametrize("zero_at", [0, 4, 9])
def test_a_failing_call_fails_alone_with_its_remote_traceback(agent, local, mathwork, zero_at):
    divisors = [1] * 10
    divisors[zero_at] = 0
    results = agent.map(mathwork.quotient, range(10), divisors, chunksize=5)
    for i in range(zero_at):
        assert next(results) == [i, 0]
    with pytest.raises(ZeroDivisionError) as raised:
        next(results)
    error = raised.value
    assert isinstance(error, FunctionError) and error.error_type == "ZeroDivisionError"
    assert error.function == "agent" and error.request_id
    assert any("mathwork.py" in line and "quotient" in line for line in error.stack_trace)
    assert not any("agent.py" in line for line in error.stack_trace), "the trace starts in the user's code"
    # The others ran: the invocation did not fail.
    assert local.stats("agent")["errors"] == 0
    assert agent.stats().chunked_call_failures == 1


def test_a_result_json_cannot_carry_fails_its_own_call_only(agent, mathwork):
    results = list(agent.map(mathwork.identity, [1, 2, 3], chunksize=3))
    assert results == [1, 2, 3]
    outcomes = agent.map(mathwork.unique, [[1], [2]], chunksize=2)
    with pytest.raises(TypeError, match="not JSON serializable"):
        next(outcomes)


def test_the_agent_refuses_malformed_chunks_as_a_whole(agent):
    for chunk in ("not a list", [[1, {}]], [[[1], []]], [[[1]]], [[[1], {}], "x"], [{"args": [1]}]):
        with pytest.raises(FunctionError) as raised:
            agent.submit("agent", {"call": "mathwork:add", "chunk": chunk}).result()
        assert raised.value.error_type == "AgentError" and "[args, kwargs]" in raised.value.error_message
    packed = base64.b64encode(zlib.compress(b"[1, 2]")).decode()
    with pytest.raises(FunctionError, match="must unpack to an object"):
        agent.submit("agent", {"call": "mathwork:add", "lambda_executor.zlib": packed}).result()
    # A chunk of calls to anything but the deployed code's functions is refused as a single call is.
    with pytest.raises(FunctionError, match="not a module of the deployed code"):
        agent.submit("agent", {"call": "os:getcwd", "chunk": [[[], {}]]}).result()
    # The envelope as the client sends it, by hand: one answer per call, in order.
    reply = agent.submit("agent", {"call": "mathwork:quotient", "chunk": [[[7, 2], {}], [[1], {"b": 0}]]}).result()
    assert reply["chunk"][0] == {"result": [3, 1]}
    assert reply["chunk"][1]["error"]["errorType"] == "ZeroDivisionError"


def test_a_malformed_envelope_is_an_agent_error_before_anything_is_called(agent):
    packed = base64.b64encode(zlib.compress(b'{"args": [1, 2]}')).decode()
    for envelope, says in (
        ({"lambda_executor.zlib": "not base64!"}, "not base64 of a zlib stream"),
        ({"lambda_executor.zlib": base64.b64encode(b"not zlib").decode()}, "not base64 of a zlib stream"),
        ({"lambda_executor.zlib": packed[:-8]}, "not base64 of a zlib stream|cut short"),
        ({"lambda_executor.zlib": base64.b64encode(zlib.compress(b"{nope")).decode()}, "does not unpack to JSON"),
        ({"args": [1, 2], "compress_over": "x"}, "'compress_over' must be"),
        ({"lambda_executor.zlib": packed, "compress_over": -1}, "'compress_over' must be"),
    ):
        with pytest.raises(FunctionError) as raised:
            agent.submit("agent", {"call": "mathwork:add", **envelope}).result()
        assert raised.value.error_type == "AgentError", raised.value
        assert re.search(says, raised.value.error_message), raised.value.error_message
    # The same envelope, well formed, is called.
    assert agent.submit("agent", {"call": "mathwork:add", "lambda_executor.zlib": packed}).result() == 3


def test_an_answer_that_is_not_the_chunks_fails_its_calls_with_a_clear_error(local, deployed, tmp_path, mathwork):
    # An agent older than chunks calls the function once and returns one result.
    (tmp_path / "old_agent.py").write_text("def handler(event, context):\n    return 42\n")
    local.add_function("old-agent", "old_agent.handler", tmp_path)
    with LambdaExecutor(endpoint_url=local.endpoint_url, agent="old-agent") as executor:
        with pytest.raises(InvocationError, match="older than chunks") as raised:
            list(executor.map(mathwork.add, [1, 2, 3], chunksize=3))
    assert raised.value.error_code == "UnreadableResult" and raised.value.request_id


def test_large_chunks_travel_compressed_both_ways(agent, local, mathwork):
    texts = ["lambda " * 50_000 + str(i) for i in range(12)]  # 350 KB each, 4 MB in all
    assert list(agent.map(mathwork.identity, texts, chunksize=12)) == texts
    assert local.stats("agent")["invocations"] == 6, "a chunk holds at most 1 MiB of arguments"
    # Three results of 3 MB: 9 MB of JSON together, sent back compressed in one invocation.
    assert list(agent.map(mathwork.repeat, ["abc"] * 3, [1_000_000] * 3, chunksize=3)) == ["abc" * 1_000_000] * 3
    assert local.stats("agent")["invocations"] == 7


def test_a_chunk_over_the_limit_is_split_before_sending_and_a_call_over_it_refused(agent, local, mathwork):
    blobs = [base64.b64encode(os.urandom(300_000)).decode() for _ in range(20)]  # 400 KB each, incompressible
    assert list(agent.map(mathwork.length, blobs, chunksize=20)) == [400_000] * 20
    assert local.stats("agent")["invocations"] == 10, "two calls (800 KB) to a chunk"
    too_big = base64.b64encode(os.urandom(5_000_000)).decode()  # 6.7 MB alone, incompressible
    with pytest.raises(PayloadTooLargeError, match="event 2 of the map"):
        agent.map(mathwork.length, ["a", "b", too_big, "c"], chunksize=4)
    with pytest.raises(TypeError, match=r"event 1 of the map: at \[0\]"):
        agent.map(mathwork.length, ["a", {1, 2}], chunksize=4)
    assert local.stats("agent")["invocations"] == 10, "nothing more was sent"


def test_with_buffersize_a_bad_event_is_raised_after_the_calls_before_it(agent, mathwork):
    results = agent.map(mathwork.add, [1, 2, 3, {4}, 5], buffersize=1, chunksize=2)
    assert [next(results) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(TypeError, match="event 3 of the map"):
        next(results)


def test_a_chunked_map_resumes_from_its_journal_which_counts_its_calls(local, deployed, mathwork, tmp_path, capsys):
    local.add_function("agent", AGENT_HANDLER, deployed)
    journal = tmp_path / "run.db"
    divisors = [1, 1, 1, 1, 1, 1, 0]  # the last call fails: every chunk has run when it is reached

    def run():
        with LambdaExecutor(endpoint_url=local.endpoint_url, agent="agent", journal=journal) as executor:
            results = executor.map(mathwork.quotient, range(7), divisors, chunksize=3)
            assert [next(results) for _ in range(6)] == [[i, 0] for i in range(6)]
            with pytest.raises(ZeroDivisionError):
                next(results)
            return executor.stats()

    assert run().from_journal == 0
    assert run().from_journal == 3, "each chunk is one invocation in the journal, its failed call with it"
    assert local.stats("agent")["invocations"] == 3
    assert main(["journal", str(journal), "--calls"]) == 0
    shown = capsys.readouterr().out
    assert f"{journal}: 3 invocations of 1 function\n" in shown
    assert "calls in chunks: 7 in 3 succeeded invocations, 1 of them failed" in shown


def test_the_progress_bar_counts_calls_and_the_invocations_that_carried_them(agent, mathwork, capsys):
    divisors = [1] * 9 + [0]
    with pytest.raises(ZeroDivisionError):
        list(agent.map(mathwork.quotient, range(10), divisors, chunksize=5, progress=True))
    err = capsys.readouterr().err
    assert "10/10" in err and "failed=1" in err and "invocations=2" in err


def test_compression_is_judged_on_samples_and_the_event_is_the_same_json_made_once():
    from lambda_executor import agent as agent_module
    from lambda_executor._core import JoinedJson, to_json
    from lambda_executor.remote import encode_call

    random_text = to_json([base64.b64encode(os.urandom(1_000_000)).decode()])
    assert not agent_module.shrinks(random_text), "zlib takes base64 back to 3/4, and base64 blows it up again"
    assert agent_module.shrinks(to_json(["lambda " * 200_000]))
    assert agent_module.shrinks(b"[1]"), "a small document is compressed whole, as before"
    # An event not compressed is the call's JSON joined to the envelope's members: the same bytes
    # as the whole event converted at once.
    call = {"args": [random_text.decode(), {"k": [1, 2.5, None]}], "kwargs": {"x": "é\n"}}
    head, tail = {"call": "mathwork:add", "compress_over": 10}, {"spill": "s3://bucket/prefix/"}
    assert bytes(JoinedJson(head, to_json(call), tail)) == to_json({**head, **call, **tail})
    assert bytes(JoinedJson(head, b"{}", {})) == to_json(head)
    with pytest.raises(TypeError, match="joins JSON objects"):
        JoinedJson(head, b"[1]", {})
    event = encode_call("mathwork:add", (random_text.decode(),), {}, 10, "s3://bucket/prefix")
    assert isinstance(event, JoinedJson) and bytes(event).endswith(b'"kwargs":{},"spill":"s3://bucket/prefix"}')
    assert isinstance(encode_call("mathwork:add", ("lambda " * 200_000,), {}, 10), dict), "compressed"
